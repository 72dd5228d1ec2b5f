/**
 * L2's windows on any schedule: a window opens once no network fault but latency is in force (healed since), every
 * node of an active domain is Online, and `settleMs` has passed since the last disturbance (any fault but latency and
 * heal, a domain key's change, the cluster's start); it closes at the next disturbance. Inside a window only latency (within the metro limit) changes, so a node leaving Online
 * breaks L2. The settle time lets the effects of earlier faults (a claim asked for just before a heal, its release
 * and the wait after it) run out first.
 */
export class StabilityWatch {
  private disturbedAtMs = 0;
  /** A network fault other than latency is in force (applied and not healed). */
  private faultsInForce = false;
  private openSinceMs: number | undefined;
  /** Windows opened so far (the property counts schedules that had one). */
  windowsOpened = 0;

  constructor(readonly settleMs: number) {}

  get openSince(): number | undefined {
    return this.openSinceMs;
  }

  /** A disturbance; `networkFault`: it leaves a network fault other than latency in force (until a heal). */
  disturbed(nowMs: number, networkFault = false): void {
    this.disturbedAtMs = nowMs;
    this.openSinceMs = undefined;
    if (networkFault) this.faultsInForce = true;
  }

  /** Every network fault was removed (latency included; a latency fault after it is applied as usual). */
  healed(): void {
    this.faultsInForce = false;
  }

  /** Opens a window when every node of an active domain is Online and the last disturbance has settled. */
  update(nowMs: number, allActiveOnline: boolean): void {
    if (this.openSinceMs !== undefined || this.faultsInForce || !allActiveOnline) return;
    if (nowMs < this.disturbedAtMs + this.settleMs) return;
    this.openSinceMs = nowMs;
    this.windowsOpened += 1;
  }
}
