import { describe, expect, it } from 'vitest';
import { checkSchedules } from '@pxsim/sim-harness';
import { BROKEN_ENGINES } from './variants/engines.js';

/** One fixed seed for every run below, so that the counts are the same in every run of this test. */
const SEED = 1;

/**
 * Checker sensitivity (in the manner of FoundationDB's BUGGIFY): each deliberately broken engine (test/variants) must
 * be caught by the random safety properties within a stated number of schedules, and the real engine must pass the
 * same schedules. The bounds are what seed 1 needs today, rounded up; a change to the generators or checkers that
 * makes one of them miss shows here.
 */
const CAUGHT_WITHIN: Record<string, number> = {
  'quorum threshold floor(total / 2)': 100,
  'partition claim usable at once': 100,
  'activation hold removed': 300,
};

describe('the random properties catch deliberately broken engines', () => {
  for (const variant of BROKEN_ENGINES) {
    const within = CAUGHT_WITHIN[variant.name] ?? 0;
    it(`${variant.name}: caught within ${within} schedules (seed ${SEED})`, async () => {
      const result = await checkSchedules({
        mode: 'safe',
        numRuns: within,
        seed: SEED,
        variant: { quorumEngine: variant.make },
      });
      console.info(
        `${variant.name}: caught after ${result.numRuns} schedule(s), shrunk to ${JSON.stringify(result.counterexample)}: ` +
          result.violations.map((violation) => `${violation.check} ${violation.detail}`).join('; '),
      );
      expect(result.failed).toBe(true);
      expect(result.violations.map((violation) => violation.check)).toContain('S1');
    }, 600_000);
  }

  it(`the real engine passes the same ${Math.max(...Object.values(CAUGHT_WITHIN))} schedules`, async () => {
    const result = await checkSchedules({
      mode: 'safe',
      numRuns: Math.max(...Object.values(CAUGHT_WITHIN)),
      seed: SEED,
    });
    expect(result.violations, result.replay).toEqual([]);
    expect(result.failed, result.replay).toBe(false);
  }, 600_000);
});
