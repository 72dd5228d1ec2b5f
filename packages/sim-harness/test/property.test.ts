import { describe, expect, it } from 'vitest';
import { checkSchedules } from '@pxsim/sim-harness';

describe('property-based failure tests (quick)', () => {
  it('safe mode: random schedules keep S1-S3 and L1', async () => {
    const result = await checkSchedules({
      mode: 'safe',
      numRuns: 30,
      onProgress: (line) => console.info(line),
      progressEveryMs: 5000,
    });
    expect(result.violations, result.replay).toEqual([]);
    expect(result.failed).toBe(false);
  }, 600_000);

  it('reference mode: random schedules find H1 and H2 by themselves', async () => {
    const h1 = await checkSchedules({ mode: 'reference', numRuns: 500, failOn: ['S1'], seed: 1 });
    console.info(`H1: ${h1.numRuns} runs; ${JSON.stringify(h1.counterexample)}; ${h1.violations[0]?.detail}`);
    expect(h1.failed).toBe(true);
    const h2 = await checkSchedules({ mode: 'reference', numRuns: 500, failOn: ['S2'], seed: 1 });
    console.info(`H2: ${h2.numRuns} runs; ${JSON.stringify(h2.counterexample)}; ${h2.violations[0]?.detail}`);
    expect(h2.failed).toBe(true);
  }, 600_000);
});
