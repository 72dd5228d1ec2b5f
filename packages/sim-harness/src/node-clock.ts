import type { Clock, Scheduler, Timer } from '@pxsim/runtime';

/** Work held for a paused node, at most this many callbacks (older ones are kept, newer dropped, as a full inbox). */
const INBOX_MAX = 1024;

/** A node's view of time: the scheduler's, except that a paused node's timers wait and a crashed node's never fire. */
export class NodeClock implements Clock {
  paused = false;
  dead = false;
  private readonly held: Array<() => void> = [];

  constructor(private readonly scheduler: Scheduler) {}

  nowMs(): number {
    return this.scheduler.nowMs();
  }

  setTimer(delayMs: number, callback: () => void): Timer {
    return this.scheduler.setTimer(delayMs, () => this.run(callback));
  }

  /** Neither crashed nor paused: work for the node runs now. */
  get running(): boolean {
    return !this.dead && !this.paused;
  }

  run(callback: () => void): void {
    if (this.dead) return;
    if (this.paused) {
      if (this.held.length < INBOX_MAX) this.held.push(callback);
      return;
    }
    callback();
  }

  resume(): void {
    this.paused = false;
    for (const callback of this.held.splice(0)) callback();
  }
}
