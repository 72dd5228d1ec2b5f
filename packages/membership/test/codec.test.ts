import fc from 'fast-check';
import { pack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { MembershipDecodeError, decode, encode, type MembershipMessage } from '../src/index.js';

/** The decoder's message for `bytes`, or 'ok'. */
function problem(bytes: Uint8Array): string {
  try {
    decode(bytes);
    return 'ok';
  } catch (error) {
    expect(error).toBeInstanceOf(MembershipDecodeError);
    return (error as Error).message;
  }
}

describe('encode / decode (net.go message types)', () => {
  const messages: MembershipMessage[] = [
    { type: 'ping', seq: 1, node: 'a' },
    { type: 'pingReq', seq: 4_294_967_295, node: 'b', nack: true },
    { type: 'ack', seq: 0 },
    { type: 'nack', seq: 9 },
    { type: 'alive', node: 'c', incarnation: 3 },
    { type: 'suspect', node: 'c', incarnation: 3, from: 'd' },
    { type: 'dead', node: 'c', incarnation: 3, from: 'd' },
    {
      type: 'compound',
      parts: [
        { type: 'ack', seq: 2 },
        { type: 'alive', node: 'e', incarnation: 1 },
      ],
    },
    { type: 'pushPull', join: true, reply: false, states: [{ node: 'f', incarnation: 2, status: 'suspect' }] },
  ];

  it('round-trips every message type', () => {
    for (const message of messages) expect(decode(encode(message))).toEqual(message);
  });

  it('rejects malformed frames with a typed error naming the problem', () => {
    expect(problem(new Uint8Array())).toBe('frame is empty');
    expect(problem(new Uint8Array([0x82, 0xa4]))).toMatch(/^frame is not msgpack/);
    expect(problem(new Uint8Array([...encode({ type: 'ack', seq: 1 }), 0x90]))).toMatch(/^frame is not msgpack/);
    expect(problem(new Uint8Array([0xc1]))).toBe('message is not a map but object');
    expect(problem(pack({ type: 'ping', seq: 1 }))).toMatch(/^node: /);
    expect(problem(pack({ type: 'ping', seq: -1, node: 'a' }))).toMatch(/^seq: /);
    expect(problem(pack({ type: 'ping', seq: 1.5, node: 'a' }))).toMatch(/^seq: /);
    expect(problem(pack({ type: 'ping', seq: 1, node: 'a', extra: 1 }))).toMatch(/extra/);
    expect(problem(pack({ type: 'gossip' }))).toMatch(/^type: /);
    expect(problem(pack([1, 2, 3]))).toBe('message is not a map but an array');
    expect(problem(pack('ping'))).toBe('message is not a map but string');
    expect(problem(pack({ type: 'alive', node: '', incarnation: 1 }))).toMatch(/^node: /);
    expect(problem(pack({ type: 'compound', parts: [{ type: 'compound', parts: [] }] }))).toMatch(/^parts\.0/);
    expect(problem(pack({ type: 'compound', parts: [] }))).toMatch(/^parts: /);
    expect(problem(pack({ type: 'pushPull', join: true, reply: false, states: [{ node: 'a' }] }))).toMatch(
      /^states\.0\.incarnation/,
    );
  });

  it('rejects a packet frame above the UDP bound (config.go UDPBufferSize 1400), not a push/pull', () => {
    const parts = Array.from({ length: 60 }, (_, index) => ({
      type: 'alive' as const,
      node: `n-${index}`,
      incarnation: 1,
    }));
    expect(problem(encode({ type: 'compound', parts }))).toMatch(/^compound frame of \d+ bytes is above 1400 bytes/);
    const states = parts.map((part) => ({ node: part.node, incarnation: 1, status: 'alive' as const }));
    expect(problem(encode({ type: 'pushPull', join: false, reply: true, states }))).toBe('ok');
  });

  it('never throws anything but MembershipDecodeError on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        problem(bytes);
      }),
      { numRuns: 2000, seed: 42 },
    );
  });

  it('never throws anything but MembershipDecodeError on mutated valid frames', () => {
    const frames = messages.map((message) => encode(message));
    fc.assert(
      fc.property(
        fc.nat(frames.length - 1),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        (which, edits) => {
          const bytes = Uint8Array.from(frames[which] ?? []);
          for (const [at, value] of edits) bytes[at % bytes.length] = value;
          problem(bytes);
        },
      ),
      { numRuns: 2000, seed: 7 },
    );
  });
});
