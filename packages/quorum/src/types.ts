/** Gossip states, as libopenstorage/gossip names them (types/types.go). */
export const GOSSIP_STATES = [
  'UP',
  'SUSPECT_NOT_IN_QUORUM',
  'NOT_IN_QUORUM',
  'SUSPECT_DOWN',
  'DOWN',
  'NEVER_GOSSIPED',
] as const;
export type GossipState = (typeof GOSSIP_STATES)[number];

/** The states a live node reports about itself in its heartbeats. */
export type SelfGossipState = 'UP' | 'SUSPECT_NOT_IN_QUORUM' | 'NOT_IN_QUORUM';

/** What `pxctl status` and the operator show. */
export type UserStatus = 'Online' | 'Offline' | 'Out of Quorum' | 'Initializing';

export type DomainState = 'Active' | 'Inactive';

/** `reference`: the gossip failure-domain rule as is. `safe`: no split brain (see the package README). */
export type QuorumMode = 'reference' | 'safe';

/** One durable registration, as stored in the kvdb. */
export interface MemberInfo {
  nodeId: string;
  domain: string;
  /** Counts towards quorum (NonQuorumMember = false). */
  quorumMember: boolean;
  decommissioned: boolean;
  /** A storage-less node (a witness). A domain whose members are all storage-less is a witness domain. */
  storageless?: boolean;
}

/**
 * A partition claim in the kvdb: while domains `domains[0]` and `domains[1]` cannot see each other, only the
 * winner's nodes may serve (safe mode). Created with create-if-absent; deleted by the winner once it sees the
 * other domain again.
 */
export interface PartitionClaim {
  domains: readonly [string, string];
  winner: string;
  /** The kvdb revision the claim was created at. */
  revision: number;
}

/**
 * What one read of the cluster prefix returned: membership, the domain map and the claims, all at one kvdb revision.
 */
export interface ClusterSnapshot {
  revision: number;
  members: MemberInfo[];
  /** Domain → state. Empty: no domain map, the default quorum rule applies. */
  domains: Record<string, DomainState>;
  claims: PartitionClaim[];
}

export type QuorumInput =
  /** A kvdb read of the cluster prefix that was sent at `readStartMs` and answered by `atMs`. */
  | { type: 'snapshot'; atMs: number; readStartMs: number; snapshot: ClusterSnapshot }
  /** A kvdb read that failed (kvdb unreachable, timeout). */
  | { type: 'snapshotFailed'; atMs: number; error: string }
  /**
   * A heartbeat received from a peer, carrying the state the peer reports about itself. `heardAtMs` (at most `atMs`;
   * `atMs` when left out) is the latest time the frame shows its sender alive at: a host that may have left the frame
   * waiting (a process that took no input for a while: paused, stalled) gives the time it last took input before it,
   * since the frame may have arrived then and was sent at most `latencyMaxMs` before arriving.
   */
  | { type: 'heartbeat'; atMs: number; from: string; peerState: SelfGossipState; heardAtMs?: number }
  /** Time passes; the engine re-evaluates its timers. */
  | { type: 'tick'; atMs: number };

/** Something the engine asks its host to do in the kvdb (safe mode). The result comes back in a later snapshot. */
export type QuorumAction =
  | { type: 'claim'; domains: readonly [string, string]; winner: string }
  | { type: 'release'; domains: readonly [string, string]; winner: string; revision: number };

export interface NodeView {
  nodeId: string;
  domain: string;
  gossipState: GossipState;
  status: UserStatus;
  /** Why, in words, when the node is not simply Online. */
  reason: string;
  /** Last heartbeat received from the node (undefined for self or never). */
  lastHeardMs: number | undefined;
}

export interface QuorumCount {
  /** Quorum members of active domains (or of all domains without a domain map). */
  total: number;
  /** Of those, the ones this node sees alive (itself included). */
  up: number;
  /** floor(total / 2) + 1 */
  needed: number;
  activeDomains: string[];
}

/** The engine's output: a value, recomputed after every input. */
export interface QuorumView {
  nowMs: number;
  mode: QuorumMode;
  /**
   * `gossiping` false: the host sends no heartbeats. Reference mode only: a node whose domain is inactive when it
   * (re)starts does not join gossip until the domain is activated (gossip `proto/gossip.go`), and a node restarting
   * after it lost quorum is not running.
   */
  self: NodeView & { serving: boolean; gossiping: boolean };
  /** Every known node, self included, sorted by domain then node ID. */
  nodes: NodeView[];
  quorum: QuorumCount;
  /** When the engine next needs a tick even if nothing arrives (undefined: no timer pending). */
  nextDeadlineMs: number | undefined;
  /** kvdb writes the host should attempt now (safe mode partition claims). */
  actions: QuorumAction[];
  /** Revision of the snapshot the view is based on (0: none yet). */
  snapshotRevision: number;
}
