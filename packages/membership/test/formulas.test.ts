import { describe, expect, it } from 'vitest';
import {
  Awareness,
  Suspicion,
  TransmitLimitedQueue,
  configProblems,
  fastConfig,
  lanConfig,
  metroConfig,
  pushPullScaleMs,
  retransmitLimit,
  suspicionTimeoutAfter,
  suspicionTimeoutMs,
  type BroadcastMessage,
} from '../src/index.js';

describe('scaling formulas (util.go)', () => {
  it('suspicion timeout: SuspicionMult × max(1, log10(n)) × interval — util_test.go TestSuspicionTimeout', () => {
    // util_test.go: suspicionTimeout(3, n, 1s) / 3 for these n.
    const expected: [number, number][] = [
      [5, 1000],
      [10, 1000],
      [50, 1698],
      [100, 2000],
      [500, 2698],
      [1000, 3000],
    ];
    for (const [n, ms] of expected) expect(suspicionTimeoutMs(3, n, 1000) / 3).toBe(ms);
    // 1..10 members: the minimum scale 1×; 100: 2×; 1000: 3× (continuous in between, not stepped).
    for (let n = 1; n <= 10; n++) expect(suspicionTimeoutMs(4, n, 1000)).toBe(4000);
    expect(suspicionTimeoutMs(4, 100, 1000)).toBe(8000);
    expect(suspicionTimeoutMs(4, 1000, 4000)).toBe(48_000);
  });

  it('retransmit limit: RetransmitMult × ceil(log10(n + 1)) — util_test.go TestRetransmitLimit', () => {
    expect(retransmitLimit(3, 0)).toBe(0);
    expect(retransmitLimit(3, 1)).toBe(3);
    expect(retransmitLimit(3, 99)).toBe(6);
    for (let n = 1; n <= 9; n++) expect(retransmitLimit(4, n)).toBe(4);
    for (const n of [10, 50, 99]) expect(retransmitLimit(4, n)).toBe(8);
    expect(retransmitLimit(4, 1000)).toBe(16);
    expect(retransmitLimit(4, 999)).toBe(12);
  });

  it('push/pull scale: ×1 up to 32, then ceil(log2(n/32)) + 1 — util_test.go TestPushPullScale', () => {
    for (let n = 0; n <= 32; n++) expect(pushPullScaleMs(1000, n)).toBe(1000);
    for (let n = 33; n <= 64; n++) expect(pushPullScaleMs(1000, n)).toBe(2000);
    for (let n = 65; n <= 128; n++) expect(pushPullScaleMs(1000, n)).toBe(3000);
    expect(pushPullScaleMs(30_000, 1000)).toBe(180_000);
  });
});

describe('Lifeguard suspicion (suspicion.go)', () => {
  it('remaining time shrinks logarithmically with confirmations — suspicion_test.go remainingSuspicionTime', () => {
    // The cases of TestSuspicion_remainingSuspicionTime with their elapsed time added back.
    expect(suspicionTimeoutAfter(0, 3, 2000, 30_000)).toBe(30_000);
    expect(suspicionTimeoutAfter(1, 3, 2000, 30_000)).toBe(16_000);
    expect(suspicionTimeoutAfter(2, 3, 2000, 30_000)).toBe(7810);
    expect(suspicionTimeoutAfter(3, 3, 2000, 30_000)).toBe(2000);
    expect(suspicionTimeoutAfter(4, 3, 2000, 30_000)).toBe(2000);
  });

  it('starts at max when confirmations are expected, at min when k = 0 — suspicion.go newSuspicion', () => {
    expect(new Suspicion('a', 3, 500, 2000, 100).deadlineMs).toBe(2100);
    expect(new Suspicion('a', 0, 500, 2000, 100).deadlineMs).toBe(600);
  });

  it('counts each confirmer once, at most k, and moves the deadline — suspicion.go Confirm', () => {
    const suspicion = new Suspicion('me', 3, 2000, 30_000, 0);
    expect(suspicion.confirm('me', 1000)).toBe(false);
    expect(suspicion.confirm('b', 2000)).toBe(true);
    expect(suspicion.deadlineMs).toBe(16_000);
    expect(suspicion.confirm('b', 2500)).toBe(false);
    expect(suspicion.confirm('c', 3000)).toBe(true);
    expect(suspicion.deadlineMs).toBe(7810);
    expect(suspicion.confirm('d', 4000)).toBe(true);
    // Past min already: the timer fires now (suspicion.go: remaining ≤ 0 → timeoutFn at once).
    expect(suspicion.deadlineMs).toBe(4000);
    expect(suspicion.confirm('e', 5000)).toBe(false);
    expect(suspicion.count).toBe(3);
  });
});

