import { pack, unpack } from 'msgpackr';
import { z } from 'zod';
import { BLOCK_BYTES, type ReplicationMessage } from '@pxsim/storage';
import { openSealed, sealBody, type FrameKey } from './frames.js';

/** Largest replication frame: a digest of 1024 entries, or a block's 4 KiB, with the header and the tag. */
export const REPLICATION_FRAME_BYTES_MAX = 64 * 1024;
/** Replication frames carry a version of their own (heartbeat frames have theirs). */
const REPLICATION_VERSION = 1;

const counter = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const base = { volumeId: z.string().regex(/^\d{1,20}$/), epoch: counter, seq: counter };
const version = z.object({ epoch: counter, seq: counter });
const payload = z.instanceof(Uint8Array).refine((bytes) => bytes.length <= BLOCK_BYTES, 'payload over 4096 bytes');

const messageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('write'), ...base, block: counter, payload }),
  z.object({ type: z.literal('check'), ...base }),
  z.object({ type: z.literal('digestRequest'), ...base }),
  z.object({
    type: z.literal('digest'),
    ...base,
    blocks: z.array(z.tuple([counter, version])).max(1024),
    last: z.boolean(),
  }),
  z.object({ type: z.literal('set'), ...base, block: counter, version, payload }),
  z.object({ type: z.literal('ack'), ...base }),
  z.object({
    type: z.literal('nack'),
    ...base,
    reason: z.enum(['not serving', 'stale epoch', 'unknown volume']),
    epochSeen: counter,
  }),
]);

const envelopeSchema = z.object({
  v: z.literal(REPLICATION_VERSION),
  from: z.string().min(1).max(64),
  message: messageSchema,
});

export type ReplicationDecode =
  { ok: true; from: string; message: ReplicationMessage } | { ok: false; problem: string };

/** A replication message from `from`, msgpack-encoded and sealed under the cluster's key. */
export function encodeReplication(key: FrameKey, from: string, message: ReplicationMessage): Uint8Array {
  const body: Uint8Array = pack({ v: REPLICATION_VERSION, from, message });
  return sealBody(key, body);
}

/** Checks the size, the tag and every field; a frame that fails any is dropped by the caller, which counts it. */
export function decodeReplication(key: FrameKey | undefined, bytes: Uint8Array): ReplicationDecode {
  if (bytes.length > REPLICATION_FRAME_BYTES_MAX)
    return { ok: false, problem: `frame of ${bytes.length} bytes (at most ${REPLICATION_FRAME_BYTES_MAX})` };
  const body = openSealed(key, bytes);
  if (body === undefined) return { ok: false, problem: 'tag missing or wrong (not sealed under this cluster key)' };
  let value: unknown;
  try {
    value = unpack(body);
  } catch (error) {
    return { ok: false, problem: `not msgpack: ${error instanceof Error ? error.message : String(error)}` };
  }
  const parsed = envelopeSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, problem: `${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}` };
  }
  return { ok: true, from: parsed.data.from, message: parsed.data.message };
}
