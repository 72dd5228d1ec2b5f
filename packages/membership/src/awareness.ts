/**
 * awareness.go: Lifeguard's local health score in [0, max − 1]. A failed probe without the expected nacks or a
 * refutation raises it, a successful probe lowers it; the probe interval is multiplied by score + 1.
 */
export class Awareness {
  private current = 0;

  constructor(private readonly max: number) {}

  get score(): number {
    return this.current;
  }

  /** awareness.go ApplyDelta, clamped. */
  apply(delta: number): void {
    this.current = Math.min(this.max - 1, Math.max(0, this.current + delta));
  }

  /** awareness.go ScaleTimeout. */
  scale(timeoutMs: number): number {
    return timeoutMs * (this.current + 1);
  }
}
