import { describe, expect, it } from 'vitest';
import { seededRandom } from '@pxsim/runtime';
import { GIB, placeReplicas, type PlacementNode } from '../src/index.js';

const node = (id: string, domain: string, extra: Partial<PlacementNode> = {}): PlacementNode => ({
  id,
  domain,
  domainActive: true,
  online: true,
  storageless: false,
  capacityBytes: 150 * GIB,
  usedBytes: 0,
  ...extra,
});
const metro = [
  node('a1', 'us-east-1a'),
  node('a2', 'us-east-1a'),
  node('a3', 'us-east-1a'),
  node('b1', 'us-east-1b'),
  node('b2', 'us-east-1b'),
  node('b3', 'us-east-1b'),
  node('w', 'witness', { storageless: true }),
];
const domainOf = (id: string): string => metro.find((candidate) => candidate.id === id)?.domain ?? '';

describe('replica placement', () => {
  it('repl 2 in a two-domain metro cluster: one replica in each data domain, never the witness', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const placed = placeReplicas({ haLevel: 2, sizeBytes: GIB }, metro, seededRandom(seed));
      expect(placed.ok).toBe(true);
      if (placed.ok) expect(placed.nodes.map(domainOf).sort()).toEqual(['us-east-1a', 'us-east-1b']);
    }
  });

  it('repl 3 spreads as evenly as the domains allow (2 + 1), least used first', () => {
    const busy = metro.map((entry) => (entry.id === 'a1' ? { ...entry, usedBytes: 10 * GIB } : entry));
    const placed = placeReplicas({ haLevel: 3, sizeBytes: GIB }, busy, seededRandom(3));
    expect(placed.ok && placed.nodes.map(domainOf).sort()).toEqual(['us-east-1a', 'us-east-1a', 'us-east-1b']);
    expect(placed.ok && placed.nodes.includes('a1')).toBe(false);
  });

  it('the same random gives the same placement', () => {
    expect(placeReplicas({ haLevel: 2, sizeBytes: GIB }, metro, seededRandom(9))).toEqual(
      placeReplicas({ haLevel: 2, sizeBytes: GIB }, metro, seededRandom(9)),
    );
  });

  it('refuses what cannot be placed, saying why', () => {
    const oneDomainDown = metro.map((entry) =>
      domainOf(entry.id) === 'us-east-1b' ? { ...entry, domainActive: false } : entry,
    );
    const few = [oneDomainDown[0], oneDomainDown[3], oneDomainDown[6]].filter((entry) => entry !== undefined);
    const refused = placeReplicas({ haLevel: 2, sizeBytes: GIB }, few, seededRandom(1));
    expect(refused).toMatchObject({ ok: false });
    expect(!refused.ok && refused.reason).toBe(
      'cannot place 2 replicas: only 1 node(s) can hold one (a1: fits; b1: its domain us-east-1b is inactive; ' +
        'w: a storage-less (witness) node holds no replica)',
    );
    expect(placeReplicas({ haLevel: 4, sizeBytes: GIB }, metro, seededRandom(1))).toEqual({
      ok: false,
      reason: 'replication factor 4: it must be 1, 2 or 3',
    });
    const huge = placeReplicas({ haLevel: 1, sizeBytes: 200 * GIB }, metro, seededRandom(1));
    expect(!huge.ok && huge.reason).toContain('is smaller than the volume');
  });

  it('--nodes: exactly those, each checked', () => {
    expect(placeReplicas({ haLevel: 2, sizeBytes: GIB, nodes: ['a2', 'b3'] }, metro, seededRandom(1))).toEqual({
      ok: true,
      nodes: ['a2', 'b3'],
    });
    const witness = placeReplicas({ haLevel: 1, sizeBytes: GIB, nodes: ['w'] }, metro, seededRandom(1));
    expect(!witness.ok && witness.reason).toBe(
      '--nodes: node w cannot hold a replica: a storage-less (witness) node holds no replica',
    );
    const unknown = placeReplicas({ haLevel: 1, sizeBytes: GIB, nodes: ['zz'] }, metro, seededRandom(1));
    expect(!unknown.ok && unknown.reason).toBe('--nodes: no node zz in the cluster');
    const count = placeReplicas({ haLevel: 2, sizeBytes: GIB, nodes: ['a1'] }, metro, seededRandom(1));
    expect(!count.ok && count.reason).toBe('--nodes names 1 node(s) for replication factor 2');
  });
});
