import type { Clock, Timer } from '@pxsim/runtime';
import { KvdbError } from './errors.js';
import { LeaseHandle } from './lease-handle.js';
import type {
  Compare,
  GrantLeaseOptions,
  KeyValue,
  Lease,
  PrefixVersion,
  RangeOptions,
  RangeResult,
  TxnOp,
  TxnOpResult,
  TxnRequest,
  TxnResult,
  Watch,
  WatchBatch,
  WatchEvent,
  WatchOptions,
} from './types.js';
import { validatePrefix } from './validation.js';
import { WatchDelivery } from './watch-delivery.js';
import { TxnKvdb } from './base.js';

export interface MemStoreOptions {
  /** Drives lease expiry. The store reads no wall clock and starts no timers of its own. */
  clock: Clock;
  /** Revisions of history kept for watches; older ones are compacted automatically. Default 10,000. */
  historyRevisionsMax?: number;
  /**
   * Answer a whole-prefix read again from the last one while the revision has not moved (default true). Off only to
   * measure what it saves (`pnpm bench sim`: sim.speedup_x against sim.speedup_x_no_range_cache).
   */
  rangeAnswerCache?: boolean;
}

interface StoredLease {
  ttlMs: number;
  expiresAtMs: number;
  keys: Set<string>;
  timer: Timer | undefined;
  handles: Set<LeaseHandle>;
}

interface StoreWatcher {
  prefix: string;
  namespace: string;
  delivery: WatchDelivery;
}

function binarySearch(sorted: string[], key: string): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((sorted[middle] as string) < key) low = middle + 1;
    else high = middle;
  }
  return low;
}

function compareNumbers(actual: number, op: Compare['op'], expected: number): boolean {
  switch (op) {
    case '==':
      return actual === expected;
    case '!=':
      return actual !== expected;
    case '<':
      return actual < expected;
    case '>':
      return actual > expected;
  }
}

function compareStrings(actual: string, op: Compare['op'], expected: string): boolean {
  switch (op) {
    case '==':
      return actual === expected;
    case '!=':
      return actual !== expected;
    case '<':
      return actual < expected;
    case '>':
      return actual > expected;
  }
}

/** Keeps a `prefixVersion` answer up to date with one revision's events (a delete keeps the newest mod revision). */
function trackPrefix(
  prefix: string,
  tracked: { count: number; newestModRevision: number },
  events: WatchEvent[],
): void {
  for (const event of events) {
    if (!event.kv.key.startsWith(prefix)) continue;
    if (event.type === 'delete') tracked.count -= 1;
    else {
      if (event.prev === undefined) tracked.count += 1;
      tracked.newestModRevision = Math.max(tracked.newestModRevision, event.kv.modRevision);
    }
  }
}

/** Whole-prefix answers a store keeps (its clients read a handful of prefixes each). */
const RANGE_ANSWERS_MAX = 256;

/**
 * The embedded multi-version store: etcd's data model (one revision counter, create/mod revision, version, leases,
 * watchable history, compaction) in process memory. Several `MemKvdb` clients, each with its own namespace, may
 * share one store.
 */
export class MemStore {
  readonly clock: Clock;
  private revision = 1;
  /** Revisions before this one are gone (0: nothing compacted yet). */
  private compactedBefore = 0;
  private readonly sortedKeys: string[] = [];
  private readonly entries = new Map<string, KeyValue>();
  private readonly leases = new Map<string, StoredLease>();
  private nextLeaseNumber = 1;
  private readonly history: WatchBatch[] = [];
  private readonly historyRevisionsMax: number;
  private readonly watchers = new Set<StoreWatcher>();
  /**
   * The clients' last whole-prefix answers, by namespace and prefix; private to the store, used only by
   * `wholeRange`. The rule: a revision names one state of the store, so while the revision has not moved the same
   * answer is given again (every agent re-reads its cluster every refresh period; most reads find nothing changed).
   * Every change of the store's contents (a write, a delete, a lease expiring) moves the revision, so an answer is
   * never stale. Its entries are frozen (callers share them, as they share the store's own) and each caller gets its
   * own array. At most RANGE_ANSWERS_MAX answers (all dropped when full).
   */
  private readonly rangeAnswers = new Map<string, { revision: number; kvs: KeyValue[] }>();
  private readonly rangeAnswerCache: boolean;
  /**
   * The prefixes `prefixVersion` was asked about, by full prefix: their key count and newest mod revision, found by
   * one scan the first time and then kept by `commit` from each revision's events, so that a call costs O(1) (the
   * simulator's CPU is the store's). A delete leaves `newestModRevision` as it was, though the newest key may be the
   * one deleted: it is then higher than etcd would say, which only makes a reader's copy look stale (a full read),
   * never fresh. At most RANGE_ANSWERS_MAX prefixes (all dropped when full).
   */
  private readonly prefixVersions = new Map<string, { count: number; newestModRevision: number }>();
  /** Whole-prefix reads answered from `rangeAnswers`, and those that read the store. */
  readonly rangeAnswerStats = { hits: 0, misses: 0 };
  /**
   * Requests the clients sent, counted for benchmarks (`pnpm bench sim`: kvdb operations per node per second):
   * ranges (and the keys they returned), transactions (every get, put, create, update, delete and txn is one), and
   * lease keep-alives.
   */
  readonly opStats = { ranges: 0, keysRead: 0, txns: 0, keepAlives: 0 };

