/**
 * The msgpack encoding of a heartbeat frame's seven fields, written straight into the frame's buffer.
 *
 * Why not msgpackr's `pack` (which still decodes every frame): a frame is encoded per node per heartbeat round, and
 * `pack` builds an array, walks it generically and copies its result out of its own buffer; in the simulator's profile
 * that was a tenth of all the time. The frame's shape is fixed (a 7-element array of a small integer, 8 bytes, a string
 * and numbers), so its msgpack is written here field by field, in the formats the msgpack spec gives for each value
 * (https://github.com/msgpack/msgpack/blob/master/spec.md). `frames.test.ts` checks, over arbitrary strings and
 * numbers, that msgpackr decodes what is written here to the values that were written.
 */

/** One field's value: a non-negative integer, any other number, a string or bytes. */
type FieldValue = number | string | Uint8Array;

/** How many bytes `value` takes in msgpack. */
function fieldBytes(value: FieldValue): number {
  if (typeof value === 'number') {
    if (!isUnsignedInteger(value)) return 9;
    return value < 0x80 ? 1 : value <= 0xff ? 2 : value <= 0xffff ? 3 : value <= 0xffffffff ? 5 : 9;
  }
  const length = typeof value === 'string' ? Buffer.byteLength(value, 'utf8') : value.length;
  const header = typeof value === 'string' && length < 32 ? 1 : length <= 0xff ? 2 : length <= 0xffff ? 3 : 5;
  return header + length;
}

function isUnsignedInteger(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0 && !Object.is(value, -0);
}

/** Writes `value` at `offset`; returns the offset after it. */
function writeField(out: Buffer, offset: number, value: FieldValue): number {
  if (typeof value === 'number') return writeNumber(out, offset, value);
  const isString = typeof value === 'string';
  const length = isString ? Buffer.byteLength(value, 'utf8') : value.length;
  let at = offset;
  if (isString && length < 32) out[at++] = 0xa0 | length;
  else if (length <= 0xff) {
    out[at++] = isString ? 0xd9 : 0xc4;
    out[at++] = length;
  } else if (length <= 0xffff) {
    out[at++] = isString ? 0xda : 0xc5;
    at = out.writeUInt16BE(length, at);
  } else {
    out[at++] = isString ? 0xdb : 0xc6;
    at = out.writeUInt32BE(length, at);
  }
  if (isString) return at + out.write(value, at, length, 'utf8');
  out.set(value, at);
  return at + length;
}

function writeNumber(out: Buffer, offset: number, value: number): number {
  if (!isUnsignedInteger(value)) {
    out[offset] = 0xcb; // float64: negative, fractional, -0, NaN, infinite and unsafe numbers
    return out.writeDoubleBE(value, offset + 1);
  }
  if (value < 0x80) {
    out[offset] = value;
    return offset + 1;
  }
  if (value <= 0xff) {
    out[offset] = 0xcc;
    out[offset + 1] = value;
    return offset + 2;
  }
  if (value <= 0xffff) {
    out[offset] = 0xcd;
    return out.writeUInt16BE(value, offset + 1);
  }
  if (value <= 0xffffffff) {
    out[offset] = 0xce;
    return out.writeUInt32BE(value, offset + 1);
  }
  out[offset] = 0xcb; // float64, as msgpackr packs larger integers: its uint64 reads back as a BigInt, not a number
  return out.writeDoubleBE(value, offset + 1);
}

/**
 * The start of a msgpack array of `arrayLength` elements (at most 15) whose first elements are `fields`: what a sender
 * repeats in every frame, written once (see `writeFixArray`'s `prefix`).
 */
export function arrayPrefix(arrayLength: number, fields: readonly FieldValue[]): Buffer {
  let bytes = 1;
  for (const field of fields) bytes += fieldBytes(field);
  const out = Buffer.alloc(bytes);
  out[0] = 0x90 | arrayLength;
  let at = 1;
  for (const field of fields) at = writeField(out, at, field);
  return out;
}

/**
 * The msgpack array that starts with `prefix` (from `arrayPrefix`) and goes on with `fields`, followed by
 * `trailerBytes` bytes left for the caller, in a buffer from Node's pool (a typed array of over 64 bytes made with
 * `new` gets a backing store of its own outside the heap: an allocation and a finalizer per frame). Returns the buffer
 * and where the trailer starts.
 */
export function writeFixArray(
  prefix: Buffer,
  fields: readonly FieldValue[],
  trailerBytes: number,
): { out: Buffer; bodyBytes: number } {
  let bodyBytes = prefix.length;
  for (const field of fields) bodyBytes += fieldBytes(field);
  const out = Buffer.allocUnsafe(bodyBytes + trailerBytes);
  prefix.copy(out, 0);
  let at = prefix.length;
  for (const field of fields) at = writeField(out, at, field);
  return { out, bodyBytes };
}
