import { expect } from 'vitest';
import { checkSchedules } from '@pxsim/sim-harness';

/**
 * Safe mode under random fault schedules, split in two shards that vitest runs in parallel: 10,000 schedules in each CI
 * run, 400 locally (PXSIM_SCHEDULES=N for more, PXSIM_SEED=S for other schedules). A failure prints the replay command.
 */
export async function runSafetyShard(shard: 1 | 2): Promise<void> {
  const schedules = Number(process.env['PXSIM_SCHEDULES'] ?? (process.env['CI'] === 'true' ? '10000' : '400'));
  const result = await checkSchedules({
    mode: 'safe',
    numRuns: Math.ceil(schedules / 2),
    seed: Number(process.env['PXSIM_SEED'] ?? '0x5eed1') + shard - 1,
    onProgress: (line) => console.info(`[shard ${shard}] ${line}`),
    progressEveryMs: 30_000,
  });
  if (result.failed)
    console.error(`counterexample: ${JSON.stringify(result.counterexample)}\nreplay: ${result.replay}`);
  expect(result.violations, result.replay).toEqual([]);
  expect(result.failed, result.replay).toBe(false);
}

export const SHARD_SCHEDULES = Math.ceil(
  Number(process.env['PXSIM_SCHEDULES'] ?? (process.env['CI'] === 'true' ? '10000' : '400')) / 2,
);
