import {
  QuorumEngine,
  claimKey,
  safetyBounds,
  type ClusterSnapshot,
  type DomainState,
  type MemberInfo,
  type QuorumAction,
  type QuorumInput,
  type QuorumMode,
  type QuorumTiming,
  type QuorumView,
} from '@pxsim/quorum';
import {
  checkInactiveFenced,
  checkSplitBrain,
  HearingLog,
  SafetyWatch,
  ViolationLog,
  type Finding,
  type SplitBrainRule,
  type Violation,
} from '@pxsim/checkers';
import { mapTargets, Scheduler, seededRandom, type Fault } from '@pxsim/runtime';

/**
 * A small, deterministic network of real `QuorumEngine`s for transcripts and property tests: heartbeats with
 * latency and one-way cuts, periodic kvdb reads, partition claims applied to a shared in-memory cluster record,
 * crashes and restarts. Everything happens on the runtime's discrete-event scheduler (synchronously: the engines
 * are pure), ordered by time, ties in the order set. Faults come in the one vocabulary (`apply`); S1 and S2 are the
 * checkers of `@pxsim/checkers`, the same the simulator runs.
 */

export { seededRandom };
export type { Violation };

type Event =
  | { kind: 'heartbeat-send'; node: string }
  | { kind: 'read-send'; node: string }
  | { kind: 'deliver'; node: string; incarnation: number; input: QuorumInput; sentAtMs?: number }
  | { kind: 'tick'; node: string; incarnation: number }
  | { kind: 'kvdb-apply'; action: QuorumAction };

interface SimNode {
  id: string;
  domain: string;
  storageless: boolean;
  engine: QuorumEngine | undefined;
  incarnation: number;
  lastState: string;
}

export interface Transition {
  atMs: number;
  node: string;
  from: string;
  to: string;
  reason: string;
}

export interface NetworkOptions {
  mode: QuorumMode;
  timing: QuorumTiming;
  seed?: number;
  /** Which statement of S1 to check (default `quorum-and-domains`). */
  splitBrainRule?: SplitBrainRule;
}

export class EngineNetwork {
  readonly mode: QuorumMode;
  readonly timing: QuorumTiming;
  private readonly scheduler = new Scheduler();
  private readonly random: () => number;
  readonly nodes = new Map<string, SimNode>();
  readonly cluster: {
    revision: number;
    members: MemberInfo[];
    domains: Record<string, DomainState>;
    claims: ClusterSnapshot['claims'];
  } = {
    revision: 1,
    members: [],
    domains: {},
    claims: [],
  };
  /** Directed cuts "from>to" between nodes. */
  private readonly cuts = new Set<string>();
  private readonly kvdbCut = new Set<string>();
  /** The whole kvdb is down: nobody, the operator included, can read or write it. */
  private kvdbDown = false;
  /** Per observer: how many times a peer went from alive to silent in its view (hazard H4). */
  readonly peerFlaps = new Map<string, number>();
  private readonly peerAlive = new Map<string, boolean>();
  /** Per node: members its reads do not see (hazard H5: lease-bound registrations that expired). */
  private readonly hiddenMembers = new Map<string, Set<string>>();
  latencyMinMs = 1;
  latencyMaxMs = 1;
  readonly transitions: Transition[] = [];
  private readonly violationLog = new ViolationLog();
  /** Since when each domain has been inactive (S2). */
  private readonly watch: SafetyWatch;
  /** Who heard whom (S1): the heartbeats each engine was actually given, by send time. */
  private readonly hearing = new HearingLog();
  readonly bounds;
  private readonly splitBrainRule: SplitBrainRule;
  eventsProcessed = 0;

  constructor(options: NetworkOptions) {
    // The engine validates the timing (safe mode rejects one that cannot tolerate its latency bound).
    new QuorumEngine({ selfId: 'timing-check', mode: options.mode, timing: options.timing });
    this.mode = options.mode;
    this.timing = options.timing;
    this.random = seededRandom(options.seed ?? 1);
    this.bounds = safetyBounds(options.timing);
    this.watch = new SafetyWatch(this.bounds);
    this.splitBrainRule = options.splitBrainRule ?? 'quorum-and-domains';
  }

  get nowMs(): number {
    return this.scheduler.nowMs();
  }

  get violations(): Violation[] {
    return this.violationLog.violations;
  }

