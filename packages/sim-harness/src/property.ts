import fc from 'fast-check';
import type { QuorumMode } from '@pxsim/quorum';
import type { EventBudget } from '@pxsim/runtime';
import { applyStep, type Step } from './nemesis.js';
import { CHECK_NAMES, type CheckName, type Violation } from '@pxsim/checkers';
import { Simulation, type SimulationOptions } from './simulation.js';
import { classify } from './coverage.js';

const nodeIndex = fc.nat({ max: 6 });
const nodeSet = fc.uniqueArray(fc.nat({ max: 6 }), { minLength: 1, maxLength: 4 });

const runArbitrary = fc.record({ kind: fc.constant('run' as const), ms: fc.integer({ min: 200, max: 8000 }) });

/**
 * Latency within the metro limit (ms + jitter ≤ 500), biased to its boundaries: 500 ± 0, 0 ± 500, and one direction
 * only (first data domain → second).
 */
const latencyArbitrary: fc.Arbitrary<Step> = fc
  .record({
    size: fc.oneof(
      {
        weight: 2,
        arbitrary: fc.record({ ms: fc.integer({ min: 0, max: 400 }), jitterMs: fc.integer({ min: 0, max: 100 }) }),
      },
      { weight: 1, arbitrary: fc.constant({ ms: 500, jitterMs: 0 }) },
      { weight: 1, arbitrary: fc.constant({ ms: 0, jitterMs: 500 }) },
    ),
    oneWay: fc.boolean(),
  })
  .map(({ size, oneWay }) => ({ kind: 'latency' as const, ...size, ...(oneWay ? { oneWay } : {}) }));

/** The first data domain's node indexes and the second's (topology order: 3 + 3, then the witness). */
const DOMAIN_A = [0, 1, 2];
const DOMAIN_B = [3, 4, 5];

/** An entry of the fault steps a schedule draws from: the step kinds it plays, its weight, its arbitrary. */
interface DrawEntry<T> {
  kinds: readonly Step['kind'][];
  weight: number;
  arbitrary: fc.Arbitrary<T>;
}

/**
 * Combined faults, each played as one command with time passing inside it (so shrinking keeps them whole): a partial
 * kvdb cut with a deactivation, a pause across a partition and its resume, a one-way cut of a whole domain, the
 * witness bridge held, latency at the limit held.
 */
const COMBO_ENTRIES: ReadonlyArray<DrawEntry<Step[]>> = [
  {
    kinds: ['kvdb-cut', 'deactivate'],
    weight: 1,
    arbitrary: fc
      .tuple(nodeSet, fc.nat({ max: 1 }), runArbitrary)
      .map(([nodes, domain, run]): Step[] => [{ kind: 'kvdb-cut', nodes }, { kind: 'deactivate', domain }, run]),
  },
  {
    kinds: ['pause', 'domain-split', 'resume'],
    weight: 1,
    arbitrary: fc
      .tuple(nodeIndex, runArbitrary, runArbitrary)
      .map(([node, during, after]): Step[] => [
        { kind: 'pause', node },
        { kind: 'domain-split' },
        during,
        { kind: 'resume', node },
        after,
      ]),
  },
  {
    kinds: ['one-way'],
    weight: 1,
    arbitrary: fc
      .tuple(fc.boolean(), runArbitrary)
      .map(([aToB, run]): Step[] => [
        { kind: 'one-way', from: aToB ? DOMAIN_A : DOMAIN_B, to: aToB ? DOMAIN_B : DOMAIN_A },
        run,
      ]),
  },
  {
    kinds: ['witness-bridge'],
    weight: 1,
    arbitrary: runArbitrary.map((run): Step[] => [{ kind: 'witness-bridge' }, run]),
  },
  {
    kinds: ['latency'],
    weight: 1,
    arbitrary: fc.tuple(latencyArbitrary, runArbitrary).map(([latency, run]): Step[] => [latency, run]),
  },
];

const entry = (kind: Step['kind'], weight: number, arbitrary: fc.Arbitrary<Step>): DrawEntry<Step> => ({
  kinds: [kind],
  weight,
  arbitrary,
});

