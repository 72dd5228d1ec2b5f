import { checkKubeSchedules, type KubeCheckResult } from '@pxsim/sim-harness';
import { CliError } from './client.js';
import type { Io } from './commands.js';
import { replaySeed } from './explore.js';

/** The flags of `pxsim check` that K1's property does not take. */
const NOT_WITH_KUBERNETES = ['faults', 'failOn', 'witness', 'shard', 'htmlDir', 'html', 'resultJson'] as const;

function refuseOthers(given: object, mode: string): void {
  const options = given as Record<string, unknown>;
  if (mode !== 'safe') throw new CliError('--kubernetes runs safe mode only (K1 is a promise of the safe mode)', 2);
  for (const name of NOT_WITH_KUBERNETES) {
    if (options[name] === undefined) continue;
    const flag = `--${name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;
    throw new CliError(`${flag} does not go with --kubernetes`, 2);
  }
  if (options['workers'] !== undefined && options['workers'] !== '1')
    throw new CliError('--workers does not go with --kubernetes (one process)', 2);
}

function reportResult(io: Io, result: KubeCheckResult): void {
  if (result.ok) {
    io.out(`K1: ${result.schedules} schedule(s), no application ran in both clusters at once\n`);
    return;
  }
  io.out(`${result.message.split('\nreplay:')[0] ?? ''}\n`);
  const replay = [
    'pnpm exec pxsim replay --kubernetes',
    `--seed ${result.seed}`,
    ...(result.path === undefined ? [] : [`--path ${result.path}`]),
    ...(result.replayPath === undefined ? [] : [`--replay-path '${result.replayPath}'`]),
  ].join(' ');
  io.out(`replay: ${replay}\n`);
  throw new CliError(`K1 failed after ${result.schedules} schedule(s)`);
}

/** `pxsim check --kubernetes`: K1 under random fault schedules, with progress and the replay of a failure. */
export async function checkKubernetes(io: Io, options: { runs: string; mode: string; seed?: string }): Promise<void> {
  refuseOthers(options, options.mode);
  const runs = Number(options.runs);
  if (!Number.isInteger(runs) || runs < 1)
    throw new CliError(`--runs ${options.runs} must be a whole number of 1 or more`, 2);
  const seed = options.seed === undefined ? Math.floor(Math.random() * 0x7fffffff) : Number(options.seed);
  if (!Number.isInteger(seed)) throw new CliError(`--seed ${options.seed ?? ''} is not a whole number`, 2);
  io.err(`K1 over ${runs} schedule(s), seed ${seed}\n`);
  reportResult(io, await checkKubeSchedules({ numRuns: runs, seed, onProgress: (line) => io.err(`${line}\n`) }));
}

/** `pxsim replay --kubernetes`: the failing schedule `check --kubernetes` printed. */
export async function replayKubernetes(
  io: Io,
  options: { seed: string; path: string; mode: string; replayPath?: string },
): Promise<void> {
  refuseOthers(options, options.mode);
  const seed = replaySeed(options);
  reportResult(
    io,
    await checkKubeSchedules({
      numRuns: Number(options.path.split(':')[0]) + 1,
      seed,
      path: options.path,
      ...(options.replayPath === undefined ? {} : { replayPath: options.replayPath }),
    }),
  );
}
