import {
  checkLiveness,
  type CheckName,
  type Finding,
  type HistoryEvent,
  type SplitBrainRule,
  type Violation,
} from '@pxsim/checkers';
import type { Ticker } from './ticker.js';
import { MemStore } from '@pxsim/kvdb-client';
import { aliveTtlMs, type AgentRuntime, type NodeAgent } from '@pxsim/node-agent';
import {
  safetyBounds,
  timingProfile,
  type QuorumMode,
  type QuorumTiming,
  type SafetyBounds,
  type TimingProfileName,
} from '@pxsim/quorum';
import {
  derivedRandom,
  EventBudgetExceeded,
  type LinkFaults,
  mapTargets,
  Scheduler,
  type EventBudget,
  type Fault,
} from '@pxsim/runtime';
import { groupIps, topology, type ClusterPlan, type NodeSpec } from './cluster.js';
import { HistoryRecorder } from './history.js';
import { NodeLifecycle, type NodeState } from './lifecycle.js';
import { SafetyMonitor } from './monitor.js';
import { SimNetwork, type Endpoint } from './network.js';
import { Operator } from './operator.js';
import { Workload } from './workload.js';
import { volumeIoFor, type VolumeIo, type VolumeIoOptions } from './volume-io.js';
import { applyInstantFault, stuckNodes } from './phases.js';

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
  /** Volume I/O from clients in both domains (default on, `DEFAULT_VOLUME_IO`); `false`: none. */
  volumeIo?: Partial<VolumeIoOptions> | false;
  /** History events kept (older ones are dropped from the record, not from the hash). Default 100,000. */
  historyMax?: number;
  /** The MemStore's whole-prefix answer cache (default on; off only to measure it, see `pnpm bench sim`). */
  rangeAnswerCache?: boolean;
  /** The scheduler's event budget (default `DEFAULT_EVENT_BUDGET`): running out fails the run naming it and the seed. */
  eventBudget?: Partial<EventBudget>;
  /** Which statement of S1 to check (default `quorum-and-domains`, what safe mode keeps; see the checkers README). */
  splitBrainRule?: SplitBrainRule;
  /** Makes each agent's quorum engine (default: the real one; the sensitivity test gives deliberately broken ones). */
  quorumEngine?: AgentRuntime['quorumEngine'];
}

export type { NodeState } from './lifecycle.js';

const ADMIN_TOKEN = 'simulation-admin-token';

/**
 * L2 on every schedule: how long after the last disturbance the cluster must have been left alone before latency
 * alone is held to "no node leaves Online" (see `StabilityWatch`): the S1 bound (a peer silenced just before the heal
 * is detected) plus F (a partition claim asked for then is created, seen and released by a winner that hears again).
 * With no settle time, random schedules break it within 53 (a claim asked before a heal fences the witness after it).
 */
function stabilitySettleMs(timing: QuorumTiming): number {
  return safetyBounds(timing).splitBrainMs + timing.snapshotFreshnessMs;
}

/** What every simulated node shares: the embedded kvdb, the admin token, data dirs and host names by IP. */
function simulationPlan(clusterId: string, quorumMode: QuorumMode, timing: TimingProfileName): ClusterPlan {
  return {
    clusterId,
    kvdb: 'mem://',
    quorumMode,
    timing,
    adminToken: ADMIN_TOKEN,
    dataDir: (spec) => `/sim/${spec.ip}`,
    hostSuffix: '.sim.internal',
  };
}

/**
 * A whole cluster in one deterministic thread: the real node agents, quorum engine and MemKvdb on a virtual clock,
 * a simulated network between agents and between each agent and the kvdb, and the faults the nemeses inject. One seed
 * reproduces a run exactly. The parts: `SimNetwork` (frames and link faults), `NodeLifecycle` (processes),
 * `Operator` (ClusterDomainUpdates), `Workload` (client writes), `HistoryRecorder` (the typed history) and
 * `SafetyMonitor` (S1, S2); the checkers themselves live in `@pxsim/checkers`.
 */
export class Simulation {
  readonly seed: number;
  readonly scheduler: Scheduler;
  readonly specs: NodeSpec[];
  readonly clusterId: string;
  readonly quorumMode: QuorumMode;
  readonly timingName: TimingProfileName;
  readonly bounds: SafetyBounds;
  private readonly recorder: HistoryRecorder;
  /** The kvdb every agent's client shares. */
  readonly store: MemStore;
  private readonly network: SimNetwork;
  private readonly lifecycle: NodeLifecycle;
  private readonly monitor: SafetyMonitor;
  private readonly operator: Operator;
  private readonly workload: Workload;
  /** The volume's application and clients (undefined when the run has no volume I/O). */
  readonly volumeIo: VolumeIo | undefined;
  /** Domains the operator left active (the liveness phase expects their nodes to serve). */
  private readonly domainStates = new Map<string, 'Active' | 'Inactive'>();
  /** Work between scheduler runs (the Kubernetes controllers' passes), if any. */
  ticker: Ticker | undefined;