/** The fault steps a random schedule draws from (weights favour the faults that matter to quorum). */
const STEP_ENTRIES: ReadonlyArray<DrawEntry<Step>> = [
  entry('domain-split', 3, fc.constant<Step>({ kind: 'domain-split' })),
  entry('witness-bridge', 3, fc.constant<Step>({ kind: 'witness-bridge' })),
  entry('halves', 1, fc.record({ kind: fc.constant('halves' as const), nodes: nodeSet })),
  entry('isolate', 1, fc.record({ kind: fc.constant('isolate' as const), node: nodeIndex })),
  entry('bridge', 1, fc.record({ kind: fc.constant('bridge' as const), nodes: nodeSet, bridge: nodeIndex })),
  entry('majorities-ring', 1, fc.constant<Step>({ kind: 'majorities-ring' })),
  entry('one-way', 1, fc.record({ kind: fc.constant('one-way' as const), from: nodeSet, to: nodeSet })),
  entry('kvdb-cut', 2, fc.record({ kind: fc.constant('kvdb-cut' as const), nodes: nodeSet })),
  entry('kvdb-cut-all', 1, fc.constant<Step>({ kind: 'kvdb-cut-all' })),
  entry('crash', 1, fc.record({ kind: fc.constant('crash' as const), node: nodeIndex })),
  entry('restart', 1, fc.record({ kind: fc.constant('restart' as const), node: nodeIndex })),
  entry('pause', 1, fc.record({ kind: fc.constant('pause' as const), node: nodeIndex })),
  entry('resume', 1, fc.record({ kind: fc.constant('resume' as const), node: nodeIndex })),
  entry('latency', 2, latencyArbitrary),
  entry('loss', 1, fc.record({ kind: fc.constant('loss' as const), percent: fc.integer({ min: 1, max: 60 }) })),
  entry(
    'duplicate',
    1,
    fc.record({ kind: fc.constant('duplicate' as const), percent: fc.integer({ min: 1, max: 50 }) }),
  ),
  entry('heal', 2, fc.constant<Step>({ kind: 'heal' })),
  entry('deactivate', 3, fc.record({ kind: fc.constant('deactivate' as const), domain: fc.nat({ max: 1 }) })),
  entry('activate', 3, fc.record({ kind: fc.constant('activate' as const), domain: fc.nat({ max: 1 }) })),
  entry('run', 5, runArbitrary),
];

/** The step kinds a schedule may be restricted to (`CheckOptions.faults`, `pxsim check --faults`); `run` always. */
export const FAULT_STEP_KINDS: readonly Step['kind'][] = [
  ...new Set(STEP_ENTRIES.flatMap((drawn) => drawn.kinds).filter((kind) => kind !== 'run')),
];

/** The entries whose every step kind is allowed (`run` always is); all of them without a restriction. */
function allowed<T>(
  entries: ReadonlyArray<DrawEntry<T>>,
  faults: ReadonlySet<string> | undefined,
): Array<DrawEntry<T>> {
  return entries.filter(
    (drawn) => faults === undefined || drawn.kinds.every((kind) => kind === 'run' || faults.has(kind)),
  );
}

const weighted = <T>(entries: ReadonlyArray<DrawEntry<T>>): fc.Arbitrary<T> =>
  fc.oneof(...entries.map(({ weight, arbitrary }) => ({ weight, arbitrary })));

export const comboArbitrary: fc.Arbitrary<Step[]> = weighted(COMBO_ENTRIES);
export const stepArbitrary: fc.Arbitrary<Step> = weighted(STEP_ENTRIES);

export interface Schedule {
  seed: number;
  witness: boolean;
  steps: Step[];
}

/** Commands, so that fast-check shrinks a failing schedule command by command (a combined fault is one command). */
class StepCommand implements fc.AsyncCommand<object, Simulation> {
  constructor(readonly steps: Step[]) {}
  check(): boolean {
    return true;
  }
  async run(_model: object, sim: Simulation): Promise<void> {
    for (const step of this.steps) await applyStep(sim, step);
  }
  toString(): string {
    return this.steps.map((step) => JSON.stringify(step)).join(',');
  }
}

