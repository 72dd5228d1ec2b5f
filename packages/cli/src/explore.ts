import { join } from 'node:path';
import {
  blockOpsTimeline,
  CHECK_NAMES,
  checkSchedules,
  FAULT_STEP_KINDS,
  parseShard,
  eventText,
  runSchedule,
  timelineNodes,
  type CheckName,
  type CheckResult,
  type Shard,
  type Step,
} from '@pxsim/sim-harness';
import type { QuorumMode } from '@pxsim/quorum';
import { runWorkers } from './check-workers.js';
import { CliError } from './client.js';
import type { Io } from './commands.js';
import { checkHtmlDir, checkHtmlPath, writeTimeline } from './timeline-file.js';

/** Worker processes `pxsim check --workers` starts at most. */
const WORKERS_MAX = 64;

/** Where a failure's HTML timeline goes: a file (`replay --html`) or a directory (`check --html-dir`). */
type HtmlTarget = { file: string } | { dir: string } | undefined;

function parseMode(mode: string): QuorumMode {
  if (mode !== 'safe' && mode !== 'reference') throw new CliError(`--mode ${mode}: use safe or reference`, 2);
  return mode;
}

/** `--faults a,b` and `--fail-on X,Y`: names checked against the lists they come from. */
export interface ScheduleFilters {
  faults?: string;
  failOn?: string;
  witness?: string;
  nodesPerDomain?: string;
}

/** Nodes per data domain at most: each domain's nodes are 127.0.<domain>.1–N. */
const NODES_PER_DOMAIN_MAX = 250;

function listOf<T extends string>(flag: string, text: string, known: readonly T[]): T[] {
  const names = text
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  if (names.length === 0) throw new CliError(`${flag} needs at least one name (${known.join(', ')})`, 2);
  return names.map((name) => {
    const found = known.find((candidate) => candidate === name);
    if (found === undefined) throw new CliError(`${flag}: unknown "${name}"; known: ${known.join(', ')}`, 2);
    return found;
  });
}

function filtersOf(options: ScheduleFilters): {
  faults?: Step['kind'][];
  failOn?: CheckName[];
  witness?: boolean;
  nodesPerDomain?: number;
} {
  if (options.witness !== undefined && options.witness !== 'yes' && options.witness !== 'no')
    throw new CliError(`--witness ${options.witness}: use yes or no`, 2);
  const nodesPerDomain = options.nodesPerDomain === undefined ? undefined : Number(options.nodesPerDomain);
  if (
    nodesPerDomain !== undefined &&
    (!Number.isInteger(nodesPerDomain) || nodesPerDomain < 1 || nodesPerDomain > NODES_PER_DOMAIN_MAX)
  )
    throw new CliError(
      `--nodes-per-domain ${options.nodesPerDomain ?? ''} must be a whole number from 1 to ${NODES_PER_DOMAIN_MAX}`,
      2,
    );
  return {
    ...(nodesPerDomain === undefined ? {} : { nodesPerDomain }),
    ...(options.witness === undefined ? {} : { witness: options.witness === 'yes' }),
    ...(options.faults === undefined ? {} : { faults: listOf('--faults', options.faults, FAULT_STEP_KINDS) }),
    ...(options.failOn === undefined ? {} : { failOn: listOf('--fail-on', options.failOn, CHECK_NAMES) }),
  };
}

async function report(
  io: Io,
  mode: QuorumMode,
  result: CheckResult,
  html?: HtmlTarget,
  shard?: Shard,
  nodesPerDomain?: number,
): Promise<void> {
  if (!result.failed || result.counterexample === undefined) {
    const of = shard === undefined ? '' : `, shard ${shard.index}/${shard.count}: ${result.schedules} of them run here`;
    io.out(`${result.numRuns} schedule(s) passed (mode ${mode}, seed ${result.seed}${of})\n`);
    return;
  }
  io.out(
    `FAILED after ${result.numRuns} schedule(s) (mode ${mode}); shrunk to:\n${JSON.stringify(result.counterexample, null, 2)}\n`,
  );
  const { sim, violations } = await runSchedule(
    mode,
    result.counterexample,
    nodesPerDomain === undefined ? {} : { nodesPerDomain },
  );
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
  if (html !== undefined) {
    const file = 'file' in html ? html.file : join(html.dir, `failure-${mode}-seed${result.seed}.html`);
    await writeTimeline(file, {
      title: `pxsim: a ${mode}-mode schedule that fails (${violations.map((violation) => violation.check).join(', ')})`,
      subtitle: [
        `fast-check seed ${result.seed}, path ${result.path ?? ''}; simulation seed ${result.counterexample.seed}`,
        `schedule: ${JSON.stringify(result.counterexample.steps)}`,
        `replay: ${result.replay ?? ''}`,
      ],
      nodes: timelineNodes(sim.specs),
      history: sim.history,
      endMs: sim.nowMs,
      ...blockOpsTimeline(sim.volumeIo?.ops ?? []),
    });
    io.out(`timeline: ${file}\n`);
  }
  throw new CliError(`${violations.length} violation(s)`);
}

