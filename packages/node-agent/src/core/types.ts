import type { DomainState, GossipState, UserStatus } from '@pxsim/quorum';

export type AgentPhase = 'starting' | 'waiting for kvdb' | 'running' | 'stopping' | 'stopped' | 'failed';

export interface NodeStatusEntry {
  id: string;
  ip: string;
  schedulerNodeName: string;
  domain: string;
  status: UserStatus;
  gossipState: GossipState;
  storageStatus: 'Up' | 'Down';
  reason: string;
  usedBytes: number;
  capacityBytes: number;
  version: string;
  storageless: boolean;
  thisNode: boolean;
}

/** Everything the API shows: an immutable snapshot, replaced on every change. */
export interface AgentStatus {
  phase: AgentPhase;
  phaseReason: string;
  nowMs: number;
  node: NodeStatusEntry & {
    apiPort: number;
    heartbeatPort: number;
    replicationPort: number;
    /** Whether this node serves I/O now (running, and its engine says it may). */
    serving: boolean;
  };
  cluster: {
    id: string;
    uuid: string;
    createdAtMs: number;
    scheduler: 'kubernetes';
    kvdb: string;
    kvdbRevision: number;
  };
  quorum: { mode: string; total: number; up: number; needed: number; activeDomains: string[] };
  nodes: NodeStatusEntry[];
  domains: Array<{ name: string; state: DomainState; nodes: number; updatedAtMs: number }>;
  counters: {
    framesReceived: number;
    framesDropped: number;
    framesFromOtherClusters: number;
    /** Frames of this cluster whose tag is missing or wrong, or that replay one already accepted: forged, dropped. */
    framesUnauthenticated: number;
    /** Frames sent: one per peer per heartbeat round. */
    framesSent: number;
    kvdbValuesRejected: number;
  };
}

export type AgentEvent =
  | { type: 'phase'; atMs: number; phase: AgentPhase; reason: string }
  | {
      type: 'node-status';
      atMs: number;
      nodeId: string;
      from: UserStatus | 'Unknown';
      to: UserStatus;
      gossipState: GossipState;
      reason: string;
    }
  | { type: 'domain-state'; atMs: number; domain: string; from: DomainState | 'Unknown'; to: DomainState };

export type WriteResult =
  { ok: true; usedBytes: number } | { ok: false; code: 'FENCED' | 'POOL_FULL' | 'NOT_READY'; reason: string };

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
