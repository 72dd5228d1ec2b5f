import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createHmac } from 'node:crypto';
import { unpack } from 'msgpackr';
import {
  decodeFrame,
  encodeFrame,
  FRAME_BYTES_MAX,
  FRAME_TAG_BYTES,
  FRAME_BYTES_UUID_MAX,
  clusterTagOf,
  frameKey,
  newFrameSecret,
  type HeartbeatFrame,
} from '@pxsim/node-agent';

const key = frameKey(newFrameSecret());
const otherKey = frameKey(newFrameSecret());

const frame = (sequence: number): HeartbeatFrame => ({
  v: 2,
  clusterTag: clusterTagOf('px-dr-cluster'),
  nodeId: '3f1b2c4d-0000-4000-8000-000000000001',
  generation: 2,
  sequence,
  sentAtMs: 1000 + sequence,
  state: 'UP',
});

describe('heartbeat frames', () => {
  it('decode to what was encoded; the same bytes again give the same (frozen) answer', () => {
    const bytes = encodeFrame(frame(1), key);
    const first = decodeFrame(bytes, key);
    expect(first).toEqual({ ok: true, frame: frame(1), authentic: true });
    expect(decodeFrame(bytes, key)).toBe(first); // the same array again (a frame sent to every peer): decoded once
    expect(decodeFrame(Uint8Array.from(bytes), key)).toEqual(first);
    expect(Object.isFrozen(first.ok ? first.frame : undefined)).toBe(true);
    expect(decodeFrame(encodeFrame(frame(2), key), key)).toEqual({ ok: true, frame: frame(2), authentic: true });
  });

  it('are keyed by content: bytes changed in place after a decode are decoded afresh', () => {
    const bytes = Uint8Array.from(encodeFrame(frame(3), key));
    expect(decodeFrame(bytes, key)).toMatchObject({ ok: true, frame: { state: 'UP' } });
    const at = bytes.length - FRAME_TAG_BYTES - 1; // the state code (UP: 0)
    bytes[at] = 7; // no longer a state
    expect(decodeFrame(bytes, key)).toEqual({ ok: false, problem: 'bad state 7' });
    bytes[at] = 1; // a state, but not the one the tag was made for
    expect(decodeFrame(bytes, key)).toMatchObject({
      ok: true,
      frame: { state: 'SUSPECT_NOT_IN_QUORUM' },
      authentic: false,
    });
    bytes[at] = 0;
    expect(decodeFrame(bytes, key)).toEqual({ ok: true, frame: frame(3), authentic: true });
  });

  it('are authentic only under the key they were made with, and with their tag intact', () => {
    const bytes = encodeFrame(frame(4), key);
    expect(decodeFrame(bytes, key)).toEqual({ ok: true, frame: frame(4), authentic: true });
    expect(decodeFrame(bytes, otherKey)).toEqual({ ok: true, frame: frame(4), authentic: false });
    expect(decodeFrame(bytes, undefined)).toEqual({ ok: true, frame: frame(4), authentic: false });
    const forged = Uint8Array.from(bytes);
    forged[forged.length - 1] = (forged.at(-1) ?? 0) ^ 1;
    expect(decodeFrame(forged, key)).toEqual({ ok: true, frame: frame(4), authentic: false });
    const untagged = bytes.subarray(0, bytes.length - FRAME_TAG_BYTES);
    expect(decodeFrame(untagged, key).ok === true && decodeFrame(untagged, key)).not.toMatchObject({ authentic: true });
    expect(decodeFrame(Uint8Array.from([1, 2, 3]), key)).toEqual({
      ok: false,
      problem: 'malformed frame: shorter than its tag',
    });
  });

  it('fit in 96 bytes whatever the cluster ID: a UUID node ID, the longest state, the largest numbers', () => {
    for (const clusterId of ['c', 'px-dr-cluster', 'c'.repeat(63)]) {
      const worst: HeartbeatFrame = {
        v: 2,
        clusterTag: clusterTagOf(clusterId),
        nodeId: '3f1b2c4d-0000-4000-8000-000000000001',
        generation: 2 ** 32 - 1,
        sequence: Number.MAX_SAFE_INTEGER,
        sentAtMs: Date.UTC(2100, 0, 1) + 0.5,
        state: 'SUSPECT_NOT_IN_QUORUM',
      };
      expect(encodeFrame(worst, key).length).toBe(FRAME_BYTES_UUID_MAX);
    }
    expect(FRAME_BYTES_UUID_MAX).toBeLessThanOrEqual(96);
  });

  it("carry node:crypto's HMAC-SHA256 of their body under the secret, truncated (fast-check over secrets and frames)", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 100 }),
        fc.string({ maxLength: 64 }),
        (secretBytes, nodeId) => {
          const secret = Buffer.from(secretBytes).toString('base64url');
          const bytes = encodeFrame({ ...frame(6), nodeId }, frameKey(secret));
          const body = bytes.subarray(0, bytes.length - FRAME_TAG_BYTES);
          const expected = createHmac('sha256', Buffer.from(secretBytes))
            .update(body)
            .digest()
            .subarray(0, FRAME_TAG_BYTES);
          expect(Buffer.from(bytes.subarray(body.length))).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("write each sender's repeated fields once and still each frame's own values (-0 apart from 0, senders apart)", () => {
    const fieldsOf = (sent: HeartbeatFrame): unknown => {
      const bytes = encodeFrame(sent, key);
      return unpack(bytes.subarray(0, bytes.length - FRAME_TAG_BYTES));
    };
    const other = { ...frame(7), nodeId: '3f1b2c4d-0000-4000-8000-000000000002' };
    for (const sent of [frame(7), other, { ...frame(8), generation: 0 }, { ...frame(9), generation: -0 }, frame(10)]) {
      const read = fieldsOf(sent) as unknown[];
      expect(read[2]).toBe(sent.nodeId);
      expect(Object.is(read[3], sent.generation)).toBe(true);
      expect(read[4]).toBe(sent.sequence);
    }
  });

  it('name their cluster by a tag of 8 bytes: one per ID, another for another ID', () => {
    expect(clusterTagOf('px-dr-cluster')).toMatch(/^[0-9a-f]{16}$/);
    expect(clusterTagOf('px-dr-cluster')).toBe(clusterTagOf('px-dr-cluster'));
    expect(clusterTagOf('px-dr-cluster')).not.toBe(clusterTagOf('px-dr-cluster2'));
    const untagged = encodeFrame({ ...frame(5), clusterTag: 'px-dr-cluster' }, key);
    expect(decodeFrame(untagged, key)).toEqual({ ok: false, problem: 'bad cluster tag: not 8 bytes' });
  });

  it('reject garbage, wrong shapes and oversized frames with a message naming the problem', () => {
    const garbage = decodeFrame(Uint8Array.from([0xc1]), key);
    expect(garbage.ok).toBe(false);
    expect(garbage.ok ? '' : garbage.problem).toMatch(/^malformed frame/);
    expect(decodeFrame(Uint8Array.from([0x91, 0x01, ...new Uint8Array(FRAME_TAG_BYTES)]), key)).toEqual({
      ok: false,
      problem: 'malformed frame: not a 7-field array',
    });
    const big = new Uint8Array(FRAME_BYTES_MAX + 1);
    expect(decodeFrame(big, key)).toEqual({
      ok: false,
      problem: `oversized frame: ${FRAME_BYTES_MAX + 1} bytes > ${FRAME_BYTES_MAX}`,
    });
    expect(decodeFrame(big, key)).toEqual({
      ok: false,
      problem: `oversized frame: ${FRAME_BYTES_MAX + 1} bytes > ${FRAME_BYTES_MAX}`,
    });
  });

  it("answer from the sender's memory exactly what decoding the bytes gives (fast-check, odd strings and numbers)", () => {
    const text = fc.oneof(fc.string({ maxLength: 70 }), fc.string({ unit: 'binary', maxLength: 70 }), fc.uuid());
    const number = fc.oneof(
      fc.double(),
      fc.integer(),
      fc.constantFrom(-0, 0, 2 ** 32, 2 ** 53, 1.5, Number.NaN, Date.UTC(2026, 10, 22), Number.MAX_SAFE_INTEGER),
    );
    fc.assert(
      fc.property(
        text,
        text,
        number,
        number,
        number,
        fc.constantFrom('UP', 'NOT_IN_QUORUM', 'DOWN'),
        fc.boolean(),
        (...fields) => {
          const [cluster, nodeId, generation, sequence, sentAtMs, state, tagged] = fields;
          const clusterTag = tagged ? clusterTagOf(cluster) : cluster; // a string not a tag: refused either way
          const sent = { v: 2, clusterTag, nodeId, generation, sequence, sentAtMs, state } as unknown as HeartbeatFrame;
          const bytes = encodeFrame(sent, key);
          const fresh = decodeFrame(Uint8Array.from(bytes), key); // another array: decoded from the bytes
          expect(decodeFrame(bytes, key)).toEqual(fresh);
          // The hand-written msgpack (wire/frame-writer.ts) reads back, by msgpackr, as the values written.
          const fieldsRead: unknown = unpack(bytes.subarray(0, bytes.length - FRAME_TAG_BYTES));
          const tagRead = tagged ? Buffer.from(clusterTag, 'hex') : clusterTag;
          const codeRead = ['UP', 'SUSPECT_NOT_IN_QUORUM', 'NOT_IN_QUORUM'].indexOf(state);
          expect(fieldsRead).toEqual([2, tagRead, nodeId, generation, sequence, sentAtMs, codeRead]);
        },
      ),
      { numRuns: 500 },
    );
  });
});
