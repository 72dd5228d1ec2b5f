/** Bytes in one block: the unit of replication, read and write. */
export const BLOCK_BYTES = 4096;
/** Largest volume, GiB (Portworx `--size` is in GB, default 1). */
export const VOLUME_SIZE_GIB_MAX = 1024;
export const GIB = 1024 * 1024 * 1024;

/** A stored block's version: compared by epoch (the coordinator's attach epoch), then by sequence number. */
export interface BlockVersion {
  epoch: number;
  seq: number;
}

/** -1, 0 or 1 as `left` is older than, equal to or newer than `right`. */
export function compareVersions(left: BlockVersion, right: BlockVersion): number {
  if (left.epoch !== right.epoch) return left.epoch < right.epoch ? -1 : 1;
  if (left.seq !== right.seq) return left.seq < right.seq ? -1 : 1;
  return 0;
}

/** A volume as the kvdb keeps it (`volumes/<id>`; the schema is node-agent's). */
export interface VolumeRecord {
  /** Decimal digits, like Portworx volume IDs. */
  id: string;
  name: string;
  sizeBytes: number;
  haLevel: 1 | 2 | 3;
  /** The replica set chosen at creation (node IDs). */
  createSet: string[];
  /** The replicas whose copies are complete: a write waits on every one of them. */
  currentSet: string[];
  /** The coordinator, if attached. */
  attachedOn?: string;
  /** Bumped by every attach: the fencing token replicas compare (safe mode). */
  attachEpoch: number;
  createdAtMs: number;
  labels: Record<string, string>;
}

/** Messages between nodes on the replication port; the wire encoding is node-agent's. */
export type ReplicationMessage =
  | { type: 'write'; volumeId: string; epoch: number; seq: number; block: number; payload: Uint8Array }
  | { type: 'check'; volumeId: string; epoch: number; seq: number }
  | { type: 'digestRequest'; volumeId: string; epoch: number; seq: number }
  | {
      type: 'digest';
      volumeId: string;
      epoch: number;
      seq: number;
      blocks: Array<[number, BlockVersion]>;
      last: boolean;
    }
  | {
      type: 'set';
      volumeId: string;
      epoch: number;
      seq: number;
      block: number;
      version: BlockVersion;
      payload: Uint8Array;
    }
  | { type: 'ack'; volumeId: string; epoch: number; seq: number }
  | {
      type: 'nack';
      volumeId: string;
      epoch: number;
      seq: number;
      reason: 'not serving' | 'stale epoch' | 'unknown volume';
      epochSeen: number;
    };

/** Everything that happens to a node's storage, as `StorageNode` sees it. Every input carries its time. */
export type StorageInput =
  /** The whole set of volume records, on every kvdb read or watch event. */
  | { type: 'records'; atMs: number; records: ReadonlyArray<{ record: VolumeRecord; revision: number }> }
  /** Whether this node serves (quorum), which nodes are Online in its view, which are of inactive domains. */
  | {
      type: 'serving';
      atMs: number;
      serving: boolean;
      onlineNodes: ReadonlySet<string>;
      inactiveDomainNodes: ReadonlySet<string>;
    }
  | { type: 'message'; atMs: number; from: string; message: ReplicationMessage }
  /** `volume`: a name or an ID. */
  | { type: 'write'; atMs: number; opId: number; volume: string; block: number; payload: Uint8Array }
  | { type: 'read'; atMs: number; opId: number; volume: string; block: number }
  | { type: 'attach'; atMs: number; opId: number; volume: string }
  | { type: 'detach'; atMs: number; opId: number; volume: string }
  | { type: 'casResult'; atMs: number; casId: number; ok: boolean; revision?: number; error?: string }
  | { type: 'tick'; atMs: number };

/** A client request's answer. `code` names the error (see the README's table). */
export type OpResult =
  | { ok: true; payload?: Uint8Array; version?: BlockVersion }
  | { ok: false; outcome: 'failed' | 'unknown'; code: string; reason: string };

/** What the node's shell must do after an input. A field left out means nothing to do. */
export interface StorageReady {
  messages?: ReadonlyArray<{ to: string; message: ReplicationMessage }>;
  cas?: ReadonlyArray<{ casId: number; volumeId: string; expectedRevision: number; record: VolumeRecord }>;
  replies?: ReadonlyArray<{ opId: number; result: OpResult }>;
  tickAtMs?: number;
  events?: ReadonlyArray<{ atMs: number; volumeId: string; what: string }>;
}

/** A node's "disk": survives agent restarts (simulator: per node; real: the data dir). */
export interface BlockStore {
  get(volumeId: string, block: number): { version: BlockVersion; payload: Uint8Array } | undefined;
  put(volumeId: string, block: number, version: BlockVersion, payload: Uint8Array): void;
  digest(volumeId: string): Array<[number, BlockVersion]>;
  epochSeen(volumeId: string): number;
  setEpochSeen(volumeId: string, epoch: number): void;
  drop(volumeId: string): void;
  usedBytes(): number;
}

export type ReplicationStatus = 'Up' | 'Resync' | 'Degraded' | 'Not in quorum' | 'Detached';

/** A volume as one node sees it: for inspect, list and status. */
export interface VolumeView {
  record: VolumeRecord;
  revision: number;
  replicationStatus: ReplicationStatus;
  /** This node coordinates the volume and has finished its open round (it serves I/O). */
  coordinatorOpen: boolean;
  replicas: Array<{ nodeId: string; inCurrentSet: boolean; state: 'up' | 'resync' | 'removed' | 'down' }>;
  /** Bytes this node stores for the volume. */
  usedBytes: number;
  io: { reads: number; writes: number; bytesRead: number; bytesWritten: number; inProgress: number };
}
