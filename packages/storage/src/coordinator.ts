import type { BlockStore, BlockVersion, OpResult, ReplicationMessage, VolumeRecord } from './types.js';
import { compareVersions } from './types.js';
import type { StorageTiming } from './timing.js';

/** Client operations a coordinator holds at once per volume (more are refused: `BUSY`). */
export const PENDING_OPS_MAX = 1024;
/** Blocks a resync or open round rewrites at once (the rest wait for these to be acknowledged). */
export const REWRITES_IN_FLIGHT_MAX = 8;

/** What a coordinator asks of its node: send, compare-and-set the record, answer a client, report. */
export interface CoordinatorHost {
  nodeId: string;
  /** Safe mode: the attach epoch fences (a newer attach displaces this coordinator). Reference: quorum alone. */
  epochFencing: boolean;
  store: BlockStore;
  timing: StorageTiming;
  send(to: string, message: ReplicationMessage): void;
  /** Asks for a compare-and-set of the volume's record; `done` gets the outcome. */
  cas(record: VolumeRecord, expectedRevision: number, done: (ok: boolean, revision: number | undefined) => void): void;
  reply(opId: number, result: OpResult): void;
  event(what: string): void;
  online(nodeId: string): boolean;
}

/** One message waiting for acknowledgements. */
interface Pending {
  seq: number;
  kind: 'write' | 'check' | 'digest';
  /** The client operation it answers (writes and reads), if any. */
  opId?: number;
  block?: number;
  payload?: Uint8Array;
  /** Current-set (and joining) replicas that have not acknowledged: the operation completes when this is empty. */
  waiting: Set<string>;
  /** Replicas being resynced that also get it (not awaited). */
  extra: Set<string>;
  sentAtMs: number;
  lastSentMs: number;
  message: ReplicationMessage;
  /** Acknowledged by the whole current set (client answered); kept until resyncing replicas acknowledged too. */
  done: boolean;
}

type Phase = 'attaching' | 'opening' | 'open' | 'gone';

/**
 * A volume's coordinator on the node it is attached on: orders writes, waits for every current-set replica, removes
 * a silent replica by compare-and-set, reconciles the replicas when it opens, resyncs returning ones, and gives up
 * (every pending operation's outcome `unknown`) when another coordinator displaces it.
 */
export class Coordinator {
  phase: Phase = 'attaching';
  private seq = 0;
  private readonly pending = new Map<number, Pending>();
  /** block → the last committed version and payload (what reads return). */
  private readonly committed = new Map<number, { version: BlockVersion; payload: Uint8Array }>();
  /** Replicas whose digest has arrived during the open round or a resync: block → version. */
  private readonly digests = new Map<string, Map<number, BlockVersion>>();
  /** Blocks still to rewrite, per replica being reconciled (open round) or resynced. */
  private readonly toRewrite = new Map<string, number[]>();
  /** Replicas being resynced (create-set members outside the current set). */
  readonly resyncing = new Set<string>();
  /**
   * Resynced replicas whose return to the current set was asked of the kvdb and may have happened: every write waits
   * for them, as for the current set, until the record says whether they are in it. Acknowledging a write without
   * one of them would leave a current-set replica without an acknowledged write (a coordinator opened there later
   * would serve the older block).
   */
  readonly joining = new Set<string>();
  private casInFlight = false;
  readonly io = { reads: 0, writes: 0, bytesRead: 0, bytesWritten: 0 };
  /** Attach requests that came while this coordinator was attaching or opening: answered with it. */
  private readonly attachWaiters: number[] = [];

  constructor(
    private readonly host: CoordinatorHost,
    public record: VolumeRecord,
    public revision: number,
    readonly epoch: number,
    private readonly attachOpId: number | undefined,
  ) {}

  get volumeId(): string {
    return this.record.id;
  }

  get inProgress(): number {
    return [...this.pending.values()].filter((pending) => pending.opId !== undefined).length;
  }

