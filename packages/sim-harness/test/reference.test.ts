import { describe, expect, it } from 'vitest';
import { checkSchedules, type CheckResult } from '@pxsim/sim-harness';

/** The flags of a printed replay command (`--mode M --seed S --path P [--replay-path 'R']`). */
export function replayFlags(line: string): { mode: string; seed: number; path: string; replayPath?: string } {
  const match =
    /^pnpm exec pxsim replay --mode (\w+) --seed (-?\d+) --path (\d+(?::\d+)*)(?: --replay-path '([^']*)')?$/.exec(
      line,
    );
  if (match?.[1] === undefined || match[2] === undefined || match[3] === undefined)
    throw new Error(`not a replay command: ${line}`);
  return {
    mode: match[1],
    seed: Number(match[2]),
    path: match[3],
    ...(match[4] === undefined ? {} : { replayPath: match[4] }),
  };
}

const checksOf = (result: CheckResult): string[] => result.violations.map((violation) => violation.check);

describe('reference mode: the property tests find the hazards by themselves', () => {
  it('H1 (witness bridge split brain) and H2 (stale domain map) from random schedules', async () => {
    // Seed 5: the first split brain its schedules meet is H1. With other seeds the combined faults may meet another
    // reference-mode split brain first (seed 1: a pause across a domain split, then a deactivation and a kvdb cut,
    // leaves us-east-1b and the witness both UP); the replay test below uses that one.
    const h1 = await checkSchedules({ mode: 'reference', numRuns: 1000, failOn: ['S1'], seed: 5 });
    const h2 = await checkSchedules({ mode: 'reference', numRuns: 1000, failOn: ['S2'], seed: 1 });
    const s1 = h1.violations.find((v) => v.check === 'S1');
    const s2 = h2.violations.find((v) => v.check === 'S2');
    console.info(
      `H1 found after ${h1.numRuns} schedule(s), shrunk to ${JSON.stringify(h1.counterexample)}: ${s1?.detail}`,
    );
    console.info(
      `H2 found after ${h2.numRuns} schedule(s), shrunk to ${JSON.stringify(h2.counterexample)}: ${s2?.detail}`,
    );
    // H1: with a witness, the two data domains cut off from each other (the witness hears both) are both UP.
    expect(h1.failed).toBe(true);
    expect(h1.counterexample?.witness).toBe(true);
    expect(h1.counterexample?.steps.map((step) => step.kind)).toContain('witness-bridge');
    expect(s1?.detail).toMatch(/^split brain: us-east-1a and us-east-1b cut off both ways/);
    // H2: a domain the operator deactivated keeps serving on its stale map.
    expect(h2.failed).toBe(true);
    expect(h2.counterexample?.steps.map((step) => step.kind)).toContain('deactivate');
    expect(s2?.detail).toMatch(/^domain us-east-1[ab] inactive since \d+ ms, yet .+ serve$/);
  }, 600_000);

  it('the printed replay line of a shrunk failure reproduces the same case and violations', async () => {
    const found = await checkSchedules({ mode: 'reference', numRuns: 1000, failOn: ['S1'], seed: 1 });
    expect(found.failed).toBe(true);
    expect(found.path?.split(':').length ?? 0).toBeGreaterThan(1); // shrunk: the case fast-check's bug hit
    const flags = replayFlags(found.replay ?? '');
    expect(flags.mode).toBe('reference');
    const replayed = await checkSchedules({
      mode: 'reference',
      numRuns: Number(flags.path.split(':')[0]) + 1,
      seed: flags.seed,
      path: flags.path,
      ...(flags.replayPath === undefined ? {} : { replayPath: flags.replayPath }),
    });
    expect(replayed.failed).toBe(true);
    expect(replayed.counterexample).toEqual(found.counterexample);
    expect(checksOf(replayed)).toEqual(checksOf(found));
    expect(replayed.violations.map((v) => v.detail)).toEqual(found.violations.map((v) => v.detail));
  }, 600_000);
});
