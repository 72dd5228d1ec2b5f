export {
  NodeAgent,
  DomainNotFoundError,
  CduExistsError,
  aliveTtlMs,
  type AgentStatus,
  type AgentEvent,
  type AgentPhase,
  type LogLevel,
  type NodeStatusEntry,
  type WriteResult,
} from './agent.js';
export { AgentCore, type AgentCoreOptions, type AgentInput, type AgentReady } from './core/core.js';
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
export { encodeFrame, decodeFrame, FRAME_BYTES_MAX, type HeartbeatFrame, type DecodeResult } from './wire/frames.js';
export * from './wire/layout.js';
export { startNode, type RunningNode, type StartNodeOptions } from './node.js';
export type { AgentRuntime, HeartbeatTransport, IdentityStore, NodeIdentity, PeerAddress } from './runtime/types.js';
export { MemoryNetwork } from './runtime/memory.js';
export { realRuntime, fileIdentityStore, WebSocketTransport } from './runtime/real.js';
export {
  LinkFaults,
  faultyTransport,
  faultyKvdb,
  METRO_LATENCY_MS_MAX,
  type LatencyRule,
  type LossRule,
  type FaultSummary,
} from './runtime/faults.js';