  /** The attach CAS succeeded: open round (digests from every other current-set replica, then rewrites). */
  open(nowMs: number, record: VolumeRecord, revision: number): void {
    this.record = record;
    this.revision = revision;
    this.phase = 'opening';
    // This node's own replica refuses older coordinators from now on, as the others will once they hear this epoch.
    this.host.store.setEpochSeen(this.volumeId, this.epoch);
    for (const [block, version] of this.host.store.digest(this.volumeId)) {
      const stored = this.host.store.get(this.volumeId, block);
      if (stored !== undefined) this.committed.set(block, { version, payload: stored.payload });
    }
    const others = this.others();
    if (others.length === 0) return this.opened();
    this.dispatch(nowMs, 'digest', new Set(others), new Set(), { type: 'digestRequest' });
  }

  /** Current-set replicas other than this node. */
  private others(): string[] {
    return this.record.currentSet.filter((id) => id !== this.host.nodeId);
  }

  private opened(): void {
    this.phase = 'open';
    this.host.event(`coordinator open at epoch ${this.epoch}`);
    for (const opId of this.attachRequests()) this.host.reply(opId, { ok: true });
  }

  /** Another attach request while attaching or opening (bounded by the node's request bound). */
  joinAttach(opId: number): void {
    this.attachWaiters.push(opId);
  }

  private attachRequests(): number[] {
    const requests = this.attachOpId === undefined ? [] : [this.attachOpId];
    return [...requests, ...this.attachWaiters.splice(0)];
  }

  /** Sends a new message (fresh seq) to `waiting` ∪ `extra` and tracks it. */
  private dispatch(
    nowMs: number,
    kind: Pending['kind'],
    waiting: Set<string>,
    extra: Set<string>,
    body:
      | { type: 'digestRequest' }
      | { type: 'check'; block: number; opId: number }
      | { type: 'write'; block: number; payload: Uint8Array; opId?: number },
  ): Pending {
    const seq = ++this.seq;
    const base = { volumeId: this.volumeId, epoch: this.epoch, seq };
    const message: ReplicationMessage =
      body.type === 'write'
        ? { type: 'write', ...base, block: body.block, payload: body.payload }
        : { type: body.type, ...base };
    const pending: Pending = {
      seq,
      kind,
      waiting,
      extra,
      sentAtMs: nowMs,
      lastSentMs: nowMs,
      message,
      done: false,
      ...(body.type === 'write' ? { block: body.block, payload: body.payload } : {}),
      ...(body.type === 'check' ? { block: body.block } : {}),
      ...(body.type !== 'digestRequest' && body.opId !== undefined ? { opId: body.opId } : {}),
    };
    this.pending.set(seq, pending);
    for (const to of [...waiting, ...extra]) this.host.send(to, message);
    return pending;
  }

  /** A client write: applied here, sent to the current set (and resyncing replicas), acknowledged when all have. */
  write(nowMs: number, opId: number, block: number, payload: Uint8Array): void {
    this.io.writes += 1;
    this.io.bytesWritten += payload.length;
    this.writeBlock(nowMs, block, payload, opId);
  }

  private writeBlock(nowMs: number, block: number, payload: Uint8Array, opId?: number): void {
    const seq = this.seq + 1;
    this.host.store.put(this.volumeId, block, { epoch: this.epoch, seq }, payload);
    const waiting = new Set([...this.others(), ...this.joining]);
    const extra = new Set([...this.resyncing].filter((id) => !this.joining.has(id)));
    const pending = this.dispatch(nowMs, 'write', waiting, extra, {
      type: 'write',
      block,
      payload,
      ...(opId === undefined ? {} : { opId }),
    });
    this.maybeComplete(pending);
  }

  /**
   * A client read: the committed value, once every other current-set replica confirmed this epoch (safe mode; in
   * reference mode at once, from the local copy).
   */
  read(nowMs: number, opId: number, block: number): void {
    this.io.reads += 1;
    // Reference mode reads the local copy, as Portworx does: nothing but quorum says this coordinator is still it.
    const confirm = this.host.epochFencing ? new Set(this.others()) : new Set<string>();
    const pending = this.dispatch(nowMs, 'check', confirm, new Set(), { type: 'check', block, opId });
    this.maybeComplete(pending);
  }

  /** The value a read returns now. */
  committedValue(block: number): { version: BlockVersion; payload: Uint8Array } | undefined {
    return this.committed.get(block);
  }

  pendingCount(): number {
    return this.pending.size;
  }

