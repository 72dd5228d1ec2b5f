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
export { DomainNotEmptyError, LastActiveDomainError } from './shell/domains.js';
export { pauseGapMsOf } from './core/pause.js';
export { AgentCore, type AgentCoreOptions, type AgentInput, type AgentReady } from './core/core.js';
export * from './api/index.js';
export {
  parseAgentArgs,
  validateConfig,
  ConfigError,
  USAGE,
  PORT_MIN,
  PORT_MAX,
  DEFAULT_VERSION,
  READINESS_PORT,
  AGENT_FLAGS,
  LOG_LEVEL_SETTINGS,
  type AgentArgs,
  type AgentConfig,
  type LogLevelSetting,
} from './config.js';
export {
  encodeFrame,
  decodeFrame,
  frameKey,
  newFrameSecret,
  FRAME_BYTES_MAX,
  FRAME_TAG_BYTES,
  FRAME_BYTES_UUID_MAX,
  clusterTagOf,
  type FrameKey,
  type HeartbeatFrame,
  type DecodeResult,
} from './wire/frames.js';
export * from './wire/layout.js';
export * from './wire/names.js';
export { startNode, type RunningNode, type StartNodeOptions } from './node.js';
export type { AgentRuntime, HeartbeatTransport, IdentityStore, NodeIdentity, PeerAddress } from './runtime/types.js';
export { MemoryNetwork } from './runtime/memory.js';
export {
  realRuntime,
  fileIdentityStore,
  stderrLogger,
  WebSocketTransport,
  REPLICATION_CHANNEL,
  HEARTBEAT_CHANNEL,
  type RealRuntimeOptions,
} from './runtime/real.js';
export { faultyTransport, faultyKvdb } from './runtime/faults.js';
export { ClusterReader, type ClusterRead, type ClusterReaderOptions } from './shell/cluster-reader.js';
export { memberConfig, type MemberConfigInput } from './member-config.js';
export { VolumeShell, VolumeError, type VolumeCreateRequest } from './shell/volumes.js';
export { FileBlockStore } from './runtime/file-blocks.js';
export { encodeReplication, decodeReplication, REPLICATION_FRAME_BYTES_MAX } from './wire/replication.js';
export { volumeJson } from './api/volume-routes.js';
export { clusterDomainsStatus, clusterSyncStatuses } from './sync-status.js';
export type { SyncStatus, ReplicaSets } from '@pxsim/storage';
