import { describe, expect, it } from 'vitest';
import {
  checkInactiveFenced,
  checkLatencyStability,
  checkLiveness,
  checkSplitBrain,
  checkWriteAcknowledgement,
  HearingLog,
  historyLine,
  SafetyWatch,
  ViolationLog,
  type HistoryEvent,
} from '@pxsim/checkers';

const nodes = [
  { node: 'a1', domain: 'a' },
  { node: 'a2', domain: 'a' },
  { node: 'b1', domain: 'b' },
  { node: 'b2', domain: 'b' },
  { node: 'w1', domain: 'w' },
];
function at(name: string): { node: string; domain: string } {
  const found = nodes.find((n) => n.node === name);
  if (found === undefined) throw new Error(`no node ${name}`);
  return found;
}

/** Everyone started at 0 and heard everyone else at `sentAtMs`, except the (receiver>sender) pairs in `deaf`. */
function hearingAt(sentAtMs: number, deaf: string[] = []): HearingLog {
  const hearing = new HearingLog();
  for (const { node } of nodes) hearing.started(node, 0);
  for (const { node: receiver } of nodes)
    for (const { node: sender } of nodes)
      if (receiver !== sender && !deaf.includes(`${receiver}>${sender}`)) hearing.received(receiver, sender, sentAtMs);
  return hearing;
}

