import { describe, expect, it } from 'vitest';
import { blockOpsTimeline, renderTimeline, escapeHtml, type HistoryEvent } from '../src/index.js';

const nodes = [
  { id: '10.0.1.1', label: 'a/1', domain: 'a' },
  { id: '10.0.2.1', label: 'b/1 <script>', domain: 'b' },
];

const history: HistoryEvent[] = [
  { atMs: 0, kind: 'state', node: '10.0.1.1', from: 'not started', to: 'Online', reason: '' },
  { atMs: 0, kind: 'state', node: '10.0.2.1', from: 'not started', to: 'Online', reason: '' },
  { atMs: 1000, kind: 'fault', faults: [{ kind: 'partition', a: ['10.0.1.1'], b: ['10.0.2.1'] }] },
  { atMs: 1500, kind: 'state', node: '10.0.2.1', from: 'Online', to: 'Out of Quorum', reason: 'sees 1 of 2 <&>' },
  {
    atMs: 2000,
    kind: 'operator',
    action: 'deactivate',
    domain: 'b',
    via: '10.0.1.1',
    outcome: 'Successful',
    reason: '',
  },
  { atMs: 3000, kind: 'fault', faults: [{ kind: 'heal' }] },
  { atMs: 3500, kind: 'check', check: 'S1', detail: 'split brain "x" & <y>' },
];

describe('the HTML timeline', () => {
  const page = renderTimeline({
    title: 'run <1>',
    subtitle: ["replay: pxsim replay --replay-path 'G:B'"],
    nodes,
    history,
    endMs: 4000,
    ops: [
      { id: 1, client: 'c1', text: 'write b0 = w1', invokeMs: 100, completeMs: 300, outcome: 'ok' },
      { id: 2, client: 'c2', text: 'read b0 -> w1', invokeMs: 3200, outcome: 'unknown' },
    ],
    violation: { explanation: 'read #2 returned a value <never> written', opIds: [2] },
  });

  it('escapes every text of the run (no markup from node names, reasons, findings or the title)', () => {
    expect(page).not.toContain('<script>');
    expect(page).not.toContain('<y>');
    expect(page).toContain(escapeHtml('b/1 <script>'));
    expect(page).toContain(escapeHtml('split brain "x" & <y>'));
    expect(page).toContain('<title>run &#60;1&#62;</title>');
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&#60;a href=&#34;x&#34;&#62;&#39;&#38;&#39;&#60;/a&#62;');
  });

  it('draws a lane per node with its states, a fault band until the heal, markers and the violation', () => {
    expect(page.match(/<g class="lane"/g)).toHaveLength(2);
    expect(page.match(/data-state="Out of Quorum"/g)).toHaveLength(1);
    // The partition's band runs from 1,000 ms to the heal at 3,000 ms.
    expect(page).toContain('partition 10.0.1.1 | 10.0.2.1: 1000 ms to 3000 ms');
    expect(page.match(/<g class="operator">/g)).toHaveLength(1);
    expect(page.match(/<g class="finding">/g)).toHaveLength(1);
    expect(page).toContain('class="op violating" data-op="2"');
    expect(page).toContain('class="op" data-op="1"');
    expect(page).toContain('read #2 returned a value &#60;never&#62; written');
    expect(page).not.toMatch(/<script|https?:\/\//);
  });

  it('volume operations become bars; a stale read is the violation, its slice highlighted and explained', () => {
    const op = (id: number, kind: 'read' | 'write', value: string, invokeMs: number, completeMs: number) => ({
      id,
      client: `c${id}`,
      volume: 'v',
      block: 0,
      kind,
      value,
      invokeMs,
      completeMs,
      outcome: 'ok' as const,
    });
    const drawn = blockOpsTimeline([
      op(1, 'write', 'a', 0, 10),
      op(2, 'write', 'b', 20, 30),
      op(3, 'read', 'a', 40, 50),
    ]);
    expect(drawn.ops.map((bar) => bar.text)).toEqual(['write v b0 = a', 'write v b0 = b', 'read v b0 -> a']);
    expect(drawn.violation?.opIds).toEqual([2, 3]);
    const page = renderTimeline({ title: 't', nodes, history, ...drawn });
    expect(page).toContain('class="op violating" data-op="3"');
    expect(page).toContain('is not linearizable');
    expect(blockOpsTimeline([op(1, 'write', 'a', 0, 10), op(3, 'read', 'a', 40, 50)]).violation).toBeUndefined();
  });
});
