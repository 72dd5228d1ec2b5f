import { derivedRandom } from '@pxsim/runtime';
import type { MembershipConfig } from './config.js';
import { TimeHeap } from './heap.js';
import { decode, encode, type MembershipMessage } from './messages.js';
import { MembershipNode, type MembershipEvent, type Output } from './node.js';

/** One membership event as an observer saw it, in the order the network produced them. */
export interface TraceEntry extends MembershipEvent {
  observer: string;
}

export interface VirtualNetOptions {
  seed: number;
  names: readonly string[];
  config: MembershipConfig;
  /** One-way latency, uniform in [minMs, maxMs] per message (default 0–500 ms: the metro bound). */
  latency?: { minMs: number; maxMs: number };
  /** Probability that a message is lost (default 0). */
  lossRate?: number;
  /** 'converged': every node starts knowing every other alive; otherwise each node joins through `seeds`. */
  start?: 'converged' | { seeds: readonly string[]; spreadMs: number };
  /** Builds each node (a subclass, in tests); default `new MembershipNode`. */
  makeNode?: (name: string, config: MembershipConfig, random: () => number) => MembershipNode;
  /** Encode every message to count its bytes (default false: counting messages only). */
  measureBytes?: boolean;
  /** Carry every message as bytes: encode it, decode it (frames above udpBufferSize are rejected), deliver that. */
  viaWire?: boolean;
  /** Keep the trace of events (default true). */
  trace?: boolean;
}

type Entry =
  | { atMs: number; kind: 'deliver'; from: string; to: string; message: MembershipMessage }
  | { atMs: number; kind: 'tick'; to: string }
  | { atMs: number; kind: 'start'; to: string };

/**
 * A deterministic network in virtual time for N membership nodes: a priority queue of deliveries and timer ticks,
 * seeded latency and loss, partitions, severed links and crashes. The same seed gives the same run: every random
 * draw comes from `derivedRandom(seed, …)` and ties in time are broken by insertion order.
 */
export class VirtualNet {
  nowMs = 0;
  readonly trace: TraceEntry[] = [];
  /** Messages and encoded bytes sent so far, per node and in all. */
  readonly sent = { messages: 0, bytes: 0 };
  readonly sentBy = new Map<string, number>();
  private readonly nodes = new Map<string, MembershipNode>();
  private readonly queue = new TimeHeap<Entry>();
  private readonly scheduledTick = new Map<string, number>();
  private readonly crashed = new Set<string>();
  private readonly started = new Set<string>();
  private readonly severed = new Set<string>();
  private group = new Map<string, number>();
  private readonly random: () => number;
  private readonly latency: { minMs: number; maxMs: number };
  private readonly lossRate: number;
  private readonly keepTrace: boolean;
  private readonly listeners: ((entry: TraceEntry) => void)[] = [];
  private readonly startAs: VirtualNetOptions['start'];

  constructor(private readonly options: VirtualNetOptions) {
    this.random = derivedRandom(options.seed, 'net');
    this.latency = options.latency ?? { minMs: 0, maxMs: 500 };
    this.lossRate = options.lossRate ?? 0;
    this.keepTrace = options.trace ?? true;
    this.startAs = options.start ?? 'converged';
    const make = options.makeNode ?? ((name, config, random) => new MembershipNode({ name, config, random }));
    for (const name of options.names) {
      this.nodes.set(name, make(name, options.config, derivedRandom(options.seed, `node:${name}`)));
      this.sentBy.set(name, 0);
      // Seeds start first; the others within `spreadMs` (a join whose push/pull finds no seed is not retried).
      const startAs = this.startAs;
      const startAt =
        startAs === 'converged' || startAs.seeds.includes(name) ? 0 : 1 + Math.floor(this.random() * startAs.spreadMs);
      this.queue.push({ atMs: startAt, kind: 'start', to: name });
    }
  }

  node(name: string): MembershipNode {
    const node = this.nodes.get(name);
    if (node === undefined) throw new Error(`no node ${name}`);
    return node;
  }

  get names(): string[] {
    return [...this.nodes.keys()];
  }

  isCrashed(name: string): boolean {
    return this.crashed.has(name);
  }

  /** Calls `listener` for every membership event from now on. */
  onEvent(listener: (entry: TraceEntry) => void): void {
    this.listeners.push(listener);
  }

