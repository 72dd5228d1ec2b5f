import type { KvdbError } from './errors.js';

/** One stored key with its MVCC metadata, as etcd reports it. */
export interface KeyValue {
  key: string;
  value: string;
  /** Revision of the write that created this incarnation of the key. */
  createRevision: number;
  /** Revision of the last write to the key. */
  modRevision: number;
  /** Number of writes since the key was (re)created; 1 after create. */
  version: number;
  /** The lease the key is attached to, if any. */
  leaseId?: string;
}

export interface GetResult {
  revision: number;
  kv: KeyValue;
}

export interface RangeOptions {
  /** At most this many keys (0 or absent: no limit). */
  limit?: number;
  /** Return keys and metadata with empty values. */
  keysOnly?: boolean;
}

export interface RangeResult {
  revision: number;
  kvs: KeyValue[];
  /** True when `limit` cut the result. */
  more: boolean;
}

/**
 * What `prefixVersion` answers: enough to tell whether a copy of the prefix kept by watch is still the store's
 * (see `Kvdb.prefixVersion`), for the price of one key.
 */
export interface PrefixVersion {
  /** The store's revision when the request was served. */
  revision: number;
  /** How many keys are under the prefix. */
  count: number;
  /** The largest mod revision among them; 0 when there are none. */
  newestModRevision: number;
}

export interface PutOptions {
  leaseId?: string;
}

export interface PutResult {
  revision: number;
  /** The key as it was before the write, if it existed. */
  prev?: KeyValue;
}

export interface CreateResult {
  revision: number;
  kv: KeyValue;
}

export interface UpdateOptions extends PutOptions {
  /** Compare-and-set: apply only if the key's mod revision is exactly this. */
  ifModRevision?: number;
}

export interface DeleteOptions {
  /** Compare-and-delete: delete only if the key's mod revision is exactly this. */
  ifModRevision?: number;
}

export interface DeleteResult {
  revision: number;
  prev: KeyValue;
}

export type CompareTarget = 'value' | 'modRevision' | 'createRevision' | 'version';
export type CompareOperator = '==' | '!=' | '<' | '>';

/** A transaction guard; a missing key has version, createRevision and modRevision 0 and never matches on value. */
export type Compare =
  | { key: string; target: 'value'; op: CompareOperator; value: string }
  | { key: string; target: 'modRevision' | 'createRevision' | 'version'; op: CompareOperator; value: number };

export type TxnOp =
  | { type: 'put'; key: string; value: string; leaseId?: string }
  | { type: 'delete'; key: string }
  | { type: 'get'; key: string };

export type TxnOpResult =
  | { type: 'put'; prev?: KeyValue }
  | { type: 'delete'; deleted: number; prev?: KeyValue }
  | { type: 'get'; kv?: KeyValue };

export interface TxnRequest {
  compare: Compare[];
  success: TxnOp[];
  failure?: TxnOp[];
}

export interface TxnResult {
  revision: number;
  succeeded: boolean;
  results: TxnOpResult[];
}

export interface WatchEvent {
  type: 'put' | 'delete';
  /** For a delete: the key, an empty value, and modRevision = the delete's revision. */
  kv: KeyValue;
  prev?: KeyValue;
}

/** Every event of one revision that matches the watch, delivered together (atomic per revision). */
export interface WatchBatch {
  revision: number;
  events: WatchEvent[];
}

export interface WatchOptions {
  /** Deliver events from this revision on (inclusive). Absent: only what happens after the watch starts. */
  fromRevision?: number;
  /** Called once per revision, in order. If it returns a promise, the next batch waits for it. */
  onBatch: (batch: WatchBatch) => void | Promise<void>;
  /**
   * Called once when the watch ends on its own: Compacted (the start revision is gone), Lagged (the consumer fell
   * behind the bounded queue; resume from `error.revision`) or Closed. The watch is cancelled after it.
   */
  onError: (error: KvdbError) => void;
  /** Batches that may wait for the consumer before the watch is cancelled as Lagged. Default 1024. */
  maxPendingBatches?: number;
}

export interface Watch {
  /** The last revision delivered to onBatch (0 before any); resume with fromRevision = lastRevision + 1. */
  readonly lastRevision: number;
  cancel(): void;
}

export interface GrantLeaseOptions {
  /** Keep the lease alive every TTL/3 on the client's clock until revoked or lost. Default true. */
  autoKeepAlive?: boolean;
}

export interface Lease {
  readonly id: string;
  /** The TTL the store granted (etcd rounds up to whole seconds). */
  readonly ttlMs: number;
  /** True once the lease is known to be gone (expired, revoked, or not renewed for a whole TTL). */
  readonly lost: boolean;
  /** Renews the lease once. NotFound if it has already expired. */
  keepAlive(): Promise<void>;
  /** Revokes the lease; its keys are deleted in one revision. */
  revoke(): Promise<void>;
  /** Called once when the lease is lost (not after a revoke by this holder). */
  onLost(listener: (reason: KvdbError) => void): void;
}

/**
 * The key-value store both backends implement. Keys are relative to the client's namespace.
 * Every write is sent once: a failure after sending is Indeterminate, never retried behind the caller's back.
 */
export interface Kvdb {
  /** Human-readable name of the backend and endpoint, for logs and status pages. */
  readonly description: string;
  get(key: string): Promise<GetResult>;
  range(prefix: string, options?: RangeOptions): Promise<RangeResult>;
  /**
   * The number of keys under `prefix` and their newest mod revision, at the revision it was served: one range of
   * at most one key (etcd: limit 1, sorted by mod revision descending, keys only; its count ignores the limit).
   */
  prefixVersion(prefix: string): Promise<PrefixVersion>;
  put(key: string, value: string, options?: PutOptions): Promise<PutResult>;
  create(key: string, value: string, options?: PutOptions): Promise<CreateResult>;
  update(key: string, value: string, options?: UpdateOptions): Promise<PutResult>;
  delete(key: string, options?: DeleteOptions): Promise<DeleteResult>;
  txn(request: TxnRequest): Promise<TxnResult>;
  grantLease(ttlMs: number, options?: GrantLeaseOptions): Promise<Lease>;
  watch(prefix: string, options: WatchOptions): Watch;
  /** Discards history before `revision`; watching from an older revision is then Compacted. */
  compact(revision: number): Promise<void>;
  /** The store's current revision. */
  currentRevision(): Promise<number>;
  /** Cancels watches and lease keep-alives and releases connections. Later calls fail with Closed. */
  close(): Promise<void>;
}
