import { describe, expect, it } from 'vitest';
import {
  checkInactiveFenced,
  checkLatencyStability,
  checkLiveness,
  checkSplitBrain,
  checkWriteAcknowledgement,
  historyLine,
  SafetyWatch,
  ViolationLog,
  type HistoryEvent,
} from '@pxsim/checkers';

const members: Record<string, string[]> = { a: ['a1', 'a2'], b: ['b1'], w: ['w1'] };
const cuts = new Set<string>();
const isCut = (from: string, to: string): boolean => cuts.has(`${from}>${to}`);
const cut = (from: string[], to: string[]): void => {
  for (const x of from) for (const y of to) cuts.add(`${x}>${y}`);
};

describe('the checkers', () => {
  it('S1: two domains cut both ways past the bound may not both have UP nodes', () => {
    cuts.clear();
    const watch = new SafetyWatch({ splitBrainMs: 100, inactiveDomainMs: 50 });
    cut(members['a'] ?? [], members['b'] ?? []);
    expect(watch.updateCuts(10, ['b', 'a', 'w'], (d) => members[d] ?? [], isCut)).toEqual([]); // one way only
    cut(members['b'] ?? [], members['a'] ?? []);
    expect(watch.updateCuts(20, ['b', 'a', 'w'], (d) => members[d] ?? [], isCut)).toEqual(['a|b']);
    const up = (domain: string): string[] => members[domain] ?? [];
    expect(checkSplitBrain(watch, 120, up)).toEqual([]); // within the bound
    expect(checkSplitBrain(watch, 121, up)).toEqual([
      { check: 'S1', detail: 'split brain: a and b cut off both ways since 20 ms, yet a1,a2 and b1 are UP' },
    ]);
    expect(checkSplitBrain(watch, 121, (domain) => (domain === 'b' ? [] : up(domain)))).toEqual([]);
    cuts.clear();
    watch.updateCuts(130, ['a', 'b', 'w'], (d) => members[d] ?? [], isCut);
    expect(checkSplitBrain(watch, 500, up)).toEqual([]);
  });

  it('S2: past the bound no node of an inactive domain serves', () => {
    const watch = new SafetyWatch({ splitBrainMs: 100, inactiveDomainMs: 50 });
    watch.setDomainActive('a', false, 10);
    watch.setDomainActive('a', false, 30); // still inactive since 10
    expect(checkInactiveFenced(watch, 60, () => ['a1'])).toEqual([]);
    expect(checkInactiveFenced(watch, 61, () => ['a1'])).toEqual([
      { check: 'S2', detail: 'domain a inactive since 10 ms, yet a1 serve' },
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