  /** The node stops: it receives nothing and its timers no longer run. */
  crash(name: string): void {
    this.crashed.add(name);
  }

  /** Nodes in different groups cannot reach each other; nodes in no group reach everyone. Replaces any partition. */
  partition(groups: readonly (readonly string[])[]): void {
    this.group = new Map(groups.flatMap((members, index) => members.map((name) => [name, index] as [string, number])));
  }

  heal(): void {
    this.group = new Map();
  }

  /** Cut (or, with `cut` false, restore) the link between two nodes, both ways. */
  sever(a: string, b: string, cut = true): void {
    for (const key of [`${a}\u0000${b}`, `${b}\u0000${a}`]) {
      if (cut) this.severed.add(key);
      else this.severed.delete(key);
    }
  }

  canReach(from: string, to: string): boolean {
    const fromGroup = this.group.get(from);
    const toGroup = this.group.get(to);
    if (fromGroup !== undefined && toGroup !== undefined && fromGroup !== toGroup) return false;
    return !this.severed.has(`${from}\u0000${to}`);
  }

  /** Runs every delivery and tick up to and including `untilMs`. */
  runUntil(untilMs: number): void {
    for (let entry = this.queue.peek(); entry !== undefined && entry.atMs <= untilMs; entry = this.queue.peek()) {
      this.queue.pop();
      this.nowMs = entry.atMs;
      this.step(entry);
    }
    this.nowMs = Math.max(this.nowMs, untilMs);
  }

  runFor(durationMs: number): void {
    this.runUntil(this.nowMs + durationMs);
  }

  /** Runs until `done()` holds (checked every `stepMs`) or `limitMs` has passed; true when it held. */
  runUntilTrue(done: () => boolean, limitMs: number, stepMs = 1000): boolean {
    const end = this.nowMs + limitMs;
    while (this.nowMs < end) {
      if (done()) return true;
      this.runUntil(Math.min(end, this.nowMs + stepMs));
    }
    return done();
  }

  private step(entry: Entry): void {
    const name = entry.to;
    if (this.crashed.has(name)) return;
    if (entry.kind !== 'start' && !this.started.has(name)) return;
    const node = this.node(name);
    if (entry.kind === 'tick') {
      if (this.scheduledTick.get(name) !== entry.atMs) return;
      this.scheduledTick.delete(name);
      this.apply(name, node.tick(entry.atMs));
    } else if (entry.kind === 'deliver') this.apply(name, node.receive(entry.atMs, entry.from, entry.message));
    else {
      this.started.add(name);
      const startAs = this.startAs;
      if (startAs === 'converged') this.apply(name, node.start(entry.atMs, [], this.options.names));
      else this.apply(name, node.start(entry.atMs, startAs?.seeds ?? []));
    }
  }

  private apply(name: string, output: Output): void {
    for (const event of output.events) {
      const entry: TraceEntry = { observer: name, ...event };
      if (this.keepTrace) this.trace.push(entry);
      for (const listener of this.listeners) listener(entry);
    }
    for (const send of output.sends) this.carry(name, send.to, send.message);
    const deadline = output.nextDeadlineMs;
    const scheduled = this.scheduledTick.get(name);
    if (Number.isFinite(deadline) && (scheduled === undefined || deadline < scheduled)) {
      this.scheduledTick.set(name, deadline);
      this.queue.push({ atMs: deadline, kind: 'tick', to: name });
    }
  }

  private carry(from: string, to: string, message: MembershipMessage): void {
    this.sent.messages++;
    this.sentBy.set(from, (this.sentBy.get(from) ?? 0) + 1);
    let carried = message;
    if (this.options.measureBytes === true || this.options.viaWire === true) {
      const bytes = encode(message);
      this.sent.bytes += bytes.length;
      if (this.options.viaWire === true) carried = decode(bytes, this.options.config.udpBufferSize);
    }
    if (!this.nodes.has(to) || !this.canReach(from, to)) return;
    if (this.lossRate > 0 && this.random() < this.lossRate) return;
    const { minMs, maxMs } = this.latency;
    const delay = minMs + Math.floor(this.random() * (maxMs - minMs + 1));
    this.queue.push({ atMs: this.nowMs + delay, kind: 'deliver', from, to, message: carried });
  }
}