  constructor(options: SimulationOptions) {
    this.seed = options.seed;
    this.scheduler = new Scheduler(options.eventBudget);
    this.clusterId = options.clusterId ?? 'px-dr-cluster';
    this.quorumMode = options.quorumMode ?? 'safe';
    this.timingName = options.timing ?? 'fast';
    this.bounds = safetyBounds(timingProfile(this.timingName));
    this.specs = topology(
      options.domains ?? ['us-east-1a', 'us-east-1b'],
      options.nodesPerDomain ?? 3,
      options.witness ?? false,
    );
    this.recorder = new HistoryRecorder(options.historyMax ?? 100_000);
    this.store = new MemStore({ clock: this.scheduler, rangeAnswerCache: options.rangeAnswerCache ?? true });
    const plan = simulationPlan(this.clusterId, this.quorumMode, this.timingName);
    const endpoints = new Map<string, Endpoint>();
    this.network = new SimNetwork(
      this.scheduler,
      derivedRandom(this.seed, 'network'),
      options.baseLatencyMs ?? 1,
      endpoints,
    );
    this.lifecycle = new NodeLifecycle(this.specs, {
      seed: this.seed,
      scheduler: this.scheduler,
      network: this.network,
      store: this.store,
      plan,
      kvdbLatencyMs: options.kvdbLatencyMs ?? 1,
      ...(options.quorumEngine === undefined ? {} : { quorumEngine: options.quorumEngine }),
      onStarted: (ip) => this.monitor.hearing.started(ip, this.nowMs),
      onState: (node, from, reason) => {
        this.record({ atMs: this.nowMs, kind: 'state', node: node.spec.ip, from, to: node.state, reason });
        this.monitor.stateChanged(node.spec.ip, from, node.state, reason);
        this.monitor.check();
      },
    });
    for (const [ip, node] of this.lifecycle.nodes) endpoints.set(ip, node);
    this.monitor = new SafetyMonitor(
      this.bounds,
      this.scheduler,
      this.specs,
      this.lifecycle,
      (violation) =>
        this.record({ atMs: violation.atMs, kind: 'check', check: violation.check, detail: violation.detail }),
      options.splitBrainRule,
      stabilitySettleMs(timingProfile(this.timingName)),
    );
    this.monitor.activeNodes = () => this.activeNodes();
    this.monitor.listen(this.network, this.store, this.clusterId);
    this.operator = new Operator(this.lifecycle, this.network, {
      nowMs: () => this.nowMs,
      settle: (work, withinMs) => settle(work, withinMs, this),
      record: (event) => this.record(event),
      domainChanged: (domain, active) => this.domainStates.set(domain, active ? 'Active' : 'Inactive'),
    });
    this.workload = new Workload(
      this.scheduler,
      this.lifecycle,
      derivedRandom(this.seed, 'client'),
      options.writeIntervalMs ?? 250,
      (finding) => this.monitor.report(finding),
    );
    for (const spec of this.specs) this.domainStates.set(spec.domain, 'Active');
    const ioRandom = derivedRandom(this.seed, 'volume io');
    this.volumeIo = volumeIoFor(options.volumeIo, this.scheduler, this.lifecycle, this.network.faults, ioRandom);
  }

  get nowMs(): number {
    return this.scheduler.nowMs();
  }

  /** The typed history (faults, operator actions, state changes, violations); `historyLine` prints one. */
  get history(): readonly HistoryEvent[] {
    return this.recorder.events;
  }

  get violations(): Violation[] {
    return this.monitor.violations;
  }

  get faults(): LinkFaults {
    return this.network.faults;
  }

  get framesSent(): number {
    return this.network.framesSent;
  }

  get heartbeatBytesSent(): number {
    return this.network.heartbeatBytesSent;
  }

  get framesDropped(): number {
    return this.network.framesDropped;
  }

  get writesAcknowledged(): number {
    return this.workload.writesAcknowledged;
  }

  /** What the coverage counts read from a run: writes a node took only on resuming, L2 windows opened. */
  get runCounts(): { queuedWrites: number; stabilityWindows: number } {
    const { workload, monitor } = this;
    return { queuedWrites: workload.queuedAcrossPause.taken, stabilityWindows: monitor.stability.windowsOpened };
  }

  /** Latency above the 500 ms metro limit is refused unless this is set (to show what the limit protects against). */
  get allowLatencyOverMetroLimit(): boolean {
    return this.network.allowLatencyOverMetroLimit;
  }