  constructor(options: MemStoreOptions) {
    this.clock = options.clock;
    this.historyRevisionsMax = options.historyRevisionsMax ?? 10_000;
    this.rangeAnswerCache = options.rangeAnswerCache ?? true;
    if (!Number.isSafeInteger(this.historyRevisionsMax) || this.historyRevisionsMax < 1) {
      throw new KvdbError('InvalidArgument', `historyRevisionsMax must be a whole number of 1 or more`);
    }
  }

  get currentRevision(): number {
    this.expireDueLeases();
    return this.revision;
  }

  /** The oldest revision a watch may still start from. */
  get oldestRevision(): number {
    return Math.max(1, this.compactedBefore);
  }

  get(key: string): KeyValue | undefined {
    this.expireDueLeases();
    return this.entries.get(key);
  }

  /**
   * Every key under `namespace + prefix`, keys given without the namespace (`strip`), at the current revision: the
   * read every agent repeats, answered again from the last one while the revision has not moved.
   */
  wholeRange(
    namespace: string,
    prefix: string,
    strip: (kv: KeyValue) => KeyValue,
  ): { revision: number; kvs: KeyValue[] } {
    const revision = this.currentRevision; // expires due leases first, as the range would
    const answerKey = `${namespace}\u0000${prefix}`;
    const cached = this.rangeAnswerCache ? this.rangeAnswers.get(answerKey) : undefined;
    if (cached !== undefined && cached.revision === revision) {
      this.rangeAnswerStats.hits += 1;
      return { revision, kvs: cached.kvs.slice() };
    }
    this.rangeAnswerStats.misses += 1;
    const kvs = this.range(namespace + prefix, {}).kvs.map(strip);
    if (!this.rangeAnswerCache) return { revision, kvs };
    if (this.rangeAnswers.size >= RANGE_ANSWERS_MAX) this.rangeAnswers.clear();
    for (const kv of kvs) Object.freeze(kv);
    this.rangeAnswers.set(answerKey, { revision, kvs });
    return { revision, kvs: kvs.slice() };
  }

  /** Key count and newest mod revision under `prefix` (a full prefix), O(1) after the first call for a prefix. */
  prefixVersion(prefix: string): PrefixVersion {
    const revision = this.currentRevision; // expires due leases first, as the range would
    let tracked = this.prefixVersions.get(prefix);
    if (tracked === undefined) {
      tracked = { count: 0, newestModRevision: 0 };
      for (let index = binarySearch(this.sortedKeys, prefix); index < this.sortedKeys.length; index++) {
        const key = this.sortedKeys[index] as string;
        if (!key.startsWith(prefix)) break;
        tracked.count += 1;
        tracked.newestModRevision = Math.max(
          tracked.newestModRevision,
          (this.entries.get(key) as KeyValue).modRevision,
        );
      }
      if (this.prefixVersions.size >= RANGE_ANSWERS_MAX) this.prefixVersions.clear();
      this.prefixVersions.set(prefix, tracked);
    }
    return { revision, count: tracked.count, newestModRevision: tracked.newestModRevision };
  }

  range(prefix: string, options: RangeOptions): { kvs: KeyValue[]; more: boolean } {
    this.expireDueLeases();
    const limit = options.limit ?? 0;
    const kvs: KeyValue[] = [];
    for (let index = binarySearch(this.sortedKeys, prefix); index < this.sortedKeys.length; index++) {
      const key = this.sortedKeys[index] as string;
      if (!key.startsWith(prefix)) break;
      if (limit > 0 && kvs.length === limit) return { kvs, more: true };
      const kv = this.entries.get(key) as KeyValue;
      kvs.push(options.keysOnly === true ? { ...kv, value: '' } : kv);
    }
    return { kvs, more: false };
  }

