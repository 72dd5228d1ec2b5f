import type { KeyValue, Kvdb, PrefixVersion, Watch, WatchBatch, WatchEvent } from '@pxsim/kvdb-client';
import type { Clock } from '@pxsim/runtime';

/** A read of the prefix as the core takes it: what a full range sent at `readStartMs` would have given. */
export interface ClusterRead {
  readStartMs: number;
  /** The mirror's revision: the last revision that changed the prefix (or a full read's header revision). */
  revision: number;
  /** In key order; the same array as the last read's while nothing under the prefix changed. */
  kvs: readonly KeyValue[];
}

export interface ClusterReaderOptions {
  kvdb: Kvdb;
  clock: Clock;
  prefix: string;
  /** False once the agent no longer runs: no read asked for meanwhile is sent, no watch is started. */
  running: () => boolean;
  onRead: (read: ClusterRead) => void;
  onReadFailed: (error: string) => void;
  log: (level: 'warn', message: string) => void;
}

/** One state of the mirror: its revision and its values in key order. */
interface Snapshot {
  revision: number;
  kvs: readonly KeyValue[];
}

/** A batch applied while a confirmation was in flight, with the mirror's size after it. */
interface AppliedBatch {
  revision: number;
  size: number;
  events: WatchEvent[];
}

/** The confirmation in flight: the mirror as it was sent, and the batches applied since. */
interface PendingConfirmation {
  sent: Snapshot;
  batches: AppliedBatch[];
}

function applyEvents(state: Map<string, KeyValue>, events: readonly WatchEvent[]): void {
  for (const event of events) {
    if (event.type === 'put') state.set(event.kv.key, event.kv);
    else state.delete(event.kv.key);
  }
}

/** Key order as `MemStore` and etcd give it (they agree on the ASCII names the cluster layout allows). */
function byKey(left: KeyValue, right: KeyValue): number {
  return left.key < right.key ? -1 : left.key > right.key ? 1 : 0;
}

/**
 * The agent's reads of `cluster/`, incremental: a mirror of the prefix (key → KeyValue), exact at `mirrorRevision`,
 * built by one full range and then kept by a watch from `mirrorRevision + 1` (each batch past `mirrorRevision` is
 * applied, older ones are ignored). Freshness comes only from reads, never from the watch: every read asked for sends
 * a confirmation (`Kvdb.prefixVersion`, one key), and the mirror is delivered with the confirmation's send time when
 * it proves the mirror's state at the serving revision is the store's (see `confirmed`); otherwise a full read rebuilds the mirror. At most one read is
 * in flight, and at most one more is asked for meanwhile.
 */
export class ClusterReader {
  private readonly options: ClusterReaderOptions;
  private mirror: Map<string, KeyValue> | undefined;
  private mirrorRevision = 0;
  /** The mirror's values in key order, as last delivered; undefined once a batch changed the mirror. */
  private mirrorKvs: readonly KeyValue[] | undefined;
  private rebuildNeeded = true;
  private watch: Watch | undefined;
  /** Tells a current watch's callbacks from those of a cancelled one. */
  private watchGeneration = 0;
  private watching = false;
  private inFlight = false;
  private pending: PendingConfirmation | undefined;
  private again = false;
  /** Reads sent, by kind; batches applied to the mirror. */
  readonly stats = { fullReads: 0, confirmations: 0, mismatches: 0, batchesApplied: 0, watchErrors: 0 };

  constructor(options: ClusterReaderOptions) {
    this.options = options;
  }

  /** Keeps the mirror by watch from now on: the watch starts after the next full read (at once if there was one). */
  startWatching(): void {
    this.watching = true;
    if (this.mirror !== undefined && !this.rebuildNeeded) this.startWatch();
  }

  stop(): void {
    this.watching = false;
    this.cancelWatch();
  }

  /** Reads the prefix: a confirmation of the mirror when there is one to confirm, else a full read. */
  request(): void {
    if (this.inFlight) {
      this.again = true;
      return;
    }
    this.inFlight = true;
    if (this.mirror === undefined || this.rebuildNeeded) this.fullRead();
    else this.confirm();
  }

  private fullRead(): void {
    const readStartMs = this.options.clock.nowMs();
    this.stats.fullReads += 1;
    this.options.kvdb.range(this.options.prefix).then(
      ({ revision, kvs }) => {
        this.inFlight = false;
        this.rebuild(revision, kvs);
        this.deliver(readStartMs);
      },
      (error: unknown) => this.failed(error),
    );
  }

  /**
   * The mirror becomes the full read's answer. Batches up to its revision are then ignored and later ones applied,
   * so a watch that has delivered nothing past it goes on; one that has (it ran ahead of this answer, or the store
   * went back: its data was lost) is replaced by a watch from the answer's revision + 1.
   */
  private rebuild(revision: number, kvs: KeyValue[]): void {
    const watchAhead = revision < this.mirrorRevision;
    this.mirror = new Map(kvs.map((kv) => [kv.key, kv]));
    this.mirrorKvs = kvs;
    this.mirrorRevision = revision;
    this.rebuildNeeded = false;
    if (watchAhead) this.cancelWatch();
    if (this.watching && this.watch === undefined && this.options.running()) this.startWatch();
  }

