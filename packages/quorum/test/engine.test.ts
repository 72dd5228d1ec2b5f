import { describe, expect, it } from 'vitest';
import {
  FAST_TIMING,
  PORTWORX_TIMING,
  QuorumEngine,
  QuorumInputError,
  safetyBounds,
  timingProblems,
  timingProfile,
  type ClusterSnapshot,
  type QuorumInput,
} from '@pxsim/quorum';

const snapshot = (overrides: Partial<ClusterSnapshot> = {}): ClusterSnapshot => ({
  revision: 2,
  members: [
    { nodeId: 'a1', domain: 'us-east-1a', quorumMember: true, decommissioned: false },
    { nodeId: 'b1', domain: 'us-east-1b', quorumMember: true, decommissioned: false },
  ],
  domains: { 'us-east-1a': 'Active', 'us-east-1b': 'Active' },
  claims: [],
  ...overrides,
});

function engine(mode: 'reference' | 'safe' = 'safe'): QuorumEngine {
  return new QuorumEngine({ selfId: 'a1', mode, timing: FAST_TIMING });
}

function rejects(input: QuorumInput, message: RegExp, target = engine()): void {
  expect(() => target.step(input)).toThrow(QuorumInputError);
  expect(() => target.step(input)).toThrow(message);
}

describe('QuorumEngine input validation', () => {
  it('rejects negative and backwards time', () => {
    rejects({ type: 'tick', atMs: -1 }, /0 ms or more, got -1/);
    rejects({ type: 'tick', atMs: Number.NaN }, /got NaN/);
    const target = engine();
    target.step({ type: 'tick', atMs: 100 });
    rejects({ type: 'tick', atMs: 99 }, /time went backwards: tick at 99 ms after 100 ms/, target);
  });

  it('rejects duplicate node IDs and malformed claims (a node in a domain missing from the map is valid)', () => {
    const duplicate = snapshot();
    duplicate.members.push({ nodeId: 'a1', domain: 'us-east-1b', quorumMember: true, decommissioned: false });
    rejects({ type: 'snapshot', atMs: 1, readStartMs: 0, snapshot: duplicate }, /duplicate node ID a1/);
    const unknownDomain = snapshot();
    unknownDomain.members.push({ nodeId: 'x1', domain: 'eu-west-1', quorumMember: true, decommissioned: false });
    expect(engine().step({ type: 'snapshot', atMs: 1, readStartMs: 0, snapshot: unknownDomain }).snapshotRevision).toBe(
      2,
    );
    rejects(
      {
        type: 'snapshot',
        atMs: 1,
        readStartMs: 0,
        snapshot: snapshot({ claims: [{ domains: ['us-east-1a', 'us-east-1b'], winner: 'elsewhere', revision: 2 }] }),
      },
      /winner elsewhere, not one of its domains/,
    );
    rejects(
      { type: 'snapshot', atMs: 1, readStartMs: 2, snapshot: snapshot() },
      /cannot start \(2 ms\) after it was answered \(1 ms\)/,
    );
    rejects({ type: 'snapshot', atMs: 1, readStartMs: 0, snapshot: snapshot({ revision: 0 }) }, /revision must be/);
  });

  it('rejects heartbeats from itself or with an impossible state; ignores them from strangers', () => {
    rejects({ type: 'heartbeat', atMs: 1, from: 'a1', peerState: 'UP' }, /from this node itself/);
    rejects(
      { type: 'heartbeat', atMs: 1, from: 'b1', peerState: 'DOWN' as unknown as 'UP' },
      /reports state DOWN; expected UP, SUSPECT_NOT_IN_QUORUM or NOT_IN_QUORUM/,
    );
    const target = engine();
    target.step({ type: 'snapshot', atMs: 1, readStartMs: 0, snapshot: snapshot() });
    const view = target.step({ type: 'heartbeat', atMs: 2, from: 'stranger', peerState: 'UP' });
    expect(view.nodes.map((node) => node.nodeId)).toEqual(['a1', 'b1']);
  });

  it('leaves the state untouched when an input is rejected', () => {
    const target = engine();
    target.step({ type: 'snapshot', atMs: 1, readStartMs: 0, snapshot: snapshot() });
    const before = target.view();
    expect(() => target.step({ type: 'tick', atMs: 0 })).toThrow(QuorumInputError);
    expect(target.view()).toBe(before);
  });
});