/** One command: a single step, or (one in four) a combined fault; only the allowed kinds when `faults` is given. */
function commandArbitraryFor(faults: ReadonlySet<string> | undefined): fc.Arbitrary<StepCommand> {
  const steps = allowed(STEP_ENTRIES, faults);
  const combos = allowed(COMBO_ENTRIES, faults);
  const single = { weight: 3, arbitrary: weighted(steps).map((step) => new StepCommand([step])) };
  if (combos.length === 0) return fc.oneof(single);
  return fc.oneof(single, { weight: 1, arbitrary: weighted(combos).map((drawn) => new StepCommand(drawn)) });
}

/** fast-check hands commands back wrapped (for shrinking and replay). */
function unwrap(command: unknown): StepCommand | undefined {
  if (command instanceof StepCommand) return command;
  const inner = (command as { cmd?: unknown } | null)?.cmd;
  return inner instanceof StepCommand ? inner : undefined;
}

/**
 * Random schedules. `replayPath` (what fast-check prints as `replayPath="…"` beside a shrunk failure) tells the
 * commands' shrinker which commands ran, so that `{seed, path}` leads back to the same shrunk case; without it a
 * shrunk path is "wrong". A fresh arbitrary per check: fast-check's commands arbitrary records that path in itself.
 */
export function scheduleArbitraryFor(replayPath?: string, faults?: readonly Step['kind'][], witness?: boolean) {
  return fc.record({
    seed: fc.integer({ min: 1, max: 0x7fffffff }),
    witness: witness === undefined ? fc.boolean() : fc.constant(witness),
    commands: fc.commands([commandArbitraryFor(faults === undefined ? undefined : new Set(faults))], {
      maxCommands: 16,
      ...(replayPath === undefined ? {} : { replayPath }),
    }),
  });
}

export const scheduleArbitrary = scheduleArbitraryFor();

/** The `replayPath="…"` fast-check appends to a commands value's text (empty when nothing was recorded). */
export function replayPathOf(commands: { toString(): string } | undefined): string | undefined {
  const match = /replayPath="([^"]*)"/.exec(commands?.toString() ?? '');
  return match?.[1] === undefined || match[1] === '' ? undefined : match[1];
}

export interface ScheduleResult {
  violations: Violation[];
  sim: Simulation;
}

/** Forms the cluster, plays the steps (safety phase), then the liveness phase; returns what the checkers found. */
export async function runSchedule(
  mode: QuorumMode,
  schedule: Schedule,
  options: {
    liveness?: boolean;
    eventBudget?: Partial<EventBudget>;
    variant?: SimulationVariant;
    nodesPerDomain?: number;
  } = {},
): Promise<ScheduleResult> {
  const sim = new Simulation({
    seed: schedule.seed,
    witness: schedule.witness,
    quorumMode: mode,
    ...sizeOf(options),
    ...(options.eventBudget === undefined ? {} : { eventBudget: options.eventBudget }),
    ...options.variant,
  });
  try {
    sim.start(sim.group('all'));
    await sim.run(4000);
    for (const step of schedule.steps) await applyStep(sim, step);
    await sim.run(sim.bounds.detectionBoundMs + 1000);
    if (options.liveness !== false) {
      await sim.liveness();
      await sim.finishIo();
    }
    return { violations: [...sim.violations], sim };
  } finally {
    await sim.dispose();
  }
}

/** What a property run may change about the simulated system and its checks (tests and `pxsim check` only). */
export type SimulationVariant = Pick<SimulationOptions, 'splitBrainRule' | 'quorumEngine'>;

export interface CheckOptions {
  mode: QuorumMode;
  /** Another statement of S1, or (tests) a broken engine: see `SimulationVariant`. */
  variant?: SimulationVariant;
  numRuns: number;
  /** fast-check's seed and path: replay one exact case. */
  seed?: number;
  path?: string;
  /** The commands' replay path printed with a shrunk failure (`--replay-path`). */
  replayPath?: string;
  /** Which violations count as failures (default: all). */
  failOn?: CheckName[];
  /** Only these fault step kinds (and time passing) in the schedules (default: every kind, `FAULT_STEP_KINDS`). */
  faults?: Step['kind'][];
  /** Every schedule with (true) or without (false) a witness node (default: drawn). */
  witness?: boolean;
  /** Each schedule's event budget (default `DEFAULT_EVENT_BUDGET`). */
  eventBudget?: Partial<EventBudget>;
  /** Nodes in each data domain (default 3: two domains of three, plus the witness when drawn). */
  nodesPerDomain?: number;
  /**
   * Only the runs whose index is `index` modulo `count` (until a failure: its shrinking runs whatever it needs). The
   * shards of one seed together run the runs of the unsharded seed (each draws again for the schedules it rejects,
   * at its own end), and a failure's seed and path replay it without the shard: the runs of one seed can be spread
   * over processes, cores or machines.
   */
  shard?: Shard;
  /** Called about every `progressEveryMs` of wall time. */
  onProgress?: (line: string) => void;
  progressEveryMs?: number;
}