  /** Evaluates the guards and applies one branch atomically; at most one new revision. */
  txn(request: TxnRequest): TxnResult {
    this.expireDueLeases();
    const succeeded = request.compare.every((compare) => this.evaluate(compare));
    const ops = succeeded ? request.success : (request.failure ?? []);
    for (const op of ops) {
      if (op.type === 'put' && op.leaseId !== undefined && !this.leases.has(op.leaseId)) {
        throw new KvdbError('NotFound', `lease ${op.leaseId} not found`, { key: op.key });
      }
    }
    const events: WatchEvent[] = [];
    const newRevision = this.revision + 1;
    const results = ops.map((op) => this.apply(op, newRevision, events));
    this.commit(events);
    return { revision: this.revision, succeeded, results };
  }

  grantLease(ttlMs: number): { id: string; ttlMs: number } {
    this.expireDueLeases();
    const id = String(this.nextLeaseNumber++);
    const lease: StoredLease = {
      ttlMs,
      expiresAtMs: this.clock.nowMs() + ttlMs,
      keys: new Set(),
      timer: undefined,
      handles: new Set(),
    };
    this.leases.set(id, lease);
    this.armLeaseTimer(id, lease);
    return { id, ttlMs };
  }

  attachHandle(leaseId: string, handle: LeaseHandle): void {
    this.leases.get(leaseId)?.handles.add(handle);
  }

  keepAlive(leaseId: string): void {
    this.expireDueLeases();
    const lease = this.leases.get(leaseId);
    if (lease === undefined) throw new KvdbError('NotFound', `lease ${leaseId} not found (expired or revoked)`);
    lease.expiresAtMs = this.clock.nowMs() + lease.ttlMs;
    this.armLeaseTimer(leaseId, lease);
  }

  revokeLease(leaseId: string): void {
    this.expireDueLeases();
    if (!this.leases.has(leaseId)) throw new KvdbError('NotFound', `lease ${leaseId} not found (expired or revoked)`);
    this.endLease(leaseId, undefined);
  }

  compact(revision: number): void {
    this.expireDueLeases();
    if (revision > this.revision) {
      throw new KvdbError(
        'InvalidArgument',
        `cannot compact to revision ${revision}: it is a future revision (current ${this.revision})`,
      );
    }
    if (revision <= this.compactedBefore) {
      throw new KvdbError('Compacted', `revision ${revision} has already been compacted`, {
        revision: this.compactedBefore,
      });
    }
    this.compactTo(revision);
  }

  watch(namespace: string, prefix: string, options: WatchOptions): Watch {
    this.expireDueLeases();
    const watcher: StoreWatcher = {
      prefix: namespace + prefix,
      namespace,
      delivery: new WatchDelivery(options, () => this.watchers.delete(watcher)),
    };
    const fromRevision = options.fromRevision ?? this.revision + 1;
    if (fromRevision < this.compactedBefore) {
      watcher.delivery.fail(
        new KvdbError(
          'Compacted',
          `cannot watch from revision ${fromRevision}: compacted; the oldest available is ${this.compactedBefore}`,
          { revision: this.compactedBefore },
        ),
      );
      return watcher.delivery;
    }
    this.watchers.add(watcher);
    const firstIndex = this.history.length - (this.revision - fromRevision + 1);
    for (let index = Math.max(0, firstIndex); index < this.history.length; index++) {
      this.deliver(watcher, this.history[index] as WatchBatch);
    }
    return watcher.delivery;
  }

  private evaluate(compare: Compare): boolean {
    const kv = this.entries.get(compare.key);
    if (compare.target === 'value') {
      return kv !== undefined && compareStrings(kv.value, compare.op, compare.value);
    }
    const actual = kv === undefined ? 0 : kv[compare.target];
    return compareNumbers(actual, compare.op, compare.value);
  }

  private apply(op: TxnOp, newRevision: number, events: WatchEvent[]): TxnOpResult {
    const previous = this.entries.get(op.key);
    if (op.type === 'get') return previous === undefined ? { type: 'get' } : { type: 'get', kv: previous };
    if (op.type === 'delete') {
      if (previous === undefined) return { type: 'delete', deleted: 0 };
      this.removeKey(op.key, previous);
      events.push({
        type: 'delete',
        kv: { key: op.key, value: '', createRevision: 0, modRevision: newRevision, version: 0 },
        prev: previous,
      });
      return { type: 'delete', deleted: 1, prev: previous };
    }
    const kv: KeyValue = {
      key: op.key,
      value: op.value,
      createRevision: previous?.createRevision ?? newRevision,
      modRevision: newRevision,
      version: (previous?.version ?? 0) + 1,
    };
    if (op.leaseId !== undefined) kv.leaseId = op.leaseId;
    if (previous === undefined) this.sortedKeys.splice(binarySearch(this.sortedKeys, op.key), 0, op.key);
    else if (previous.leaseId !== undefined) this.leases.get(previous.leaseId)?.keys.delete(op.key);
    this.entries.set(op.key, kv);
    if (op.leaseId !== undefined) this.leases.get(op.leaseId)?.keys.add(op.key);
    events.push(previous === undefined ? { type: 'put', kv } : { type: 'put', kv, prev: previous });
    return previous === undefined ? { type: 'put' } : { type: 'put', prev: previous };
  }

