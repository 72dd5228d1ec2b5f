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
const samples = fc.sample(fc.array(stepArbitrary, { minLength: 3, maxLength: 10 }), {
  numRuns: job.count,
  seed: job.seed,
});
const started = performance.now();
for (const [index, sample] of samples.entries()) {
  const faults = sample.filter((step) => step.kind !== 'run');
  const slice = Math.floor(job.virtualMs / (faults.length + 1));
  const steps: Step[] = faults.flatMap((step): Step[] => [step, { kind: 'run', ms: slice }]);
  const sim = new Simulation({ seed: job.seed * 1000 + index, witness: index % 2 === 0 });
  sim.start(sim.group('all'));
  await sim.run(slice);
  for (const step of steps) await applyStep(sim, step);
  await sim.dispose();
}
parentPort?.postMessage({ count: job.count, wallMs: performance.now() - started });
