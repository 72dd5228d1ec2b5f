import { describe, expect, it } from 'vitest';
import { checkSchedules } from '@pxsim/sim-harness';

describe('reference mode: the property tests find the hazards by themselves', () => {
  it('H1 (witness bridge split brain) and H2 (stale domain map) from random schedules', async () => {
    const h1 = await checkSchedules({ mode: 'reference', numRuns: 1000, failOn: ['S1'], seed: 1 });
    const h2 = await checkSchedules({ mode: 'reference', numRuns: 1000, failOn: ['S2'], seed: 1 });
    console.info(
      `H1 found after ${h1.numRuns} schedule(s), shrunk to ${JSON.stringify(h1.counterexample)}: ${h1.violations.find((v) => v.check === 'S1')?.detail}`,
    );
    console.info(
      `H2 found after ${h2.numRuns} schedule(s), shrunk to ${JSON.stringify(h2.counterexample)}: ${h2.violations.find((v) => v.check === 'S2')?.detail}`,
    );
    expect(h1.failed).toBe(true);
    expect(h1.counterexample?.witness).toBe(true);
    expect(h1.counterexample?.steps.map((step) => step.kind)).toContain('witness-bridge');
    expect(h2.failed).toBe(true);
    expect(h2.counterexample?.steps.map((step) => step.kind)).toContain('deactivate');
    expect(h1.replay).toMatch(/^pnpm exec pxsim replay --mode reference --seed 1 --path \d+(:\d+)*$/);
  }, 600_000);
});
