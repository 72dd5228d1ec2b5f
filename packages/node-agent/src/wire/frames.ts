import { createHash, hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Packr } from 'msgpackr';
import type { SelfGossipState } from '@pxsim/quorum';
import { arrayPrefix, writeFixArray } from './frame-writer.js';

/** A heartbeat frame, msgpack-encoded. Nothing per heartbeat is written to the kvdb. */
export interface HeartbeatFrame {
  /** Frame format version (2: the cluster named by its tag; 1 carried the cluster ID itself). */
  v: 2;
  /** `clusterTagOf(clusterId)`: which cluster the frame is of, in 8 bytes whatever the ID's length. */
  clusterTag: string;
  nodeId: string;
  /** Incremented on every start of the agent (the node entry's genNumber). */
  generation: number;
  /** Incremented on every frame of one generation. */
  sequence: number;
  /** Sender's clock when sent, ms. */
  sentAtMs: number;
  /** The state the sender reports about itself. */
  state: SelfGossipState;
}

export const FRAME_BYTES_MAX = 512;
/** What a frame of a UUID node ID takes at most, whatever the cluster ID (issue 16: at most 96). */
export const FRAME_BYTES_UUID_MAX = 90;
/** The keyed tag after the fields: HMAC-SHA256 over the encoded fields, truncated to this many bytes. */
export const FRAME_TAG_BYTES = 16;

const packr = new Packr({ useRecords: false, moreTypes: false });

/** On the wire a state is its index here (one byte, where the longest name would take 22). */
const STATE_CODES: readonly SelfGossipState[] = ['UP', 'SUSPECT_NOT_IN_QUORUM', 'NOT_IN_QUORUM'];

/**
 * The cluster's heartbeat key (an opaque handle on the secret). `frameKey` hands out one object per secret, so the
 * decode cache, which compares keys by identity, is shared by every agent of a cluster in one process (the simulator).
 */
export interface FrameKey {
  /** The HMAC's inner block: the key XOR ipad, then room for a frame's body (RFC 2104). */
  readonly inner: Buffer;
  /** The HMAC's outer block: the key XOR opad, then room for the inner digest. */
  readonly outer: Buffer;
}

const SHA256_BLOCK_BYTES = 64;
const SHA256_BYTES = 32;

/** A new cluster heartbeat secret: 32 random bytes from the OS, base64url (43 characters). */
export function newFrameSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** Keys handed out lately, by secret. Bounded: `KEYS_MAX` (one per cluster an agent in this process belongs to). */
const KEYS_MAX = 16;
const keys = new Map<string, FrameKey>();

export function frameKey(secret: string): FrameKey {
  let key = keys.get(secret);
  if (key === undefined) {
    if (keys.size >= KEYS_MAX) keys.clear();
    key = hmacBlocks(Buffer.from(secret, 'base64url'));
    keys.set(secret, key);
  }
  return key;
}

/** A cluster's tag: the first 8 bytes of SHA-256 of its ID, as 16 hex digits (one answer per ID, remembered). */
export function clusterTagOf(clusterId: string): string {
  let tag = clusterTags.get(clusterId);
  if (tag === undefined) {
    if (clusterTags.size >= KEYS_MAX) clusterTags.clear();
    tag = createHash('sha256')
      .update(clusterId)
      .digest('hex')
      .slice(0, 2 * CLUSTER_TAG_BYTES);
    clusterTags.set(clusterId, tag);
  }
  return tag;
}

const CLUSTER_TAG_BYTES = 8;
const clusterTags = new Map<string, string>();
/** A cluster tag's bytes, by its hex (encoding packs bytes; bounded as `clusterTags`). */
const clusterTagBytes = new Map<string, Buffer>();

/** A cluster tag's bytes; none for a string that is not a tag. */
function clusterTagBytesOf(tag: string): Buffer | undefined {
  let bytes = clusterTagBytes.get(tag);
  if (bytes === undefined) {
    if (!HEX16.test(tag)) return undefined;
    if (clusterTagBytes.size >= KEYS_MAX) clusterTagBytes.clear();
    bytes = Buffer.from(tag, 'hex');
    clusterTagBytes.set(tag, bytes);
  }
  return bytes;
}

function hmacBlocks(secret: Buffer): FrameKey {
  const keyBytes = secret.length > SHA256_BLOCK_BYTES ? createHash('sha256').update(secret).digest() : secret;
  const inner = Buffer.alloc(SHA256_BLOCK_BYTES + FRAME_BYTES_MAX);
  const outer = Buffer.alloc(SHA256_BLOCK_BYTES + SHA256_BYTES);
  for (let index = 0; index < SHA256_BLOCK_BYTES; index++) {
    inner[index] = (keyBytes[index] ?? 0) ^ 0x36;
    outer[index] = (keyBytes[index] ?? 0) ^ 0x5c;
  }
  return Object.freeze({ inner, outer });
}

