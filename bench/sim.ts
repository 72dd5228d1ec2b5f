import fc from 'fast-check';
import { applyStep, Scheduler, Simulation, stepArbitrary, type Step } from '@pxsim/sim-harness';
import type { Figure } from './figures.js';

/** Virtual ms per wall ms for a formed cluster left running (heartbeats, reads, client writes). */
async function speedup(
  domains: string[],
  nodesPerDomain: number,
  virtualMs: number,
): Promise<{ speedup: number; events: number; instants: number; wallMs: number }> {
  const sim = new Simulation({ seed: 7, domains, nodesPerDomain });
  sim.start(sim.group('all'));
  await sim.run(10_000);
  const eventsBefore = sim.scheduler.eventsRun;
  const instantsBefore = sim.scheduler.instantsRun;
  const started = performance.now();
  await sim.run(virtualMs);
  const wallMs = performance.now() - started;
  const result = {
    speedup: virtualMs / wallMs,
    events: sim.scheduler.eventsRun - eventsBefore,
    instants: sim.scheduler.instantsRun - instantsBefore,
    wallMs,
  };
  await sim.dispose();
  return result;
}

/** The scheduler alone: the same number of events over the same number of instants, each callback empty. */
async function bareScheduler(events: number, instants: number): Promise<number> {
  const scheduler = new Scheduler();
  const perInstant = Math.max(1, Math.round(events / instants));
  for (let instant = 0; instant < instants; instant++) {
    for (let index = 0; index < perInstant; index++) scheduler.setTimer(instant, () => undefined);
  }
  const started = performance.now();
  await scheduler.runUntil(instants);
  return scheduler.eventsRun / ((performance.now() - started) / 1000);
}

/** Random fault schedules whose run steps add up to `virtualMs`, against the six-node cluster in safe mode. */
async function schedulesPerMinute(count: number, virtualMs: number): Promise<number> {
  const samples = fc.sample(fc.array(stepArbitrary, { minLength: 3, maxLength: 10 }), { numRuns: count, seed: 11 });
  const started = performance.now();
  for (const [index, sample] of samples.entries()) {
    const faults = sample.filter((step) => step.kind !== 'run');
    const slice = Math.floor(virtualMs / (faults.length + 1));
    const steps: Step[] = faults.flatMap((step) => [step, { kind: 'run', ms: slice }]);
    const sim = new Simulation({ seed: 100 + index, witness: index % 2 === 0 });
    sim.start(sim.group('all'));
    await sim.run(slice);
    for (const step of steps) await applyStep(sim, step);
    await sim.dispose();
  }
  return count / ((performance.now() - started) / 60_000);
}

export async function simFigures(): Promise<Figure[]> {
  const six = await speedup(['us-east-1a', 'us-east-1b'], 3, 1_800_000);
  const bare = await bareScheduler(six.events, six.instants);
  const twelve = await speedup(['us-east-1a', 'us-east-1b'], 6, 120_000);
  const fortyEight = await speedup(['us-east-1a', 'us-east-1b'], 24, 30_000);
  const ninetySix = await speedup(['us-east-1a', 'us-east-1b'], 48, 10_000);
  const perMinute = await schedulesPerMinute(6, 600_000);
  return [
    { name: 'sim.speedup_x', value: six.speedup, unit: 'x', note: '2 x 3 nodes, fast profile, 1,800 simulated s' },
    {
      name: 'sim.events_per_s',
      value: six.events / (six.wallMs / 1000),
      unit: 'events/s',
      note: `${six.events} events in ${six.instants} instants`,
    },
    {
      name: 'sim.bare_scheduler_events_per_s',
      value: bare,
      unit: 'events/s',
      note: 'same events and instants, empty callbacks',
    },
    {
      name: 'sim.schedules_per_min',
      value: perMinute,
      unit: 'schedules/min',
      note: 'random fault schedules of 10 simulated minutes, six nodes, safe mode',
    },
    { name: 'sim.speedup_x_12_nodes', value: twelve.speedup, unit: 'x' },
    { name: 'sim.speedup_x_48_nodes', value: fortyEight.speedup, unit: 'x' },
    { name: 'sim.speedup_x_96_nodes', value: ninetySix.speedup, unit: 'x' },
  ];
}
