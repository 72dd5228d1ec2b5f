/**
 * Work outside the nodes that runs every `everyMs` of virtual time while a simulation runs, between scheduler runs
 * (as the Kubernetes controllers' passes do). The work may itself let time pass (waiting for an agent's answer: the
 * nested runs do not tick), and runs again `everyMs` after it finished.
 */
export class Ticker {
  running = false;
  private nextMs: number;

  constructor(
    private readonly everyMs: number,
    private readonly work: () => Promise<void>,
    nowMs: number,
  ) {
    this.nextMs = nowMs + everyMs;
  }

  /** Lets `ms` pass through `runFor`, doing the work at each tick on the way. */
  async run(ms: number, now: () => number, runFor: (ms: number) => Promise<void>): Promise<void> {
    const endMs = now() + ms;
    while (now() < endMs) {
      await runFor(Math.max(0, Math.min(endMs, this.nextMs) - now()));
      if (now() < this.nextMs) continue;
      this.running = true;
      try {
        await this.work();
      } finally {
        this.running = false;
        this.nextMs = now() + this.everyMs;
      }
    }
  }
}