describe('awareness (awareness.go)', () => {
  it('clamps the score to [0, max − 1] and scales the timeout by score + 1', () => {
    const awareness = new Awareness(8);
    awareness.apply(-1);
    expect(awareness.score).toBe(0);
    awareness.apply(3);
    expect(awareness.scale(1000)).toBe(4000);
    awareness.apply(100);
    expect(awareness.score).toBe(7);
    expect(awareness.scale(1000)).toBe(8000);
  });
});

describe('transmit-limited queue (queue.go)', () => {
  const alive = (node: string, incarnation: number): BroadcastMessage => ({ type: 'alive', node, incarnation });

  it('a newer message about a member replaces the queued one — broadcast.go Invalidates, queue_test.go', () => {
    const queue = new TransmitLimitedQueue();
    queue.push(alive('a', 1), 20);
    queue.push({ type: 'suspect', node: 'a', incarnation: 1, from: 'x' }, 25);
    queue.push(alive('b', 1), 20);
    expect(queue.length).toBe(2);
    expect(queue.queued('a')?.type).toBe('suspect');
  });

  it('sends each message transmitLimit times, least transmitted and newest first — TestTransmitLimited_GetBroadcasts_Limit', () => {
    const queue = new TransmitLimitedQueue();
    for (const node of ['test', 'foo', 'bar', 'baz']) queue.push(alive(node, 1), 18);
    const limit = retransmitLimit(1, 10);
    expect(limit).toBe(2);
    // 3 bytes overhead each, 80 bytes: three messages fit.
    const first = queue.take(3, 80, limit);
    expect(first.map((message) => message.node)).toEqual(['baz', 'bar', 'foo']);
    const second = queue.take(3, 80, limit);
    expect(second.map((message) => message.node)).toEqual(['test', 'baz', 'bar']);
    expect(queue.take(3, 80, limit).map((message) => message.node)).toEqual(['foo', 'test']);
    expect(queue.take(3, 80, limit)).toEqual([]);
    expect(queue.length).toBe(0);
  });

  it('prefers the largest message that fits within a transmit count — queue.go limitedBroadcast.Less', () => {
    const queue = new TransmitLimitedQueue();
    queue.push(alive('small', 1), 10);
    queue.push(alive('large', 1), 50);
    expect(queue.take(0, 100, 4).map((message) => message.node)).toEqual(['large', 'small']);
    queue.push(alive('huge', 1), 90);
    // Only 55 bytes free: huge (0 transmits) does not fit; large (1 transmit) does, then 5 bytes are left.
    expect(queue.take(0, 55, 4).map((message) => message.node)).toEqual(['large']);
  });
});

describe('configProblems', () => {
  it('accepts the metro profile at 500 ms and the fast profile at 50 ms', () => {
    expect(configProblems(metroConfig(), 500)).toEqual([]);
    expect(configProblems(fastConfig(), 50)).toEqual([]);
    expect(configProblems(lanConfig(), 100)).toEqual([]);
  });

  it('rejects timeouts that a 500 ms one-way latency defeats, naming the problem', () => {
    const lan = configProblems(lanConfig(), 500);
    expect(lan.some((problem) => problem.startsWith('probeTimeoutMs 500 does not exceed a round trip'))).toBe(true);
    expect(lan.some((problem) => problem.startsWith('probeIntervalMs 1000 does not exceed'))).toBe(true);
    expect(configProblems(fastConfig(), 500).length).toBeGreaterThanOrEqual(2);
    expect(configProblems({ ...metroConfig(), probeIntervalMs: 3500 }, 500)).toEqual([
      'probeIntervalMs 3500 does not exceed probeTimeoutMs plus an indirect round trip (1500 + 4 × 500 ms = 3500 ms): ' +
        'relayed acks would come after the probe failed',
    ]);
    expect(configProblems({ ...metroConfig(), suspicionMult: 0 }, 500)).toEqual([
      'suspicionMult must be a positive integer, not 0',
    ]);
  });
});