export interface Shard {
  index: number;
  count: number;
}

/** `i/M` (0 ≤ i < M) as a shard; undefined with the reason when the text is not one. */
export function parseShard(text: string): Shard | string {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (match === null) return `"${text}" is not a shard: expected i/M, like 0/4`;
  const index = Number(match[1]);
  const count = Number(match[2]);
  if (!Number.isSafeInteger(count) || count < 1) return `shard count ${match[2] ?? ''} must be 1 or more`;
  if (!Number.isSafeInteger(index) || index >= count) return `shard index ${match[1] ?? ''} must be below ${count}`;
  return { index, count };
}

/** How many of the first `numRuns` run indices belong to `shard`. */
export function shardRuns(numRuns: number, shard: Shard | undefined): number {
  if (shard === undefined) return numRuns;
  return Math.max(0, Math.ceil((numRuns - shard.index) / shard.count));
}

/** The schedule fast-check shrank a failure to, as plain steps. */
function counterexampleOf(
  example: { seed: number; witness: boolean; commands: Iterable<unknown> } | undefined,
): Schedule | undefined {
  if (example === undefined) return undefined;
  return {
    seed: example.seed,
    witness: example.witness,
    steps: [...example.commands].flatMap((command) => {
      return unwrap(command)?.steps ?? [];
    }),
  };
}

export interface CheckResult {
  failed: boolean;
  numRuns: number;
  seed: number;
  path: string | undefined;
  /** The commands' replay path (with seed and path, it replays the shrunk case). */
  replayPath: string | undefined;
  counterexample: Schedule | undefined;
  violations: Violation[];
  replay: string | undefined;
  /** How many schedules reached each hard case (`COVERAGE_CASES`), shrinking runs included. */
  coverage: Record<string, number>;
  /** Schedules run to the end (rejected ones included). */
  schedules: number;
  /** Schedules rejected because nothing could be checked by L1: no data domain left active at the end. */
  rejected: number;
}

/** The property a schedule must pass: no violation the options fail on, and a run that ends. */
function scheduleProperty(options: CheckOptions, tally: Tally) {
  const failOn = new Set<CheckName>(options.failOn ?? CHECK_NAMES);
  let done = 0;
  let failures = 0;
  const started = Date.now();
  let lastProgress = started;
  // fast-check runs the cases in order, then (after the first failure) the shrinking: run indices are counted until then.
  let runIndex = -1;
  let failedOnce = false;
  const expected = shardRuns(options.numRuns, options.shard);
  return fc.asyncProperty(
    scheduleArbitraryFor(options.replayPath, options.faults, options.witness),
    async ({ seed, witness, commands }) => {
      if (!failedOnce) runIndex += 1;
      const shard = options.shard;
      if (shard !== undefined && !failedOnce && runIndex % shard.count !== shard.index) return;
      const steps: Step[] = [];
      let dataNodeExpected = true;
      const sim = new Simulation({
        seed,
        witness,
        quorumMode: options.mode,
        ...sizeOf(options),
        ...budgetOf(options),
        ...options.variant,
      });
      try {
        sim.start(sim.group('all'));
        await sim.run(4000);
        for (const command of commands) steps.push(...(unwrap(command)?.steps ?? []));
        await fc.asyncModelRun(() => ({ model: {}, real: sim }), commands);
        await sim.run(sim.bounds.detectionBoundMs + 1000);
        await sim.liveness();
        // L1 would pass vacuously with no data node expected to serve (judged before the I/O phase's failback).
        dataNodeExpected = sim
          .activeNodes()
          .some((ip) => sim.specs.some((spec) => spec.ip === ip && spec.storageless !== true));
        await sim.finishIo();
      } catch (error) {
        failedOnce = true; // a run that threw fails the property too: shrinking follows
        throw error;
      } finally {
        await sim.dispose();
      }
      done += 1;
      tally.schedules += 1;
      for (const name of classify({ witness, steps }, sim.runCounts))
        tally.coverage[name] = (tally.coverage[name] ?? 0) + 1;
      const now = Date.now();
      const relevant = sim.violations.filter((violation) => failOn.has(violation.check));
      if (relevant.length > 0) failures += 1;
      if (options.onProgress !== undefined && now - lastProgress >= (options.progressEveryMs ?? 10_000)) {
        lastProgress = now;
        options.onProgress(
          `schedules: ${done}/${expected}, ${(done / ((now - started) / 1000)).toFixed(1)}/s, failures: ${failures}`,
        );
      }
      if (relevant.length > 0) failedOnce = true;
      if (relevant.length > 0)
        throw new Error(
          relevant.map((violation) => `${violation.check} at ${violation.atMs} ms: ${violation.detail}`).join('\n'),
        );
      // L1 would pass vacuously with no data node expected to serve: such a schedule says nothing, reject it.
      if (!dataNodeExpected) {
        tally.rejected += 1;
        fc.pre(false);
      }
    },
  );
}