  /** Once the whole current set acknowledged: commit and answer; forgotten once resyncing replicas have it too. */
  private maybeComplete(pending: Pending): void {
    if (pending.waiting.size > 0 || this.phase === 'gone') return;
    if (!pending.done) {
      pending.done = true;
      this.complete(pending);
    }
    if (pending.extra.size === 0) this.pending.delete(pending.seq);
    this.afterProgress();
  }

  private complete(pending: Pending): void {
    if (pending.kind === 'write' && pending.block !== undefined && pending.payload !== undefined) {
      const version = { epoch: this.epoch, seq: pending.seq };
      const before = this.committed.get(pending.block);
      if (before === undefined || compareVersions(before.version, version) < 0)
        this.committed.set(pending.block, { version, payload: pending.payload });
      if (pending.opId !== undefined) this.host.reply(pending.opId, { ok: true, version });
    } else if (pending.kind === 'check' && pending.opId !== undefined && pending.block !== undefined) {
      const value = this.committed.get(pending.block);
      this.io.bytesRead += value?.payload.length ?? 0;
      this.host.reply(pending.opId, {
        ok: true,
        payload: value?.payload ?? new Uint8Array(0),
        ...(value === undefined ? {} : { version: value.version }),
      });
    }
  }

  /** An answer from a replica to one of this coordinator's messages. */
  answer(nowMs: number, from: string, message: ReplicationMessage): void {
    if (message.epoch !== this.epoch || this.phase === 'gone') return;
    if (message.type === 'nack') {
      if (message.reason === 'stale epoch') this.displace(`replica ${from} has seen epoch ${message.epochSeen}`);
      return; // 'not serving', 'unknown volume': as silence; the timeout decides
    }
    const pending = this.pending.get(message.seq);
    if (pending === undefined) return;
    if (message.type === 'digest') {
      const digest = this.digests.get(from) ?? new Map<number, BlockVersion>();
      for (const [block, version] of message.blocks) digest.set(block, version);
      this.digests.set(from, digest);
      if (!message.last) return;
    } else if (message.type !== 'ack') return;
    const wasWaiting = pending.waiting.delete(from);
    const wasExtra = pending.extra.delete(from);
    if (!wasWaiting && !wasExtra) return; // a duplicate answer
    if (pending.waiting.size === 0) this.maybeComplete(pending);
    else this.afterProgress();
  }

  /** Progress was made: finish the open round or a resync when their work is done. */
  private afterProgress(): void {
    if (this.phase === 'opening') this.advanceOpening();
    for (const replica of this.resyncing) this.advanceResync(replica);
  }

  private outstandingDigest(): boolean {
    return [...this.pending.values()].some((pending) => pending.kind === 'digest');
  }

  /** The open round: once every digest is in, rewrite each differing block; open when all are acknowledged. */
  private advanceOpening(): void {
    if (this.outstandingDigest()) return;
    if (!this.toRewrite.has(this.host.nodeId)) {
      const blocks = new Set<number>();
      for (const digest of this.digests.values()) for (const block of this.differing(digest)) blocks.add(block);
      this.toRewrite.set(
        this.host.nodeId,
        [...blocks].sort((a, b) => a - b),
      );
    }
    if (this.rewriteSome(this.host.nodeId)) return;
    if (![...this.pending.values()].some((pending) => pending.kind === 'write')) {
      this.digests.clear();
      this.toRewrite.clear();
      this.opened();
    }
  }

  /** Blocks whose version at a replica differs from the committed one here. */
  private differing(digest: ReadonlyMap<number, BlockVersion>): number[] {
    const blocks: number[] = [];
    for (const [block, version] of digest) {
      const here = this.committed.get(block);
      if (here === undefined || compareVersions(here.version, version) !== 0) blocks.push(block);
    }
    for (const block of this.committed.keys()) if (!digest.has(block)) blocks.push(block);
    return blocks;
  }

