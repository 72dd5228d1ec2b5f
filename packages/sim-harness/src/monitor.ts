import {
  checkInactiveFenced,
  checkLatencyStability,
  checkSplitBrain,
  HearingLog,
  SafetyWatch,
  ViolationLog,
  type DomainNode,
  type Finding,
  type SafetyBoundsMs,
  type SplitBrainRule,
  type Violation,
} from '@pxsim/checkers';
import { isNetworkFault, type Fault, type Scheduler, type Timer } from '@pxsim/runtime';
import type { MemStore } from '@pxsim/kvdb-client';
import type { NodeSpec } from './cluster.js';
import { watchDomainKeys } from './domain-watch.js';
import type { SimNetwork } from './network.js';
import { StabilityWatch } from './stability.js';
import type { NodeLifecycle } from './lifecycle.js';

/** Bound-expiry checks waiting at once (a schedule that cuts and heals in a loop cannot pile up more). */
const CHECK_TIMERS_MAX = 1000;
const CHECK_EVERY_MS = 500;

/**
 * Runs the safety checkers S1 and S2 over the cluster: on every state change, when a bound expires, and every 500
 * ms of virtual time (UP -> SUSPECT_NOT_IN_QUORUM raises no status event). Findings go to `onViolation`. S1 reads who
 * heard whom from the network's deliveries (`hearing`, fed by the host).
 */
export class SafetyMonitor {
  readonly watch: SafetyWatch;
  readonly hearing = new HearingLog();
  readonly log = new ViolationLog();
  private periodic: Timer | undefined;
  private checkTimers = 0;
  private stopDomainWatch: () => void = () => undefined;
  private readonly members: DomainNode[];
  /** L2's latency-only windows. */
  readonly stability: StabilityWatch;
  /** The nodes that should serve (of domains the operator left active); the host sets it. */
  activeNodes: () => string[];

  constructor(
    bounds: SafetyBoundsMs,
    private readonly scheduler: Scheduler,
    private readonly specs: readonly NodeSpec[],
    private readonly lifecycle: NodeLifecycle,
    private readonly onViolation: (violation: Violation) => void,
    private readonly splitBrainRule: SplitBrainRule = 'quorum-and-domains',
    stabilitySettleMs = 0,
  ) {
    this.watch = new SafetyWatch(bounds);
    this.members = specs.map((spec) => ({ node: spec.ip, domain: spec.domain }));
    this.activeNodes = () => specs.map((spec) => spec.ip);
    this.stability = new StabilityWatch(stabilitySettleMs);
  }

  /** Faults are about to act: L2's windows close first (a crash changes states at once); a heal clears the cuts. */
  faultsApplying(faults: readonly Fault[]): void {
    for (const fault of faults) {
      if (fault.kind === 'heal') this.stability.healed();
      else if (fault.kind !== 'latency') this.stability.disturbed(this.scheduler.nowMs(), isNetworkFault(fault));
    }
  }

  /** A node's state changed: inside an L2 window, leaving Online is a violation. */
  stateChanged(node: string, from: string, to: string, reason: string): void {
    const since = this.stability.openSince;
    if (since === undefined || from !== 'Online' || to === 'Online') return;
    const atMs = this.scheduler.nowMs();
    const finding = checkLatencyStability([{ atMs, kind: 'state', node, from, to, reason }]);
    if (finding !== undefined)
      this.report({ ...finding, detail: `${finding.detail} (only latency since ${since} ms, all Online then)` });
  }

  get violations(): Violation[] {
    return this.log.violations;
  }

  report(finding: Finding): void {
    const violation = this.log.add(this.scheduler.nowMs(), finding);
    if (violation !== undefined) this.onViolation(violation);
  }

