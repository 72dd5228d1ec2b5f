/** A worker of the sim benchmark: runs random fault schedules of a given length and reports how long they took. */
import { parentPort, workerData } from 'node:worker_threads';
import fc from 'fast-check';
import { applyStep, Simulation, stepArbitrary, type Step } from '@pxsim/sim-harness';

interface Job {
  count: number;
  virtualMs: number;
  seed: number;
}

const job = workerData as Job;
/** Schedules run first and not timed: the JIT's warm-up. */
const WARM_UP_SCHEDULES = 3;

const samples = fc.sample(fc.array(stepArbitrary, { minLength: 3, maxLength: 10 }), {
  numRuns: WARM_UP_SCHEDULES + job.count,
  seed: job.seed,
});

/** One schedule: its fault steps spread evenly over `virtualMs`, the cluster formed first. */
async function runOne(index: number, sample: Step[]): Promise<void> {
  const faults = sample.filter((step) => step.kind !== 'run');
  const slice = Math.floor(job.virtualMs / (faults.length + 1));
  const steps: Step[] = faults.flatMap((step): Step[] => [step, { kind: 'run', ms: slice }]);
  const sim = new Simulation({ seed: job.seed * 1000 + index, witness: index % 2 === 0 });
  sim.start(sim.group('all'));
  await sim.run(slice);
  for (const step of steps) await applyStep(sim, step);
  await sim.dispose();
}

for (const [index, sample] of samples.slice(0, WARM_UP_SCHEDULES).entries()) await runOne(index, sample);
const started = performance.now();
for (const [index, sample] of samples.slice(WARM_UP_SCHEDULES).entries())
  await runOne(WARM_UP_SCHEDULES + index, sample);
parentPort?.postMessage({ count: job.count, wallMs: performance.now() - started });