  /** Starts rewrites from `key`'s list while fewer than the bound are in flight; true if some remain. */
  private rewriteSome(key: string): boolean {
    const list = this.toRewrite.get(key) ?? [];
    const inFlight = [...this.pending.values()].filter(
      (pending) => pending.kind === 'write' && pending.opId === undefined,
    ).length;
    for (let started = inFlight; started < REWRITES_IN_FLIGHT_MAX && list.length > 0; started++) {
      const block = list.shift();
      if (block === undefined) break;
      // The committed copy wins, with a fresh version of this epoch (an empty payload: never written).
      this.writeBlock(this.nowMs, block, this.committed.get(block)?.payload ?? new Uint8Array(0));
    }
    return list.length > 0 || inFlight > 0;
  }

  /** The time of the input being handled (set by `tick` and the host before each call that may send). */
  nowMs = 0;

  // ---- resync ------------------------------------------------------------------------------------------------

  /** Starts resyncing create-set replicas missing from the current set that are online (once open). */
  startResyncs(nowMs: number): void {
    if (this.phase !== 'open') return;
    for (const id of this.record.createSet) {
      if (this.record.currentSet.includes(id) || this.resyncing.has(id) || !this.host.online(id)) continue;
      this.resyncing.add(id);
      this.digests.delete(id);
      this.toRewrite.delete(id);
      this.host.event(`resync of ${id} started`);
      this.dispatch(nowMs, 'digest', new Set(), new Set([id]), { type: 'digestRequest' }).waiting.add(id);
    }
  }

  private advanceResync(replica: string): void {
    const digest = this.digests.get(replica);
    if (digest === undefined || this.casInFlight) return;
    if (!this.toRewrite.has(replica)) this.toRewrite.set(replica, this.differing(digest));
    if (this.rewriteSome(replica)) return;
    const unacked = [...this.pending.values()].some(
      (pending) => pending.extra.has(replica) || pending.waiting.has(replica),
    );
    if (unacked) return;
    // Caught up: added back to the current set by compare-and-set. From now on writes wait for it (it is joining)
    // until the record tells whether the compare-and-set took effect (a failed one may have: a kvdb timeout).
    this.joining.add(replica);
    const record = { ...this.record, currentSet: [...this.record.currentSet, replica] };
    this.casRecord(record, () => undefined);
  }

  /**
   * The record is known as of its revision (no compare-and-set of this coordinator in flight): each joining replica
   * is either in the current set (resync done) or not (writes stop waiting for it; its resync goes on).
   */
  private settleJoining(): void {
    for (const replica of [...this.joining]) {
      this.joining.delete(replica);
      if (this.record.currentSet.includes(replica)) {
        this.resyncing.delete(replica);
        this.digests.delete(replica);
        this.toRewrite.delete(replica);
        this.host.event(`resync of ${replica} done: back in the current set`);
        continue;
      }
      for (const pending of [...this.pending.values()]) {
        if (!pending.waiting.delete(replica)) continue;
        if (this.resyncing.has(replica)) pending.extra.add(replica);
        this.maybeComplete(pending);
      }
    }
  }

  // ---- failures ------------------------------------------------------------------------------------------------

  /** Retransmits what is unanswered, removes replicas silent past the timeout. */
  tick(nowMs: number): void {
    this.nowMs = nowMs;
    if (this.phase === 'gone') return;
    for (const pending of this.pending.values()) {
      if (nowMs - pending.lastSentMs < this.host.timing.retransmitMs) continue;
      pending.lastSentMs = nowMs;
      for (const to of [...pending.waiting, ...pending.extra]) this.host.send(to, pending.message);
    }
    for (const replica of this.silentReplicas(nowMs)) {
      // A joining replica may be in the current set: removed by compare-and-set like any current-set replica.
      if (this.joining.has(replica) || this.record.currentSet.includes(replica)) this.remove(replica);
      else if (this.resyncing.has(replica)) this.abortResync(replica);
    }
    this.startResyncs(nowMs);
  }

  /** Replicas that have left a message unanswered for the replica timeout. */
  private silentReplicas(nowMs: number): Set<string> {
    const silent = new Set<string>();
    for (const pending of this.pending.values()) {
      if (nowMs - pending.sentAtMs < this.host.timing.replicaTimeoutMs) continue;
      for (const replica of [...pending.waiting, ...pending.extra]) silent.add(replica);
    }
    return silent;
  }

