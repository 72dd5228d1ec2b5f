import { describe, expect, it } from 'vitest';
import { checkSchedules, runSchedule, type CheckOptions, type CheckResult } from '@pxsim/sim-harness';

/** The flags of a printed replay command (`--mode M --seed S --path P [--replay-path 'R']`). */
export function replayFlags(line: string): { mode: string; seed: number; path: string; replayPath?: string } {
  const match =
    /^pnpm exec pxsim replay --mode (\w+) --seed (-?\d+) --path (\d+(?::\d+)*)(?: --replay-path '([^']*)')?(?: --faults [\w,-]+)?(?: --witness (?:yes|no))?(?: --fail-on [\w,]+)?(?: --nodes-per-domain \d+)?$/.exec(
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

/** Runs `options` again from the replay line `found` printed: the shrunk case exactly (seed, path, replay path). */
async function replayOf(found: CheckResult, options: Omit<CheckOptions, 'numRuns'>): Promise<CheckResult> {
  const flags = replayFlags(found.replay ?? '');
  const replayed = await checkSchedules({
    ...options,
    numRuns: Number(flags.path.split(':')[0]) + 1,
    seed: flags.seed,
    path: flags.path,
    ...(flags.replayPath === undefined ? {} : { replayPath: flags.replayPath }),
  });
  expect(replayed.counterexample).toEqual(found.counterexample);
  expect(replayed.violations.map((v) => v.detail)).toEqual(found.violations.map((v) => v.detail));
  return replayed;
}

describe('reference mode: the property tests find the hazards by themselves', () => {
  it('a split brain (a stale domain map), H1 (witness bridge) and H2 (stale domain map)', async () => {
    // Over who heard whom, the first split brain reference-mode schedules meet is a stale map: a node cut off from the
    // kvdb keeps serving on its last domain map after its domain was deactivated, while the other domain, which read
    // the deactivation, serves too. (A lone domain split no longer splits the brain: as in the reference, a node in
    // SUSPECT_NOT_IN_QUORUM is reported Out of Quorum by its cluster manager and stops serving.) H1 is shown by its
    // own schedule below.
    const stale = await checkSchedules({ mode: 'reference', numRuns: 1000, failOn: ['S1'], seed: 5 });
    const h2 = await checkSchedules({ mode: 'reference', numRuns: 1000, failOn: ['S2'], seed: 1 });
    const s1 = stale.violations.find((v) => v.check === 'S1');
    const s2 = h2.violations.find((v) => v.check === 'S2');
    console.info(
      `stale-map split brain found after ${stale.numRuns} schedule(s), shrunk to ${JSON.stringify(stale.counterexample)}: ${s1?.detail}`,
    );
    console.info(
      `H2 found after ${h2.numRuns} schedule(s), shrunk to ${JSON.stringify(h2.counterexample)}: ${s2?.detail}`,
    );
    expect(stale.failed).toBe(true);
    expect(stale.counterexample?.steps.map((step) => step.kind)).toEqual(
      expect.arrayContaining(['kvdb-cut', 'deactivate']),
    );
    expect(s1?.detail).toMatch(/^split brain: 127\.0\.1\.\d and 127\.0\.2\.\d serve, yet /);
    // A lone domain split, the grace period of earlier versions: both sides Out of Quorum, no violation.
    const split = await runSchedule('reference', { seed: 5, witness: false, steps: [{ kind: 'domain-split' }] });
    expect(split.violations).toEqual([]);
    // H1: with a witness, the two data domains cut off from each other (the witness hears both) both serve, each
    // deaf to the other's domain (their majorities meet in the witness, so it is the domain clause that catches it).
    const h1 = await runSchedule('reference', { seed: 5, witness: true, steps: [{ kind: 'witness-bridge' }] });
    expect(h1.violations.find((v) => v.check === 'S1')?.detail).toMatch(
      /^split brain: 127\.0\.1\.\d and 127\.0\.2\.\d serve, yet 127\.0\.[12]\.\d has heard no node of us-east-1[ab] within 3000 ms$/,
    );
    const safe = await runSchedule('safe', { seed: 5, witness: true, steps: [{ kind: 'witness-bridge' }] });
    expect(safe.violations).toEqual([]);
    // H2: a domain the operator deactivated keeps serving on its stale map.
    expect(h2.failed).toBe(true);
    expect(h2.counterexample?.steps.map((step) => step.kind)).toContain('deactivate');
    expect(s2?.detail).toMatch(/^domain us-east-1[ab] inactive since \d+ ms \(kvdb revision \d+\), yet .+ serve$/);
  }, 600_000);

  it('H1 as a data divergence: two coordinators acknowledge writes, found, shrunk, replayed; safe mode passes it', async () => {
    const options = {
      mode: 'reference' as const,
      numRuns: 1000,
      faults: ['witness-bridge' as const],
      witness: true,
      failOn: ['LIN' as const, 'RPO' as const],
      seed: 1,
    };
    const found = await checkSchedules(options);
    console.info(`H1 data divergence: ${JSON.stringify(found.counterexample)}\n${found.replay ?? ''}`);
    expect(found.failed).toBe(true);
    expect(found.counterexample?.witness).toBe(true);
    expect(found.counterexample?.steps.map((step) => step.kind)).toContain('witness-bridge');
    const lin = found.violations.find((violation) => violation.check === 'LIN')?.detail ?? '';
    // The failing slice names operations served by a coordinator in each domain.
    expect(lin).toMatch(/through 127\.0\.1\.\d/);
    expect(lin).toMatch(/through 127\.0\.2\.\d/);
    expect(found.replay).toMatch(/ --faults witness-bridge --witness yes --fail-on LIN,RPO$/);
    await replayOf(found, options);
    if (found.counterexample !== undefined)
      expect((await runSchedule('safe', found.counterexample)).violations).toEqual([]);
  }, 600_000);

  it('the printed replay line of a shrunk failure reproduces the same case and violations', async () => {
    const found = await checkSchedules({ mode: 'reference', numRuns: 1000, failOn: ['S1'], seed: 1 });
    expect(found.failed).toBe(true);
    expect(found.replay).toMatch(/ --fail-on S1$/);
    expect(found.path?.split(':').length ?? 0).toBeGreaterThan(1); // shrunk: the case fast-check's bug hit
    const flags = replayFlags(found.replay ?? '');
    expect(flags.mode).toBe('reference');
    const replayed = await checkSchedules({
      mode: 'reference',
      failOn: ['S1'],
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

  it('a failure on a larger cluster prints --nodes-per-domain, and the replay reproduces it', async () => {
    const options = { mode: 'reference' as const, failOn: ['S2' as const], nodesPerDomain: 4 };
    const found = await checkSchedules({ ...options, numRuns: 200, seed: 1 });
    expect(found.failed).toBe(true);
    expect(found.replay).toMatch(/ --fail-on S2 --nodes-per-domain 4$/);
    await replayOf(found, options);
    const { sim } = await runSchedule('reference', found.counterexample ?? { seed: 0, witness: false, steps: [] }, {
      nodesPerDomain: 4,
    });
    expect(sim.specs.filter((spec) => spec.domain === 'us-east-1a')).toHaveLength(4);
  }, 600_000);
});
