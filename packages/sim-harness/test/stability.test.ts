import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkLatencyStability } from '@pxsim/checkers';
import { Simulation } from '@pxsim/sim-harness';

describe('L2: latency alone never takes a node out of UP', () => {
  it('with one-way latency up to 500 ms (jitter included) and no other fault, every node stays UP after forming', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 0x7fffffff }),
        fc.boolean(),
        fc.array(fc.record({ ms: fc.integer({ min: 0, max: 400 }), jitterMs: fc.integer({ min: 0, max: 100 }) }), {
          minLength: 1,
          maxLength: 3,
        }),
        async (seed, witness, latencies) => {
          const sim = new Simulation({ seed, witness, kvdbLatencyMs: 50 });
          try {
            sim.start(sim.group('all'));
            await sim.run(8000);
            const formed = sim.states();
            expect(Object.values(formed).every((state) => state === 'Online')).toBe(true);
            const mark = sim.history.length;
            for (const latency of latencies) sim.latency(latency);
            await sim.run(60_000);
            const finding = checkLatencyStability(sim.history.slice(mark));
            if (finding !== undefined) sim.violate(finding.check, finding.detail);
            expect(sim.violations).toEqual([]);
          } finally {
            await sim.dispose();
          }
        },
      ),
      { numRuns: 15 },
    );
  }, 300_000);

  it('refuses latency above the 500 ms metro limit unless explicitly allowed', () => {
    const sim = new Simulation({ seed: 1 });
    expect(() => sim.latency({ ms: 600, jitterMs: 0 })).toThrow(/exceeds the metro limit of 500 ms/);
    sim.allowLatencyOverMetroLimit = true;
    expect(() => sim.latency({ ms: 600, jitterMs: 0 })).not.toThrow();
  });
});
