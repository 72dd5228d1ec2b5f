import { suspicionTimeoutAfter } from './config.js';

/**
 * suspicion.go: Lifeguard's dynamic suspicion timer. It starts at `max` when `k` independent confirmations are
 * expected (at `min` when none is), and each new confirmer shortens it logarithmically towards `min`
 * (remainingSuspicionTime). The timer itself is the deadline: the owner fires it when `deadlineMs` has come.
 */
export class Suspicion {
  private readonly confirmations = new Set<string>();
  private confirmed = 0;
  deadlineMs: number;

  constructor(
    from: string,
    readonly k: number,
    readonly minMs: number,
    readonly maxMs: number,
    readonly startMs: number,
  ) {
    this.confirmations.add(from);
    this.deadlineMs = startMs + (k < 1 ? minMs : maxMs);
  }

  /** Independent confirmations so far (the accuser who started it is not one). */
  get count(): number {
    return this.confirmations.size - 1;
  }

  /**
   * suspicion.go Confirm: true when `from` is a new confirmer (the caller then re-broadcasts the suspicion), false
   * once k have confirmed or when `from` already has. The deadline moves to start + the shorter timeout, or now.
   */
  confirm(from: string, nowMs: number): boolean {
    if (this.confirmed >= this.k) return false;
    if (this.confirmations.has(from)) return false;
    this.confirmations.add(from);
    this.confirmed++;
    const timeout = suspicionTimeoutAfter(this.confirmed, this.k, this.minMs, this.maxMs);
    this.deadlineMs = Math.max(nowMs, this.startMs + timeout);
    return true;
  }
}