/**
 * The HMAC-SHA256 (RFC 2104: H(K^opad || H(K^ipad || body))) of `body` under the key, truncated to
 * `FRAME_TAG_BYTES`, as a latin1 string (one byte a character). Made of two one-shot native SHA-256 calls over the
 * key's prepared blocks: `createHmac` builds a native object per frame, whose creation and finalisation cost about as
 * much again as the hashing (the simulator tags a frame per node per heartbeat round); `frames.test.ts` checks the
 * tags equal `createHmac`'s.
 */
function tagOf(key: FrameKey, body: Uint8Array): string {
  const inner =
    body.length <= FRAME_BYTES_MAX ? key.inner : Buffer.concat([key.inner.subarray(0, SHA256_BLOCK_BYTES), body]);
  inner.set(body, SHA256_BLOCK_BYTES);
  const innerDigest = hash('sha256', inner.subarray(0, SHA256_BLOCK_BYTES + body.length), 'binary');
  latin1Write(key.outer, innerDigest, SHA256_BLOCK_BYTES, SHA256_BYTES);
  return hash('sha256', key.outer, 'binary').slice(0, FRAME_TAG_BYTES);
}

/** Buffer's own latin1 writer (what `write(…, 'latin1')` ends in, without the argument checks it runs per call). */
const latin1Writer = (Buffer.prototype as Buffer & { latin1Write?: LatinWriter }).latin1Write;
type LatinWriter = (this: Buffer, text: string, offset: number, length: number) => number;

function latin1Write(buffer: Buffer, text: string, offset: number, length: number): void {
  if (latin1Writer === undefined) buffer.write(text, offset, length, 'latin1');
  else latin1Writer.call(buffer, text, offset, length);
}

/** Whether the last `FRAME_TAG_BYTES` of `bytes` are the tag of the bytes before them (constant-time compare). */
function tagIsRight(key: FrameKey | undefined, bytes: Uint8Array): boolean {
  if (key === undefined || bytes.length <= FRAME_TAG_BYTES || bytes.length > FRAME_BYTES_MAX) return false;
  const bodyBytes = bytes.length - FRAME_TAG_BYTES;
  return timingSafeEqual(Buffer.from(tagOf(key, bytes.subarray(0, bodyBytes)), 'latin1'), bytes.subarray(bodyBytes));
}

/**
 * Seals any other message under the cluster's key (the replication port's frames): the body, then the same
 * `FRAME_TAG_BYTES`-byte HMAC tag heartbeat frames carry.
 */
export function sealBody(key: FrameKey, body: Uint8Array): Uint8Array {
  const sealed = new Uint8Array(body.length + FRAME_TAG_BYTES);
  sealed.set(body, 0);
  latin1Write(
    Buffer.from(sealed.buffer, sealed.byteOffset, sealed.length),
    tagOf(key, body),
    body.length,
    FRAME_TAG_BYTES,
  );
  return sealed;
}

/** The body of a sealed message whose tag is right under the key (constant-time compare), else undefined. */
export function openSealed(key: FrameKey | undefined, bytes: Uint8Array): Uint8Array | undefined {
  if (key === undefined || bytes.length <= FRAME_TAG_BYTES) return undefined;
  const body = bytes.subarray(0, bytes.length - FRAME_TAG_BYTES);
  const tag = Buffer.from(tagOf(key, body), 'latin1');
  return timingSafeEqual(tag, bytes.subarray(bytes.length - FRAME_TAG_BYTES)) ? body : undefined;
}

/**
 * On the wire a frame is a msgpack array in field order ([v, cluster tag (8 bytes), nodeId, generation, sequence,
 * sentAtMs, state code]): no field names to encode or decode; then the `FRAME_TAG_BYTES`-byte tag of that array under
 * the cluster's key. Encoded once per heartbeat round (every peer gets the same bytes): one HMAC per round.
 */