  addDomain(domain: string, nodeIds: string[], options: { storageless?: boolean } = {}): void {
    this.cluster.domains[domain] = 'Active';
    for (const id of nodeIds) {
      if (this.nodes.has(id)) throw new Error(`node ${id} exists`);
      const member: MemberInfo = { nodeId: id, domain, quorumMember: true, decommissioned: false };
      if (options.storageless === true) member.storageless = true;
      this.cluster.members.push(member);
      this.nodes.set(id, {
        id,
        domain,
        storageless: options.storageless === true,
        engine: undefined,
        incarnation: 0,
        lastState: 'down',
      });
    }
    this.cluster.revision += 1;
  }

  /** Every event is followed by the safety checks. */
  private schedule(atMs: number, event: Event): void {
    this.scheduler.setTimer(atMs - this.nowMs, () => {
      this.process(event);
      this.eventsProcessed += 1;
      this.checkSafety();
    });
  }

  private latency(): number {
    return Math.round(this.latencyMinMs + this.random() * (this.latencyMaxMs - this.latencyMinMs));
  }

  boot(ids: string[]): void {
    for (const id of ids) {
      const node = this.requireNode(id);
      if (node.engine !== undefined) continue;
      node.engine = new QuorumEngine({ selfId: id, mode: this.mode, timing: this.timing });
      node.incarnation += 1;
      this.hearing.started(id, this.nowMs);
      this.record(node, node.engine.view());
      this.schedule(this.nowMs + Math.floor(this.random() * this.timing.heartbeatIntervalMs), {
        kind: 'heartbeat-send',
        node: id,
      });
      this.schedule(this.nowMs, { kind: 'read-send', node: id });
    }
  }

  crash(ids: string[]): void {
    for (const id of ids) {
      const node = this.requireNode(id);
      if (node.engine === undefined) continue;
      node.engine = undefined;
      node.incarnation += 1;
      for (const key of [...this.peerAlive.keys()]) if (key.startsWith(`${id}>`)) this.peerAlive.delete(key);
      this.transitions.push({ atMs: this.nowMs, node: id, from: node.lastState, to: 'crashed', reason: '' });
      node.lastState = 'crashed';
    }
  }

