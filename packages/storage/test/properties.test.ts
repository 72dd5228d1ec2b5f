import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareVersions, GIB } from '../src/index.js';
import { TestWorld } from './net.js';

type Step =
  | { kind: 'write'; block: number }
  | { kind: 'read'; block: number }
  | { kind: 'cut'; from: number; to: number }
  | { kind: 'heal' }
  | { kind: 'run'; ms: number };

const NODES = ['a', 'b', 'c'];
const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('write' as const), block: fc.nat({ max: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('read' as const), block: fc.nat({ max: 3 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('cut' as const), from: fc.nat({ max: 2 }), to: fc.nat({ max: 2 }) }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'heal' as const }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('run' as const), ms: fc.integer({ min: 1, max: 4000 }) }) },
);

/**
 * Random writes, reads, one-way cuts, heals, message loss (10 %) and delays, on a coordinator and two replicas of a
 * repl-3 volume: every acknowledged write is, at the moment it is acknowledged, on every replica of the current set
 * as the kvdb then records it; after healing, the replicas converge (every one back in the current set, same blocks).
 */
describe('replication under loss, delay and cuts (fast-check)', () => {
  it('acknowledged writes are on the whole current set; replicas converge after healing', () => {
    fc.assert(
      fc.property(fc.array(stepArbitrary, { maxLength: 40 }), fc.integer({ min: 1, max: 1000 }), (steps, seed) => {
        const world = new TestWorld(NODES);
        let draw = seed;
        const random = (): number => {
          draw = (draw * 1103515245 + 12345) % 2147483648;
          return draw / 2147483648;
        };
        world.drop = () => random() < 0.1;
        world.linkDelayMs = 5;
        world.quorum();
        world.create({ id: '1', name: 'v', sizeBytes: GIB, haLevel: 3, createSet: NODES });
        world.attach('a', 'v');
        world.run(3000);
        const writes = new Map<number, { block: number; value: string }>();
        const checked = new Set<number>();
        const checkAcks = (): void => {
          for (const [opId, write] of writes) {
            if (checked.has(opId) || world.answer(opId) !== 'ok') continue;
            checked.add(opId);
            const current = world.records.get('1')?.record.currentSet ?? [];
            const reply = world.replies.get(opId);
            const version = reply?.ok === true ? reply.version : undefined;
            for (const replica of current) {
              const stored = world.stores.get(replica)?.get('1', write.block)?.version;
              expect(stored !== undefined && version !== undefined && compareVersions(stored, version) >= 0).toBe(true);
            }
          }
        };
        let n = 0;
        for (const step of steps) {
          if (step.kind === 'write')
            writes.set(world.write('a', 'v', step.block, `w${n++}`), { block: step.block, value: '' });
          else if (step.kind === 'read') world.read('a', 'v', step.block);
          else if (step.kind === 'cut') world.cuts.add(`${NODES[step.from] ?? ''}>${NODES[step.to] ?? ''}`);
          else if (step.kind === 'heal') world.heal();
          else
            for (let ms = 0; ms < step.ms; ms += 10) {
              world.run(10);
              checkAcks();
            }
        }
        world.heal();
        world.drop = () => false;
        world.quorum();
        for (let ms = 0; ms < 20_000; ms += 100) {
          world.run(100);
          checkAcks();
        }
        expect(world.records.get('1')?.record.currentSet.slice().sort()).toEqual(NODES);
        for (let block = 0; block < 4; block++) {
          const values = NODES.map((id) => world.stored(id, '1', block));
          expect(new Set(values).size, `block ${block}: ${values.join(' | ')}`).toBe(1);
        }
      }),
      { numRuns: 150, seed: 42 },
    );
  });
});
