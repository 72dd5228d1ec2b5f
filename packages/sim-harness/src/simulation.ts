import { createHash } from 'node:crypto';
import { MemKvdb, MemStore } from '@pxsim/kvdb-client';
import { derivedRandom, LinkFaults, Scheduler, type Clock, type Timer } from '@pxsim/runtime';
import {
  NodeAgent,
  faultyKvdb,
  validateConfig,
  type AgentEvent,
  type HeartbeatTransport,
  type NodeIdentity,
  type PeerAddress,
} from '@pxsim/node-agent';
import {
  safetyBounds,
  timingProfile,
  type QuorumMode,
  type SafetyBounds,
  type TimingProfileName,
  type UserStatus,
} from '@pxsim/quorum';

export interface SimulationOptions {
  seed: number;
  clusterId?: string;
  domains?: string[];
  nodesPerDomain?: number;
  /** Add a one-node storage-less witness domain. */
  witness?: boolean;
  quorumMode?: QuorumMode;
  timing?: TimingProfileName;
  /** One-way latency between a node and the kvdb, ms. Default 1. */
  kvdbLatencyMs?: number;
  /** Base one-way latency between nodes, ms. Default 1. */
  baseLatencyMs?: number;
  /** Client writes to random serving nodes, one per this many ms (0: none). Default 250. */
  writeIntervalMs?: number;
  /** History entries kept (older ones are dropped from the record, not from the hash). Default 100,000. */
  historyMax?: number;
}

export interface NodeSpec {
  ip: string;
  domain: string;
  storageless: boolean;
}

export type NodeState = UserStatus | 'crashed' | 'paused' | 'not started';

export interface HistoryEntry {
  atMs: number;
  kind: 'fault' | 'state' | 'operator' | 'check' | 'write';
  node?: string;
  text: string;
}

export interface Violation {
  atMs: number;
  check: 'S1' | 'S2' | 'S3' | 'L1' | 'L2';
  detail: string;
}

/**
 * Domain i's nodes on PREFIX.(i+1).1…N, the witness on PREFIX.9.1 (PREFIX 127.0 by default): the layout of the
 * simulator, the live sim and the benchmarks alike.
 */
export function topology(domains: string[], nodesPerDomain: number, witness: boolean, ipPrefix = '127.0'): NodeSpec[] {
  const nodes: NodeSpec[] = [];
  domains.forEach((domain, index) => {
    for (let n = 1; n <= nodesPerDomain; n++)
      nodes.push({ ip: `${ipPrefix}.${index + 1}.${n}`, domain, storageless: false });
  });
  if (witness) nodes.push({ ip: `${ipPrefix}.9.1`, domain: 'witness', storageless: true });
  return nodes;
}

/** Node IPs of a group: `all`, a domain name, a node IP, or several of these joined with ','. */
export function groupIps(specs: readonly NodeSpec[], text: string): string[] {
  const ips = text.split(',').flatMap((part) => {
    const name = part.trim();
    if (name === 'all') return specs.map((spec) => spec.ip);
    const inDomain = specs.filter((spec) => spec.domain === name).map((spec) => spec.ip);
    if (inDomain.length > 0) return inDomain;
    if (specs.some((spec) => spec.ip === name)) return [name];
    const domains = [...new Set(specs.map((spec) => spec.domain))].join(', ');
    throw new Error(`"${name}" is neither a domain (${domains}) nor a node IP of this cluster`);
  });
  return [...new Set(ips)];
}

const INBOX_MAX = 1024;

/** A node's view of time: the scheduler's, except that a paused node's timers wait and a crashed node's never fire. */
class NodeClock implements Clock {
  paused = false;
  dead = false;
  private readonly held: Array<() => void> = [];

  constructor(private readonly scheduler: Scheduler) {}

  nowMs(): number {
    return this.scheduler.nowMs();
  }

  setTimer(delayMs: number, callback: () => void): Timer {
    return this.scheduler.setTimer(delayMs, () => this.run(callback));
  }

  /** Neither crashed nor paused: work for the node runs now. */
  get running(): boolean {
    return !this.dead && !this.paused;
  }

  run(callback: () => void): void {
    if (this.dead) return;
    if (this.paused) {
      if (this.held.length < INBOX_MAX) this.held.push(callback);
      return;
    }
    callback();
  }

  resume(): void {
    this.paused = false;
    for (const callback of this.held.splice(0)) callback();
  }
}