describe('the checkers', () => {
  it('hearing: the latest send time of a frame received, from the receiver process start on', () => {
    const hearing = new HearingLog();
    hearing.started('a1', 10);
    expect(hearing.silentSinceMs('a1', 'b1')).toBe(10);
    hearing.received('a1', 'b1', 50);
    hearing.received('a1', 'b1', 40); // overtaken: older
    expect(hearing.silentSinceMs('a1', 'b1')).toBe(50);
    expect(hearing.hears('a1', 'b1', 150, 100)).toBe(true);
    expect(hearing.hears('a1', 'b1', 151, 100)).toBe(false);
    expect(hearing.hears('a1', 'a1', 10_000, 100)).toBe(true);
    hearing.started('a1', 200); // a new process remembers nothing
    expect(hearing.silentSinceMs('a1', 'b1')).toBe(200);
  });

  it('hearing: hearsEach answers as hears does, sender by sender (a process never started, restarted, deaf)', () => {
    const hearing = new HearingLog();
    hearing.started('a1', 10);
    hearing.received('a1', 'b1', 50);
    hearing.received('a1', 'a2', 120);
    hearing.received('b1', 'a1', 30); // b1 never started: heard from 0 on
    hearing.started('b2', 200);
    for (const receiver of ['a1', 'b1', 'b2', 'x9'])
      for (const nowMs of [0, 100, 150, 151, 220, 300, 301])
        expect(hearing.hearsEach(receiver, nodes, nowMs, 100)).toEqual(
          nodes.map(({ node }) => hearing.hears(receiver, node, nowMs, 100)),
        );
    expect(hearing.hearsEach('a1', nodes, 151, 100)).toContain(false);
    expect(hearing.hearsEach('a1', nodes, 150, 100)).toContain(true);
  });

  it('S1 any-pair: two serving nodes, one deaf to the other past the bound', () => {
    const serving = [at('a1'), at('b1')];
    const input = { boundMs: 100, members: nodes, serving, rule: 'any-pair' as const };
    const oneWay = hearingAt(50, ['b1>a1']);
    expect(checkSplitBrain({ ...input, nowMs: 100, hearing: oneWay })).toEqual([]); // within the bound
    expect(checkSplitBrain({ ...input, nowMs: 101, hearing: oneWay })).toEqual([
      {
        check: 'S1',
        detail: 'split brain: a1 and b1 serve, yet b1 has heard nothing from a1 since 0 ms (bound 100 ms)',
      },
    ]);
    expect(checkSplitBrain({ ...input, nowMs: 101, hearing: oneWay, serving: [at('a1'), at('a2')] })).toEqual([]);
  });

  it('S1 quorum-and-domains: majorities that do not meet, or a node deaf to the other domain', () => {
    const input = { boundMs: 100, nowMs: 150, members: nodes, rule: 'quorum-and-domains' as const };
    // Halves {a1, b1} | {a2, b2}: no node heard by both of a1 and b2.
    const halves = ['a1>a2', 'a1>b2', 'b1>a2', 'b1>b2', 'a2>a1', 'a2>b1', 'b2>a1', 'b2>b1', 'w1>a1', 'a1>w1'];
    halves.push('w1>b2', 'b2>w1', 'w1>a2', 'a2>w1', 'w1>b1', 'b1>w1');
    expect(checkSplitBrain({ ...input, hearing: hearingAt(100, halves), serving: [at('a1'), at('b2')] })).toEqual([
      {
        check: 'S1',
        detail:
          'split brain: a1 and b2 serve, yet no node was heard by both within 100 ms (their majorities do not meet)',
      },
    ]);
    // Witness bridge: a and b cut both ways, both hear w1; the majorities meet in w1 but a1 hears nothing of b.
    const bridge = ['a1>b1', 'a1>b2', 'a2>b1', 'a2>b2', 'b1>a1', 'b1>a2', 'b2>a1', 'b2>a2'];
    expect(
      checkSplitBrain({ ...input, hearing: hearingAt(100, bridge), serving: [at('a1'), at('b1')] })[0]?.detail,
    ).toBe('split brain: a1 and b1 serve, yet a1 has heard no node of b within 100 ms');
    // One way: b hears nothing of a, a hears b.
    const oneWay = ['b1>a1', 'b1>a2', 'b2>a1', 'b2>a2'];
    expect(
      checkSplitBrain({ ...input, hearing: hearingAt(100, oneWay), serving: [at('a1'), at('b1')] })[0]?.detail,
    ).toBe('split brain: a1 and b1 serve, yet b1 has heard no node of a within 100 ms');
    // One broken link inside a connected majority is not a split brain under this statement.
    expect(
      checkSplitBrain({ ...input, hearing: hearingAt(100, ['a1>b1', 'b1>a1']), serving: [at('a1'), at('b1')] }),
    ).toEqual([]);
  });

  it('S2: past the bound no node of an inactive domain serves', () => {
    const watch = new SafetyWatch({ splitBrainMs: 100, inactiveDomainMs: 50 });
    watch.setDomainActive('a', false, 10, 7);
    watch.setDomainActive('a', false, 30); // still inactive since 10
    expect(checkInactiveFenced(watch, 60, () => ['a1'])).toEqual([]);
    expect(checkInactiveFenced(watch, 61, () => ['a1'])).toEqual([
      { check: 'S2', detail: 'domain a inactive since 10 ms (kvdb revision 7), yet a1 serve' },
    ]);
    watch.setDomainActive('a', true, 70);
    expect(checkInactiveFenced(watch, 200, () => ['a1'])).toEqual([]);
  });

  it('S3, L1 and L2 name the node and what happened', () => {
    expect(checkWriteAcknowledgement('a1', 'Online')).toBeUndefined();
    expect(checkWriteAcknowledgement('a1', 'Out of Quorum')?.detail).toBe(
      'a1 acknowledged a write while Out of Quorum',
    );
    expect(checkLiveness([], 1000)).toBeUndefined();
    expect(checkLiveness([{ node: 'a1', why: 'Out of Quorum: no quorum' }], 1000)?.detail).toBe(
      'a1 (Out of Quorum: no quorum) not serving 1000 ms after the faults stopped',
    );
    const history: HistoryEvent[] = [
      { atMs: 5, kind: 'fault', faults: [{ kind: 'latency', ms: 20, jitterMs: 30 }] },
      { atMs: 9, kind: 'state', node: 'a1', from: 'Online', to: 'Out of Quorum', reason: 'silence' },
    ];
    expect(checkLatencyStability(history.slice(0, 1))).toBeUndefined();
    expect(checkLatencyStability(history)?.detail).toBe(
      'a1 left UP under latency alone: Online -> Out of Quorum (silence)',
    );
    expect(history.map(historyLine)).toEqual([
      '5 fault - latency 20±30 ms * -> *',
      '9 state a1 Online -> Out of Quorum (silence)',
    ]);
  });

  it('records each distinct violation once, at most 100', () => {
    const log = new ViolationLog();
    expect(log.add(1, { check: 'S1', detail: 'x' })).toEqual({ atMs: 1, check: 'S1', detail: 'x' });
    expect(log.add(2, { check: 'S1', detail: 'x' })).toBeUndefined();
    for (let index = 0; index < 200; index++) log.add(index, { check: 'S2', detail: String(index) });
    expect(log.violations).toHaveLength(100);
  });
});
