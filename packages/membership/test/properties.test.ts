import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MembershipNode,
  VirtualNet,
  metroConfig,
  suspicionTimeoutMs,
  type MemberState,
  type MembershipConfig,
} from '../src/index.js';

const N = 20;
const config = metroConfig();
const names = Array.from({ length: N }, (_, index) => `m${index}`);

/** The same bound as the 1,000-member test (see network.test.ts and the README), for N members. */
const detectionBoundMs =
  11 * config.probeIntervalMs +
  config.suspicionMaxTimeoutMult * suspicionTimeoutMs(config.suspicionMult, N, config.probeIntervalMs) +
  20_000;

interface Schedule {
  seed: number;
  latencyMaxMs: number;
  crashes: { node: number; atMs: number }[];
  severs: { a: number; b: number; atMs: number }[];
}

/**
 * Fault schedules without loss and with one-way latency ≤ 500 ms: up to 2 crashes and up to 3 severed links (both
 * ways, endpoints pairwise distinct and never crashed, so that every member keeps a live helper that reaches both
 * ends of a severed link: with IndirectChecks = 3 at most 2 of the helpers chosen can be crashed).
 */
const schedules: fc.Arbitrary<Schedule> = fc
  .record({
    seed: fc.nat(),
    latencyMaxMs: fc.integer({ min: 0, max: 500 }),
    crashes: fc.uniqueArray(fc.record({ node: fc.nat(N - 1), atMs: fc.integer({ min: 5000, max: 60_000 }) }), {
      maxLength: 2,
      selector: (crash) => crash.node,
    }),
    severs: fc.array(fc.record({ a: fc.nat(N - 1), b: fc.nat(N - 1), atMs: fc.integer({ min: 5000, max: 60_000 }) }), {
      maxLength: 3,
    }),
  })
  .map((schedule) => {
    const used = new Set(schedule.crashes.map((crash) => crash.node));
    const severs = schedule.severs.filter((sever) => {
      if (sever.a === sever.b || used.has(sever.a) || used.has(sever.b)) return false;
      used.add(sever.a);
      used.add(sever.b);
      return true;
    });
    return { ...schedule, severs };
  });

type MakeNode = (name: string, config: MembershipConfig, random: () => number) => MembershipNode;

/** Runs a schedule; returns what went wrong (empty when completeness and accuracy hold). */
function violations(schedule: Schedule, makeNode?: MakeNode): string[] {
  const net = new VirtualNet({
    seed: schedule.seed,
    names,
    config,
    latency: { minMs: 0, maxMs: schedule.latencyMaxMs },
    trace: false,
    ...(makeNode === undefined ? {} : { makeNode }),
  });
  const crashed = new Set(schedule.crashes.map((crash) => `m${crash.node}`));
  const problems: string[] = [];
  /** Per observer and crashed member: dead now (true) or back (false). */
  const deadNow = new Map<string, boolean>();
  net.onEvent((event) => {
    if (!crashed.has(event.node)) {
      if (event.kind === 'suspect' || event.kind === 'dead')
        problems.push(`${event.observer} ${event.kind} ${event.node} at ${event.atMs} ms`);
    } else if (event.kind === 'dead') deadNow.set(`${event.observer} ${event.node}`, true);
    else if (event.kind === 'join') deadNow.set(`${event.observer} ${event.node}`, false);
  });
  const faults = [
    ...schedule.crashes.map((crash) => ({ atMs: crash.atMs, apply: () => net.crash(`m${crash.node}`) })),
    ...schedule.severs.map((sever) => ({ atMs: sever.atMs, apply: () => net.sever(`m${sever.a}`, `m${sever.b}`) })),
  ].sort((x, y) => x.atMs - y.atMs);
  for (const fault of faults) {
    net.runUntil(fault.atMs);
    fault.apply();
  }
  const lastCrash = Math.max(0, ...schedule.crashes.map((crash) => crash.atMs));
  net.runUntil(Math.max(90_000, lastCrash + detectionBoundMs));
  for (const observer of names) {
    if (crashed.has(observer)) continue;
    for (const node of crashed)
      if (deadNow.get(`${observer} ${node}`) !== true) problems.push(`${observer} never declared ${node} dead`);
  }
  return problems;
}

/** Broken: after a missed direct ack, asks no helper (state.go probeNode without the indirect probe). */
class NoIndirectProbes extends MembershipNode {
  protected override indirectProbe(): void {}
}

/** Broken twice: no indirect probe and no refutation (state.go refute) — a suspected member stays quiet. */
class NoIndirectProbesNoRefutation extends NoIndirectProbes {
  protected override refute(_self: MemberState, _accused: number): void {}
}

describe('properties over random fault schedules (20 members, no loss, latency ≤ 500 ms)', () => {
  it('completeness: every crashed member is declared dead by every live one; accuracy: no live member is suspected', () => {
    fc.assert(
      fc.property(schedules, (schedule) => {
        expect(violations(schedule)).toEqual([]);
      }),
      { numRuns: 150, seed: 2026 },
    );
  });

  it('catches a variant that skips indirect probes (a severed link makes it suspect a live member)', () => {
    const make: MakeNode = (name, memberConfig, random) => new NoIndirectProbes({ name, config: memberConfig, random });
    const result = fc.check(
      fc.property(schedules, (schedule) => violations(schedule, make).length === 0),
      { numRuns: 40, seed: 2026 },
    );
    expect(result.failed).toBe(true);
    const counterexample = result.counterexample?.[0];
    expect(counterexample?.severs.length).toBeGreaterThan(0);
    if (counterexample !== undefined)
      expect(violations(counterexample, make).some((problem) => / suspect /.test(problem))).toBe(true);
  });

  it('catches a variant that also skips refutation with a live member declared dead', () => {
    const make: MakeNode = (name, memberConfig, random) =>
      new NoIndirectProbesNoRefutation({ name, config: memberConfig, random });
    const result = fc.check(
      fc.property(schedules, (schedule) =>
        violations(schedule, make).every((problem) => !/ dead m\d+ at/.test(problem)),
      ),
      { numRuns: 40, seed: 2026 },
    );
    expect(result.failed).toBe(true);
  });
});
