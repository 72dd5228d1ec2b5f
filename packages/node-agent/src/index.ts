export {
  NodeAgent,
  DomainNotFoundError,
  type AgentStatus,
  type AgentEvent,
  type AgentPhase,
  type NodeStatusEntry,
  type WriteResult,
} from './agent.js';
export { buildApi, API_ERRORS, type AgentApiPort, type ApiErrorCode, type ApiOptions } from './api.js';
export {
  parseAgentArgs,
  validateConfig,
  ConfigError,
  USAGE,
  PORT_MIN,
  PORT_MAX,
  DEFAULT_VERSION,
  type AgentConfig,
} from './config.js';
export { encodeFrame, decodeFrame, FRAME_BYTES_MAX, type HeartbeatFrame, type DecodeResult } from './frames.js';
export * from './layout.js';
export { startNode, type RunningNode, type StartNodeOptions } from './node.js';
export type { AgentRuntime, HeartbeatTransport, IdentityStore, NodeIdentity, PeerAddress } from './runtime/types.js';
export { MemoryNetwork } from './runtime/memory.js';
export { realRuntime, fileIdentityStore, WebSocketTransport } from './runtime/real.js';
export { faultyTransport, faultyKvdb } from './runtime/faults.js';
export { aliveTtlMs } from './alive.js';
export { memberConfig, type MemberConfigInput } from './member-config.js';
