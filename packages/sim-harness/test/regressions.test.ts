import { describe, expect, it } from 'vitest';
import { runSchedule, type Schedule } from '@pxsim/sim-harness';

/**
 * Every schedule the property tests ever failed on, kept forever: what it found, and the fix. Replayed in safe mode,
 * each must now pass every checker.
 */
const REGRESSIONS: Array<{ found: string; schedule: Schedule }> = [
  {
    found:
      'L1: a restarted node whose join failed half-way (kvdb cut after its live record was written) later took its own ' +
      'record for a twin and refused to start (fix: keep the held claim across retries; recognise our own record)',
    schedule: {
      seed: 1,
      witness: false,
      steps: [
        { kind: 'latency', ms: 258, jitterMs: 48 },
        { kind: 'restart', node: 2 },
        { kind: 'activate', domain: 0 },
        { kind: 'kvdb-cut-all' },
      ],
    },
  },
];

describe('regression schedules (safe mode)', () => {
  it.each(REGRESSIONS)('$found', async ({ schedule }) => {
    const { violations } = await runSchedule('safe', schedule);
    expect(violations).toEqual([]);
  });
});
