import { randomInt } from 'node:crypto';
import { expect } from 'vitest';
import { checkSchedules, COVERAGE_FLOORS, coverageShortfalls } from '@pxsim/sim-harness';

const CI = process.env['CI'] === 'true';

/** The fixed seed shard 1 replays in every run (the schedules every earlier run explored too). */
export const FIXED_SEED = 0x5eed1;

/**
 * Shard 2's seed: fresh in CI (so each run explores new schedules), from `PXSIM_FRESH_SEED` when set (`.ci/run` draws
 * it and prints it at the top of its log, so a failure is reproducible from the log); locally the fixed seed + 1.
 */
function freshSeed(): number {
  const given = process.env['PXSIM_FRESH_SEED'];
  if (given !== undefined && given !== '') return Number(given);
  return CI ? randomInt(1, 0x7fffffff) : FIXED_SEED + 1;
}

/** `PXSIM_SEED=S` replays other schedules in both shards (S and S + 1). */
export function shardSeed(shard: 1 | 2): number {
  const given = process.env['PXSIM_SEED'];
  if (given !== undefined && given !== '') return Number(given) + shard - 1;
  return shard === 1 ? FIXED_SEED : freshSeed();
}

/**
 * Safe mode under random fault schedules, split in two shards that vitest runs in parallel: 10,000 schedules in each CI
 * run, 400 locally (PXSIM_SCHEDULES=N for more). Shard 1 runs the fixed seed, shard 2 a fresh one in CI (printed at
 * the start). A failure prints the replay command.
 */
export async function runSafetyShard(shard: 1 | 2): Promise<void> {
  const seed = shardSeed(shard);
  console.info(
    `[shard ${shard}] seed ${seed} (${shard === 1 ? 'fixed' : 'fresh in CI'}), ${SHARD_SCHEDULES} schedules`,
  );
  const result = await checkSchedules({
    mode: 'safe',
    numRuns: SHARD_SCHEDULES,
    seed,
    onProgress: (line) => console.info(`[shard ${shard}] ${line}`),
    progressEveryMs: 30_000,
  });
  if (result.failed)
    console.error(`counterexample: ${JSON.stringify(result.counterexample)}\nreplay: ${result.replay}`);
  expect(result.violations, result.replay).toEqual([]);
  expect(result.failed, result.replay).toBe(false);
  const counted = result.schedules;
  console.info(
    `[shard ${shard}] coverage of ${counted} schedules (${result.rejected} rejected: no active data domain left for L1):\n` +
      Object.keys(COVERAGE_FLOORS)
        .map(
          (name) =>
            `  ${name}: ${result.coverage[name] ?? 0} (${(((result.coverage[name] ?? 0) / counted) * 100).toFixed(1)} %, floor ${(COVERAGE_FLOORS[name] ?? 0) * 100} %)`,
        )
        .join('\n'),
  );
  expect(coverageShortfalls(result.coverage, counted), 'generator floors').toEqual([]);
}

export const SHARD_SCHEDULES = Math.ceil(Number(process.env['PXSIM_SCHEDULES'] ?? (CI ? '10000' : '400')) / 2);
