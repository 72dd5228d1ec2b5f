import type { Kvdb } from '@pxsim/kvdb-client';
import type { Clock, LinkFaults } from '@pxsim/runtime';
import type { BlockStore } from '@pxsim/storage';
import type { LogLevel } from '../core/types.js';
import type { AgentCoreOptions, PeerAddress } from '../core/core.js';

export type { PeerAddress };

/** Moves heartbeat frames between agents: WebSockets in real time, the simulator's network in virtual time. */
export interface HeartbeatTransport {
  /** Starts receiving frames on `address`. */
  listen(address: PeerAddress, onFrame: (bytes: Uint8Array) => void): Promise<void>;
  /** Sends one frame; best effort, never throws (a peer gone is normal). */
  send(to: PeerAddress, bytes: Uint8Array): void;
  close(): Promise<void>;
}

/** The node's identity as kept in its data dir. */
export interface NodeIdentity {
  nodeId: string;
  clusterId: string;
  /** The domain this node was started in (a change needs `--allow-domain-change`). */
  clusterDomain?: string;
  /** The cluster UUID it joined (joining another needs `--allow-new-cluster-uuid`). */
  clusterUuid?: string;
}

export interface IdentityStore {
  load(): NodeIdentity | undefined;
  save(identity: NodeIdentity): void;
}

/**
 * Everything time-, random- or I/O-dependent the agent uses. The agent's own code reaches none of these any other way,
 * so the same agent runs on sockets and wall time, or inside the simulator.
 */
export interface AgentRuntime {
  clock: Clock;
  /** Uniform in [0, 1). */
  random: () => number;
  transport: HeartbeatTransport;
  /** Volume replication frames, on the replication port (same fault layer as heartbeats). */
  replicationTransport: HeartbeatTransport;
  /** The node's disk for its volumes' blocks (default: in memory, lost with the process). */
  blocks?: BlockStore;
  identity: IdentityStore;
  openKvdb(endpoints: string, namespace: string): Kvdb;
  /** One log line; the runtime decides where it goes and which levels it keeps. */
  log(level: LogLevel, message: string): void;
  /** Faults this node's sending side obeys (user-space injection); exposed to admins at POST /v1/debug/faults. */
  faults?: LinkFaults;
  /** Makes the quorum engine (default: the real `QuorumEngine`; the simulator's sensitivity test gives broken ones). */
  quorumEngine?: AgentCoreOptions['engine'];
}