describe('timing profiles', () => {
  it('both shipped profiles tolerate 500 ms one-way latency (H4)', () => {
    expect(timingProblems(PORTWORX_TIMING)).toEqual([]);
    expect(timingProblems(FAST_TIMING)).toEqual([]);
    expect(PORTWORX_TIMING.latencyMaxMs).toBe(500);
    expect(timingProfile('portworx')).toBe(PORTWORX_TIMING);
    expect(() => timingProfile('turbo')).toThrow(/unknown timing profile "turbo": expected portworx or fast/);
  });

  it('safe mode refuses a timing whose suspicion timeout cannot cover heartbeat interval + 2 x latency', () => {
    const tight = { ...FAST_TIMING, heartbeatIntervalMs: 1000, suspectAfterMs: 1200 };
    expect(() => new QuorumEngine({ selfId: 'a1', mode: 'safe', timing: tight })).toThrow(
      /suspectAfterMs 1200 must exceed heartbeatIntervalMs \+ 2 × latencyMaxMs = 2000/,
    );
    expect(() => new QuorumEngine({ selfId: 'a1', mode: 'reference', timing: tight })).not.toThrow();
  });

  it('states its bounds', () => {
    expect(safetyBounds(FAST_TIMING)).toEqual({ splitBrainMs: 3000, inactiveDomainMs: 3000, detectionBoundMs: 3000 });
    expect(safetyBounds(PORTWORX_TIMING).detectionBoundMs).toBe(25_500);
  });
});

describe('QuorumEngine outputs', () => {
  it('is Initializing until it has read the cluster, and says why', () => {
    const target = engine();
    expect(target.view().self.status).toBe('Initializing');
    expect(target.view().self.reason).toBe('waiting for the first read of the cluster from the kvdb');
    const failed = target.step({ type: 'snapshotFailed', atMs: 5, error: 'connect ECONNREFUSED' });
    expect(failed.self.reason).toBe('waiting for kvdb: connect ECONNREFUSED');
  });

  it('asks for the next deadline so that a host ticks it on time', () => {
    const target = engine('reference');
    target.step({ type: 'snapshot', atMs: 1, readStartMs: 0, snapshot: snapshot() });
    const view = target.step({ type: 'heartbeat', atMs: 10, from: 'b1', peerState: 'UP' });
    expect(view.self.gossipState).toBe('UP');
    expect(view.nextDeadlineMs).toBe(10 + FAST_TIMING.suspectAfterMs);
    const later = target.step({ type: 'tick', atMs: 10 + FAST_TIMING.suspectAfterMs });
    expect(later.self.gossipState).toBe('SUSPECT_NOT_IN_QUORUM');
    expect(later.nextDeadlineMs).toBe(later.nowMs + FAST_TIMING.quorumTimeoutMs);
  });
});

