import { Packr } from 'msgpackr';
import type { SelfGossipState } from '@pxsim/quorum';

/** A heartbeat frame, msgpack-encoded. Nothing per heartbeat is written to the kvdb. */
export interface HeartbeatFrame {
  /** Frame format version. */
  v: 1;
  clusterId: string;
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

const packr = new Packr({ useRecords: false, moreTypes: false });

/**
 * On the wire a frame is a msgpack array in field order ([v, clusterId, nodeId, generation, sequence, sentAtMs,
 * state]): no field names to encode or decode.
 */
export function encodeFrame(frame: HeartbeatFrame): Uint8Array {
  const fields = [
    frame.v,
    frame.clusterId,
    frame.nodeId,
    frame.generation,
    frame.sequence,
    frame.sentAtMs,
    frame.state,
  ];
  const bytes = packr.pack(fields);
  // What decoding these bytes gives is known when the fields pass the decoder's checks and survive msgpack unchanged
  // (no surrogates, no -0): remember it, so that peers in this process (the simulator) need not decode it.
  const checked = checkFields(fields);
  if (
    checked.ok &&
    bytes.length <= FRAME_BYTES_MAX &&
    !SURROGATE.test(frame.clusterId) &&
    !SURROGATE.test(frame.nodeId) &&
    !Object.is(frame.generation, -0) &&
    !Object.is(frame.sequence, -0) &&
    !Object.is(frame.sentAtMs, -0)
  )
    remember(bytes, checked);
  return bytes;
}

const SURROGATE = /[\uD800-\uDFFF]/;

export type DecodeResult = { ok: true; frame: HeartbeatFrame } | { ok: false; problem: string };

const STATES = new Set(['UP', 'SUSPECT_NOT_IN_QUORUM', 'NOT_IN_QUORUM']);

/**
 * Speed cache, private to this module: frames decoded (or encoded) lately, by the array they came in, each with a
 * copy of its bytes. A heartbeat goes to every peer, and where the peers share a process (the simulator) the same
 * array arrives once per peer: it decodes once. Its rule: an entry answers only while the array still holds the bytes
 * it was decoded from (compared natively), so the cache is keyed by content, never by identity alone; and its
 * results are frozen, as they are shared, so a caller of `decodeFrame` cannot modify what another caller gets.
 * Bounded: `RECENT_MAX` entries.
 */
const RECENT_MAX = 8;
const recent: Array<{ source: Uint8Array; bytes: Uint8Array; result: DecodeResult }> = [];

/** Decodes and validates a frame from the wire; never throws. The result is frozen (shared: see `recent`). */
export function decodeFrame(bytes: Uint8Array): DecodeResult {
  for (const entry of recent) {
    if (entry.source === bytes && Buffer.compare(entry.bytes, bytes) === 0) return entry.result;
  }
  const result = decodeUncached(bytes);
  if (bytes.length <= FRAME_BYTES_MAX) remember(bytes, result);
  return result;
}

function remember(bytes: Uint8Array, result: DecodeResult): void {
  if (result.ok) Object.freeze(result.frame);
  if (recent.length >= RECENT_MAX) recent.pop();
  recent.unshift({ source: bytes, bytes: bytes.slice(), result: Object.freeze(result) });
}

function decodeUncached(bytes: Uint8Array): DecodeResult {
  if (bytes.length > FRAME_BYTES_MAX)
    return { ok: false, problem: `oversized frame: ${bytes.length} bytes > ${FRAME_BYTES_MAX}` };
  let value: unknown;
  try {
    value = packr.unpack(bytes);
  } catch (error) {
    return { ok: false, problem: `malformed frame: ${error instanceof Error ? error.message : String(error)}` };
  }
  return checkFields(value);
}

/** The decoder's checks on an unpacked frame. */
function checkFields(value: unknown): DecodeResult {
  if (!Array.isArray(value) || value.length !== 7)
    return { ok: false, problem: 'malformed frame: not a 7-field array' };
  const [v, clusterId, nodeId, generation, sequence, sentAtMs, state] = value as unknown[];
  if (v !== 1) return { ok: false, problem: `unsupported frame version ${String(v)}` };
  if (typeof clusterId !== 'string' || clusterId === '' || clusterId.length > 64)
    return { ok: false, problem: 'bad clusterId' };
  if (typeof nodeId !== 'string' || nodeId === '' || nodeId.length > 64) return { ok: false, problem: 'bad nodeId' };
  if (typeof generation !== 'number' || !Number.isSafeInteger(generation) || generation < 0)
    return { ok: false, problem: 'bad generation' };
  if (typeof sequence !== 'number' || !Number.isSafeInteger(sequence) || sequence < 0)
    return { ok: false, problem: 'bad sequence' };
  if (typeof sentAtMs !== 'number' || !Number.isFinite(sentAtMs) || sentAtMs < 0)
    return { ok: false, problem: 'bad sentAtMs' };
  if (typeof state !== 'string' || !STATES.has(state)) return { ok: false, problem: `bad state ${String(state)}` };
  return {
    ok: true,
    frame: { v: 1, clusterId, nodeId, generation, sequence, sentAtMs, state: state as SelfGossipState },
  };
}
