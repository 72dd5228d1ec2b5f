import type { NetworkFault } from './fault.js';

/** The metro limit: a latency above this is refused unless explicitly allowed. */
export const METRO_LATENCY_MS_MAX = 500;

export interface LatencyRule {
  /** Source IPs ('*' or absent: any). */
  from?: string[];
  /** Destination IPs ('*' or absent: any). */
  to?: string[];
  ms: number;
  jitterMs: number;
}

export interface LossRule {
  from?: string[];
  to?: string[];
  /** 0–100. */
  percent: number;
}

export interface FaultSummary {
  cuts: string[];
  kvdbCut: string[];
  latency: LatencyRule[];
  loss: LossRule[];
}

const RULES_MAX = 256;

const direction = (fault: {
  from?: string[] | undefined;
  to?: string[] | undefined;
}): { from?: string[]; to?: string[] } => ({
  ...(fault.from === undefined ? {} : { from: fault.from }),
  ...(fault.to === undefined ? {} : { to: fault.to }),
});

const directed = (fault: Extract<NetworkFault, { kind: 'latency' }>): LatencyRule => ({
  ms: fault.ms,
  jitterMs: fault.jitterMs,
  ...direction(fault),
});

function matches(list: string[] | undefined, ip: string): boolean {
  return list === undefined || list.length === 0 || list.includes('*') || list.includes(ip);
}

/**
 * The network faults in force between node IPs, and between each node and the kvdb: one-way cuts, latency with
 * jitter, loss. Consulted by the fault-injecting transport and kvdb wrappers below; user space, no netem.
 */
export class LinkFaults {
  /** from IP → destination IPs it cannot reach. */
  private readonly cuts = new Map<string, Set<string>>();
  private readonly kvdbCut = new Set<string>();
  private latencyRules: LatencyRule[] = [];
  private lossRules: LossRule[] = [];
  private duplicate = 0;

  cut(from: string[], to: string[]): void {
    for (const a of from) {
      let targets = this.cuts.get(a);
      if (targets === undefined) {
        targets = new Set();
        this.cuts.set(a, targets);
      }
      for (const b of to) if (a !== b) targets.add(b);
    }
  }

  isCut(from: string, to: string): boolean {
    return this.cuts.get(from)?.has(to) === true;
  }

  cutKvdb(ips: string[]): void {
    for (const ip of ips) this.kvdbCut.add(ip);
  }

  kvdbReachable(ip: string): boolean {
    return !this.kvdbCut.has(ip);
  }

  addLatency(rule: LatencyRule, options: { allowOverMetroLimit?: boolean } = {}): void {
    if (!Number.isFinite(rule.ms) || rule.ms < 0 || !Number.isFinite(rule.jitterMs) || rule.jitterMs < 0) {
      throw new RangeError(`latency must be 0 ms or more, got ${rule.ms} ± ${rule.jitterMs} ms`);
    }
    if (rule.ms + rule.jitterMs > METRO_LATENCY_MS_MAX && options.allowOverMetroLimit !== true) {
      throw new RangeError(
        `latency ${rule.ms} ± ${rule.jitterMs} ms exceeds the metro limit of ${METRO_LATENCY_MS_MAX} ms one way; allow it explicitly to see what the limit protects against`,
      );
    }
    if (this.latencyRules.length >= RULES_MAX) throw new RangeError(`at most ${RULES_MAX} latency rules`);
    this.latencyRules.push(rule);
  }

  addLoss(rule: LossRule): void {
    if (!(rule.percent >= 0 && rule.percent <= 100)) throw new RangeError(`loss must be 0–100 %, got ${rule.percent}`);
    if (this.lossRules.length >= RULES_MAX) throw new RangeError(`at most ${RULES_MAX} loss rules`);
    this.lossRules.push(rule);
  }

  /** Delay for one message from → to, or undefined when it is lost or cut. `random` is uniform in [0, 1). */
  delivery(from: string, to: string, random: () => number): number | undefined {
    if (this.isCut(from, to)) return undefined;
    for (const rule of this.lossRules) {
      if (matches(rule.from, from) && matches(rule.to, to) && random() * 100 < rule.percent) return undefined;
    }
    let delayMs = 0;
    for (const rule of this.latencyRules) {
      if (matches(rule.from, from) && matches(rule.to, to))
        delayMs = Math.max(delayMs, rule.ms + random() * rule.jitterMs);
    }
    return Math.round(delayMs);
  }

  healKvdb(ips: string[]): void {
    for (const ip of ips) this.kvdbCut.delete(ip);
  }

  /** Share of frames delivered twice (0–100); the simulated network and the socket wrapper (`faultyTransport`) read it. */
  get duplicatePercent(): number {
    return this.duplicate;
  }

  setDuplicate(percent: number): void {
    if (!(percent >= 0 && percent <= 100)) throw new RangeError(`duplication must be 0–100 %, got ${percent}`);
    this.duplicate = percent;
  }

  heal(): void {
    this.cuts.clear();
    this.kvdbCut.clear();
    this.latencyRules = [];
    this.lossRules = [];
    this.duplicate = 0;
  }

  /**
   * Applies a network or kvdb-link fault of the vocabulary, its targets already resolved to IPs (`mapTargets`).
   * Throws a RangeError for values outside the limits (latency over the metro limit unless allowed, too many rules).
   */
  apply(fault: NetworkFault, options: { allowOverMetroLimit?: boolean } = {}): void {
    switch (fault.kind) {
      case 'partition':
        this.cut(fault.a, fault.b);
        this.cut(fault.b, fault.a);
        return;
      case 'cut':
        this.cut(fault.from, fault.to);
        return;
      case 'latency':
        this.addLatency(
          fault.from === undefined && fault.to === undefined
            ? { ms: fault.ms, jitterMs: fault.jitterMs }
            : directed(fault),
          options,
        );
        return;
      case 'loss':
        this.addLoss({ percent: fault.percent, ...direction(fault) });
        return;
      case 'duplicate':
        this.setDuplicate(fault.percent);
        return;
      case 'kvdb-cut':
        this.cutKvdb(fault.nodes);
        return;
      case 'kvdb-heal':
        this.healKvdb(fault.nodes);
        return;
      case 'heal':
        this.heal();
        return;
    }
  }

  summary(): FaultSummary {
    const cuts = [...this.cuts].flatMap(([from, targets]) => [...targets].map((to) => `${from}>${to}`));
    return {
      cuts: cuts.sort(),
      kvdbCut: [...this.kvdbCut].sort(),
      latency: [...this.latencyRules],
      loss: [...this.lossRules],
    };
  }
}
