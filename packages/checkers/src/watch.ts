import type { Finding, Violation } from './history.js';

export interface SafetyBoundsMs {
  /** S1: a node that has heard nothing from another for longer than this (by send time) no longer hears it. */
  splitBrainMs: number;
  /** S2: this long after a domain is made inactive, none of its nodes serves. */
  inactiveDomainMs: number;
}

/**
 * The bookkeeping S2 reads: since when (virtual time and kvdb revision) each domain has been inactive. The simulator
 * and the quorum engine network both keep one.
 */
export class SafetyWatch {
  /** Domain → since when inactive. Bounded by the number of domains. */
  readonly inactiveSinceMs = new Map<string, number>();
  /** Domain → the kvdb revision that made it inactive (when the host knows it). */
  readonly inactiveRevision = new Map<string, number>();

  constructor(readonly bounds: SafetyBoundsMs) {}

  /**
   * The domain's key changed in the kvdb at `atMs` (at `revision`, when known): the start of S2's window is the
   * change itself, not when the operator's call returned.
   */
  setDomainActive(domain: string, active: boolean, atMs: number, revision?: number): void {
    if (active) {
      this.inactiveSinceMs.delete(domain);
      this.inactiveRevision.delete(domain);
    } else if (!this.inactiveSinceMs.has(domain)) {
      this.inactiveSinceMs.set(domain, atMs);
      if (revision !== undefined) this.inactiveRevision.set(domain, revision);
    }
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