/** `pxsim replay`'s seed, its `--path` and `--replay-path` checked (exit 2 naming the flag). */
export function replaySeed(options: { seed: string; path: string; replayPath?: string }): number {
  const seed = Number(options.seed);
  if (!Number.isInteger(seed)) throw new CliError(`--seed ${options.seed} is not a whole number`, 2);
  if (!/^\d+(:\d+)*$/.test(options.path))
    throw new CliError(`--path ${options.path} is not a fast-check path (like 12:0:3)`, 2);
  if (options.replayPath !== undefined && !/^[A-Za-z0-9+/]*:[A-Za-z0-9+/]*$/.test(options.replayPath))
    throw new CliError(`--replay-path ${options.replayPath} is not a fast-check replay path (like CBA:0/)`, 2);
  return seed;
}

/** `pxsim replay`: the exact failing case of a property run, with its history. */
export async function replay(
  io: Io,
  options: { seed: string; path: string; mode: string; replayPath?: string; html?: string } & ScheduleFilters,
): Promise<void> {
  const mode = parseMode(options.mode);
  const filters = filtersOf(options);
  const html = options.html === undefined ? undefined : { file: checkHtmlPath(options.html, '--html') };
  const seed = replaySeed(options);
  const result = await checkSchedules({
    mode,
    numRuns: Number(options.path.split(':')[0]) + 1,
    seed,
    path: options.path,
    ...(options.replayPath === undefined ? {} : { replayPath: options.replayPath }),
    ...filters,
  });
  await report(io, mode, result, html, undefined, filters.nodesPerDomain);
}

/** `pxsim check`'s own options (the schedule filters aside). */
export interface CheckCommandOptions {
  runs: string;
  mode: string;
  seed?: string;
  htmlDir?: string;
  shard?: string;
  workers?: string;
  /** A worker's output: the result as one JSON line on stdout, no report (the parent reports). */
  resultJson?: boolean;
}

/** The filters as flags again, for the workers. */
function filterFlags(options: ScheduleFilters): string[] {
  return [
    ...(options.faults === undefined ? [] : ['--faults', options.faults]),
    ...(options.failOn === undefined ? [] : ['--fail-on', options.failOn]),
    ...(options.witness === undefined ? [] : ['--witness', options.witness]),
    ...(options.nodesPerDomain === undefined ? [] : ['--nodes-per-domain', options.nodesPerDomain]),
  ];
}

/**
 * `pxsim check`: random fault schedules against the real agents in virtual time, with a progress line; `--shard i/M`
 * runs one shard of the seed's runs, `--workers N` spreads them (or the shard's) over N processes.
 */
export async function check(io: Io, options: CheckCommandOptions & ScheduleFilters): Promise<void> {
  const mode = parseMode(options.mode);
  const filters = filtersOf(options);
  const html = options.htmlDir === undefined ? undefined : { dir: checkHtmlDir(options.htmlDir, '--html-dir') };
  const runs = Number(options.runs);
  if (!Number.isInteger(runs) || runs < 1)
    throw new CliError(`--runs ${options.runs} must be a whole number of 1 or more`, 2);
  let seed = options.seed === undefined ? undefined : Number(options.seed);
  if (seed !== undefined && !Number.isInteger(seed))
    throw new CliError(`--seed ${options.seed ?? ''} is not a whole number`, 2);
  const shard = options.shard === undefined ? undefined : parseShard(options.shard);
  if (typeof shard === 'string') throw new CliError(`--shard: ${shard}`, 2);
  const workers = Number(options.workers ?? '1');
  if (!Number.isInteger(workers) || workers < 1 || workers > WORKERS_MAX)
    throw new CliError(`--workers ${options.workers ?? ''} must be a whole number from 1 to ${WORKERS_MAX}`, 2);
  let result: CheckResult;
  if (workers > 1) {
    // Every worker draws from the same seed (each its own shard of it): drawn here when not given.
    seed ??= Math.floor(Math.random() * 0x7fffffff);
    io.err(`seed ${seed}, ${runs} schedules over ${workers} workers\n`);
    result = await runWorkers(io, {
      runs,
      seed,
      shard,
      workers,
      flags: ['--mode', mode, ...filterFlags(options)],
    });
  } else {
    result = await checkSchedules({
      mode,
      numRuns: runs,
      ...(seed === undefined ? {} : { seed }),
      ...(shard === undefined ? {} : { shard }),
      ...filters,
      onProgress: (line) => io.err(`${line}\n`),
      progressEveryMs: options.resultJson === true ? 1000 : 5000,
    });
  }
  if (options.resultJson === true) {
    io.out(`${JSON.stringify({ ...result, counterexample: result.counterexample ?? null })}\n`);
    return;
  }
  await report(io, mode, result, html, shard, filters.nodesPerDomain);
}
