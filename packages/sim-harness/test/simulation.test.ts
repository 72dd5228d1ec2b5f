import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { eventText, historyLine, Simulation } from '@pxsim/sim-harness';

const PINNED_RUN = new URL('./testdata/pinned-run.txt', import.meta.url);
const rewriteRequested = process.env['REWRITE'] === '1';

const A = ['127.0.1.1', '127.0.1.2', '127.0.1.3'];
const B = ['127.0.2.1', '127.0.2.2', '127.0.2.3'];
const statesOf = (sim: Simulation, ips: string[]) => ips.map((ip) => sim.state(ip));

async function walkthrough(seed: number): Promise<Simulation> {
  const sim = new Simulation({ seed });
  sim.start(sim.group('all'));
  await sim.run(10_000);
  expect(statesOf(sim, [...A, ...B])).toEqual(Array(6).fill('Online'));
  sim.crash(A);
  await sim.run(10_000);
  expect(statesOf(sim, B)).toEqual(Array(3).fill('Out of Quorum'));
  expect(await sim.setDomain('us-east-1a', false)).toBe('Successful');
  await sim.run(8000);
  expect(statesOf(sim, B)).toEqual(Array(3).fill('Online'));
  sim.start(A);
  await sim.run(8000);
  expect(statesOf(sim, A)).toEqual(Array(3).fill('Out of Quorum'));
  expect(await sim.setDomain('us-east-1a', true)).toBe('Successful');
  await sim.run(8000);
  expect(statesOf(sim, [...A, ...B])).toEqual(Array(6).fill('Online'));
  expect(sim.violations).toEqual([]);
  await sim.dispose();
  return sim;
}

describe('the simulation runs the real agents in virtual time', () => {
  it('plays the seed walkthrough with the checkers on', async () => {
    const sim = await walkthrough(1);
    expect(sim.writesAcknowledged).toBeGreaterThan(50);
    expect(
      sim.history.some((entry) => entry.kind === 'state' && eventText(entry).includes('Online -> Out of Quorum')),
    ).toBe(true);
  });

  it('is deterministic: the same seed twice gives the same trace hash, another seed another', async () => {
    const first = await walkthrough(42);
    const second = await walkthrough(42);
    const other = await walkthrough(43);
    expect(second.traceHash()).toBe(first.traceHash());
    expect(second.history).toEqual(first.history);
    expect(other.traceHash()).not.toBe(first.traceHash());
  });

  it('keeps a pinned run (test/testdata/pinned-run.txt): speed work must not change what happens', async () => {
    // Jitter, duplicates, loss, a domain split, a crash and a pause: frames delivered one by one and in batches, held
    // and released, reads failing and retried. The transcript (recorded before the delivery batching, range reuse and
    // frame-decode reuse went in, and again before the simulator was split by concern) must stay the same; rewrite
    // it with REWRITE=1 only for a change in behaviour, and review the diff.
    const sim = new Simulation({ seed: 5, witness: true });
    sim.start(sim.group('all'));
    await sim.run(10_000);
    sim.latency({ ms: 20, jitterMs: 30 });
    sim.duplicate(20);
    sim.loss(5);
    await sim.run(20_000);
    sim.partition(sim.group('us-east-1a'), sim.group('us-east-1b'));
    await sim.run(20_000);
    sim.heal();
    sim.crash(['127.0.1.2']);
    sim.pause(['127.0.2.3']);
    await sim.run(15_000);
    sim.restart(['127.0.1.2']);
    sim.resume(['127.0.2.3']);
    await sim.run(15_000);
    await sim.dispose();
    const ops = sim.volumeIo?.ops ?? [];
    const count = (outcome: string): number => ops.filter((op) => op.outcome === outcome).length;
    const app = sim.volumeIo?.app;
    // The volume I/O of the run, in one line (its operations are checked by the data checkers in the properties).
    const io =
      `io: ${ops.length} operations (${count('ok')} ok, ${count('unknown')} unknown, ${count('failed')} failed), ` +
      `${app?.counts.attaches ?? 0} attaches (${app?.counts.failovers ?? 0} failovers), last on ${app?.coordinator() ?? 'none'}`;
    const actual = [...sim.history.map(historyLine), io];
    if (rewriteRequested) writeFileSync(PINNED_RUN, actual.map((line) => `${line}\n`).join(''));
    const expected = readFileSync(PINNED_RUN, 'utf8').split('\n').slice(0, -1);
    // Line by line, so a failure names the first event that differs.
    for (let index = 0; index < Math.max(actual.length, expected.length); index++) {
      expect(actual[index], `line ${index + 1} of test/testdata/pinned-run.txt`).toBe(expected[index]);
    }
    expect(actual.length).toBeGreaterThan(40);
  });
});
