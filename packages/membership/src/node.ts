import { Awareness } from './awareness.js';
import { pushPullScaleMs, retransmitLimit, suspicionTimeoutMs, type MembershipConfig } from './config.js';
import { TimeHeap } from './heap.js';
import {
  COMPOUND_OVERHEAD_BYTES,
  encodedSize,
  type AliveMessage,
  type BroadcastMessage,
  type DeadMessage,
  type MemberStatus,
  type MembershipMessage,
  type PacketMessage,
  type PushPullMessage,
  type PushState,
  type SuspectMessage,
} from './messages.js';
import { TransmitLimitedQueue } from './queue.js';
import { Suspicion } from './suspicion.js';

/** What a node knows of one member (state.go nodeState). */
export interface Member {
  readonly name: string;
  readonly incarnation: number;
  readonly status: MemberStatus;
  readonly stateChangeMs: number;
}

/**
 * A change of a member's state as this node sees it: `join` (first heard of, or back from dead: memberlist's
 * NotifyJoin), `alive` (a suspicion refuted, or this node refuting one about itself), `suspect`, `dead`
 * (NotifyLeave). `from` is who accused, for suspect and dead.
 */
export interface MembershipEvent {
  kind: 'join' | 'alive' | 'suspect' | 'dead';
  node: string;
  incarnation: number;
  atMs: number;
  from?: string;
}

export interface Send {
  to: string;
  message: MembershipMessage;
}

/** What one input produced: messages for the host to carry, events, and when the host must call `tick` next. */
export interface Output {
  sends: Send[];
  events: MembershipEvent[];
  nextDeadlineMs: number;
}

export interface MembershipNodeOptions {
  name: string;
  config: MembershipConfig;
  /** Uniform in [0, 1); the node's only source of randomness (`derivedRandom(seed, name)`). */
  random: () => number;
}

/** A member's mutable state inside the node (exported for subclasses in tests). */
export interface MemberState {
  name: string;
  incarnation: number;
  status: MemberStatus;
  stateChangeMs: number;
  suspicion: Suspicion | undefined;
}

/** The probe in flight (state.go probeNode's locals): target as it was when the probe started. */
interface Probe {
  seq: number;
  target: string;
  incarnation: number;
  startMs: number;
  expectedNacks: number;
  nacks: number;
}

/** A helper's relay of an indirect probe (net.go handleIndirectPing). */
interface Relay {
  requester: string;
  seq: number;
  nack: boolean;
}

type Timer =
  | { atMs: number; kind: 'probe' | 'gossip' | 'pushPull' }
  | { atMs: number; kind: 'probeTimeout' | 'probeDeadline' | 'relay'; seq: number }
  | { atMs: number; kind: 'suspicion'; node: string; suspicion: Suspicion };

/** Error for a misuse by the host (time going backwards, a call before `start`). */
export class MembershipUsageError extends Error {
  override readonly name = 'MembershipUsageError';
}

/**
 * One member's SWIM state machine, following hashicorp/memberlist (state.go, net.go, suspicion.go, queue.go,
 * awareness.go, util.go). Pure: no I/O, clock or timer. Every input carries the time; every output lists the messages
 * to send, the membership events and the next deadline. Work per input is bounded by the protocol's constants
 * (k helpers, gossip fan-out, frame size), never by the member count, except a push/pull (the full state by design)
 * and the probe list's reshuffle once per full pass (util.go resetNodes), O(1) per probe amortized.
 */
export class MembershipNode {
  readonly name: string;
  protected readonly config: MembershipConfig;
  protected readonly random: () => number;
  private readonly members = new Map<string, MemberState>();
  /** state.go m.nodes: the probe order, self and dead members included; probeIndex walks it. */
  private probeList: MemberState[] = [];
  private probeIndex = 0;
  private incarnationCounter = 0;
  private seqCounter = 0;
  private readonly awareness: Awareness;
  private readonly queue = new TransmitLimitedQueue();
  private readonly timers = new TimeHeap<Timer>();
  private probe: Probe | undefined;
  private readonly relays = new Map<number, Relay>();
  private probeOriginMs = 0;
  private nextProbeMs = Number.POSITIVE_INFINITY;
  private gossipOriginMs = 0;
  private nextGossipMs = Number.POSITIVE_INFINITY;
  private nextPushPullMs = Number.POSITIVE_INFINITY;
  private nowMs = Number.NEGATIVE_INFINITY;
  private started = false;
  private sends: Send[] = [];
  private events: MembershipEvent[] = [];