interface Tally {
  coverage: Record<string, number>;
  schedules: number;
  rejected: number;
}

const sizeOf = (options: { nodesPerDomain?: number }): { nodesPerDomain?: number } =>
  options.nodesPerDomain === undefined ? {} : { nodesPerDomain: options.nodesPerDomain };

const budgetOf = (options: { eventBudget?: Partial<EventBudget> }): { eventBudget?: Partial<EventBudget> } =>
  options.eventBudget === undefined ? {} : { eventBudget: options.eventBudget };

/**
 * Runs random fault schedules against the real agents in virtual time (fast-check, shrinking on failure). A failure
 * comes with the fast-check seed and path, and the command that replays it.
 */
export async function checkSchedules(options: CheckOptions): Promise<CheckResult> {
  const tally: Tally = { coverage: {}, schedules: 0, rejected: 0 };
  const property = scheduleProperty(options, tally);
  const result = await fc.check(property, {
    numRuns: options.numRuns,
    ...(options.seed === undefined ? {} : { seed: options.seed }),
    ...(options.path === undefined ? {} : { path: options.path }),
    endOnFailure: false,
  });
  const counterexample = counterexampleOf(result.counterexample?.[0]);
  const replayPath = replayPathOf(result.counterexample?.[0].commands);
  const replay = result.failed
    ? `pnpm exec pxsim replay --mode ${options.mode} --seed ${result.seed} --path ${result.counterexamplePath ?? ''}` +
      (replayPath === undefined ? '' : ` --replay-path '${replayPath}'`) +
      (options.faults === undefined ? '' : ` --faults ${options.faults.join(',')}`) +
      (options.witness === undefined ? '' : ` --witness ${options.witness ? 'yes' : 'no'}`) +
      (options.failOn === undefined ? '' : ` --fail-on ${options.failOn.join(',')}`) +
      (options.nodesPerDomain === undefined ? '' : ` --nodes-per-domain ${options.nodesPerDomain}`)
    : undefined;
  let violations: Violation[] = [];
  if (counterexample !== undefined) {
    try {
      const replayOptions = {
        ...sizeOf(options),
        ...budgetOf(options),
        ...(options.variant === undefined ? {} : { variant: options.variant }),
      };
      violations = (await runSchedule(options.mode, counterexample, replayOptions)).violations;
    } catch (error) {
      // Not a violation but a failed run (an event budget exhausted, an agent that threw): its message names the
      // simulation seed; the replay command reproduces it.
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(`${message}\nschedule: ${JSON.stringify(counterexample)}\nreplay: ${replay ?? ''}`, {
        cause: error,
      });
    }
  }
  return {
    failed: result.failed,
    numRuns: result.numRuns,
    seed: result.seed,
    path: result.counterexamplePath ?? undefined,
    replayPath,
    counterexample,
    violations,
    replay,
    ...tally,
  };
}
