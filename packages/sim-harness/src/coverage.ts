import type { Step } from './nemesis.js';

const PARTITIONS = new Set<Step['kind']>(['domain-split', 'witness-bridge', 'halves', 'isolate', 'bridge', 'one-way']);
const isFault = (step: Step): boolean => step.kind !== 'run';
const covers = (indexes: number[], wanted: number[]): boolean => wanted.every((index) => indexes.includes(index));

/**
 * The hard cases a random schedule should reach, each with a predicate over its steps. The property runs count them
 * (`CheckResult.coverage`) and the safety test fails when one falls below its floor (`COVERAGE_FLOORS`).
 */
export const COVERAGE_CASES = {
  /** A latency at the metro limit: ms + jitter = 500 (500 ± 0 or 0 ± 500). */
  'latency at the limit': (steps: Step[]) => steps.some((s) => s.kind === 'latency' && s.ms + s.jitterMs === 500),
  /** Latency in one direction only. */
  'one-way latency': (steps: Step[]) => steps.some((s) => s.kind === 'latency' && s.oneWay === true),
  /** Time passes between two faults (not every fault at one instant). */
  'time between faults': (steps: Step[]) => {
    const first = steps.findIndex(isFault);
    const run = steps.findIndex((s, i) => i > first && s.kind === 'run');
    return first >= 0 && run >= 0 && steps.some((s, i) => i > run && isFault(s));
  },
  /** A kvdb cut (of some nodes) together with a deactivation. */
  'kvdb cut + deactivation': (steps: Step[]) =>
    steps.some((s) => s.kind === 'kvdb-cut') && steps.some((s) => s.kind === 'deactivate'),
  /** A node paused, a partition, time passing, and the node resumed. */
  'pause, partition, resume': (steps: Step[]) =>
    steps.some((pause, i) => {
      if (pause.kind !== 'pause') return false;
      const cut = steps.findIndex((s, j) => j > i && PARTITIONS.has(s.kind));
      const run = steps.findIndex((s, j) => j > cut && s.kind === 'run');
      return cut > i && run > cut && steps.some((s, j) => j > run && s.kind === 'resume' && s.node === pause.node);
    }),
  /** Every node of one data domain cut off one way from every node of the other. */
  'one-way cut of a whole domain': (steps: Step[]) =>
    steps.some(
      (s) =>
        s.kind === 'one-way' &&
        ((covers(s.from, [0, 1, 2]) && covers(s.to, [3, 4, 5])) ||
          (covers(s.from, [3, 4, 5]) && covers(s.to, [0, 1, 2]))),
    ),
  /** At least 8 steps. */
  'long schedule (8+ steps)': (steps: Step[]) => steps.length >= 8,
} as const;

export type CoverageCase = keyof typeof COVERAGE_CASES;

/** Counted from the run, not the steps: a node took client writes only on resuming from a pause (S3 judged them). */
export const QUEUED_WRITES_CASE = 'writes queued across a pause';
/** Counted from the run: L2 was in force for a while (a latency-only window after everything settled). */
export const L2_WINDOW_CASE = 'L2 window (latency only, settled)';

/**
 * The cases a schedule reaches (the witness bridge needs a witness, so it is classified here too; what only the run
 * can tell: how many client writes a node took only on resuming, how many L2 windows opened).
 */
export function classify(
  schedule: { witness: boolean; steps: Step[] },
  run: { queuedWrites?: number; stabilityWindows?: number } = {},
): string[] {
  const reached: string[] = Object.entries(COVERAGE_CASES)
    .filter(([, reaches]) => reaches(schedule.steps))
    .map(([name]) => name);
  if (schedule.witness && schedule.steps.some((s) => s.kind === 'witness-bridge')) reached.push('witness bridge');
  if ((run.queuedWrites ?? 0) > 0) reached.push(QUEUED_WRITES_CASE);
  if ((run.stabilityWindows ?? 0) > 0) reached.push(L2_WINDOW_CASE);
  return reached;
}

/** Each case's floor: the share of schedules that must reach it (about half what 2 × 200 schedules measured). */
export const COVERAGE_FLOORS: Readonly<Record<string, number>> = {
  'latency at the limit': 0.1,
  'one-way latency': 0.1,
  'time between faults': 0.4,
  'kvdb cut + deactivation': 0.1,
  'pause, partition, resume': 0.06,
  'one-way cut of a whole domain': 0.1,
  'long schedule (8+ steps)': 0.25,
  'witness bridge': 0.1,
  [QUEUED_WRITES_CASE]: 0.1,
  [L2_WINDOW_CASE]: 0.1,
};

/** The cases below their floor, as "name: share < floor". */
export function coverageShortfalls(coverage: Readonly<Record<string, number>>, schedules: number): string[] {
  return Object.entries(COVERAGE_FLOORS)
    .filter(([name, floor]) => (coverage[name] ?? 0) / schedules < floor)
    .map(([name, floor]) => `${name}: ${(((coverage[name] ?? 0) / schedules) * 100).toFixed(1)} % < ${floor * 100} %`);
}