  constructor(options: MembershipNodeOptions) {
    this.name = options.name;
    this.config = options.config;
    this.random = options.random;
    this.awareness = new Awareness(options.config.awarenessMaxMultiplier);
  }

  /**
   * memberlist.go Create + Join: set this node alive at incarnation 1 (broadcast), start the probe, gossip and
   * push/pull timers at random staggers (state.go schedule), and push/pull with each seed (join). `assumeMembers`
   * installs members alive at incarnation 1 without messages or events, as if already converged (for simulations).
   */
  start(atMs: number, seeds: readonly string[] = [], assumeMembers: readonly string[] = []): Output {
    this.enter(atMs);
    if (this.started) throw new MembershipUsageError(`${this.name} is already started`);
    this.started = true;
    for (const name of assumeMembers) if (name !== this.name) this.insertMember(name, 1, 'alive');
    this.incarnationCounter = 1;
    this.aliveNode({ type: 'alive', node: this.name, incarnation: 1 }, true);
    this.probeOriginMs = atMs + Math.floor(this.random() * this.config.probeIntervalMs);
    this.setProbeTimer(this.probeOriginMs + this.config.probeIntervalMs);
    this.gossipOriginMs = atMs + Math.floor(this.random() * this.config.gossipIntervalMs);
    const pushPullStagger = Math.floor(this.random() * this.config.pushPullIntervalMs);
    this.nextPushPullMs = atMs + pushPullStagger + pushPullScaleMs(this.config.pushPullIntervalMs, this.memberCount);
    this.timers.push({ atMs: this.nextPushPullMs, kind: 'pushPull' });
    for (const seed of seeds) {
      if (seed !== this.name) this.send(seed, this.pushPullMessage(true, false));
    }
    return this.leave();
  }

  /** A message from `from`, as the host received it. */
  receive(atMs: number, from: string, message: MembershipMessage): Output {
    this.enter(atMs);
    if (!this.started) throw new MembershipUsageError(`${this.name} received a message before start`);
    if (message.type === 'compound') for (const part of message.parts) this.handle(from, part);
    else if (message.type === 'pushPull') this.handlePushPull(from, message);
    else this.handle(from, message);
    return this.leave();
  }

  /** Runs every timer due at `atMs`. */
  tick(atMs: number): Output {
    this.enter(atMs);
    for (let timer = this.timers.peek(); timer !== undefined && timer.atMs <= atMs; timer = this.timers.peek()) {
      this.timers.pop();
      this.fire(timer);
    }
    return this.leave();
  }

  /** The member's state as this node knows it. */
  member(name: string): Member | undefined {
    const state = this.members.get(name);
    return state === undefined ? undefined : { ...state };
  }

  /** Every member known (O(n): for inspection, not for the protocol). */
  knownMembers(): Member[] {
    return [...this.members.values()].map((state) => ({ ...state }));
  }

  /** state.go estNumNodes: members in the probe list, self and not yet reaped dead ones included. */
  get memberCount(): number {
    return this.probeList.length;
  }

  get incarnation(): number {
    return this.members.get(this.name)?.incarnation ?? 0;
  }

  get healthScore(): number {
    return this.awareness.score;
  }

  get queuedBroadcasts(): number {
    return this.queue.length;
  }

  /** The confirmations of the running suspicion about `name` (for tests). */
  suspicionOf(name: string): Suspicion | undefined {
    return this.members.get(name)?.suspicion;
  }

