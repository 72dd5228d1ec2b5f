export {
  PUSH_PULL_SCALE_THRESHOLD,
  configProblems,
  fastConfig,
  lanConfig,
  metroConfig,
  pushPullScaleMs,
  retransmitLimit,
  suspicionTimeoutAfter,
  suspicionTimeoutMs,
  type MembershipConfig,
} from './config.js';
export {
  COMPOUND_OVERHEAD_BYTES,
  MembershipDecodeError,
  NAME_LENGTH_MAX,
  STREAM_BYTES_MAX,
  decode,
  encode,
  encodedSize,
  membershipMessageSchema,
  type AckMessage,
  type AliveMessage,
  type BroadcastMessage,
  type CompoundMessage,
  type DeadMessage,
  type MemberStatus,
  type MembershipMessage,
  type NackMessage,
  type PacketMessage,
  type PingMessage,
  type PingReqMessage,
  type PushPullMessage,
  type PushState,
  type SuspectMessage,
} from './messages.js';
export {
  MembershipNode,
  MembershipUsageError,
  type Member,
  type MemberState,
  type MembershipEvent,
  type MembershipNodeOptions,
  type Output,
  type Send,
} from './node.js';
export { Awareness } from './awareness.js';
export { Suspicion } from './suspicion.js';
export { TransmitLimitedQueue } from './queue.js';
export { TimeHeap } from './heap.js';
export { VirtualNet, type TraceEntry, type VirtualNetOptions } from './virtual-net.js';
