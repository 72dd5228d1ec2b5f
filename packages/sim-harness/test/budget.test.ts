import { describe, expect, it } from 'vitest';
import { checkSchedules, Simulation } from '@pxsim/sim-harness';

describe('the event budget', () => {
  it('fails a simulation caught in a zero-delay loop, naming the budget and the seed, instead of hanging it', async () => {
    const sim = new Simulation({ seed: 3 });
    sim.start(sim.group('all'));
    await sim.run(1000);
    const loop = (): void => {
      sim.scheduler.setTimer(0, loop);
    };
    sim.scheduler.setTimer(5, loop);
    await expect(sim.run(1000)).rejects.toThrow(
      /event budget exhausted: instantEventsMax = 100000 events reached at 1005 ms .*; simulation seed 3$/,
    );
    await sim.dispose();
  });

  it('fails a property run that exhausts it with the seed and the replay command', async () => {
    await expect(checkSchedules({ mode: 'safe', numRuns: 2, eventBudget: { eventsMax: 300 } })).rejects.toThrow(
      /eventsMax = 300 events reached at \d+ ms .*; simulation seed \d+\nschedule: \{.*\}\nreplay: pnpm exec pxsim replay --mode safe --seed -?\d+ --path \d+/,
    );
  });
});