  private enter(atMs: number): void {
    if (!Number.isFinite(atMs)) throw new MembershipUsageError(`time ${atMs} is not finite`);
    if (atMs < this.nowMs) throw new MembershipUsageError(`time went back from ${this.nowMs} to ${atMs} ms`);
    this.nowMs = atMs;
  }

  private leave(): Output {
    if (this.queue.length > 0 && this.nextGossipMs === Number.POSITIVE_INFINITY) {
      const interval = this.config.gossipIntervalMs;
      this.nextGossipMs =
        this.gossipOriginMs + (Math.floor((this.nowMs - this.gossipOriginMs) / interval) + 1) * interval;
      this.timers.push({ atMs: this.nextGossipMs, kind: 'gossip' });
    }
    const output: Output = { sends: this.sends, events: this.events, nextDeadlineMs: this.nextDeadline() };
    this.sends = [];
    this.events = [];
    return output;
  }

  private nextDeadline(): number {
    for (let timer = this.timers.peek(); timer !== undefined; timer = this.timers.peek()) {
      if (this.isLive(timer)) return timer.atMs;
      this.timers.pop();
    }
    return Number.POSITIVE_INFINITY;
  }

  /** Whether a queued timer still stands (timers are not removed when cancelled, only skipped). */
  private isLive(timer: Timer): boolean {
    switch (timer.kind) {
      case 'probe':
        return timer.atMs === this.nextProbeMs;
      case 'gossip':
        return timer.atMs === this.nextGossipMs;
      case 'pushPull':
        return timer.atMs === this.nextPushPullMs;
      case 'probeTimeout':
      case 'probeDeadline':
        return this.probe?.seq === timer.seq;
      case 'relay':
        return this.relays.has(timer.seq);
      case 'suspicion':
        return this.members.get(timer.node)?.suspicion === timer.suspicion && timer.suspicion.deadlineMs === timer.atMs;
    }
  }

  private fire(timer: Timer): void {
    if (!this.isLive(timer)) return;
    switch (timer.kind) {
      case 'probe':
        this.nextProbeMs = Number.POSITIVE_INFINITY;
        this.probeNext();
        return;
      case 'gossip':
        this.nextGossipMs = Number.POSITIVE_INFINITY;
        this.gossip();
        return;
      case 'pushPull':
        this.pushPull();
        return;
      case 'probeTimeout':
        this.indirectProbe();
        return;
      case 'probeDeadline':
        this.probeFailed();
        return;
      case 'relay':
        this.relayTimedOut(timer.seq);
        return;
      case 'suspicion':
        this.suspicionTimedOut(timer.node, timer.suspicion);
        return;
    }
  }

  // ---- probing (state.go probe, probeNode; net.go handlePing, handleIndirectPing, handleAck, handleNack) ----

  /** state.go probe: the next member in the probe list that is neither self nor dead; reshuffle at the end. */
  private probeNext(): void {
    for (let checked = 0; checked < this.probeList.length;) {
      if (this.probeIndex >= this.probeList.length) {
        this.resetNodes();
        this.probeIndex = 0;
        checked++;
        continue;
      }
      const member = this.probeList[this.probeIndex++];
      if (member === undefined || member.name === this.name || member.status === 'dead' || member.status === 'left') {
        checked++;
        continue;
      }
      this.probeNode(member);
      return;
    }
    this.scheduleNextProbe(this.nowMs);
  }

  /**
   * state.go probeNode: ping the member (with a suspect message when it is not alive, so that it can refute), ask
   * helpers after ProbeTimeout, and fail at the awareness-scaled ProbeInterval.
   */
  protected probeNode(member: MemberState): void {
    const seq = this.nextSeq();
    this.probe = {
      seq,
      target: member.name,
      incarnation: member.incarnation,
      startMs: this.nowMs,
      expectedNacks: 0,
      nacks: 0,
    };
    if (member.status === 'alive') this.send(member.name, { type: 'ping', seq, node: member.name });
    else {
      const suspect: SuspectMessage = {
        type: 'suspect',
        node: member.name,
        incarnation: member.incarnation,
        from: this.name,
      };
      this.sends.push({
        to: member.name,
        message: { type: 'compound', parts: [{ type: 'ping', seq, node: member.name }, suspect] },
      });
    }
    this.timers.push({ atMs: this.nowMs + this.config.probeTimeoutMs, kind: 'probeTimeout', seq });
    const interval = this.awareness.scale(this.config.probeIntervalMs);
    this.timers.push({ atMs: this.nowMs + interval, kind: 'probeDeadline', seq });
  }