  set allowLatencyOverMetroLimit(allow: boolean) {
    this.network.allowLatencyOverMetroLimit = allow;
  }

  /** The hex digest of every history line so far: equal digests, equal runs. */
  traceHash(): string {
    return this.recorder.digest();
  }

  private record(event: HistoryEvent): void {
    this.recorder.record(event);
  }

  /** Records a violation found outside the simulator's own checkers (e.g. L2 by a test). */
  violate(check: CheckName, detail: string): void {
    this.monitor.report({ check, detail });
  }

  // ---- nodes -----------------------------------------------------------------------------------------------------

  group(text: string): string[] {
    return groupIps(this.specs, text);
  }

  state(ip: string): NodeState {
    return this.lifecycle.node(ip).state;
  }

  states(): Record<string, NodeState> {
    return Object.fromEntries([...this.lifecycle.nodes].map(([ip, node]) => [ip, node.state]));
  }

  agent(ip: string): NodeAgent | undefined {
    return this.lifecycle.nodes.get(ip)?.agent;
  }

  /** Runs `work` in node `ip`'s process now; false when it is not running or paused. */
  inNode = (ip: string, work: (agent: NodeAgent) => void): boolean => this.lifecycle.inNode(ip, work);

  // ---- faults: the vocabulary of @pxsim/runtime ----------------------------------------------------------------

  /**
   * Applies faults of the vocabulary at this instant, their groups (`all`, domains, node IPs) resolved to IPs, and
   * records them as one history event (named `label` when given). Operator actions wait for their update.
   */
  async apply(faults: readonly Fault[], label?: string): Promise<void> {
    const instant: Fault[] = [];
    for (const fault of faults) {
      if (fault.kind === 'activate' || fault.kind === 'deactivate') {
        await this.setDomain(fault.domain, fault.kind === 'activate');
      } else if (fault.kind === 'restart') {
        const ips = fault.nodes.flatMap((name) => this.resolve(name));
        this.restart(ips);
      } else {
        instant.push(fault);
      }
    }
    if (instant.length > 0 || label !== undefined) this.applyNow(instant, label);
  }

  /** `apply` for faults that take no virtual time (everything but operator actions). */
  applyNow(faults: readonly Fault[], label?: string): void {
    const resolved = faults.map((fault) =>
      mapTargets(fault, (targets) => targets.flatMap((name) => this.resolve(name))),
    );
    this.monitor.faultsApplying(resolved);
    for (const fault of resolved) applyInstantFault(fault, this.network, this.lifecycle);
    this.record({ atMs: this.nowMs, kind: 'fault', faults: resolved, ...(label === undefined ? {} : { label }) });
  }

  private resolve(name: string): string[] {
    return name === '*' ? ['*'] : this.group(name);
  }

  /** Starts (or restarts, with the same identity) the given nodes. */
  start(ips: string[]): void {
    this.applyNow([{ kind: 'start', nodes: ips }]);
  }

  /** Crash (as SIGKILL): nothing handed back; timers and frames of the node are dropped. */
  crash(ips: string[]): void {
    this.applyNow([{ kind: 'crash', nodes: ips }]);
  }

  restart(ips: string[]): void {
    this.crash(ips);
    this.start(ips);
  }

  /** Pause (as SIGSTOP): timers and frames wait until resume. */
  pause(ips: string[]): void {
    this.applyNow([{ kind: 'pause', nodes: ips }]);
  }

  resume(ips: string[]): void {
    this.applyNow([{ kind: 'resume', nodes: ips }]);
  }

  cut(from: string[], to: string[], label: string): void {
    this.applyNow(from.length === 0 || to.length === 0 ? [] : [{ kind: 'cut', from, to }], label);
  }

  partition(a: string[], b: string[], label?: string): void {
    this.applyNow([{ kind: 'partition', a, b }], label);
  }

  latency(options: { ms: number; jitterMs: number; from?: string[]; to?: string[] }): void {
    this.applyNow([{ kind: 'latency', ...options }]);
  }