  /**
   * Feeds the checkers from the system itself: who heard whom from the network's deliveries, S2's windows from the
   * domain keys' changes in the kvdb (the watch ends with `stop`).
   */
  listen(network: SimNetwork, store: MemStore, clusterId: string): void {
    network.onDelivered = (to, from, sentAtMs) => this.hearing.received(to, from, sentAtMs);
    this.stopDomainWatch = watchDomainKeys(store, clusterId, (domain, active, revision) =>
      this.domainChanged(domain, active, revision),
    );
  }

  /** A domain's key changed in the kvdb (at this instant, at `revision`). */
  domainChanged(domain: string, active: boolean, revision: number): void {
    const wasInactive = this.watch.inactiveSinceMs.has(domain);
    this.watch.setDomainActive(domain, active, this.scheduler.nowMs(), revision);
    this.stability.disturbed(this.scheduler.nowMs());
    if (!active && !wasInactive) this.checkAfter(this.watch.bounds.inactiveDomainMs + 1);
  }

  startPeriodic(): void {
    if (this.periodic !== undefined) return;
    this.periodic = this.scheduler.setTimer(CHECK_EVERY_MS, () => {
      this.periodic = undefined;
      this.check();
      this.startPeriodic();
    });
  }

  stop(): void {
    this.periodic?.cancel();
    this.stopDomainWatch();
  }

  private checkAfter(delayMs: number): void {
    if (this.checkTimers > CHECK_TIMERS_MAX) return;
    this.checkTimers += 1;
    this.scheduler.setTimer(delayMs, () => {
      this.checkTimers -= 1;
      this.check();
    });
  }

  /** Nodes of the domain for which `test` holds of their agent's status; crashed and paused nodes never count. */
  private nodesIn(domain: string, test: (node: { gossipState: string; serving: boolean }) => boolean): string[] {
    const ips: string[] = [];
    for (const spec of this.specs) {
      if (spec.domain !== domain) continue;
      const node = this.lifecycle.nodes.get(spec.ip);
      if (node?.agent === undefined || node.clock?.paused === true) continue;
      if (test(node.agent.status().node)) ips.push(spec.ip);
    }
    return ips;
  }

  /**
   * The storage nodes that serve now (a crashed or paused process serves nothing; a witness stores nothing). Read from
   * the states the agents reported, so that checking does not step the agents (their order of work within an instant
   * stays theirs); `confirm` asks an agent itself (its status brings it to now) before a finding is reported.
   */
  private servingNodes(): DomainNode[] {
    const serving: DomainNode[] = [];
    for (const [index, spec] of this.specs.entries()) {
      const node = this.lifecycle.nodes.get(spec.ip);
      if (spec.storageless || node?.state !== 'Online' || node.clock?.paused === true) continue;
      serving.push(this.members[index] ?? { node: spec.ip, domain: spec.domain });
    }
    return serving;
  }

  private confirmServing(ip: string): boolean {
    const node = this.lifecycle.nodes.get(ip);
    return node?.agent !== undefined && node.clock?.paused !== true && node.agent.status().node.serving;
  }

  check(): void {
    const nowMs = this.scheduler.nowMs();
    // An open window stays open until a disturbance: no need to ask whether every active node is Online.
    if (this.stability.openSince === undefined) {
      this.stability.update(
        nowMs,
        this.activeNodes().every((ip) => this.lifecycle.nodes.get(ip)?.state === 'Online'),
      );
    }
    const s1 = {
      nowMs,
      boundMs: this.watch.bounds.splitBrainMs,
      hearing: this.hearing,
      members: this.members,
      rule: this.splitBrainRule,
    };
    if (checkSplitBrain({ ...s1, serving: this.servingNodes() }).length > 0) {
      const confirmed = this.servingNodes().filter((node) => this.confirmServing(node.node));
      for (const finding of checkSplitBrain({ ...s1, serving: confirmed })) this.report(finding);
    }
    for (const finding of checkInactiveFenced(this.watch, nowMs, (domain) =>
      this.nodesIn(domain, (node) => node.serving),
    ))
      this.report(finding);
  }
}