interface SimNode {
  spec: NodeSpec;
  agent: NodeAgent | undefined;
  clock: NodeClock | undefined;
  incarnation: number;
  identity: NodeIdentity | undefined;
  state: NodeState;
  onFrame: ((bytes: Uint8Array) => void) | undefined;
}

/**
 * A whole cluster in one deterministic thread: the real node agents, quorum engine and MemKvdb on a virtual clock,
 * a simulated network between agents and between each agent and the kvdb, and the faults the nemeses inject. One seed
 * reproduces a run exactly.
 */
export class Simulation {
  readonly seed: number;
  readonly scheduler = new Scheduler();
  readonly faults = new LinkFaults();
  readonly specs: NodeSpec[];
  readonly clusterId: string;
  readonly quorumMode: QuorumMode;
  readonly timingName: TimingProfileName;
  readonly bounds: SafetyBounds;
  readonly history: HistoryEntry[] = [];
  readonly violations: Violation[] = [];
  private readonly nodes = new Map<string, SimNode>();
  private readonly store: MemStore;
  private readonly networkRandom: () => number;
  private readonly clientRandom: () => number;
  private readonly options: Required<
    Omit<SimulationOptions, 'seed' | 'domains' | 'clusterId' | 'quorumMode' | 'timing' | 'witness' | 'nodesPerDomain'>
  >;
  private readonly hash = createHash('sha256');
  private readonly adminToken = 'simulation-admin-token';
  /** Fault bookkeeping for the checkers. */
  private readonly pairCutSinceMs = new Map<string, number>();
  private readonly inactiveSinceMs = new Map<string, number>();
  private readonly domainStates = new Map<string, 'Active' | 'Inactive'>();
  duplicatePercent = 0;
  private deliveryBatch:
    { atMs: number; timersSet: number; frames: Array<{ to: string; bytes: Uint8Array }> } | undefined;
  /** Latency above 500 ms is refused unless this is set (to show what the metro limit protects against). */
  allowLatencyOverMetroLimit = false;
  framesSent = 0;
  framesDropped = 0;
  writesAcknowledged = 0;
  private writeTimer: Timer | undefined;
  private checkTimer: Timer | undefined;
  private checkTimers = 0;
  private disposed = false;

  constructor(options: SimulationOptions) {
    this.seed = options.seed;
    this.clusterId = options.clusterId ?? 'px-dr-cluster';
    this.quorumMode = options.quorumMode ?? 'safe';
    this.timingName = options.timing ?? 'fast';
    this.bounds = safetyBounds(timingProfile(this.timingName));
    this.specs = topology(
      options.domains ?? ['us-east-1a', 'us-east-1b'],
      options.nodesPerDomain ?? 3,
      options.witness ?? false,
    );
    this.options = {
      kvdbLatencyMs: options.kvdbLatencyMs ?? 1,
      baseLatencyMs: options.baseLatencyMs ?? 1,
      writeIntervalMs: options.writeIntervalMs ?? 250,
      historyMax: options.historyMax ?? 100_000,
    };
    this.store = new MemStore({ clock: this.scheduler });
    this.networkRandom = derivedRandom(this.seed, 'network');
    this.clientRandom = derivedRandom(this.seed, 'client');
    for (const spec of this.specs) {
      this.nodes.set(spec.ip, {
        spec,
        agent: undefined,
        clock: undefined,
        incarnation: 0,
        identity: undefined,
        state: 'not started',
        onFrame: undefined,
      });
      this.domainStates.set(spec.domain, 'Active');
    }
    this.faults.addLatency({ ms: this.options.baseLatencyMs, jitterMs: 0 });
  }

  get nowMs(): number {
    return this.scheduler.nowMs();
  }

  /** The hex digest of everything recorded so far: equal digests, equal runs. */
  traceHash(): string {
    return this.hash.copy().digest('hex');
  }

  record(kind: HistoryEntry['kind'], text: string, node?: string): void {
    const entry: HistoryEntry =
      node === undefined ? { atMs: this.nowMs, kind, text } : { atMs: this.nowMs, kind, node, text };
    this.hash.update(`${entry.atMs} ${kind} ${node ?? '-'} ${text}\n`);
    if (this.history.length < this.options.historyMax) this.history.push(entry);
  }

  // ---- nodes ---------------------------------------------------------------------------------------------------