export function encodeFrame(frame: HeartbeatFrame, key: FrameKey): Uint8Array {
  const code = STATE_CODES.indexOf(frame.state);
  const prefix = senderPrefix(frame);
  const { out: bytes, bodyBytes } = writeFixArray(prefix, [frame.sequence, frame.sentAtMs, code], FRAME_TAG_BYTES);
  latin1Write(bytes, tagOf(key, bytes.subarray(0, bodyBytes)), bodyBytes, FRAME_TAG_BYTES);
  // What decoding these bytes gives is known when the fields pass the decoder's checks and survive msgpack unchanged
  // (no surrogates, no -0): remember it, so that peers in this process (the simulator) need not decode it.
  const checked = checkFields(
    frame.v,
    frame.clusterTag,
    frame.nodeId,
    frame.generation,
    frame.sequence,
    frame.sentAtMs,
    code,
  );
  if (
    checked.ok &&
    bytes.length <= FRAME_BYTES_MAX &&
    !SURROGATE.test(frame.nodeId) &&
    !Object.is(frame.generation, -0) &&
    !Object.is(frame.sequence, -0) &&
    !Object.is(frame.sentAtMs, -0)
  )
    remember(bytes, key, { ok: true, frame: checked.frame, authentic: true });
  return bytes;
}

const HEX16 = /^[0-9a-f]{16}$/;

/**
 * The first four fields (version, cluster tag, node ID, generation) are the same in every frame of one sender's
 * generation: their msgpack is written once and copied. Bounded: `PREFIXES_MAX` senders (one per agent in this
 * process), the oldest forgotten first.
 */
const PREFIXES_MAX = 16;
const prefixes: Array<{ v: number; clusterTag: string; nodeId: string; generation: number; bytes: Buffer }> = [];

function senderPrefix(frame: HeartbeatFrame): Buffer {
  const { v, clusterTag, nodeId, generation } = frame;
  for (const entry of prefixes) {
    // Object.is: -0 and 0 are written differently (a float and an integer), and a NaN generation matches itself.
    const same =
      entry.nodeId === nodeId &&
      Object.is(entry.generation, generation) &&
      entry.clusterTag === clusterTag &&
      Object.is(entry.v, v);
    if (same) return entry.bytes;
  }
  const tagBytes = clusterTagBytesOf(clusterTag) ?? clusterTag;
  const bytes = arrayPrefix(7, [v, tagBytes, nodeId, generation]);
  if (prefixes.length >= PREFIXES_MAX) prefixes.shift();
  prefixes.push({ v, clusterTag, nodeId, generation, bytes });
  return bytes;
}
const SURROGATE = /[\uD800-\uDFFF]/;

/**
 * A frame that decodes is `ok`; `authentic` says whether its tag is right under the key given (a frame is read before
 * its tag is checked so that one of another cluster is counted as such; nothing of an inauthentic frame is used).
 */
export type DecodeResult = { ok: true; frame: HeartbeatFrame; authentic: boolean } | { ok: false; problem: string };

/**
 * Speed cache, private to this module: frames decoded (or encoded) lately, by the array they came in, each with a
 * copy of its bytes. A heartbeat goes to every peer, and where the peers share a process (the simulator) the same
 * array arrives once per peer: it decodes once. Its rule: an entry answers only while the array still holds the bytes
 * it was decoded from (compared natively), so the cache is keyed by content, never by identity alone; and its
 * results are frozen, as they are shared, so a caller of `decodeFrame` cannot modify what another caller gets.
 * The key is part of the entry (`authentic` depends on it): the tag is checked once per frame, not once per peer.
 * Bounded: `RECENT_MAX` entries.
 */
const RECENT_MAX = 8;
const recent: Array<{ source: Uint8Array; bytes: Uint8Array; key: FrameKey | undefined; result: DecodeResult }> = [];

/**
 * Decodes and validates a frame from the wire and checks its tag under `key` (none: no frame is authentic); never
 * throws. The result is frozen (shared: see `recent`).
 */
export function decodeFrame(bytes: Uint8Array, key: FrameKey | undefined): DecodeResult {
  for (const entry of recent) {
    if (entry.source === bytes && entry.key === key && Buffer.compare(entry.bytes, bytes) === 0) return entry.result;
  }
  const result = decodeUncached(bytes, key);
  if (bytes.length <= FRAME_BYTES_MAX) remember(bytes, key, result);
  return result;
}

function remember(bytes: Uint8Array, key: FrameKey | undefined, result: DecodeResult): void {
  if (result.ok) Object.freeze(result.frame);
  if (recent.length >= RECENT_MAX) recent.pop();
  recent.unshift({ source: bytes, bytes: Buffer.from(bytes), key, result: Object.freeze(result) });
}

