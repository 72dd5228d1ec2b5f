import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkLinearizable, checkNoLostWrites, checkNoPhantomReads, type BlockOp } from '../src/index.js';

let nextId = 1;
const w = (
  value: string,
  invokeMs: number,
  completeMs: number | undefined,
  outcome: BlockOp['outcome'] = 'ok',
): BlockOp => ({
  id: nextId++,
  client: 'c',
  volume: 'v',
  block: 0,
  kind: 'write',
  value,
  invokeMs,
  ...(completeMs === undefined ? {} : { completeMs }),
  outcome: completeMs === undefined && outcome === 'ok' ? 'unknown' : outcome,
});
const r = (value: string, invokeMs: number, completeMs: number): BlockOp => ({
  id: nextId++,
  client: 'd',
  volume: 'v',
  block: 0,
  kind: 'read',
  value,
  invokeMs,
  completeMs,
  outcome: 'ok',
});

describe('linearizability of block registers (Wing-Gong/Lowe, as Porcupine)', () => {
  it('sequential and concurrent histories that have an order pass', () => {
    expect(checkLinearizable([w('a', 0, 10), r('a', 20, 30), w('b', 40, 50), r('b', 60, 70)])).toEqual({ ok: true });
    // The read overlaps the write: it may see either value.
    expect(checkLinearizable([w('a', 0, 10), w('b', 20, 40), r('a', 25, 30)])).toEqual({ ok: true });
    expect(checkLinearizable([w('a', 0, 10), w('b', 20, 40), r('b', 25, 30)])).toEqual({ ok: true });
    expect(checkLinearizable([r('', 0, 5), w('a', 10, 20)])).toEqual({ ok: true });
    // Answered in the instant it was invoked (virtual time does that).
    expect(checkLinearizable([w('a', 7, 7), r('a', 7, 7), r('a', 9, 9)])).toEqual({ ok: true });
  });

  it('a stale read is found, with the shortest failing slice and the reason in words', () => {
    const result = checkLinearizable([w('x', 0, 5), w('a', 10, 20), w('b', 30, 40), r('a', 50, 60), r('b', 70, 80)]);
    expect(result.ok).toBe(false);
    if (result.ok !== false) return;
    expect(result.slice.map((op) => op.value)).toEqual(['b', 'a']);
    expect(result.explanation).toContain('block 0 of volume v is not linearizable');
    expect(result.explanation).toContain('returned "a"');
  });

  it('a write with an unknown outcome may take effect late, or never; a failed one never', () => {
    expect(checkLinearizable([w('a', 0, 10), w('u', 15, undefined), r('a', 20, 30), r('u', 40, 50)])).toEqual({
      ok: true,
    });
    expect(checkLinearizable([w('a', 0, 10), w('u', 15, undefined), r('a', 20, 30)])).toEqual({ ok: true });
    const failed = [w('a', 0, 10), w('f', 15, 16, 'failed'), r('f', 20, 30)];
    expect(checkLinearizable(failed).ok).toBe(false);
    expect(checkNoPhantomReads(failed)).toHaveLength(1);
    // Read back, then older again: the unknown write cannot go back on itself.
    expect(checkLinearizable([w('a', 0, 10), w('u', 15, undefined), r('u', 20, 30), r('a', 40, 50)]).ok).toBe(false);
  });

  it('zero RPO: a final read older than an acknowledged write is a lost write', () => {
    const ops = [w('a', 0, 10), w('b', 20, 30)];
    expect(checkNoLostWrites(ops, [r('b', 100, 110)])).toEqual([]);
    expect(checkNoLostWrites(ops, [r('a', 100, 110)])[0]?.detail).toContain('acknowledged write lost');
    expect(checkNoLostWrites(ops, [r('', 100, 110)])[0]?.check).toBe('RPO');
    // A write still unknown may or may not have landed: reading the one before it is no loss.
    expect(checkNoLostWrites([w('a', 0, 10), w('u', 20, undefined)], [r('a', 100, 110)])).toEqual([]);
  });

  it('a phantom read (a value nobody wrote) is found', () => {
    expect(checkNoPhantomReads([w('a', 0, 10), r('zz', 20, 30)])[0]?.check).toBe('PHANTOM');
  });

  it('histories of a real register with random concurrency always pass; one corrupted read is caught', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ write: fc.boolean(), start: fc.nat({ max: 1000 }), length: fc.integer({ min: 1, max: 50 }) }),
          {
            minLength: 2,
            maxLength: 40,
          },
        ),
        fc.nat(),
        (shapes, corrupt) => {
          // Each operation takes effect at a point inside its interval: a real register's history.
          const ops = shapes
            .map((shape, index) => ({ ...shape, index, pointMs: shape.start + Math.floor(shape.length / 2) }))
            .sort((a, b) => a.pointMs - b.pointMs || a.index - b.index);
          let value = '';
          const history = ops.map((shape): BlockOp => {
            if (shape.write) value = `w${shape.index}`;
            return {
              id: shape.index,
              client: `c${shape.index}`,
              volume: 'v',
              block: 0,
              kind: shape.write ? 'write' : 'read',
              value,
              invokeMs: shape.start,
              completeMs: shape.start + shape.length,
              outcome: 'ok',
            };
          });
          expect(checkLinearizable(history)).toEqual({ ok: true });
          const reads = history.filter((op) => op.kind === 'read');
          const victim = reads[corrupt % Math.max(reads.length, 1)];
          if (victim === undefined) return;
          const broken = history.map((op) => (op === victim ? { ...op, value: 'never-written' } : op));
          expect(checkLinearizable(broken).ok).toBe(false);
        },
      ),
      { numRuns: 300, seed: 5 },
    );
  });
});