  private abortResync(replica: string): void {
    this.resyncing.delete(replica);
    this.digests.delete(replica);
    this.toRewrite.delete(replica);
    for (const pending of [...this.pending.values()]) {
      pending.extra.delete(replica);
      if (pending.kind === 'digest' && pending.waiting.delete(replica) && pending.waiting.size === 0)
        this.pending.delete(pending.seq);
      else if (pending.done && pending.extra.size === 0) this.pending.delete(pending.seq);
    }
    this.host.event(`resync of ${replica} stopped: it went silent`);
  }

  /** Removes a silent replica from the current set (compare-and-set); until that succeeds, its writes wait. */
  private remove(replica: string): void {
    if (this.casInFlight) return;
    const record = { ...this.record, currentSet: this.record.currentSet.filter((id) => id !== replica) };
    this.casRecord(record, () => {
      this.host.event(
        `replica ${replica} removed from the current set (silent ${this.host.timing.replicaTimeoutMs} ms)`,
      );
      if (this.resyncing.has(replica)) this.abortResync(replica);
      for (const pending of [...this.pending.values()]) {
        pending.extra.delete(replica);
        if (pending.waiting.delete(replica)) this.maybeComplete(pending);
      }
      this.afterProgress();
    });
  }

  private casRecord(record: VolumeRecord, onSuccess: () => void): void {
    this.casInFlight = true;
    this.host.cas(record, this.revision, (ok, revision) => {
      this.casInFlight = false;
      if (this.phase === 'gone') return;
      if (!ok || revision === undefined) return; // retried at a later tick with the record as then known
      this.record = record;
      this.revision = revision;
      this.settleJoining();
      onSuccess();
    });
  }

  /** The kvdb's record changed: displaced if another attach happened, detached if it says so. */
  recordChanged(record: VolumeRecord, revision: number): void {
    if (revision <= this.revision) return;
    if (record.attachedOn !== this.host.nodeId || record.attachEpoch !== this.epoch) {
      // Reference mode: nothing but quorum fences a coordinator; it goes on as if the record were still its own.
      if (!this.host.epochFencing) return;
      this.displace(`the volume is now attached on ${record.attachedOn ?? 'no node'} at epoch ${record.attachEpoch}`);
      return;
    }
    this.record = record;
    this.revision = revision;
    if (!this.casInFlight) this.settleJoining();
  }

  /** Gives up: every pending write's outcome is unknown, every pending read fails. */
  displace(reason: string): void {
    if (this.phase === 'gone') return;
    const wasOpening = this.phase !== 'open';
    this.phase = 'gone';
    this.host.event(`coordinator at epoch ${this.epoch} gone: ${reason}`);
    for (const pending of this.pending.values()) {
      if (pending.opId === undefined) continue;
      this.host.reply(
        pending.opId,
        pending.kind === 'write'
          ? { ok: false, outcome: 'unknown', code: 'DISPLACED', reason }
          : { ok: false, outcome: 'failed', code: 'DISPLACED', reason },
      );
    }
    this.pending.clear();
    if (wasOpening)
      for (const opId of this.attachRequests())
        this.host.reply(opId, { ok: false, outcome: 'failed', code: 'DISPLACED', reason });
  }

  /** The earliest time a timer of this coordinator is due. */
  nextDueMs(): number | undefined {
    let due: number | undefined;
    const at = (ms: number): void => {
      due = due === undefined ? ms : Math.min(due, ms);
    };
    const { retransmitMs, replicaTimeoutMs } = this.host.timing;
    for (const pending of this.pending.values()) {
      at(pending.lastSentMs + retransmitMs);
      // Past its timeout, a silent replica's removal is retried at the retransmit pace (a CAS may be in flight).
      const timeoutMs = pending.sentAtMs + replicaTimeoutMs;
      at(timeoutMs > this.nowMs ? timeoutMs : this.nowMs + retransmitMs);
    }
    // A create-set replica online but outside the current set and not being resynced: try again (a resync stopped).
    const waiting = this.record.createSet.some(
      (id) => !this.record.currentSet.includes(id) && !this.resyncing.has(id) && this.host.online(id),
    );
    if (this.phase === 'open' && waiting) at(this.nowMs + retransmitMs);
    return due;
  }
}
