import {
  MemoryBlockStore,
  StorageNode,
  storageTiming,
  type OpResult,
  type ReplicationMessage,
  type StorageInput,
  type StorageReady,
  type VolumeRecord,
} from '../src/index.js';

/** A client request without its time and ID (the world stamps them). */
type OpInput =
  Extract<StorageInput, { opId: number }> extends infer Op
    ? Op extends { opId: number }
      ? Omit<Op, 'atMs' | 'opId'>
      : never
    : never;

export type JournalEntry =
  | { kind: 'event'; atMs: number; node: string; volumeId: string; what: string }
  | { kind: 'answer'; atMs: number; node: string; opId: number; result: OpResult }
  | { kind: 'record'; atMs: number; node: string; record: VolumeRecord; revision: number };

/**
 * A test world for StorageNodes: a tiny kvdb of volume records with revisions (compare-and-set answered after
 * `kvdbDelayMs`, or refused while `kvdbDown`), a network with per-link delay and cuts, and virtual time. Everything is
 * deterministic: events at the same time run in the order they were scheduled.
 */
export class TestWorld {
  nowMs = 0;
  readonly nodes = new Map<string, StorageNode>();
  readonly stores = new Map<string, MemoryBlockStore>();
  readonly serving = new Map<string, boolean>();
  /** Cut links, `from>to`. */
  readonly cuts = new Set<string>();
  kvdbDown = false;
  /** Nodes cut off from the kvdb's watch: they do not see record changes (their CAS still goes through). */
  readonly blind = new Set<string>();
  linkDelayMs = 1;
  kvdbDelayMs = 1;
  /** Drops a message when this returns true (loss faults). */
  drop: (from: string, to: string, message: ReplicationMessage) => boolean = () => false;
  private revision = 1;
  readonly records = new Map<string, { record: VolumeRecord; revision: number }>();
  readonly replies = new Map<number, OpResult>();
  /** Every answer in the order it was given, with its time and node (for transcripts). */
  /** What happened, in order: nodes' events, answers to clients, records changed by a compare-and-set. */
  readonly journal: JournalEntry[] = [];
  readonly log: string[] = [];
  private queue: Array<{ atMs: number; order: number; run: () => void }> = [];
  private order = 0;
  private nextOpId = 1;
  private readonly ticks = new Map<string, number>();

  constructor(
    ids: readonly string[],
    readonly mode: 'safe' | 'reference' = 'safe',
  ) {
    for (const id of ids) {
      const store = new MemoryBlockStore();
      this.stores.set(id, store);
      this.nodes.set(id, new StorageNode({ nodeId: id, mode, timing: storageTiming('fast'), store }));
      this.serving.set(id, true);
    }
  }

  at(delayMs: number, run: () => void): void {
    this.queue.push({ atMs: this.nowMs + delayMs, order: this.order++, run });
  }

  /** Runs events until `ms` from now (bounded: at most 200,000 events). */
  run(ms: number): void {
    const until = this.nowMs + ms;
    for (let events = 0; events < 200_000; events++) {
      this.queue.sort((a, b) => a.atMs - b.atMs || a.order - b.order);
      const next = this.queue[0];
      if (next === undefined || next.atMs > until) break;
      this.queue.shift();
      this.nowMs = next.atMs;
      next.run();
    }
    this.nowMs = until;
  }

  input(id: string, input: StorageInput): void {
    const node = this.nodes.get(id);
    if (node === undefined) return;
    this.perform(id, node.step(input));
  }

  private perform(id: string, ready: StorageReady): void {
    for (const { to, message } of ready.messages ?? []) this.deliver(id, to, message);
    for (const cas of ready.cas ?? []) this.cas(id, cas);
    for (const event of ready.events ?? []) {
      this.log.push(`${event.atMs} ${id} ${event.what}`);
      this.journal.push({ kind: 'event', atMs: event.atMs, node: id, volumeId: event.volumeId, what: event.what });
    }
    for (const { opId, result } of ready.replies ?? []) {
      this.replies.set(opId, result);
      this.journal.push({ kind: 'answer', atMs: this.nowMs, node: id, opId, result });
    }
    if (ready.tickAtMs !== undefined && this.ticks.get(id) !== ready.tickAtMs) {
      this.ticks.set(id, ready.tickAtMs);
      const atMs = ready.tickAtMs;
      this.at(Math.max(atMs - this.nowMs, 0), () => {
        if (this.ticks.get(id) === atMs) this.ticks.delete(id);
        this.input(id, { type: 'tick', atMs: this.nowMs });
      });
    }
  }