  private removeKey(key: string, previous: KeyValue): void {
    this.entries.delete(key);
    this.sortedKeys.splice(binarySearch(this.sortedKeys, key), 1);
    if (previous.leaseId !== undefined) this.leases.get(previous.leaseId)?.keys.delete(key);
  }

  private commit(events: WatchEvent[]): void {
    if (events.length === 0) return;
    this.revision += 1;
    const batch: WatchBatch = { revision: this.revision, events };
    for (const [prefix, tracked] of this.prefixVersions) trackPrefix(prefix, tracked, events);
    this.history.push(batch);
    if (this.history.length > this.historyRevisionsMax) {
      this.compactTo(this.revision - this.historyRevisionsMax + 1);
    }
    for (const watcher of this.watchers) this.deliver(watcher, batch);
  }

  private compactTo(revision: number): void {
    const drop = this.history.length - (this.revision - revision + 1);
    if (drop > 0) this.history.splice(0, drop);
    this.compactedBefore = revision;
  }

  private deliver(watcher: StoreWatcher, batch: WatchBatch): void {
    const events = batch.events.filter((event) => event.kv.key.startsWith(watcher.prefix));
    if (events.length === 0) return;
    const cut = watcher.namespace.length;
    const strip = (kv: KeyValue): KeyValue => ({ ...kv, key: kv.key.slice(cut) });
    watcher.delivery.accept({
      revision: batch.revision,
      events: events.map((event) =>
        event.prev === undefined
          ? { type: event.type, kv: strip(event.kv) }
          : { type: event.type, kv: strip(event.kv), prev: strip(event.prev) },
      ),
    });
  }

  private armLeaseTimer(leaseId: string, lease: StoredLease): void {
    lease.timer?.cancel();
    lease.timer = this.clock.setTimer(lease.expiresAtMs - this.clock.nowMs(), () => {
      lease.timer = undefined;
      this.expireDueLeases();
    });
  }

  private expireDueLeases(): void {
    const nowMs = this.clock.nowMs();
    for (const [leaseId, lease] of this.leases) {
      if (lease.expiresAtMs <= nowMs) {
        this.endLease(
          leaseId,
          new KvdbError('NotFound', `lease ${leaseId} expired: not renewed within its TTL of ${lease.ttlMs} ms`),
        );
      }
    }
  }

  /** Deletes the lease's keys in one revision; `lostReason` undefined means revoked by the holder. */
  private endLease(leaseId: string, lostReason: KvdbError | undefined): void {
    const lease = this.leases.get(leaseId);
    if (lease === undefined) return;
    this.leases.delete(leaseId);
    lease.timer?.cancel();
    const events: WatchEvent[] = [];
    const newRevision = this.revision + 1;
    for (const key of [...lease.keys].sort()) {
      const previous = this.entries.get(key);
      if (previous === undefined) continue;
      this.removeKey(key, previous);
      events.push({
        type: 'delete',
        kv: { key, value: '', createRevision: 0, modRevision: newRevision, version: 0 },
        prev: previous,
      });
    }
    this.commit(events);
    if (lostReason !== undefined) for (const handle of lease.handles) handle.markLost(lostReason);
  }
}

export interface MemKvdbOptions {
  /** The store to use; a new private one when absent. */
  store?: MemStore;
  /** Needed when no store is given. */
  clock?: Clock;
  /** Key prefix this client lives under (one per cluster). */
  namespace?: string;
  description?: string;
}

/** A `Kvdb` client on an in-process `MemStore`. Results are computed synchronously and returned as settled promises. */
export class MemKvdb extends TxnKvdb {
  readonly description: string;
  readonly store: MemStore;
  private readonly namespace: string;
  private readonly handles = new Set<LeaseHandle>();
  private readonly watches = new Set<Watch>();
  private closed = false;

