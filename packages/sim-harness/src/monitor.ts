import {
  checkInactiveFenced,
  checkSplitBrain,
  SafetyWatch,
  ViolationLog,
  type Finding,
  type SafetyBoundsMs,
  type Violation,
} from '@pxsim/checkers';
import type { Scheduler, Timer } from '@pxsim/runtime';
import type { NodeSpec } from './cluster.js';
import type { NodeLifecycle } from './lifecycle.js';

/** Bound-expiry checks waiting at once (a schedule that cuts and heals in a loop cannot pile up more). */
const CHECK_TIMERS_MAX = 1000;
const CHECK_EVERY_MS = 500;

/**
 * Runs the safety checkers S1 and S2 over the cluster: on every state change, when a bound expires, and every 500
 * ms of virtual time (UP -> SUSPECT_NOT_IN_QUORUM raises no status event). Findings go to `onViolation`.
 */
export class SafetyMonitor {
  readonly watch: SafetyWatch;
  readonly log = new ViolationLog();
  private periodic: Timer | undefined;
  private checkTimers = 0;

  constructor(
    bounds: SafetyBoundsMs,
    private readonly scheduler: Scheduler,
    private readonly specs: readonly NodeSpec[],
    private readonly lifecycle: NodeLifecycle,
    private readonly onViolation: (violation: Violation) => void,
  ) {
    this.watch = new SafetyWatch(bounds);
  }

  get violations(): Violation[] {
    return this.log.violations;
  }

  report(finding: Finding): void {
    const violation = this.log.add(this.scheduler.nowMs(), finding);
    if (violation !== undefined) this.onViolation(violation);
  }

  /** The link faults changed: re-read which domain pairs are cut off both ways. */
  updateCuts(group: (name: string) => string[], isCut: (from: string, to: string) => boolean): void {
    const domains = [...new Set(this.specs.map((spec) => spec.domain))];
    const newlyCut = this.watch.updateCuts(this.scheduler.nowMs(), domains, group, isCut);
    for (let pair = 0; pair < newlyCut.length; pair++) this.checkAfter(this.watch.bounds.splitBrainMs + 1);
  }

  /** The operator's ClusterDomainUpdate took effect. */
  domainChanged(domain: string, active: boolean): void {
    this.watch.setDomainActive(domain, active, this.scheduler.nowMs());
    this.checkAfter(this.watch.bounds.inactiveDomainMs + 1);
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

  check(): void {
    const nowMs = this.scheduler.nowMs();
    for (const finding of checkSplitBrain(this.watch, nowMs, (domain) =>
      this.nodesIn(domain, (node) => node.gossipState === 'UP'),
    ))
      this.report(finding);
    for (const finding of checkInactiveFenced(this.watch, nowMs, (domain) =>
      this.nodesIn(domain, (node) => node.serving),
    ))
      this.report(finding);
  }
}
