import { describe, expect, it } from 'vitest';
import { formatFault, LinkFaults, mapTargets, parseFault, parseFaultText, type Fault } from '@pxsim/runtime';

describe('the fault vocabulary', () => {
  it('reads and writes the text form', () => {
    const lines = [
      'partition us-east-1a us-east-1b',
      'cut 127.0.1.1 127.0.2.1,127.0.2.2',
      'latency 200±50ms from=us-east-1a to=us-east-1b',
      'latency 20ms',
      'loss 5% to=127.0.2.1',
      'duplicate 20%',
      'kvdb-cut 127.0.1.1',
      'kvdb-heal 127.0.1.1',
      'kvdb-down',
      'crash 127.0.1.2',
      'restart us-east-1a',
      'pause 127.0.2.3',
      'deactivate us-east-1a',
      'hide-members us-east-1a us-east-1b',
      'heal',
    ];
    for (const line of lines) expect(formatFault(parseFaultText(line))).toBe(line);
    expect(parseFaultText('latency 200±50ms from=a to=b')).toEqual({
      kind: 'latency',
      ms: 200,
      jitterMs: 50,
      from: ['a'],
      to: ['b'],
    });
  });

  it('names the bad token', () => {
    expect(() => parseFaultText('partitoin a b')).toThrow(/unknown fault "partitoin"/);
    expect(() => parseFaultText('latency 200±50 from=a')).toThrow(/"200±50" is not a latency/);
    expect(() => parseFaultText('latency 20ms via=a')).toThrow(/unexpected "via=a"/);
    expect(() => parseFaultText('loss 120%')).toThrow(/"120%" is not a percentage/);
    expect(() => parseFaultText('heal now')).toThrow(/unexpected "now"/);
    expect(() => parseFaultText('crash')).toThrow(/expected crash GROUP/);
    expect(() => parseFaultText('partition a, b')).toThrow(/empty name in first group "a,"/);
  });

  it('parses JSON from the wire into a typed fault or a message naming the field', () => {
    const ok = parseFault({ kind: 'kvdb-cut', nodes: ['127.0.1.1'] });
    expect(ok).toEqual({ ok: true, fault: { kind: 'kvdb-cut', nodes: ['127.0.1.1'] } });
    const bad = parseFault({ kind: 'latency', ms: -1, jitterMs: 0 });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error).toMatch(/^fault\.ms: /);
    const unknown = parseFault({ kind: 'meteor' });
    if (!unknown.ok) expect(unknown.error).toMatch(/^fault\.kind: /);
    expect(unknown.ok).toBe(false);
    const notObject = parseFault('heal');
    expect(notObject.ok).toBe(false);
    if (!notObject.ok) expect(notObject.error).toMatch(/kinds: partition, cut, latency/);
    expect(parseFault({ kind: 'heal', extra: 1 }).ok).toBe(false);
  });

  it('resolves targets and applies network faults to LinkFaults', () => {
    const groups: Record<string, string[]> = { a: ['1', '2'], b: ['3'] };
    const resolve = (names: string[]): string[] => names.flatMap((name) => groups[name] ?? [name]);
    const fault: Fault = mapTargets(parseFaultText('partition a b'), resolve);
    expect(fault).toEqual({ kind: 'partition', a: ['1', '2'], b: ['3'] });
    const links = new LinkFaults();
    if (fault.kind !== 'partition') throw new Error('expected a partition');
    links.apply(fault);
    expect(links.isCut('1', '3') && links.isCut('3', '2')).toBe(true);
    expect(links.isCut('1', '2')).toBe(false);
    links.apply({ kind: 'kvdb-cut', nodes: ['1'] });
    expect(links.kvdbReachable('1')).toBe(false);
    links.apply({ kind: 'kvdb-heal', nodes: ['1'] });
    expect(links.kvdbReachable('1')).toBe(true);
    links.apply({ kind: 'duplicate', percent: 20 });
    expect(links.duplicatePercent).toBe(20);
    expect(() => links.apply({ kind: 'latency', ms: 600, jitterMs: 0 })).toThrow(/metro limit of 500 ms/);
    links.apply({ kind: 'heal' });
    expect(links.isCut('1', '3') || links.duplicatePercent !== 0).toBe(false);
  });
});
