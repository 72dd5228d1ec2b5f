import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeFrame, encodeFrame, FRAME_BYTES_MAX, type HeartbeatFrame } from '@pxsim/node-agent';

const frame = (sequence: number): HeartbeatFrame => ({
  v: 1,
  clusterId: 'px-dr-cluster',
  nodeId: '3f1b2c4d-0000-4000-8000-000000000001',
  generation: 2,
  sequence,
  sentAtMs: 1000 + sequence,
  state: 'UP',
});

describe('heartbeat frames', () => {
  it('decode to what was encoded; the same bytes again give the same (frozen) answer', () => {
    const bytes = encodeFrame(frame(1));
    const first = decodeFrame(bytes);
    expect(first).toEqual({ ok: true, frame: frame(1) });
    expect(decodeFrame(bytes)).toBe(first); // the same array again (a frame sent to every peer): decoded once
    expect(decodeFrame(Uint8Array.from(bytes))).toEqual(first);
    expect(Object.isFrozen(first.ok ? first.frame : undefined)).toBe(true);
    expect(decodeFrame(encodeFrame(frame(2)))).toEqual({ ok: true, frame: frame(2) });
  });

  it('are keyed by content: bytes changed in place after a decode are decoded afresh', () => {
    const bytes = Uint8Array.from(encodeFrame(frame(3)));
    expect(decodeFrame(bytes)).toMatchObject({ ok: true, frame: { state: 'UP' } });
    const at = Buffer.from(bytes).indexOf('UP');
    bytes[at] = 'X'.charCodeAt(0); // "XP": no longer a state
    expect(decodeFrame(bytes)).toEqual({ ok: false, problem: 'bad state XP' });
    bytes[at] = 'U'.charCodeAt(0);
    expect(decodeFrame(bytes)).toEqual({ ok: true, frame: frame(3) });
  });

  it('reject garbage, wrong shapes and oversized frames with a message naming the problem', () => {
    const garbage = decodeFrame(Uint8Array.from([0xc1]));
    expect(garbage.ok).toBe(false);
    expect(garbage.ok ? '' : garbage.problem).toMatch(/^malformed frame/);
    expect(decodeFrame(Uint8Array.from([0x91, 0x01]))).toEqual({
      ok: false,
      problem: 'malformed frame: not a 7-field array',
    });
    const big = new Uint8Array(FRAME_BYTES_MAX + 1);
    expect(decodeFrame(big)).toEqual({
      ok: false,
      problem: `oversized frame: ${FRAME_BYTES_MAX + 1} bytes > ${FRAME_BYTES_MAX}`,
    });
    expect(decodeFrame(big)).toEqual({
      ok: false,
      problem: `oversized frame: ${FRAME_BYTES_MAX + 1} bytes > ${FRAME_BYTES_MAX}`,
    });
  });

  it("answer from the sender's memory exactly what decoding the bytes gives (fast-check, odd strings and numbers)", () => {
    const text = fc.oneof(fc.string({ maxLength: 70 }), fc.string({ unit: 'binary', maxLength: 70 }), fc.uuid());
    const number = fc.oneof(fc.double(), fc.integer(), fc.constantFrom(-0, 0, 2 ** 53, 1.5, Number.NaN));
    fc.assert(
      fc.property(text, text, number, number, number, fc.constantFrom('UP', 'NOT_IN_QUORUM', 'DOWN'), (...fields) => {
        const [clusterId, nodeId, generation, sequence, sentAtMs, state] = fields;
        const sent = { v: 1, clusterId, nodeId, generation, sequence, sentAtMs, state } as unknown as HeartbeatFrame;
        const bytes = encodeFrame(sent);
        const fresh = decodeFrame(Uint8Array.from(bytes)); // another array: decoded from the bytes
        expect(decodeFrame(bytes)).toEqual(fresh);
      }),
      { numRuns: 500 },
    );
  });
});