  requireNode(id: string): SimNode {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`unknown node ${id}`);
    return node;
  }

  /** Node IDs of a group: a domain name, a node ID, or several joined with '+'. */
  group(spec: string): string[] {
    return spec.split('+').flatMap((part) => {
      if (this.nodes.has(part)) return [part];
      const members = [...this.nodes.values()].filter((node) => node.domain === part).map((node) => node.id);
      if (members.length === 0) throw new Error(`"${part}" is neither a node nor a domain`);
      return members;
    });
  }

  cut(from: string[], to: string[]): void {
    for (const a of from) for (const b of to) if (a !== b) this.cuts.add(`${a}>${b}`);
  }

  heal(): void {
    this.cuts.clear();
    this.kvdbCut.clear();
  }

  setKvdbCut(ids: string[], cut: boolean): void {
    for (const id of ids) {
      if (cut) this.kvdbCut.add(id);
      else this.kvdbCut.delete(id);
    }
  }

  /** Registrations vanish from these nodes' reads (as lease expiries would): a change, at a new revision. */
  hideMembers(on: string[], members: string[]): void {
    this.cluster.revision += 1;
    for (const id of on) {
      const hidden = this.hiddenMembers.get(id) ?? new Set<string>();
      for (const member of members) hidden.add(member);
      this.hiddenMembers.set(id, hidden);
    }
  }

  setKvdbDown(down: boolean): void {
    this.kvdbDown = down;
  }

  private kvdbReachable(id: string): boolean {
    return !this.kvdbDown && !this.kvdbCut.has(id);
  }

  /** The operator's ClusterDomainUpdate, written to the kvdb (which the operator reaches unless it is down). */
  setDomain(domain: string, state: DomainState): void {
    if (!(domain in this.cluster.domains)) throw new Error(`unknown domain ${domain}`);
    if (this.kvdbDown) throw new Error(`kvdb unreachable: cannot mark ${domain} ${state}`);
    if (this.cluster.domains[domain] === state) return;
    this.cluster.domains[domain] = state;
    this.cluster.revision += 1;
    this.watch.setDomainActive(domain, state === 'Active', this.nowMs);
  }

  /** Runs every event up to and including `untilMs`. */
  runUntil(untilMs: number): void {
    this.scheduler.runUntilSync(untilMs);
    this.checkSafety();
  }

  /**
   * Applies a fault of the vocabulary; groups are node IDs and domain names (joined with ','). `latency` sets the
   * one-way delay of every message to ms + up to jitterMs; `start` boots only what is down, `restart` crashes first.
   */
  apply(fault: Fault): void {
    const resolved = mapTargets(fault, (names) => names.flatMap((name) => this.group(name)));
    switch (resolved.kind) {
      case 'partition':
        this.cut(resolved.a, resolved.b);
        this.cut(resolved.b, resolved.a);
        return;
      case 'cut':
        return this.cut(resolved.from, resolved.to);
      case 'heal':
        return this.heal();
      case 'latency':
        this.latencyMinMs = resolved.ms;
        this.latencyMaxMs = resolved.ms + resolved.jitterMs;
        return;
      case 'kvdb-cut':
      case 'kvdb-heal':
        return this.setKvdbCut(resolved.nodes, resolved.kind === 'kvdb-cut');
      case 'kvdb-down':
      case 'kvdb-up':
        return this.setKvdbDown(resolved.kind === 'kvdb-down');
      case 'crash':
        return this.crash(resolved.nodes);
      case 'restart':
        this.crash(resolved.nodes);
        return this.boot(resolved.nodes);
      case 'start':
        return this.boot(resolved.nodes);
      case 'deactivate':
      case 'activate':
        return this.setDomain(resolved.domain, resolved.kind === 'activate' ? 'Active' : 'Inactive');
      case 'hide-members':
        return this.hideMembers(resolved.on, resolved.members);
      default:
        throw new Error(`the engine network has no "${resolved.kind}" (no data path, no processes to pause)`);
    }
  }

  run(forMs: number): void {
    this.runUntil(this.nowMs + forMs);
  }

  private snapshotFor(id: string): ClusterSnapshot {
    const hidden = this.hiddenMembers.get(id);
    return {
      revision: this.cluster.revision,
      members: this.cluster.members
        .filter((member) => hidden === undefined || !hidden.has(member.nodeId))
        .map((member) => ({ ...member })),
      domains: { ...this.cluster.domains },
      claims: this.cluster.claims.map((claim) => ({ ...claim, domains: [...claim.domains] as [string, string] })),
    };
  }

  private process(event: Event): void {
    switch (event.kind) {
      case 'heartbeat-send': {
        const node = this.requireNode(event.node);
        if (node.engine === undefined) return;
        const self = node.engine.view().self;
        if (!self.gossiping) {
          this.schedule(this.nowMs + this.timing.heartbeatIntervalMs, event);
          return;
        }
        const peerState = self.gossipState;
        const state = peerState === 'UP' || peerState === 'SUSPECT_NOT_IN_QUORUM' ? peerState : 'NOT_IN_QUORUM';
        for (const peer of this.nodes.values()) {
          if (peer.id === node.id || this.cuts.has(`${node.id}>${peer.id}`)) continue;
          const atMs = this.nowMs + this.latency();
          this.schedule(atMs, {
            kind: 'deliver',
            node: peer.id,
            incarnation: peer.incarnation,
            input: { type: 'heartbeat', atMs, from: node.id, peerState: state },
            sentAtMs: this.nowMs,
          });
        }
        this.schedule(this.nowMs + this.timing.heartbeatIntervalMs, event);
        return;
      }
      case 'read-send': {
        const node = this.requireNode(event.node);
        if (node.engine === undefined) return;
        const startMs = this.nowMs;
        if (!this.kvdbReachable(node.id)) {
          const atMs = startMs + 1000;
          this.schedule(atMs, {
            kind: 'deliver',
            node: node.id,
            incarnation: node.incarnation,
            input: { type: 'snapshotFailed', atMs, error: 'kvdb unreachable (timeout)' },
          });
        } else {
          // The read is served when it reaches the kvdb; the answer travels back.
          const snapshot = this.snapshotFor(node.id);
          const atMs = startMs + this.latency() + this.latency();
          this.schedule(atMs, {
            kind: 'deliver',
            node: node.id,
            incarnation: node.incarnation,
            input: { type: 'snapshot', atMs, readStartMs: startMs, snapshot },
          });
        }
        this.schedule(this.nowMs + this.timing.snapshotRefreshMs, event);
        return;
      }
      case 'deliver': {
        const node = this.requireNode(event.node);
        if (node.engine === undefined || node.incarnation !== event.incarnation) return;
        if (event.input.type === 'heartbeat' && event.sentAtMs !== undefined)
          this.hearing.received(node.id, event.input.from, event.sentAtMs);
        this.stepNode(node, event.input);
        return;
      }
      case 'tick': {
        const node = this.requireNode(event.node);
        if (node.engine === undefined || node.incarnation !== event.incarnation) return;
        this.stepNode(node, { type: 'tick', atMs: this.nowMs });
        return;
      }
      case 'kvdb-apply':
        this.applyAction(event.action);
        return;
    }
  }

  private stepNode(node: SimNode, input: QuorumInput): void {
    const engine = node.engine;
    if (engine === undefined) return;
    const view = engine.step({ ...input, atMs: this.nowMs });
    this.record(node, view);
    if (view.nextDeadlineMs !== undefined)
      this.schedule(view.nextDeadlineMs, { kind: 'tick', node: node.id, incarnation: node.incarnation });
    for (const action of view.actions) {
      if (!this.kvdbReachable(node.id)) continue;
      this.schedule(this.nowMs + this.latency(), { kind: 'kvdb-apply', action });
    }
  }

  private applyAction(action: QuorumAction): void {
    const key = claimKey(action.domains);
    const index = this.cluster.claims.findIndex((claim) => claimKey(claim.domains) === key);
    if (action.type === 'claim') {
      if (index >= 0) return; // create-if-absent lost the race
      this.cluster.revision += 1;
      this.cluster.claims.push({ domains: action.domains, winner: action.winner, revision: this.cluster.revision });
      return;
    }
    const existing = this.cluster.claims[index];
    if (existing === undefined || existing.revision !== action.revision) return; // compare-and-delete failed
    this.cluster.claims.splice(index, 1);
    this.cluster.revision += 1;
  }

  private countFlaps(node: SimNode, view: QuorumView): void {
    for (const peer of view.nodes) {
      if (peer.nodeId === node.id) continue;
      const key = `${node.id}>${peer.nodeId}`;
      const alive =
        peer.gossipState === 'UP' ||
        peer.gossipState === 'NOT_IN_QUORUM' ||
        peer.gossipState === 'SUSPECT_NOT_IN_QUORUM';
      if (this.peerAlive.get(key) === true && !alive)
        this.peerFlaps.set(node.id, (this.peerFlaps.get(node.id) ?? 0) + 1);
      this.peerAlive.set(key, alive);
    }
  }

  private record(node: SimNode, view: QuorumView): void {
    this.countFlaps(node, view);
    const state = `${view.self.gossipState}/${view.self.status}`;
    if (state === node.lastState) return;
    this.transitions.push({
      atMs: this.nowMs,
      node: node.id,
      from: node.lastState,
      to: state,
      reason: view.self.reason,
    });
    node.lastState = state;
  }

  isUp(id: string): boolean {
    return this.nodes.get(id)?.engine?.view().self.gossipState === 'UP';
  }

  private domainNodes(domain: string): SimNode[] {
    return [...this.nodes.values()].filter((node) => node.domain === domain);
  }

  private upIn(domain: string): string[] {
    return this.domainNodes(domain)
      .filter((node) => node.engine?.view().self.gossipState === 'UP')
      .map((node) => node.id);
  }

  /**
   * S1 and S2 (an engine that is UP serves: this network has no data path beyond the engine's verdict; a storage-less
   * witness serves no data, so S1 pairs only storage nodes).
   */
  private checkSafety(): void {
    const upIn = (domain: string): string[] => this.upIn(domain);
    const all = [...this.nodes.values()];
    const members = all.map((node) => ({ node: node.id, domain: node.domain }));
    const serving = all
      .filter((node) => !node.storageless && node.engine?.view().self.gossipState === 'UP')
      .map((node) => ({ node: node.id, domain: node.domain }));
    const s1 = { nowMs: this.nowMs, boundMs: this.bounds.splitBrainMs, hearing: this.hearing, members, serving };
    for (const finding of checkSplitBrain({ ...s1, rule: this.splitBrainRule })) this.violate(finding);
    for (const finding of checkInactiveFenced(this.watch, this.nowMs, upIn)) this.violate(finding);
  }

  private violate(finding: Finding): void {
    this.violationLog.add(this.nowMs, finding);
  }

  views(): Array<{ id: string; domain: string; view: QuorumView | undefined }> {
    return [...this.nodes.values()].map((node) => ({ id: node.id, domain: node.domain, view: node.engine?.view() }));
  }
}