  /** state.go probeNode after ProbeTimeout: ping-req to IndirectChecks random alive members, expecting nacks. */
  protected indirectProbe(): void {
    const probe = this.probe;
    if (probe === undefined) return;
    const helpers = this.kRandomMembers(
      this.config.indirectChecks,
      (member) => member.name === this.name || member.name === probe.target || member.status !== 'alive',
    );
    for (const helper of helpers) {
      probe.expectedNacks++;
      this.send(helper.name, { type: 'pingReq', seq: probe.seq, node: probe.target, nack: true });
    }
  }

  /** state.go probeNode's end: no ack by the deadline. Awareness by the missing nacks, then suspect the target. */
  private probeFailed(): void {
    const probe = this.probe;
    if (probe === undefined) return;
    this.probe = undefined;
    const missingNacks = probe.expectedNacks > 0 ? Math.max(0, probe.expectedNacks - probe.nacks) : 1;
    this.awareness.apply(missingNacks);
    this.suspectNode({ type: 'suspect', node: probe.target, incarnation: probe.incarnation, from: this.name });
    this.scheduleNextProbe(probe.startMs);
  }

  /** The probe ticker's next tick (state.go schedule: a ticker that skips the ticks a long probe ran over). */
  private scheduleNextProbe(startMs: number): void {
    const interval = this.config.probeIntervalMs;
    const afterStart = Math.floor((startMs - this.probeOriginMs) / interval) + 1;
    const ticks = Math.max(afterStart, Math.ceil((this.nowMs - this.probeOriginMs) / interval));
    this.setProbeTimer(this.probeOriginMs + ticks * interval);
  }

  private setProbeTimer(atMs: number): void {
    this.nextProbeMs = atMs;
    this.timers.push({ atMs, kind: 'probe' });
  }

  private handle(from: string, message: PacketMessage): void {
    switch (message.type) {
      case 'ping':
        // net.go handlePing: answer only probes meant for this node.
        if (message.node === this.name) this.send(from, { type: 'ack', seq: message.seq });
        return;
      case 'pingReq':
        this.handlePingReq(from, message.seq, message.node, message.nack);
        return;
      case 'ack':
        this.handleAck(message.seq);
        return;
      case 'nack':
        // net.go handleNack → state.go setProbeChannels' nackFn.
        if (this.probe?.seq === message.seq) this.probe.nacks++;
        return;
      case 'alive':
        this.aliveNode(message, false);
        return;
      case 'suspect':
        this.suspectNode(message);
        return;
      case 'dead':
        this.deadNode(message);
        return;
    }
  }

  /** net.go handleIndirectPing: ping the target under a fresh seq; relay its ack, or nack after ProbeTimeout. */
  private handlePingReq(requester: string, seq: number, target: string, nack: boolean): void {
    const localSeq = this.nextSeq();
    this.relays.set(localSeq, { requester, seq, nack });
    this.timers.push({ atMs: this.nowMs + this.config.probeTimeoutMs, kind: 'relay', seq: localSeq });
    this.send(target, { type: 'ping', seq: localSeq, node: target });
  }

  /** net.go handleAck → invokeAckHandler: completes this node's probe, or relays a helper's ack. */
  private handleAck(seq: number): void {
    const probe = this.probe;
    if (probe?.seq === seq) {
      this.probe = undefined;
      this.awareness.apply(-1);
      this.scheduleNextProbe(probe.startMs);
      return;
    }
    const relay = this.relays.get(seq);
    if (relay === undefined) return;
    this.relays.delete(seq);
    this.send(relay.requester, { type: 'ack', seq: relay.seq });
  }

