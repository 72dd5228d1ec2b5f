import { describe, expect, it } from 'vitest';
import { VirtualNet, metroConfig, pushPullScaleMs, retransmitLimit, suspicionTimeoutMs } from '../src/index.js';

const config = metroConfig();
const names = (n: number): string[] => Array.from({ length: n }, (_, index) => `n${index}`);

/**
 * The detection bound for a crashed member among n, with the metro profile (derived in the README):
 * - first probe: every live member probes one member per interval from its own shuffled list, so a given member is
 *   probed by about one prober per interval; none in 10 intervals has probability ≈ e^−10 (4.5e−5);
 * - that probe fails at its deadline, one ProbeInterval later (no awareness penalty: the helpers nack);
 * - the prober's suspicion runs out by max = SuspicionMaxTimeoutMult × SuspicionMult × log10(n) × ProbeInterval
 *   at the latest (Lifeguard confirmations only shorten it), and it broadcasts dead;
 * - dissemination: gossip to 3 members every 200 ms, each carrying it retransmitLimit times, reaches everyone in
 *   O(log n) rounds of ≤ GossipInterval + 500 ms; 20 s is ~28 such rounds.
 */
function detectionBoundMs(n: number): number {
  const firstProbe = 10 * config.probeIntervalMs;
  const probe = config.probeIntervalMs;
  const suspicionMax =
    config.suspicionMaxTimeoutMult * suspicionTimeoutMs(config.suspicionMult, n, config.probeIntervalMs);
  const dissemination = 20_000;
  return firstProbe + probe + suspicionMax + dissemination;
}

describe('1,000 members under 0–500 ms latency (virtual time)', () => {
  it('a crashed member is declared dead by every live member within the bound; no live member is suspected', () => {
    const n = 1000;
    const net = new VirtualNet({ seed: 11, names: names(n), config, latency: { minMs: 0, maxMs: 500 }, trace: false });
    const deadAt = new Map<string, number>();
    const falseAccusations: string[] = [];
    net.onEvent((event) => {
      if (event.node === 'n0' && event.kind === 'dead') deadAt.set(event.observer, event.atMs);
      else if (event.node !== 'n0' && (event.kind === 'dead' || event.kind === 'suspect'))
        falseAccusations.push(`${event.observer} ${event.kind} ${event.node}`);
    });
    net.runUntil(20_000);
    net.crash('n0');
    const crashedAt = net.nowMs;
    const bound = detectionBoundMs(n);
    expect(bound).toBe(352_000);
    const allDead = net.runUntilTrue(() => deadAt.size === n - 1, bound);
    expect(allDead).toBe(true);
    const slowest = Math.max(...deadAt.values()) - crashedAt;
    expect(slowest).toBeLessThanOrEqual(bound);
    // With confirmations from other probers the timer falls to its minimum (48 s): far below the bound.
    expect(slowest).toBeLessThan(config.probeIntervalMs * 10 + 48_000 + 20_000);
    expect(falseAccusations).toEqual([]);
  });

  it('sends a constant number of messages per member per probe interval as n goes 100 → 1,000', () => {
    const measure = (n: number): { perInterval: number; bound: number } => {
      const net = new VirtualNet({ seed: 3, names: names(n), config, trace: false });
      const accusations: string[] = [];
      net.onEvent((event) => {
        if (event.kind === 'dead' || event.kind === 'suspect') accusations.push(event.node);
      });
      net.runUntil(30_000);
      const before = net.sent.messages;
      const intervals = 30;
      net.runFor(intervals * config.probeIntervalMs);
      expect(accusations).toEqual([]);
      // Per member and interval: 1 ping and, on average, 1 ack (each ping is answered, no loss); gossip only while
      // broadcasts are queued (none once the start-up ones are sent); a push/pull (request and reply) every
      // pushPullScale(n); a probe straddling the window's edges adds at most 2 per member over the window.
      const pushPull = (2 * config.probeIntervalMs) / pushPullScaleMs(config.pushPullIntervalMs, n);
      return { perInterval: (net.sent.messages - before) / n / intervals, bound: 2 + pushPull + 2 / intervals };
    };
    const hundred = measure(100);
    const thousand = measure(1000);
    for (const { perInterval, bound } of [hundred, thousand]) {
      expect(perInterval).toBeLessThanOrEqual(bound);
      expect(perInterval).toBeGreaterThanOrEqual(2 - 2 / 30);
    }
    expect(thousand.perInterval / hundred.perInterval).toBeGreaterThan(0.9);
    expect(thousand.perInterval / hundred.perInterval).toBeLessThan(1.1);
  });
});

