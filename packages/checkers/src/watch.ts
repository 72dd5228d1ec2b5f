import type { Finding, Violation } from './history.js';

export interface SafetyBoundsMs {
  /** S1: two domains cut off from each other both ways for longer than this have UP nodes in at most one. */
  splitBrainMs: number;
  /** S2: this long after a domain is made inactive, none of its nodes serves. */
  inactiveDomainMs: number;
}

/**
 * The fault bookkeeping S1 and S2 read: since when each unordered pair of domains has been cut off both ways, and
 * since when each domain has been inactive. The simulator and the quorum engine network both keep one.
 */
export class SafetyWatch {
  /** `a|b` (a < b) → since when cut both ways. Bounded by the number of domain pairs. */
  readonly pairCutSinceMs = new Map<string, number>();
  /** Domain → since when inactive. Bounded by the number of domains. */
  readonly inactiveSinceMs = new Map<string, number>();

  constructor(readonly bounds: SafetyBoundsMs) {}

  /**
   * Re-reads which domain pairs are cut off both ways (`isCut(x, y)`: frames from x to y are dropped). Returns the
   * pairs newly cut, so that the host can check again when the bound expires.
   */
  updateCuts(
    nowMs: number,
    domains: readonly string[],
    membersOf: (domain: string) => readonly string[],
    isCut: (from: string, to: string) => boolean,
  ): string[] {
    const sorted = [...domains].sort();
    const newlyCut: string[] = [];
    for (let i = 0; i < sorted.length; i++) {
      for (let j = i + 1; j < sorted.length; j++) {
        const a = sorted[i] as string;
        const b = sorted[j] as string;
        const key = `${a}|${b}`;
        const aNodes = membersOf(a);
        const bNodes = membersOf(b);
        const cut = aNodes.every((x) => bNodes.every((y) => isCut(x, y) && isCut(y, x)));
        if (cut && !this.pairCutSinceMs.has(key)) {
          this.pairCutSinceMs.set(key, nowMs);
          newlyCut.push(key);
        }
        if (!cut) this.pairCutSinceMs.delete(key);
      }
    }
    return newlyCut;
  }

  /** The operator's decision took effect. */
  setDomainActive(domain: string, active: boolean, nowMs: number): void {
    if (active) this.inactiveSinceMs.delete(domain);
    else if (!this.inactiveSinceMs.has(domain)) this.inactiveSinceMs.set(domain, nowMs);
  }
}

const VIOLATIONS_MAX = 100;

/** The violations of a run: each distinct (check, detail) once, at most 100. */
export class ViolationLog {
  readonly violations: Violation[] = [];

  /** Records a finding; returns the violation when it is new (the host then writes it to its history). */
  add(atMs: number, finding: Finding): Violation | undefined {
    if (this.violations.length >= VIOLATIONS_MAX) return undefined;
    if (this.violations.some((known) => known.check === finding.check && known.detail === finding.detail))
      return undefined;
    const violation = { atMs, ...finding };
    this.violations.push(violation);
    return violation;
  }
}