  group(text: string): string[] {
    return groupIps(this.specs, text);
  }

  state(ip: string): NodeState {
    const node = this.nodes.get(ip);
    if (node === undefined) throw new Error(`no node ${ip}`);
    return node.state;
  }

  states(): Record<string, NodeState> {
    return Object.fromEntries([...this.nodes].map(([ip, node]) => [ip, node.state]));
  }

  agent(ip: string): NodeAgent | undefined {
    return this.nodes.get(ip)?.agent;
  }

  private transport(node: SimNode): HeartbeatTransport {
    return {
      listen: async (_address: PeerAddress, onFrame) => {
        node.onFrame = onFrame;
      },
      send: (to, bytes) => this.send(node.spec.ip, to, bytes),
      close: async () => {
        node.onFrame = undefined;
      },
    };
  }

  private send(fromIp: string, to: PeerAddress, bytes: Uint8Array): void {
    this.framesSent += 1;
    const copies = this.duplicatePercent > 0 && this.networkRandom() * 100 < this.duplicatePercent ? 2 : 1;
    for (let copy = 0; copy < copies; copy++) {
      const delayMs = this.faults.delivery(fromIp, to.ip, this.networkRandom);
      if (delayMs === undefined) {
        this.framesDropped += 1;
        continue;
      }
      const atMs = this.scheduler.nowMs() + delayMs;
      const batch = this.deliveryBatch;
      // Frames sent one after another for the same instant (a heartbeat to every peer): one event delivers them in
      // the order sent, exactly as one event each would, since no other timer was set in between.
      if (batch !== undefined && batch.atMs === atMs && batch.timersSet === this.scheduler.timersSet) {
        batch.frames.push({ to: to.ip, bytes });
        continue;
      }
      const frames = [{ to: to.ip, bytes }];
      this.scheduler.setTimer(delayMs, () => this.deliver(frames));
      this.deliveryBatch = { atMs, timersSet: this.scheduler.timersSet, frames };
    }
  }

  private deliver(frames: ReadonlyArray<{ to: string; bytes: Uint8Array }>): void {
    for (const { to, bytes } of frames) {
      const target = this.nodes.get(to);
      const clock = target?.clock;
      if (target === undefined || clock === undefined || target.onFrame === undefined) continue;
      if (clock.running) target.onFrame(bytes);
      else clock.run(() => target.onFrame?.(bytes));
    }
  }

  /** Starts (or restarts, with the same identity) the given nodes. */
  start(ips: string[]): void {
    for (const ip of ips) {
      const node = this.nodes.get(ip);
      if (node === undefined) throw new Error(`no node ${ip}`);
      if (node.agent !== undefined) continue;
      node.incarnation += 1;
      const clock = new NodeClock(this.scheduler);
      node.clock = clock;
      const random = derivedRandom(this.seed, `node ${ip} #${node.incarnation}`);
      const kvdbRandom = derivedRandom(this.seed, `kvdb link ${ip} #${node.incarnation}`);
      const config = validateConfig({
        clusterId: this.clusterId,
        kvdb: 'mem://',
        clusterDomain: node.spec.domain,
        ip,
        apiPort: 9001,
        heartbeatPort: 9002,
        replicationPort: 9003,
        dataDir: `/sim/${ip}`,
        schedulerNodeName: `ip-${ip.replaceAll('.', '-')}.sim.internal`,
        poolCapacityGiB: node.spec.storageless ? 1 : 150,
        version: '2.1.0.0-pxsim',
        quorumMode: this.quorumMode,
        timingProfile: this.timingName,
        adminToken: this.adminToken,
        storageless: node.spec.storageless,
      });
      const agent = new NodeAgent(config, {
        clock,
        random,
        transport: this.transport(node),
        identity: {
          load: () => node.identity,
          save: (identity) => {
            node.identity = identity;
          },
        },
        openKvdb: (_endpoints, namespace) =>
          faultyKvdb(new MemKvdb({ store: this.store, namespace }), ip, this.faults, clock, {
            delayMs: () => this.options.kvdbLatencyMs + (this.faults.delivery(ip, 'kvdb', kvdbRandom) ?? 0),
          }),
        log: () => undefined,
      });
      node.agent = agent;
      agent.subscribe((event) => this.onAgentEvent(node, event));
      this.setState(node, 'Initializing', 'started');
      void agent.start();
    }
    this.record('fault', `start ${ips.join(',')}`);
  }

