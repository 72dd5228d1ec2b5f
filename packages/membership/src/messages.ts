import { Packr } from 'msgpackr';
import { z } from 'zod';

/**
 * The protocol's messages, one per memberlist message type (net.go messageType): ping, indirectPing (`pingReq`), ack,
 * nack, alive, suspect, dead, pushPull and compound. The sender is not in a message: the host carries it next to the
 * message (and seals both), as memberlist takes it from the packet's source address.
 */
export type MemberStatus = 'alive' | 'suspect' | 'dead' | 'left';

/** Probe of `node` (net.go ping); the receiver answers only when it is `node`. */
export interface PingMessage {
  type: 'ping';
  seq: number;
  node: string;
}
/** Ask the receiver to ping `node` and relay the ack, or a nack after ProbeTimeout (net.go indirectPingReq). */
export interface PingReqMessage {
  type: 'pingReq';
  seq: number;
  node: string;
  nack: boolean;
}
export interface AckMessage {
  type: 'ack';
  seq: number;
}
export interface NackMessage {
  type: 'nack';
  seq: number;
}
export interface AliveMessage {
  type: 'alive';
  node: string;
  incarnation: number;
}
export interface SuspectMessage {
  type: 'suspect';
  node: string;
  incarnation: number;
  from: string;
}
export interface DeadMessage {
  type: 'dead';
  node: string;
  incarnation: number;
  from: string;
}
/** One member's entry of a full state exchange (net.go pushNodeState). */
export interface PushState {
  node: string;
  incarnation: number;
  status: MemberStatus;
}
/** A full state exchange (net.go pushPullMsg): a request (`reply` false) is answered with the receiver's state. */
export interface PushPullMessage {
  type: 'pushPull';
  join: boolean;
  reply: boolean;
  states: PushState[];
}
export type BroadcastMessage = AliveMessage | SuspectMessage | DeadMessage;
export type PacketMessage = PingMessage | PingReqMessage | AckMessage | NackMessage | BroadcastMessage;
/** Several packet messages in one frame (util.go makeCompoundMessage): a probe with its piggybacked broadcasts. */
export interface CompoundMessage {
  type: 'compound';
  parts: PacketMessage[];
}
export type MembershipMessage = PacketMessage | CompoundMessage | PushPullMessage;

/** The longest member name a message may carry. */
export const NAME_LENGTH_MAX = 255;
/** Incarnations and sequence numbers are uint32 in memberlist. */
export const UINT32_MAX = 0xffff_ffff;
/** A push/pull is a stream in memberlist (TCP), not a packet; bounded here so that a decoder cannot be made to choke. */
export const STREAM_BYTES_MAX = 8 * 1024 * 1024;

const name = z.string().min(1).max(NAME_LENGTH_MAX);
const uint32 = z.number().int().min(0).max(UINT32_MAX);
const status = z.enum(['alive', 'suspect', 'dead', 'left']);
const ping = z.strictObject({ type: z.literal('ping'), seq: uint32, node: name });
const pingReq = z.strictObject({ type: z.literal('pingReq'), seq: uint32, node: name, nack: z.boolean() });
const ack = z.strictObject({ type: z.literal('ack'), seq: uint32 });
const nack = z.strictObject({ type: z.literal('nack'), seq: uint32 });
const alive = z.strictObject({ type: z.literal('alive'), node: name, incarnation: uint32 });
const suspect = z.strictObject({ type: z.literal('suspect'), node: name, incarnation: uint32, from: name });
const dead = z.strictObject({ type: z.literal('dead'), node: name, incarnation: uint32, from: name });
const packet = z.discriminatedUnion('type', [ping, pingReq, ack, nack, alive, suspect, dead]);
const compound = z.strictObject({ type: z.literal('compound'), parts: z.array(packet).min(1).max(255) });
const pushPull = z.strictObject({
  type: z.literal('pushPull'),
  join: z.boolean(),
  reply: z.boolean(),
  states: z.array(z.strictObject({ node: name, incarnation: uint32, status })),
});
/** The schema every decoded message is checked against. */
export const membershipMessageSchema = z.discriminatedUnion('type', [
  ping,
  pingReq,
  ack,
  nack,
  alive,
  suspect,
  dead,
  compound,
  pushPull,
]);

/** A frame that is not a message, with what is wrong with it. The only error `decode` throws. */
export class MembershipDecodeError extends Error {
  override readonly name = 'MembershipDecodeError';
}

const packr = new Packr({ useRecords: false, moreTypes: false });

/** The message as msgpack bytes (plain maps, no records: an encoding is the same whoever encodes it). */
export function encode(message: MembershipMessage): Uint8Array {
  return packr.pack(message);
}

/** Encoded size in bytes. */
export function encodedSize(message: MembershipMessage): number {
  return packr.pack(message).length;
}

/**
 * The message in `bytes`, checked field by field. Throws `MembershipDecodeError` naming the problem for anything else
 * (not msgpack, trailing bytes, an unknown type, a missing or extra field, a packet frame above `frameBytesMax`).
 */
export function decode(bytes: Uint8Array, frameBytesMax = 1400): MembershipMessage {
  if (!(bytes instanceof Uint8Array)) throw new MembershipDecodeError('frame is not a byte array');
  if (bytes.length === 0) throw new MembershipDecodeError('frame is empty');
  if (bytes.length > STREAM_BYTES_MAX)
    throw new MembershipDecodeError(
      `frame of ${bytes.length} bytes is above the ${STREAM_BYTES_MAX} byte stream bound`,
    );
  let value: unknown;
  try {
    value = packr.unpack(bytes);
  } catch (error) {
    throw new MembershipDecodeError(`frame is not msgpack: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype)
    throw new MembershipDecodeError(`message is not a map but ${Array.isArray(value) ? 'an array' : typeof value}`);
  const parsed = membershipMessageSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue === undefined || issue.path.length === 0 ? 'message' : issue.path.join('.');
    throw new MembershipDecodeError(`${where}: ${issue?.message ?? 'not a membership message'}`);
  }
  if (parsed.data.type !== 'pushPull' && bytes.length > frameBytesMax)
    throw new MembershipDecodeError(
      `${parsed.data.type} frame of ${bytes.length} bytes is above ${frameBytesMax} bytes`,
    );
  return parsed.data;
}

/**
 * Bytes a compound frame adds around its parts' own encodings: the map header and `type`/`parts` keys, plus 2 for an
 * array header past 15 parts (msgpack encodes each part exactly as it would alone).
 */
export const COMPOUND_OVERHEAD_BYTES = encodedSize({ type: 'compound', parts: [] }) + 2;
