import { describe, expect, it } from 'vitest';
import { checkSchedules } from '@pxsim/sim-harness';

/**
 * Safe mode under random fault schedules: half of each CI run's 10,000 (the other shard runs in parallel). Locally
 * fewer; PXSIM_SCHEDULES=N for more, PXSIM_SEED=S for other schedules. A failure prints the replay command.
 */
const SCHEDULES = Number(process.env['PXSIM_SCHEDULES'] ?? (process.env['CI'] === 'true' ? '10000' : '400'));
const SEED = Number(process.env['PXSIM_SEED'] ?? '0x5eed1') + 0;

describe('safe mode keeps S1, S2, S3 and L1 under random schedules (shard 1 of 2)', () => {
  it(`passes ${Math.ceil(SCHEDULES / 2)} random schedules`, async () => {
    const result = await checkSchedules({
      mode: 'safe',
      numRuns: Math.ceil(SCHEDULES / 2),
      seed: SEED,
      onProgress: (line) => console.info(`[shard 1] ${line}`),
      progressEveryMs: 30_000,
    });
    if (result.failed)
      console.error(`counterexample: ${JSON.stringify(result.counterexample)}\nreplay: ${result.replay}`);
    expect(result.violations, result.replay).toEqual([]);
    expect(result.failed, result.replay).toBe(false);
  }, 3_600_000);
});
