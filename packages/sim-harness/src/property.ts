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

/**
 * Combined faults, each played as one command with time passing inside it (so shrinking keeps them whole): a partial
 * kvdb cut with a deactivation, a pause across a partition and its resume, a one-way cut of a whole domain, the
 * witness bridge held, latency at the limit held.
 */
export const comboArbitrary: fc.Arbitrary<Step[]> = fc.oneof(
  fc
    .tuple(nodeSet, fc.nat({ max: 1 }), runArbitrary)
    .map(([nodes, domain, run]): Step[] => [{ kind: 'kvdb-cut', nodes }, { kind: 'deactivate', domain }, run]),
  fc
    .tuple(nodeIndex, runArbitrary, runArbitrary)
    .map(([node, during, after]): Step[] => [
      { kind: 'pause', node },
      { kind: 'domain-split' },
      during,
      { kind: 'resume', node },
      after,
    ]),
  fc
    .tuple(fc.boolean(), runArbitrary)
    .map(([aToB, run]): Step[] => [
      { kind: 'one-way', from: aToB ? DOMAIN_A : DOMAIN_B, to: aToB ? DOMAIN_B : DOMAIN_A },
      run,
    ]),
  runArbitrary.map((run): Step[] => [{ kind: 'witness-bridge' }, run]),
  fc.tuple(latencyArbitrary, runArbitrary).map(([latency, run]): Step[] => [latency, run]),
);

/** The fault steps a random schedule draws from (weights favour the faults that matter to quorum). */
export const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: fc.constant<Step>({ kind: 'domain-split' }) },
  { weight: 3, arbitrary: fc.constant<Step>({ kind: 'witness-bridge' }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('halves' as const), nodes: nodeSet }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('isolate' as const), node: nodeIndex }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('bridge' as const), nodes: nodeSet, bridge: nodeIndex }) },
  { weight: 1, arbitrary: fc.constant<Step>({ kind: 'majorities-ring' }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('one-way' as const), from: nodeSet, to: nodeSet }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('kvdb-cut' as const), nodes: nodeSet }) },
  { weight: 1, arbitrary: fc.constant<Step>({ kind: 'kvdb-cut-all' }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('crash' as const), node: nodeIndex }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('restart' as const), node: nodeIndex }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('pause' as const), node: nodeIndex }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('resume' as const), node: nodeIndex }) },
  { weight: 2, arbitrary: latencyArbitrary },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('loss' as const), percent: fc.integer({ min: 1, max: 60 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('duplicate' as const), percent: fc.integer({ min: 1, max: 50 }) }),
  },
  { weight: 2, arbitrary: fc.constant<Step>({ kind: 'heal' }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('deactivate' as const), domain: fc.nat({ max: 1 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('activate' as const), domain: fc.nat({ max: 1 }) }) },
  { weight: 5, arbitrary: runArbitrary },
);

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

/** One command: a single step, or (one in four) a combined fault. */
const commandArbitrary = fc.oneof(
  { weight: 3, arbitrary: stepArbitrary.map((step) => new StepCommand([step])) },
  { weight: 1, arbitrary: comboArbitrary.map((steps) => new StepCommand(steps)) },
);

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
export function scheduleArbitraryFor(replayPath?: string) {
  return fc.record({
    seed: fc.integer({ min: 1, max: 0x7fffffff }),
    witness: fc.boolean(),
    commands: fc.commands([commandArbitrary], {
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
  options: { liveness?: boolean; eventBudget?: Partial<EventBudget>; variant?: SimulationVariant } = {},
): Promise<ScheduleResult> {
  const sim = new Simulation({
    seed: schedule.seed,
    witness: schedule.witness,
    quorumMode: mode,
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
  /** Each schedule's event budget (default `DEFAULT_EVENT_BUDGET`). */
  eventBudget?: Partial<EventBudget>;
  /** Called about every `progressEveryMs` of wall time. */
  onProgress?: (line: string) => void;
  progressEveryMs?: number;
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
  return fc.asyncProperty(scheduleArbitraryFor(options.replayPath), async ({ seed, witness, commands }) => {
    const steps: Step[] = [];
    let dataNodeExpected = true;
    const sim = new Simulation({ seed, witness, quorumMode: options.mode, ...budgetOf(options), ...options.variant });
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
        `schedules: ${done}/${options.numRuns}, ${(done / ((now - started) / 1000)).toFixed(1)}/s, failures: ${failures}`,
      );
    }
    if (relevant.length > 0)
      throw new Error(
        relevant.map((violation) => `${violation.check} at ${violation.atMs} ms: ${violation.detail}`).join('\n'),
      );
    // L1 would pass vacuously with no data node expected to serve: such a schedule says nothing, reject it.
    if (!dataNodeExpected) {
      tally.rejected += 1;
      fc.pre(false);
    }
  });
}

interface Tally {
  coverage: Record<string, number>;
  schedules: number;
  rejected: number;
}

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
      (replayPath === undefined ? '' : ` --replay-path '${replayPath}'`)
    : undefined;
  let violations: Violation[] = [];
  if (counterexample !== undefined) {
    try {
      const replayOptions = {
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