  private onAgentEvent(node: SimNode, event: AgentEvent): void {
    if (event.type === 'node-status' && node.agent !== undefined && event.nodeId === node.agent.nodeId) {
      this.setState(node, event.to, event.reason);
    }
  }

  private setState(node: SimNode, state: NodeState, reason: string): void {
    if (node.state === state || this.disposed) return;
    const before = node.state;
    node.state = state;
    this.record('state', `${before} -> ${state}${reason === '' ? '' : ` (${reason})`}`, node.spec.ip);
    this.check();
  }

  /** Crash (as SIGKILL): nothing handed back; timers and frames of the node are dropped. */
  crash(ips: string[]): void {
    for (const ip of ips) {
      const node = this.nodes.get(ip);
      if (node?.agent === undefined || node.clock === undefined) continue;
      node.clock.dead = true;
      node.onFrame = undefined;
      void node.agent.stop({ crash: true });
      node.agent = undefined;
      this.setState(node, 'crashed', '');
    }
    this.record('fault', `crash ${ips.join(',')}`);
  }

  restart(ips: string[]): void {
    this.crash(ips);
    this.start(ips);
  }

  /** Pause (as SIGSTOP): timers and frames wait until resume. */
  pause(ips: string[]): void {
    for (const ip of ips) {
      const node = this.nodes.get(ip);
      if (node?.clock === undefined || node.agent === undefined || node.clock.paused) continue;
      node.clock.paused = true;
      this.setState(node, 'paused', '');
    }
    this.record('fault', `pause ${ips.join(',')}`);
  }

  resume(ips: string[]): void {
    for (const ip of ips) {
      const node = this.nodes.get(ip);
      if (node?.clock === undefined || node.agent === undefined || !node.clock.paused) continue;
      node.clock.resume();
      this.setState(node, node.agent.status().node.status, 'resumed');
    }
    this.record('fault', `resume ${ips.join(',')}`);
  }

  // ---- network faults --------------------------------------------------------------------------------------------

  cut(from: string[], to: string[], label: string): void {
    this.faults.cut(from, to);
    this.record('fault', label);
    this.updateCutPairs();
  }

  partition(a: string[], b: string[], label = `partition ${a.join(',')} | ${b.join(',')}`): void {
    this.faults.cut(a, b);
    this.faults.cut(b, a);
    this.record('fault', label);
    this.updateCutPairs();
  }

  latency(options: { ms: number; jitterMs: number; from?: string[]; to?: string[] }): void {
    this.faults.addLatency(options, { allowOverMetroLimit: this.allowLatencyOverMetroLimit });
    this.record(
      'fault',
      `latency ${options.ms}±${options.jitterMs} ms ${options.from?.join(',') ?? '*'} -> ${options.to?.join(',') ?? '*'}`,
    );
  }