function decodeUncached(bytes: Uint8Array, key: FrameKey | undefined): DecodeResult {
  if (bytes.length > FRAME_BYTES_MAX)
    return { ok: false, problem: `oversized frame: ${bytes.length} bytes > ${FRAME_BYTES_MAX}` };
  if (bytes.length <= FRAME_TAG_BYTES) return { ok: false, problem: 'malformed frame: shorter than its tag' };
  let value: unknown;
  try {
    value = packr.unpack(bytes.subarray(0, bytes.length - FRAME_TAG_BYTES));
  } catch (error) {
    return { ok: false, problem: `malformed frame: ${error instanceof Error ? error.message : String(error)}` };
  }
  if (!Array.isArray(value) || value.length !== 7)
    return { ok: false, problem: 'malformed frame: not a 7-field array' };
  const [v, tag, nodeId, generation, sequence, sentAtMs, state] = value as unknown[];
  const clusterTag =
    tag instanceof Uint8Array && tag.length === CLUSTER_TAG_BYTES
      ? Buffer.from(tag.buffer, tag.byteOffset, tag.length).toString('hex')
      : undefined;
  const checked = checkFields(v, clusterTag, nodeId, generation, sequence, sentAtMs, state);
  return checked.ok ? { ok: true, frame: checked.frame, authentic: tagIsRight(key, bytes) } : checked;
}

/** The decoder's checks on an unpacked frame's fields (the cluster tag already as hex). */
function checkFields(
  v: unknown,
  clusterTag: unknown,
  nodeId: unknown,
  generation: unknown,
  sequence: unknown,
  sentAtMs: unknown,
  state: unknown,
): { ok: true; frame: HeartbeatFrame } | { ok: false; problem: string } {
  if (v !== 2) return { ok: false, problem: `unsupported frame version ${String(v)}` };
  if (typeof clusterTag !== 'string' || !(clusterTagBytes.has(clusterTag) || HEX16.test(clusterTag)))
    return { ok: false, problem: `bad cluster tag: not ${CLUSTER_TAG_BYTES} bytes` };
  if (typeof nodeId !== 'string' || nodeId === '' || nodeId.length > 64) return { ok: false, problem: 'bad nodeId' };
  if (typeof generation !== 'number' || !Number.isSafeInteger(generation) || generation < 0)
    return { ok: false, problem: 'bad generation' };
  if (typeof sequence !== 'number' || !Number.isSafeInteger(sequence) || sequence < 0)
    return { ok: false, problem: 'bad sequence' };
  if (typeof sentAtMs !== 'number' || !Number.isFinite(sentAtMs) || sentAtMs < 0)
    return { ok: false, problem: 'bad sentAtMs' };
  const named = typeof state === 'number' ? STATE_CODES[state] : undefined;
  if (named === undefined) return { ok: false, problem: `bad state ${String(state)}` };
  return { ok: true, frame: { v: 2, clusterTag, nodeId, generation, sequence, sentAtMs, state: named } };
}

/** Senders whose newest accepted frame is kept: only authentic senders (cluster members) get an entry. */
const SENDERS_REMEMBERED_MAX = 1024;
/** How far behind the newest accepted sequence a frame may be and still be accepted once (overtaken on the way). */
export const REPLAY_WINDOW_FRAMES = 32;

/**
 * Replay resistance, in the manner of IPsec's anti-replay window (RFC 4303 §3.4.3): per sender, its newest generation,
 * the newest sequence accepted in it, and which of the `REPLAY_WINDOW_FRAMES` sequences before that were accepted. A
 * frame of an older generation, older than the window, or already accepted is refused; a genuine frame overtaken on
 * the way (a simulated or real network reorders) is still accepted once. Bounded: `SENDERS_REMEMBERED_MAX` senders
 * (past it, the record starts afresh, which lets each sender's recent frames be replayed once).
 */
export class AcceptedFrames {
  private readonly newest = new Map<string, { generation: number; sequence: number; seenBits: number }>();

  /** Whether an authentic frame was not accepted before and is not too old; notes it if so. */
  isNew(frame: HeartbeatFrame): boolean {
    const { generation, sequence } = frame;
    const last = this.newest.get(frame.nodeId);
    if (last === undefined || generation > last.generation) {
      if (last === undefined && this.newest.size >= SENDERS_REMEMBERED_MAX) this.newest.clear();
      this.newest.set(frame.nodeId, { generation, sequence, seenBits: 1 });
      return true;
    }
    if (generation < last.generation) return false;
    if (sequence > last.sequence) {
      const shift = sequence - last.sequence;
      last.seenBits = shift >= REPLAY_WINDOW_FRAMES ? 1 : ((last.seenBits << shift) | 1) >>> 0;
      last.sequence = sequence;
      return true;
    }
    const behind = last.sequence - sequence;
    if (behind >= REPLAY_WINDOW_FRAMES) return false;
    const bit = (1 << behind) >>> 0;
    if ((last.seenBits & bit) !== 0) return false;
    last.seenBits = (last.seenBits | bit) >>> 0;
    return true;
  }
}