  private confirm(): void {
    const readStartMs = this.options.clock.nowMs();
    const pending: PendingConfirmation = {
      sent: { revision: this.mirrorRevision, kvs: this.sortedMirror() },
      batches: [],
    };
    this.pending = pending;
    this.stats.confirmations += 1;
    this.options.kvdb.prefixVersion(this.options.prefix).then(
      (version) => {
        this.pending = undefined;
        const confirmed = this.confirmed(version, pending);
        if (confirmed !== undefined) {
          this.inFlight = false;
          this.options.onRead({ readStartMs, revision: confirmed.revision, kvs: confirmed.kvs });
          this.afterRead();
          return;
        }
        // The watch is behind (or broken, or the store lost its data): read it all, still in flight. That read is
        // sent after every request made so far: it answers them too.
        this.stats.mismatches += 1;
        this.again = false;
        this.rebuildNeeded = true;
        this.fullRead();
      },
      (error: unknown) => {
        this.pending = undefined;
        this.failed(error);
      },
    );
  }

  /**
   * The mirror's state at the confirmation's serving revision, if the confirmation proves it equal to S, the prefix
   * in the store when the confirmation was served: exactly what a full range sent then would have answered.
   *
   * The candidate is the mirror after the last batch at or before the serving revision (as it was at sending if
   * none came since), exact at its revision M <= serving revision, since the watch delivers every revision's batch,
   * in order. If no key of S was written after M (`newestModRevision <= M`), each key of S existed at M with the same
   * value and metadata, so S ⊆ candidate; with as many keys (`count` = the candidate's size) no key of the candidate
   * was deleted since: S = candidate. (MemStore may report a deleted key's mod revision as the newest: that can only
   * fail this test, never pass it.) If the watch has not yet brought a batch at or before the serving revision, the
   * test fails: a full read follows.
   *
   * A store whose revision is below the mirror's at sending went back (it lost its data): never confirmed, so that
   * the full read that follows shows the core the lower revision.
   */
  private confirmed(version: PrefixVersion, pending: PendingConfirmation): Snapshot | undefined {
    const { sent, batches } = pending;
    if (version.revision < sent.revision) return undefined;
    let applied = 0;
    while (applied < batches.length && (batches[applied] as AppliedBatch).revision <= version.revision) applied++;
    const last = batches[applied - 1];
    const revision = last?.revision ?? sent.revision;
    const size = last?.size ?? sent.kvs.length;
    if (version.newestModRevision > revision || version.count !== size) return undefined;
    if (last === undefined) return sent;
    if (applied === batches.length && revision === this.mirrorRevision) return { revision, kvs: this.sortedMirror() };
    // Later batches have come since: the state at `revision` again, from the one at sending.
    const state = new Map(sent.kvs.map((kv) => [kv.key, kv]));
    for (const batch of batches.slice(0, applied)) applyEvents(state, batch.events);
    return { revision, kvs: [...state.values()].sort(byKey) };
  }

  private sortedMirror(): readonly KeyValue[] {
    this.mirrorKvs ??= [...(this.mirror as Map<string, KeyValue>).values()].sort(byKey);
    return this.mirrorKvs;
  }

  private deliver(readStartMs: number): void {
    this.options.onRead({ readStartMs, revision: this.mirrorRevision, kvs: this.sortedMirror() });
    this.afterRead();
  }

  private failed(error: unknown): void {
    this.inFlight = false;
    this.options.onReadFailed(error instanceof Error ? error.message : String(error));
    this.afterRead();
  }

  private afterRead(): void {
    if (this.again && this.options.running()) {
      this.again = false;
      this.request();
    }
  }

  private startWatch(): void {
    this.cancelWatch();
    const generation = this.watchGeneration;
    const { prefix } = this.options;
    this.watch = this.options.kvdb.watch(prefix, {
      fromRevision: this.mirrorRevision + 1,
      onBatch: (batch) => {
        if (generation === this.watchGeneration) this.apply(batch);
      },
      onError: (error) => {
        if (generation !== this.watchGeneration) return;
        // The next read (the next refresh at the latest) rebuilds the mirror and watches again from there.
        this.stats.watchErrors += 1;
        this.watch = undefined;
        this.rebuildNeeded = true;
        this.options.log('warn', `watch on ${prefix} ended (${error.message}); reading it whole and watching again`);
      },
    });
  }

  private cancelWatch(): void {
    this.watchGeneration += 1;
    this.watch?.cancel();
    this.watch = undefined;
  }

  /** Applies one revision's events to the mirror and reads (a change must reach the core promptly). */
  private apply(batch: WatchBatch): void {
    if (this.mirror === undefined || batch.revision <= this.mirrorRevision) return;
    applyEvents(this.mirror, batch.events);
    this.mirrorRevision = batch.revision;
    this.mirrorKvs = undefined;
    this.pending?.batches.push({ revision: batch.revision, size: this.mirror.size, events: batch.events });
    this.stats.batchesApplied += 1;
    if (this.options.running()) this.request();
  }
}