  loss(percent: number, from?: string[], to?: string[]): void {
    this.faults.addLoss({ percent, ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }) });
    this.record('fault', `loss ${percent}% ${from?.join(',') ?? '*'} -> ${to?.join(',') ?? '*'}`);
  }

  duplicate(percent: number): void {
    if (!(percent >= 0 && percent <= 100)) throw new RangeError(`duplication must be 0–100 %, got ${percent}`);
    this.duplicatePercent = percent;
    this.record('fault', `duplicate ${percent}%`);
  }

  kvdbCut(ips: string[]): void {
    this.faults.cutKvdb(ips);
    this.record('fault', `kvdb-cut ${ips.join(',')}`);
  }

  /** Removes every network and kvdb fault (crashed nodes stay crashed, paused stay paused). */
  heal(): void {
    this.faults.heal();
    this.faults.addLatency({ ms: this.options.baseLatencyMs, jitterMs: 0 });
    this.duplicatePercent = 0;
    this.record('fault', 'heal');
    this.updateCutPairs();
  }

  // ---- operator ----------------------------------------------------------------------------------------------------

  /** A ClusterDomainUpdate, through a running node's agent (as the API would). */
  async setDomain(domain: string, active: boolean): Promise<string> {
    const via = [...this.nodes.values()].find(
      (node) => node.agent !== undefined && node.clock?.paused !== true && this.faults.kvdbReachable(node.spec.ip),
    );
    if (via?.agent === undefined) {
      this.record('operator', `${active ? 'activate' : 'deactivate'} ${domain}: no node can reach the kvdb`);
      return 'Failed';
    }
    const update = await this.settle(
      via.agent.applyClusterDomainUpdate(
        { name: `${active ? 'activate' : 'deactivate'}-${domain}-${this.nowMs}`, clusterDomain: domain, active },
        'apply',
      ),
      30_000,
    );
    this.record(
      'operator',
      `${active ? 'activate' : 'deactivate'} ${domain}: ${update.status}${update.reason === '' ? '' : ` (${update.reason})`}`,
    );
    if (update.status === 'Successful') {
      this.domainStates.set(domain, active ? 'Active' : 'Inactive');
      if (active) this.inactiveSinceMs.delete(domain);
      else if (!this.inactiveSinceMs.has(domain)) this.inactiveSinceMs.set(domain, this.nowMs);
      this.scheduleCheck(this.bounds.inactiveDomainMs + 1);
    }
    return update.status;
  }

  // ---- running and checking ----------------------------------------------------------------------------------------

  /** Waits for work that itself needs virtual time to pass (kvdb round trips), running the clock meanwhile. */
  private async settle<T>(work: Promise<T>, withinMs: number): Promise<T> {
    let outcome: { value: T } | { error: unknown } | undefined;
    work.then(
      (value) => (outcome = { value }),
      (error: unknown) => (outcome = { error }),
    );
    const deadline = this.nowMs + withinMs;
    while (outcome === undefined && this.nowMs < deadline) await this.scheduler.runFor(10);
    if (outcome === undefined) throw new Error(`operation did not finish within ${withinMs} ms of virtual time`);
    if ('error' in outcome) throw outcome.error;
    return outcome.value;
  }

  async run(ms: number): Promise<void> {
    if (this.writeTimer === undefined && this.options.writeIntervalMs > 0) this.scheduleWrite();
    if (this.checkTimer === undefined) this.scheduleChecks();
    await this.scheduler.runFor(ms);
  }

  /** The checkers also run every 500 ms of virtual time: some changes (UP -> SUSPECT_NOT_IN_QUORUM) raise no event. */
  private scheduleChecks(): void {
    this.checkTimer = this.scheduler.setTimer(500, () => {
      this.check();
      this.scheduleChecks();
    });
  }

  /** Client traffic: a write to a random running node; an acknowledgement from a node that does not serve is S3. */
  private scheduleWrite(): void {
    this.writeTimer = this.scheduler.setTimer(this.options.writeIntervalMs, () => {
      const running = [...this.nodes.values()].filter(
        (node) => node.agent !== undefined && node.clock?.paused !== true && !node.spec.storageless,
      );
      const target = running[Math.floor(this.clientRandom() * running.length)];
      if (target?.agent !== undefined) {
        const result = target.agent.write(4096);
        if (result.ok) {
          this.writesAcknowledged += 1;
          if (target.state !== 'Online')
            this.violate('S3', `${target.spec.ip} acknowledged a write while ${target.state}`);
        }
      }
      this.scheduleWrite();
    });
  }

  private updateCutPairs(): void {
    const domains = [...new Set(this.specs.map((spec) => spec.domain))].sort();
    for (let i = 0; i < domains.length; i++) {
      for (let j = i + 1; j < domains.length; j++) {
        const a = domains[i] as string;
        const b = domains[j] as string;
        const key = `${a}|${b}`;
        const aNodes = this.group(a);
        const bNodes = this.group(b);
        const cut = aNodes.every((x) => bNodes.every((y) => this.faults.isCut(x, y) && this.faults.isCut(y, x)));
        if (cut && !this.pairCutSinceMs.has(key)) {
          this.pairCutSinceMs.set(key, this.nowMs);
          this.scheduleCheck(this.bounds.splitBrainMs + 1);
        }
        if (!cut) this.pairCutSinceMs.delete(key);
      }
    }
  }

  private scheduleCheck(delayMs: number): void {
    if (this.checkTimers > 1000) return;
    this.checkTimers += 1;
    this.scheduler.setTimer(delayMs, () => {
      this.checkTimers -= 1;
      this.check();
    });
  }

  /** Nodes of the domain for which `test` holds of their engine's verdict; crashed and paused nodes never count. */
  private nodesIn(domain: string, test: (verdict: { gossipState: string; serving: boolean }) => boolean): string[] {
    const ips: string[] = [];
    for (const spec of this.specs) {
      if (spec.domain !== domain) continue;
      const node = this.nodes.get(spec.ip);
      if (node?.agent === undefined || node.clock?.paused === true) continue;
      if (test(node.agent.selfState())) ips.push(spec.ip);
    }
    return ips;
  }

  /**
   * S1 (no split brain: of two domains cut off from each other both ways for longer than the bound, the nodes of at
   * most one are UP) and S2 (after the bound, no node of an inactive domain serves). Run on every state change, when a
   * bound expires, and every 500 ms (UP -> SUSPECT_NOT_IN_QUORUM raises no status event).
   */
  private check(): void {
    for (const [pair, sinceMs] of this.pairCutSinceMs) {
      if (this.nowMs <= sinceMs + this.bounds.splitBrainMs) continue;
      const [a, b] = pair.split('|') as [string, string];
      const upA = this.nodesIn(a, (verdict) => verdict.gossipState === 'UP');
      if (upA.length === 0) continue;
      const upB = this.nodesIn(b, (verdict) => verdict.gossipState === 'UP');
      if (upB.length > 0) {
        this.violate(
          'S1',
          `split brain: ${a} and ${b} cut off both ways since ${sinceMs} ms, yet ${upA.join(',')} and ${upB.join(',')} are UP`,
        );
      }
    }
    for (const [domain, sinceMs] of this.inactiveSinceMs) {
      if (this.nowMs <= sinceMs + this.bounds.inactiveDomainMs) continue;
      const serving = this.nodesIn(domain, (verdict) => verdict.serving);
      if (serving.length > 0)
        this.violate('S2', `domain ${domain} inactive since ${sinceMs} ms, yet ${serving.join(',')} serve`);
    }
  }

  violate(check: Violation['check'], detail: string): void {
    if (this.violations.some((violation) => violation.check === check && violation.detail === detail)) return;
    if (this.violations.length >= 100) return;
    this.violations.push({ atMs: this.nowMs, check, detail });
    this.record('check', `VIOLATION ${check}: ${detail}`);
  }

  /**
   * VOPR's liveness phase: faults stop (heal, restart crashed, resume paused), then every node of an active domain must
   * serve within `boundMs` (L1).
   */
  async liveness(boundMs = this.livenessBoundMs()): Promise<void> {
    this.heal();
    const down = [...this.nodes.values()].filter((node) => node.agent === undefined).map((node) => node.spec.ip);
    if (down.length > 0) this.start(down);
    this.resume([...this.nodes.values()].filter((node) => node.clock?.paused === true).map((node) => node.spec.ip));
    const deadline = this.nowMs + boundMs;
    while (this.nowMs < deadline) {
      await this.scheduler.runFor(500);
      if (this.activeNodes().every((ip) => this.state(ip) === 'Online')) return;
    }
    const stuck = this.activeNodes().filter((ip) => this.state(ip) !== 'Online');
    const why = (ip: string): string => {
      const status = this.nodes.get(ip)?.agent?.status();
      if (status === undefined) return this.state(ip);
      return `${status.node.status}: ${status.phase === 'running' ? status.node.reason : status.phaseReason}`;
    };
    this.violate(
      'L1',
      `${stuck.map((ip) => `${ip} (${why(ip)})`).join(', ')} not serving ${boundMs} ms after the faults stopped`,
    );
  }

  /** Nodes of domains the operator left active. */
  activeNodes(): string[] {
    return this.specs.filter((spec) => this.domainStates.get(spec.domain) === 'Active').map((spec) => spec.ip);
  }

  livenessBoundMs(): number {
    const timing = timingProfile(this.timingName);
    // A crashed predecessor's alive record, a fresh snapshot, the activation hold, and detection, twice over.
    return (
      2 * (Math.max(3000, 3 * timing.heartbeatIntervalMs) + timing.snapshotFreshnessMs + this.bounds.detectionBoundMs) +
      5000
    );
  }

  /** Stops every node (end of a run): releases watchers and timers. */
  async dispose(): Promise<void> {
    this.disposed = true;
    this.writeTimer?.cancel();
    this.checkTimer?.cancel();
    for (const node of this.nodes.values()) {
      if (node.clock !== undefined) node.clock.dead = true;
      await node.agent?.stop({ crash: true });
      node.agent = undefined;
    }
  }
}
