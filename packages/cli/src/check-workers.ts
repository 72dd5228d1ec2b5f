import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { CheckResult, Shard } from '@pxsim/sim-harness';
import { CliError } from './client.js';
import type { Io } from './commands.js';

/** What a `pxsim check --result-json` child prints as its last line on stdout. */
export type WorkerResult = Omit<CheckResult, 'counterexample'> & {
  counterexample: CheckResult['counterexample'] | null;
};

/** The flags every worker gets as the parent had them (everything but the seed, shard and workers). */
export interface WorkerPlan {
  runs: number;
  seed: number;
  /** The parent's own shard (`--shard i/M`), split further among the workers; none: the whole seed. */
  shard: Shard | undefined;
  workers: number;
  /** The other flags as given: `--mode safe`, `--faults …`, `--fail-on …`, `--witness …`. */
  flags: string[];
}

/** Worker `worker`'s shard: the parent's shard `i/M` split in `workers` gives `i × workers + worker` of `M × workers`. */
export function workerShard(shard: Shard | undefined, workers: number, worker: number): Shard {
  const parent = shard ?? { index: 0, count: 1 };
  return { index: parent.index * workers + worker, count: parent.count * workers };
}

const PROGRESS = /^schedules: (\d+)\/\d+, [\d.]+\/s, failures: (\d+)$/;

/** The run index a failure was found at (the first number of fast-check's path): the earliest one is reported. */
function runIndexOf(result: WorkerResult): number {
  return Number((result.path ?? '').split(':')[0] ?? Number.MAX_SAFE_INTEGER);
}

/**
 * Runs the plan's shards in `workers` child processes of this same command (`pxsim check --shard k/G --result-json`),
 * prints one merged progress line about every `progressEveryMs`, and returns the merged result: schedules, rejections
 * and coverage summed; the failure with the earliest run index (the one an unsharded run of the seed meets first) if
 * any worker failed. A worker that dies without a result fails the whole run with its exit status and last words.
 */
export async function runWorkers(io: Io, plan: WorkerPlan, progressEveryMs = 5000): Promise<CheckResult> {
  const entry = process.argv[1];
  if (entry === undefined) throw new CliError('cannot start workers: this process has no script path', 1);
  const done = new Array<number>(plan.workers).fill(0);
  const failures = new Array<number>(plan.workers).fill(0);
  const started = Date.now();
  const timer = setInterval(() => {
    const total = done.reduce((a, b) => a + b, 0);
    const rate = total / ((Date.now() - started) / 1000);
    io.err(
      `schedules: ${total}/${plan.runs} over ${plan.workers} workers, ${rate.toFixed(1)}/s, failures: ${failures.reduce((a, b) => a + b, 0)}\n`,
    );
  }, progressEveryMs);
  try {
    const results = await Promise.all(
      Array.from({ length: plan.workers }, async (_, worker) => {
        const shard = workerShard(plan.shard, plan.workers, worker);
        const args = [
          ...process.execArgv,
          entry,
          'check',
          '--runs',
          String(plan.runs),
          '--seed',
          String(plan.seed),
          '--shard',
          `${shard.index}/${shard.count}`,
          '--result-json',
          ...plan.flags,
        ];
        const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
        let last = '';
        const stderr: string[] = [];
        createInterface({ input: child.stdout }).on('line', (line) => {
          if (line.trim() !== '') last = line;
        });
        createInterface({ input: child.stderr }).on('line', (line) => {
          const match = PROGRESS.exec(line);
          if (match !== null) {
            done[worker] = Number(match[1]);
            failures[worker] = Number(match[2]);
            return;
          }
          stderr.push(line);
          if (stderr.length > 20) stderr.shift();
        });
        const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
        try {
          return JSON.parse(last) as WorkerResult;
        } catch {
          throw new CliError(
            `worker ${worker} (shard ${shard.index}/${shard.count}) ended with status ${String(status)} and no result:\n` +
              stderr.join('\n'),
            1,
          );
        }
      }),
    );
    return mergeResults(plan, results);
  } finally {
    clearInterval(timer);
  }
}

/** The workers' results as one: counts summed, the earliest failure kept. */
export function mergeResults(plan: Pick<WorkerPlan, 'runs' | 'seed'>, results: WorkerResult[]): CheckResult {
  const failed = results.filter((result) => result.failed).sort((a, b) => runIndexOf(a) - runIndexOf(b));
  const coverage: Record<string, number> = {};
  for (const result of results)
    for (const [name, count] of Object.entries(result.coverage)) coverage[name] = (coverage[name] ?? 0) + count;
  const first = failed[0];
  const base = {
    numRuns: plan.runs,
    seed: plan.seed,
    coverage,
    schedules: results.reduce((sum, result) => sum + result.schedules, 0),
    rejected: results.reduce((sum, result) => sum + result.rejected, 0),
  };
  if (first === undefined)
    return {
      ...base,
      failed: false,
      path: undefined,
      replayPath: undefined,
      counterexample: undefined,
      violations: [],
      replay: undefined,
    };
  return {
    ...base,
    numRuns: first.numRuns,
    failed: true,
    path: first.path,
    replayPath: first.replayPath,
    counterexample: first.counterexample ?? undefined,
    violations: first.violations,
    replay: first.replay,
  };
}
