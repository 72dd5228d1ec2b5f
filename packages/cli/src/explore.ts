import { checkSchedules, eventText, runSchedule, type CheckResult } from '@pxsim/sim-harness';
import type { QuorumMode } from '@pxsim/quorum';
import { CliError } from './client.js';
import type { Io } from './commands.js';

function parseMode(mode: string): QuorumMode {
  if (mode !== 'safe' && mode !== 'reference') throw new CliError(`--mode ${mode}: use safe or reference`, 2);
  return mode;
}

async function report(io: Io, mode: QuorumMode, result: CheckResult): Promise<void> {
  if (!result.failed || result.counterexample === undefined) {
    io.out(`${result.numRuns} schedule(s) passed (mode ${mode}, seed ${result.seed})\n`);
    return;
  }
  io.out(
    `FAILED after ${result.numRuns} schedule(s) (mode ${mode}); shrunk to:\n${JSON.stringify(result.counterexample, null, 2)}\n`,
  );
  const { sim, violations } = await runSchedule(mode, result.counterexample);
  io.out('history (faults, operator actions, state changes, checks):\n');
  for (const entry of sim.history) {
    io.out(
      `${String(entry.atMs).padStart(8)} ms  ${entry.kind.padEnd(8)} ${entry.node === undefined ? '' : `${entry.node.padEnd(10)} `}${eventText(entry)}\n`,
    );
  }
  io.out(
    `violations:\n${violations.map((violation) => `  ${violation.check} at ${violation.atMs} ms: ${violation.detail}`).join('\n')}\n`,
  );
  io.out(`replay: ${result.replay ?? ''}\n`);
  throw new CliError(`${violations.length} violation(s)`);
}

/** `pxsim replay`: the exact failing case of a property run, with its history. */
export async function replay(
  io: Io,
  options: { seed: string; path: string; mode: string; replayPath?: string },
): Promise<void> {
  const mode = parseMode(options.mode);
  const seed = Number(options.seed);
  if (!Number.isInteger(seed)) throw new CliError(`--seed ${options.seed} is not a whole number`, 2);
  if (!/^\d+(:\d+)*$/.test(options.path))
    throw new CliError(`--path ${options.path} is not a fast-check path (like 12:0:3)`, 2);
  if (options.replayPath !== undefined && !/^[A-Za-z0-9+/]*:[A-Za-z0-9+/]*$/.test(options.replayPath))
    throw new CliError(`--replay-path ${options.replayPath} is not a fast-check replay path (like CBA:0/)`, 2);
  const result = await checkSchedules({
    mode,
    numRuns: Number(options.path.split(':')[0]) + 1,
    seed,
    path: options.path,
    ...(options.replayPath === undefined ? {} : { replayPath: options.replayPath }),
  });
  await report(io, mode, result);
}

/** `pxsim check`: random fault schedules against the real agents in virtual time, with a progress line. */
export async function check(io: Io, options: { runs: string; mode: string; seed?: string }): Promise<void> {
  const mode = parseMode(options.mode);
  const runs = Number(options.runs);
  if (!Number.isInteger(runs) || runs < 1)
    throw new CliError(`--runs ${options.runs} must be a whole number of 1 or more`, 2);
  const seed = options.seed === undefined ? undefined : Number(options.seed);
  if (seed !== undefined && !Number.isInteger(seed))
    throw new CliError(`--seed ${options.seed ?? ''} is not a whole number`, 2);
  const result = await checkSchedules({
    mode,
    numRuns: runs,
    ...(seed === undefined ? {} : { seed }),
    onProgress: (line) => io.err(`${line}\n`),
    progressEveryMs: 5000,
  });
  await report(io, mode, result);
}