  private relayTimedOut(seq: number): void {
    const relay = this.relays.get(seq);
    this.relays.delete(seq);
    if (relay?.nack === true) this.send(relay.requester, { type: 'nack', seq: relay.seq });
  }

  // ---- dissemination (state.go gossip, pushPull; net.go sendMsg; broadcast.go) ----

  /**
   * net.go sendMsg: the message with as many queued broadcasts piggybacked as fit in UDPBufferSize, as one
   * compound frame (or the message alone when none is queued).
   */
  protected send(to: string, message: PacketMessage | PushPullMessage): void {
    if (message.type === 'pushPull' || this.queue.length === 0) {
      this.sends.push({ to, message });
      return;
    }
    const available = this.config.udpBufferSize - encodedSize(message) - COMPOUND_OVERHEAD_BYTES;
    const extra = this.queue.take(0, available, this.transmitLimit());
    this.sends.push({ to, message: extra.length === 0 ? message : { type: 'compound', parts: [message, ...extra] } });
  }

  /** state.go gossip: broadcasts to GossipNodes random members, alive, suspect or dead for GossipToTheDeadTime. */
  private gossip(): void {
    const targets = this.kRandomMembers(this.config.gossipNodes, (member) => {
      if (member.name === this.name) return true;
      if (member.status === 'alive' || member.status === 'suspect') return false;
      return member.status === 'left' || this.nowMs - member.stateChangeMs > this.config.gossipToTheDeadTimeMs;
    });
    const available = this.config.udpBufferSize - COMPOUND_OVERHEAD_BYTES;
    for (const target of targets) {
      const messages = this.queue.take(0, available, this.transmitLimit());
      if (messages.length === 0) break;
      const [only] = messages;
      this.sends.push({
        to: target.name,
        message: messages.length === 1 && only !== undefined ? only : { type: 'compound', parts: messages },
      });
    }
  }

  /** state.go pushPullTrigger + pushPull: a full state exchange with one random alive member. */
  private pushPull(): void {
    const [peer] = this.kRandomMembers(1, (member) => member.name === this.name || member.status !== 'alive');
    if (peer !== undefined) this.send(peer.name, this.pushPullMessage(false, false));
    this.nextPushPullMs = this.nowMs + pushPullScaleMs(this.config.pushPullIntervalMs, this.memberCount);
    this.timers.push({ atMs: this.nextPushPullMs, kind: 'pushPull' });
  }

  /** net.go handleConn (pushPullMsg): answer a request with the local state first, then merge the remote one. */
  private handlePushPull(from: string, message: PushPullMessage): void {
    if (!message.reply) this.send(from, this.pushPullMessage(message.join, true));
    this.mergeState(message.states);
  }

  private pushPullMessage(join: boolean, reply: boolean): PushPullMessage {
    const states: PushState[] = this.probeList.map((member) => ({
      node: member.name,
      incarnation: member.incarnation,
      status: member.status,
    }));
    return { type: 'pushPull', join, reply, states };
  }

  /** state.go mergeState: alive as alive, left as dead-by-itself, dead and suspect as a suspicion of our own. */
  private mergeState(states: readonly PushState[]): void {
    for (const state of states) {
      const known = this.members.get(state.node);
      // What the rules below would drop anyway, skipped without building a message: an alive entry that is not
      // newer than ours about another member (aliveNode), a suspect or dead one about a member neither alive nor
      // under suspicion here (suspectNode) — the common case of a push/pull in a quiet cluster.
      if (known !== undefined && known.name !== this.name) {
        if (state.status === 'alive' && state.incarnation <= known.incarnation) continue;
        if (
          (state.status === 'suspect' || state.status === 'dead') &&
          known.status !== 'alive' &&
          known.suspicion === undefined
        )
          continue;
      }
      if (state.status === 'alive') this.aliveNode({ type: 'alive', node: state.node, incarnation: state.incarnation });
      else if (state.status === 'left')
        this.deadNode({ type: 'dead', node: state.node, incarnation: state.incarnation, from: state.node });
      else this.suspectNode({ type: 'suspect', node: state.node, incarnation: state.incarnation, from: this.name });
    }
  }