  constructor(options: MemKvdbOptions) {
    super();
    if (options.store === undefined && options.clock === undefined) {
      throw new KvdbError('InvalidArgument', 'MemKvdb needs a store or a clock');
    }
    this.store = options.store ?? new MemStore({ clock: options.clock as Clock });
    this.namespace = options.namespace ?? '';
    validatePrefix(this.namespace);
    this.description =
      options.description ?? (this.namespace === '' ? 'mem://' : `mem:// (namespace ${this.namespace})`);
  }

  private run<T>(work: () => T): Promise<T> {
    return this.guarded(() => {
      if (this.closed) throw new KvdbError('Closed', 'the kvdb client is closed');
      return Promise.resolve(work());
    });
  }

  private strip(kv: KeyValue): KeyValue {
    return this.namespace === '' ? kv : { ...kv, key: kv.key.slice(this.namespace.length) };
  }

  private stripResult(result: TxnOpResult): TxnOpResult {
    if (result.type === 'get') return result.kv === undefined ? result : { type: 'get', kv: this.strip(result.kv) };
    if (result.prev === undefined) return result;
    return { ...result, prev: this.strip(result.prev) };
  }

  protected executeTxn(request: TxnRequest): Promise<TxnResult> {
    return this.run(() => {
      const full = (op: TxnOp): TxnOp => ({ ...op, key: this.namespace + op.key });
      this.store.opStats.txns += 1;
      const result = this.store.txn({
        compare: request.compare.map((compare) => ({ ...compare, key: this.namespace + compare.key })),
        success: request.success.map(full),
        failure: (request.failure ?? []).map(full),
      });
      return { ...result, results: result.results.map((opResult) => this.stripResult(opResult)) };
    });
  }

  protected executeRange(prefix: string, options: RangeOptions): Promise<RangeResult> {
    return this.run(() => {
      this.store.opStats.ranges += 1;
      if ((options.limit ?? 0) === 0 && options.keysOnly !== true) {
        const { revision, kvs } = this.store.wholeRange(this.namespace, prefix, (kv) => this.strip(kv));
        this.store.opStats.keysRead += kvs.length;
        return { revision, kvs, more: false };
      }
      const revision = this.store.currentRevision; // expires due leases first, as the range would
      const { kvs, more } = this.store.range(this.namespace + prefix, options);
      this.store.opStats.keysRead += kvs.length;
      return { revision, kvs: kvs.map((kv) => this.strip(kv)), more };
    });
  }

  /** Counted as the range etcd would serve: one request, returning the newest key (none when the prefix is empty). */
  protected executePrefixVersion(prefix: string): Promise<PrefixVersion> {
    return this.run(() => {
      this.store.opStats.ranges += 1;
      const answer = this.store.prefixVersion(this.namespace + prefix);
      this.store.opStats.keysRead += answer.count > 0 ? 1 : 0;
      return answer;
    });
  }

  protected executeGrantLease(ttlMs: number, options: GrantLeaseOptions): Promise<Lease> {
    return this.run(() => {
      const granted = this.store.grantLease(ttlMs);
      const handle: LeaseHandle = new LeaseHandle({
        id: granted.id,
        ttlMs: granted.ttlMs,
        clock: this.store.clock,
        autoKeepAlive: options.autoKeepAlive ?? true,
        backend: {
          keepAliveOnce: (leaseId) =>
            this.run(() => {
              this.store.opStats.keepAlives += 1;
              this.store.keepAlive(leaseId);
            }),
          revoke: (leaseId) =>
            this.run(() => {
              this.handles.delete(handle);
              this.store.revokeLease(leaseId);
            }),
        },
      });
      this.handles.add(handle);
      this.store.attachHandle(granted.id, handle);
      return handle;
    });
  }

  protected executeWatch(prefix: string, options: WatchOptions): Watch {
    if (this.closed) throw new KvdbError('Closed', 'the kvdb client is closed');
    const inner: Watch = this.store.watch(this.namespace, prefix, {
      ...options,
      onError: (error) => {
        this.watches.delete(inner);
        options.onError(error);
      },
    });
    this.watches.add(inner);
    return {
      get lastRevision() {
        return inner.lastRevision;
      },
      cancel: () => {
        this.watches.delete(inner);
        inner.cancel();
      },
    };
  }

  protected executeCompact(revision: number): Promise<void> {
    return this.run(() => this.store.compact(revision));
  }

  currentRevision(): Promise<number> {
    return this.run(() => this.store.currentRevision);
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    for (const handle of this.handles) handle.stop();
    this.handles.clear();
    for (const watch of this.watches) watch.cancel();
    this.watches.clear();
    return Promise.resolve();
  }
}