describe('faults on smaller clusters', () => {
  /**
   * A half/half split is O(n² log n) work in all (every member suspects, confirms and declares n/2 others, each
   * broadcast sent retransmitLimit times): 200 members take ~2 s, 1,000 members 75–210 s (by load) and 1.6 million
   * messages (every member done 162 s after the split) — that one runs in CI (CI=true) or with MEMBERSHIP_LARGE=1.
   */
  const partition = (n: number): void => {
    const all = names(n);
    const left = new Set(all.slice(0, n / 2));
    const net = new VirtualNet({ seed: 5, names: all, config, trace: false });
    let declared = 0;
    const wrong: string[] = [];
    net.onEvent((event) => {
      if (event.kind !== 'dead') return;
      if (left.has(event.observer) === left.has(event.node)) wrong.push(`${event.observer} → ${event.node}`);
      else declared++;
    });
    net.runUntil(10_000);
    net.partition([all.slice(0, n / 2), all.slice(n / 2)]);
    // Each of the n members must declare the n/2 of the other side dead (a dead member is declared once: deadNode
    // ignores a second dead message, and no member of the other side can refute across the split).
    const done = net.runUntilTrue(() => declared === n * (n / 2), 1_500_000, 5000);
    expect(done).toBe(true);
    expect(declared).toBe(n * (n / 2));
    expect(wrong).toEqual([]);
  };

  it('a partition into two halves makes each side declare the other dead, and no member of its own (200)', () => {
    partition(200);
  });

  it.runIf(process.env.MEMBERSHIP_LARGE === '1' || process.env.CI === 'true')(
    'the same with 1,000 members',
    () => {
      partition(1000);
    },
    900_000,
  );

  it('the same seed gives the same event trace; another seed another one', () => {
    const run = (seed: number): string[] => {
      const net = new VirtualNet({ seed, names: names(100), config, lossRate: 0.05 });
      net.runUntil(15_000);
      net.crash('n7');
      net.crash('n42');
      net.runUntil(150_000);
      return net.trace.map(
        (event) => `${event.atMs} ${event.observer} ${event.kind} ${event.node}@${event.incarnation}`,
      );
    };
    const first = run(21);
    expect(first.length).toBeGreaterThan(198);
    expect(run(21)).toEqual(first);
    expect(run(22)).not.toEqual(first);
  });

  it('every frame of a busy run decodes, and packet frames stay within 1,400 bytes', () => {
    const net = new VirtualNet({ seed: 4, names: names(100), config, lossRate: 0.02, viaWire: true, trace: false });
    net.runUntil(10_000);
    for (let index = 0; index < 10; index++) net.crash(`n${index}`);
    net.partition([names(100).slice(10, 30), names(100).slice(30)]);
    net.runUntil(100_000);
    net.heal();
    net.runUntil(130_000);
    expect(net.sent.bytes / net.sent.messages).toBeGreaterThan(20);
  });

  it('members joining through one seed converge, then stay quiet (retransmit limit reached)', () => {
    const n = 60;
    const net = new VirtualNet({ seed: 9, names: names(n), config, start: { seeds: ['n0'], spreadMs: 5000 } });
    const converged = net.runUntilTrue(
      () =>
        net.names.every(
          (name) =>
            net
              .node(name)
              .knownMembers()
              .filter((m) => m.status === 'alive').length === n,
        ),
      120_000,
    );
    expect(converged).toBe(true);
    expect(net.trace.filter((event) => event.kind === 'suspect' || event.kind === 'dead')).toEqual([]);
    net.runFor(10_000);
    expect(net.names.every((name) => net.node(name).queuedBroadcasts === 0)).toBe(true);
    expect(retransmitLimit(config.retransmitMult, n)).toBe(8);
  });
});
