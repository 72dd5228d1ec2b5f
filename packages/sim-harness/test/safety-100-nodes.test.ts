import { describe, expect, it } from 'vitest';
import { checkSchedules } from '@pxsim/sim-harness';
import { shardSeed } from './safety.js';

const CI = process.env['CI'] === 'true';
/** 100 schedules in CI (about 10 s each on a 2-core machine of this kind), 6 locally; PXSIM_LARGE_SCHEDULES=N for more. */
const SCHEDULES = Number(process.env['PXSIM_LARGE_SCHEDULES'] ?? (CI ? '100' : '6'));
/** Two data domains of 50 nodes (and the witness when drawn): 100 data nodes, all-to-all heartbeats. */
const NODES_PER_DOMAIN = 50;

describe('safe mode keeps S1, S2, S3 and L1 on a 100-node cluster under random schedules', () => {
  it(`passes ${SCHEDULES} random schedules (seed of shard 2: fresh in CI)`, { timeout: 3_600_000 }, async () => {
    const seed = shardSeed(2);
    console.info(`[100 nodes] seed ${seed}, ${SCHEDULES} schedules of 2 × ${NODES_PER_DOMAIN} nodes`);
    const result = await checkSchedules({
      mode: 'safe',
      numRuns: SCHEDULES,
      seed,
      nodesPerDomain: NODES_PER_DOMAIN,
      onProgress: (line) => console.info(`[100 nodes] ${line}`),
      progressEveryMs: 60_000,
    });
    if (result.failed)
      console.error(`counterexample: ${JSON.stringify(result.counterexample)}\nreplay: ${result.replay ?? ''}`);
    expect(result.violations, result.replay).toEqual([]);
    expect(result.failed, result.replay).toBe(false);
    expect(result.schedules).toBeGreaterThanOrEqual(SCHEDULES);
  });
});