  private broadcast(message: BroadcastMessage): void {
    this.queue.push(message, encodedSize(message));
  }

  private transmitLimit(): number {
    return retransmitLimit(this.config.retransmitMult, this.memberCount);
  }

  // ---- the state rules (state.go aliveNode, suspectNode, deadNode, refute) ----

  /**
   * state.go aliveNode: a new member joins at a random place of the probe list; otherwise only a higher incarnation
   * counts. An alive message about this node that is not its own bootstrap is refuted unless it is the same.
   */
  protected aliveNode(message: AliveMessage, bootstrap = false): void {
    let state = this.members.get(message.node);
    if (state === undefined) state = this.insertMember(message.node, 0, 'dead');
    const isLocal = message.node === this.name;
    if (message.incarnation <= state.incarnation && !isLocal) return;
    if (message.incarnation < state.incarnation && isLocal) return;
    state.suspicion = undefined;
    const oldStatus = state.status;
    if (!bootstrap && isLocal) {
      if (message.incarnation === state.incarnation) return;
      this.refute(state, message.incarnation);
      return;
    }
    this.broadcast(message);
    state.incarnation = message.incarnation;
    if (state.status !== 'alive') {
      state.status = 'alive';
      state.stateChangeMs = this.nowMs;
    }
    if (oldStatus === 'dead' || oldStatus === 'left') this.emit('join', state);
    else if (oldStatus === 'suspect') this.emit('alive', state);
  }

  /**
   * state.go suspectNode: an older incarnation is ignored; a running suspicion counts the accuser as a confirmation
   * (re-broadcast when new); an alive member becomes suspect with a Lifeguard timer; this node refutes.
   */
  protected suspectNode(message: SuspectMessage): void {
    const state = this.members.get(message.node);
    if (state === undefined || message.incarnation < state.incarnation) return;
    if (state.suspicion !== undefined) {
      if (state.suspicion.confirm(message.from, this.nowMs)) {
        this.broadcast(message);
        this.pushSuspicionTimer(state.name, state.suspicion);
      }
      return;
    }
    if (state.status !== 'alive') return;
    if (state.name === this.name) {
      this.refute(state, message.incarnation);
      return;
    }
    this.broadcast(message);
    state.incarnation = message.incarnation;
    state.status = 'suspect';
    state.stateChangeMs = this.nowMs;
    const n = this.memberCount;
    const k = n - 2 < this.config.suspicionMult - 2 ? 0 : this.config.suspicionMult - 2;
    const min = suspicionTimeoutMs(this.config.suspicionMult, n, this.config.probeIntervalMs);
    const max = this.config.suspicionMaxTimeoutMult * min;
    state.suspicion = new Suspicion(message.from, k, min, max, this.nowMs);
    this.pushSuspicionTimer(state.name, state.suspicion);
    this.emit('suspect', state, message.from);
  }

  private pushSuspicionTimer(node: string, suspicion: Suspicion): void {
    this.timers.push({ atMs: suspicion.deadlineMs, kind: 'suspicion', node, suspicion });
  }

  /** state.go suspectNode's timeout function: still the same suspicion → dead, declared by this node. */
  private suspicionTimedOut(node: string, suspicion: Suspicion): void {
    const state = this.members.get(node);
    if (state?.status !== 'suspect' || state.suspicion !== suspicion) return;
    this.deadNode({ type: 'dead', node, incarnation: state.incarnation, from: this.name });
  }