  private deliver(from: string, to: string, message: ReplicationMessage): void {
    if (this.cuts.has(`${from}>${to}`) || this.drop(from, to, message)) return;
    this.at(this.linkDelayMs, () => {
      if (!this.cuts.has(`${from}>${to}`)) this.input(to, { type: 'message', atMs: this.nowMs, from, message });
    });
  }

  private cas(
    id: string,
    cas: { casId: number; volumeId: string; expectedRevision: number; record: VolumeRecord },
  ): void {
    const node = this.nodes.get(id); // a restarted node must not get its predecessor's answers
    this.at(this.kvdbDelayMs, () => {
      const current = this.records.get(cas.volumeId);
      const ok = !this.kvdbDown && current !== undefined && current.revision === cas.expectedRevision;
      let revision: number | undefined;
      if (ok) {
        revision = ++this.revision;
        this.records.set(cas.volumeId, { record: cas.record, revision });
        this.journal.push({ kind: 'record', atMs: this.nowMs, node: id, record: cas.record, revision });
      }
      this.at(this.kvdbDelayMs, () => {
        if (this.nodes.get(id) === node)
          this.input(id, {
            type: 'casResult',
            atMs: this.nowMs,
            casId: cas.casId,
            ok,
            ...(revision === undefined ? {} : { revision }),
          });
        if (ok) this.publish();
      });
    });
  }

  /**
   * A crash and restart of `id`'s agent: a new StorageNode on the same store (the disk survives), not serving until
   * the next quorum view; its timers and in-flight compare-and-sets are forgotten.
   */
  restart(id: string): void {
    const store = this.stores.get(id);
    if (store === undefined) throw new Error(`no node ${id}`);
    this.nodes.set(id, new StorageNode({ nodeId: id, mode: this.mode, timing: storageTiming('fast'), store }));
    this.ticks.delete(id);
    if (!this.blind.has(id)) this.input(id, { type: 'records', atMs: this.nowMs, records: [...this.records.values()] });
  }

  /** Every node reads the records (as a kvdb watch would deliver them). */
  publish(): void {
    const records = [...this.records.values()];
    for (const id of this.nodes.keys())
      if (!this.blind.has(id)) this.input(id, { type: 'records', atMs: this.nowMs, records });
  }

  create(record: Omit<VolumeRecord, 'attachEpoch' | 'createdAtMs' | 'labels' | 'currentSet'>): void {
    this.records.set(record.id, {
      record: { ...record, currentSet: [...record.createSet], attachEpoch: 0, createdAtMs: 0, labels: {} },
      revision: ++this.revision,
    });
    this.publish();
  }

  /** Every node's quorum view: serving as set, every serving node online. */
  quorum(): void {
    const online = new Set([...this.serving].filter(([, serving]) => serving).map(([id]) => id));
    for (const id of this.nodes.keys())
      this.input(id, {
        type: 'serving',
        atMs: this.nowMs,
        serving: this.serving.get(id) === true,
        onlineNodes: online,
        inactiveDomainNodes: new Set(),
      });
  }

  /** `id`'s quorum view: it serves, and these nodes are online. */
  sees(id: string, online: readonly string[]): void {
    this.input(id, {
      type: 'serving',
      atMs: this.nowMs,
      serving: true,
      onlineNodes: new Set(online),
      inactiveDomainNodes: new Set(),
    });
  }

  partition(a: readonly string[], b: readonly string[]): void {
    for (const x of a) for (const y of b) this.cuts.add(`${x}>${y}`).add(`${y}>${x}`);
  }

  heal(): void {
    this.cuts.clear();
  }

  op(id: string, input: OpInput): number {
    const opId = this.nextOpId++;
    this.input(id, { ...input, atMs: this.nowMs, opId });
    return opId;
  }

  write(id: string, volume: string, block: number, text: string): number {
    return this.op(id, { type: 'write', volume, block, payload: new TextEncoder().encode(text) });
  }

  read(id: string, volume: string, block: number): number {
    return this.op(id, { type: 'read', volume, block });
  }

  attach(id: string, volume: string): number {
    return this.op(id, { type: 'attach', volume });
  }

  /** An answer as text: `ok`, `ok <value>` for a read, `failed CODE`, `unknown CODE`, or `pending`. */
  answer(opId: number): string {
    const result = this.replies.get(opId);
    if (result === undefined) return 'pending';
    if (!result.ok) return `${result.outcome} ${result.code}`;
    return result.payload === undefined ? 'ok' : `ok ${new TextDecoder().decode(result.payload)}`;
  }

  /** A node's stored value of a block. */
  stored(id: string, volumeId: string, block: number): string {
    const stored = this.stores.get(id)?.get(volumeId, block);
    return stored === undefined ? '' : new TextDecoder().decode(stored.payload);
  }
}