  loss(percent: number, from?: string[], to?: string[]): void {
    this.applyNow([
      { kind: 'loss', percent, ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }) },
    ]);
  }

  duplicate(percent: number): void {
    this.applyNow([{ kind: 'duplicate', percent }]);
  }

  kvdbCut(ips: string[]): void {
    this.applyNow([{ kind: 'kvdb-cut', nodes: ips }]);
  }

  /** Removes every network and kvdb fault (crashed nodes stay crashed, paused stay paused). */
  heal(): void {
    this.applyNow([{ kind: 'heal' }]);
  }

  /** A ClusterDomainUpdate, through a running node's agent (as the API would). */
  setDomain(domain: string, active: boolean): Promise<string> {
    return this.operator.setDomain(domain, active);
  }

  // ---- running -------------------------------------------------------------------------------------------------

  /** Runs the scheduler; a run that exhausts its event budget fails naming the budget and this run's seed. */
  async runScheduler(ms: number): Promise<void> {
    try {
      await this.scheduler.runFor(ms);
    } catch (error) {
      if (!(error instanceof EventBudgetExceeded)) throw error;
      throw new Error(`${error.message}; simulation seed ${this.seed}`, { cause: error });
    }
  }

  async run(ms: number): Promise<void> {
    this.workload.start();
    this.volumeIo?.start();
    this.monitor.startPeriodic();
    const ticker = this.ticker;
    if (ticker === undefined || ticker.running) await this.runScheduler(ms);
    else
      await ticker.run(
        ms,
        () => this.nowMs,
        (step) => this.runScheduler(step),
      );
  }

  /**
   * VOPR's liveness phase: faults stop (heal, restart crashed, resume paused), then every node of an active domain must
   * serve within `boundMs` (L1).
   */
  async liveness(boundMs = this.livenessBoundMs()): Promise<void> {
    this.heal();
    const nodes = [...this.lifecycle.nodes.values()];
    const down = nodes.filter((node) => node.agent === undefined).map((node) => node.spec.ip);
    if (down.length > 0) this.start(down);
    this.resume(nodes.filter((node) => node.clock?.paused === true).map((node) => node.spec.ip));
    const deadline = this.nowMs + boundMs;
    while (this.nowMs < deadline) {
      await this.runScheduler(500);
      if (this.activeNodes().every((ip) => this.state(ip) === 'Online')) return;
    }
    const finding: Finding | undefined = checkLiveness(stuckNodes(this.activeNodes(), this.lifecycle), boundMs);
    if (finding !== undefined) this.monitor.report(finding);
  }

  /** Nodes of domains the operator left active. */
  activeNodes(): string[] {
    return this.specs.filter((spec) => this.domainStates.get(spec.domain) === 'Active').map((spec) => spec.ip);
  }

  livenessBoundMs(): number {
    const timing = timingProfile(this.timingName);
    // A crashed predecessor's alive record, a fresh snapshot, the activation hold, and detection, twice over.
    return 2 * (aliveTtlMs(timing) + timing.snapshotFreshnessMs + this.bounds.detectionBoundMs) + 5000;
  }

  /**
   * The end of the volume I/O (after the liveness phase): the operator activates every domain again (failback), then
   * every written block is read back and the data checkers run over the whole history.
   */
  async finishIo(withinMs = this.livenessBoundMs()): Promise<void> {
    const io = this.volumeIo;
    if (io === undefined) return;
    for (const [domain, state] of this.domainStates) if (state === 'Inactive') await this.setDomain(domain, true);
    await io.finish(
      (ms) => this.runScheduler(ms),
      (finding) => this.monitor.report(finding),
      withinMs,
    );
  }

  /** Stops every node (end of a run): releases watchers and timers. */
  async dispose(): Promise<void> {
    this.volumeIo?.stop();
    this.workload.stop();
    this.monitor.stop();
    await this.lifecycle.dispose();
  }
}

/** The virtual time one wait for an agent's answer advances by, ms. */
const ANSWER_STEP_MS = 10;

/** Runs `start` in node `ip`'s process and advances virtual time until it answers (undefined: it never did). */
export async function askInNode<T>(
  sim: Simulation,
  ip: string,
  withinMs: number,
  start: (agent: NodeAgent, done: (answer: T) => void) => void,
): Promise<T | undefined> {
  let answer: { value: T } | undefined;
  const ran = sim.inNode(ip, (agent) =>
    start(agent, (value) => {
      answer ??= { value };
    }),
  );
  if (!ran) return undefined;
  for (let waitedMs = 0; answer === undefined && waitedMs < withinMs; waitedMs += ANSWER_STEP_MS)
    await sim.run(ANSWER_STEP_MS);
  return answer?.value;
}

/** Waits for work that itself needs virtual time to pass (kvdb round trips), running the clock meanwhile. */
async function settle<T>(
  work: Promise<T>,
  withinMs: number,
  sim: { readonly nowMs: number; runScheduler(ms: number): Promise<void> },
): Promise<T> {
  let outcome: { value: T } | { error: unknown } | undefined;
  work.then(
    (value) => (outcome = { value }),
    (error: unknown) => (outcome = { error }),
  );
  const deadline = sim.nowMs + withinMs;
  while (outcome === undefined && sim.nowMs < deadline) await sim.runScheduler(10);
  if (outcome === undefined) throw new Error(`operation did not finish within ${withinMs} ms of virtual time`);
  if ('error' in outcome) throw outcome.error;
  return outcome.value;
}