  /** state.go deadNode: an older incarnation is ignored, this node refutes, otherwise dead (left when self-declared). */
  protected deadNode(message: DeadMessage): void {
    const state = this.members.get(message.node);
    if (state === undefined || message.incarnation < state.incarnation) return;
    state.suspicion = undefined;
    if (state.status === 'dead' || state.status === 'left') return;
    if (state.name === this.name) {
      this.refute(state, message.incarnation);
      return;
    }
    this.broadcast(message);
    state.incarnation = message.incarnation;
    state.status = message.node === message.from ? 'left' : 'dead';
    state.stateChangeMs = this.nowMs;
    this.emit('dead', state, message.from);
  }

  /** state.go refute: an incarnation above the accusation, broadcast alive; awareness worsens by one. */
  protected refute(self: MemberState, accusedIncarnation: number): void {
    let incarnation = ++this.incarnationCounter;
    if (accusedIncarnation >= incarnation) {
      this.incarnationCounter = accusedIncarnation + 1;
      incarnation = this.incarnationCounter;
    }
    self.incarnation = incarnation;
    this.awareness.apply(1);
    this.broadcast({ type: 'alive', node: self.name, incarnation });
    this.emit('alive', self);
  }

  private emit(kind: MembershipEvent['kind'], state: MemberState, from?: string): void {
    const event: MembershipEvent = { kind, node: state.name, incarnation: state.incarnation, atMs: this.nowMs };
    if (from !== undefined) event.from = from;
    this.events.push(event);
  }

  // ---- the member list (state.go aliveNode's insertion, util.go resetNodes, kRandomNodes) ----

  /** state.go aliveNode: a new member is swapped in at a random offset of the probe list. */
  private insertMember(name: string, incarnation: number, status: MemberStatus): MemberState {
    const state: MemberState = { name, incarnation, status, stateChangeMs: this.nowMs, suspicion: undefined };
    this.members.set(name, state);
    const offset = Math.floor(this.random() * (this.probeList.length + 1));
    const displaced = this.probeList[offset];
    this.probeList.push(state);
    if (displaced !== undefined) {
      this.probeList[offset] = state;
      this.probeList[this.probeList.length - 1] = displaced;
    }
    return state;
  }

  /** state.go resetNodes: reap members dead for GossipToTheDeadTime (util.go moveDeadNodes), reshuffle the rest. */
  private resetNodes(): void {
    const kept: MemberState[] = [];
    for (const member of this.probeList) {
      const gone =
        (member.status === 'dead' || member.status === 'left') &&
        this.nowMs - member.stateChangeMs > this.config.gossipToTheDeadTimeMs;
      if (gone) this.members.delete(member.name);
      else kept.push(member);
    }
    this.shuffle(kept);
    this.probeList = kept;
  }

  /** util.go shuffleNodes: Fisher–Yates. */
  private shuffle<T>(items: T[]): void {
    for (let index = items.length - 1; index > 0; index--) {
      const other = Math.floor(this.random() * (index + 1));
      const item = items[index];
      const swapped = items[other];
      if (item === undefined || swapped === undefined) continue;
      items[index] = swapped;
      items[other] = item;
    }
  }

  /** util.go kRandomNodes: up to k distinct members not excluded; exhaustive below 3k members, else 3n draws. */
  protected kRandomMembers(k: number, exclude: (member: MemberState) => boolean): MemberState[] {
    const n = this.probeList.length;
    const chosen: MemberState[] = [];
    if (n < 3 * k) {
      const copy = [...this.probeList];
      this.shuffle(copy);
      for (const member of copy) {
        if (chosen.length >= k) break;
        if (!exclude(member)) chosen.push(member);
      }
      return chosen;
    }
    for (let draw = 0; draw < 3 * n && chosen.length < k; draw++) {
      const member = this.probeList[Math.floor(this.random() * n)];
      if (member === undefined || exclude(member) || chosen.includes(member)) continue;
      chosen.push(member);
    }
    return chosen;
  }

  private nextSeq(): number {
    this.seqCounter = this.seqCounter >= 0xffff_ffff ? 1 : this.seqCounter + 1;
    return this.seqCounter;
  }
}