describe('safe mode: one-way cuts and released claims', () => {
  const claim = { domains: ['us-east-1a', 'us-east-1b'] as [string, string], winner: 'us-east-1b', revision: 5 };
  const members = [
    { nodeId: 'a1', domain: 'us-east-1a', quorumMember: true, decommissioned: false },
    { nodeId: 'a2', domain: 'us-east-1a', quorumMember: true, decommissioned: false },
    { nodeId: 'b1', domain: 'us-east-1b', quorumMember: true, decommissioned: false },
  ];
  /** a1 formed, hearing a2 and b1, at 5 s (past the activation hold). */
  function formed(): QuorumEngine {
    const target = engine();
    target.step({ type: 'snapshot', atMs: 1, readStartMs: 0, snapshot: snapshot({ revision: 3, members }) });
    for (let atMs = 500; atMs <= 5000; atMs += 500) {
      target.step({ type: 'heartbeat', atMs, from: 'a2', peerState: 'UP' });
      target.step({ type: 'heartbeat', atMs, from: 'b1', peerState: 'UP' });
      target.step({ type: 'snapshot', atMs, readStartMs: atMs - 1, snapshot: snapshot({ revision: 3, members }) });
    }
    return target;
  }

  it('a domain that hears the claim winner stops (the winner cannot hear it: a one-way cut)', () => {
    const target = formed();
    expect(target.view().self.serving).toBe(true);
    const view = target.step({
      type: 'snapshot',
      atMs: 5100,
      readStartMs: 5099,
      snapshot: snapshot({ revision: 6, members, claims: [claim] }),
    });
    expect(view.self.serving).toBe(false);
    expect(view.self.reason).toBe('domain us-east-1b holds the partition claim (it cannot hear us-east-1a)');
  });

  it('after the winner releases its claim, the loser waits F before serving or claiming', () => {
    const target = formed();
    target.step({
      type: 'snapshot',
      atMs: 5100,
      readStartMs: 5099,
      snapshot: snapshot({ revision: 6, members, claims: [claim] }),
    });
    const released = target.step({
      type: 'snapshot',
      atMs: 5200,
      readStartMs: 5199,
      snapshot: snapshot({ revision: 7, members }),
    });
    expect(released.self.serving).toBe(false);
    expect(released.self.reason).toMatch(/^domain us-east-1b released its partition claim; waiting 3000 ms more/);
    expect(released.nextDeadlineMs).toBeLessThanOrEqual(8200);
    for (let atMs = 5500; atMs <= 8000; atMs += 500) {
      target.step({ type: 'heartbeat', atMs, from: 'a2', peerState: 'UP' });
      target.step({ type: 'heartbeat', atMs, from: 'b1', peerState: 'UP' });
      target.step({ type: 'snapshot', atMs, readStartMs: atMs - 1, snapshot: snapshot({ revision: 7, members }) });
    }
    expect(target.step({ type: 'tick', atMs: 8199 }).self.serving).toBe(false);
    expect(target.step({ type: 'tick', atMs: 8200 }).self.serving).toBe(true);
  });
});

describe('a heartbeat that may have waited (heardAtMs)', () => {
  /** b1 heard at 1,000 ms by an engine fed a snapshot; returns the time b1's suspicion deadline makes it not up. */
  const downAtMs = (heartbeat: QuorumInput): number => {
    const target = engine();
    target.step({ type: 'snapshot', atMs: 1000, readStartMs: 1000, snapshot: snapshot() });
    target.step(heartbeat);
    for (let atMs = 1000; atMs <= 10_000; atMs += 1) {
      if (target.step({ type: 'tick', atMs }).quorum.up < 2) return atMs;
    }
    return Number.POSITIVE_INFINITY;
  };

  it('shows its sender alive as of heardAtMs, never later than its arrival, never moving an earlier hearing back', () => {
    const arrived = downAtMs({ type: 'heartbeat', atMs: 1000, from: 'b1', peerState: 'UP' });
    expect(arrived).toBe(1000 + FAST_TIMING.suspectAfterMs);
    expect(downAtMs({ type: 'heartbeat', atMs: 1000, from: 'b1', peerState: 'UP', heardAtMs: 600 })).toBe(
      arrived - 400,
    );
    expect(downAtMs({ type: 'heartbeat', atMs: 1000, from: 'b1', peerState: 'UP', heardAtMs: 5000 })).toBe(arrived);
    rejects({ type: 'heartbeat', atMs: 1000, from: 'b1', peerState: 'UP', heardAtMs: -1 }, /heardAtMs must be a time/);
    const target = engine();
    target.step({ type: 'snapshot', atMs: 1000, readStartMs: 1000, snapshot: snapshot() });
    target.step({ type: 'heartbeat', atMs: 1000, from: 'b1', peerState: 'UP' });
    target.step({ type: 'heartbeat', atMs: 1100, from: 'b1', peerState: 'UP', heardAtMs: 0 }); // an old frame
    expect(target.step({ type: 'tick', atMs: 1000 + FAST_TIMING.suspectAfterMs - 1 }).quorum.up).toBe(2);
  });
});
