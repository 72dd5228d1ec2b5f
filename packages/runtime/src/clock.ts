/**
 * The clock and timers every time-dependent part of pxsim takes as an input. The real runtime backs it with the
 * wall clock and Node's timers; the simulator backs it with its virtual clock, so the same code runs in both.
 */
export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds on this clock's own time line (virtual or real). Never decreases. */
  nowMs(): number;
  /** Calls `callback` once, `delayMs` from now (0 or more). */
  setTimer(delayMs: number, callback: () => void): Timer;
}

/** The wall clock and Node's timers. Only the edges of the system (binaries, tests of real processes) use it. */
export const realClock: Clock = {
  nowMs: () => Math.round(performance.timeOrigin + performance.now()),
  setTimer(delayMs, callback) {
    const handle = setTimeout(callback, Math.max(0, delayMs));
    handle.unref?.();
    return { cancel: () => clearTimeout(handle) };
  },
};

interface ManualTimerEntry {
  atMs: number;
  sequence: number;
  callback: () => void;
  cancelled: boolean;
}

/**
 * A clock that only moves when told to. Timers fire in deadline order (ties in creation order) during `advance`.
 * Meant for unit tests; the simulator has its own scheduler with the same interface.
 */
export class ManualClock implements Clock {
  private currentMs: number;
  private sequence = 0;
  private timers: ManualTimerEntry[] = [];

  constructor(startMs = 0) {
    this.currentMs = startMs;
  }

  nowMs(): number {
    return this.currentMs;
  }

  setTimer(delayMs: number, callback: () => void): Timer {
    const entry: ManualTimerEntry = {
      atMs: this.currentMs + Math.max(0, delayMs),
      sequence: this.sequence++,
      callback,
      cancelled: false,
    };
    this.timers.push(entry);
    return {
      cancel: () => {
        entry.cancelled = true;
      },
    };
  }

  /** Number of timers that have not fired and were not cancelled. */
  pendingTimerCount(): number {
    return this.timers.filter((timer) => !timer.cancelled).length;
  }

  /** Moves time forward by `deltaMs`, firing every timer that falls due, in order. */
  advance(deltaMs: number): void {
    if (!(deltaMs >= 0)) throw new RangeError(`advance needs a delta of 0 or more ms, got ${deltaMs}`);
    const targetMs = this.currentMs + deltaMs;
    for (;;) {
      const next = this.nextDue(targetMs);
      if (next === undefined) break;
      this.currentMs = next.atMs;
      next.cancelled = true;
      next.callback();
    }
    this.timers = this.timers.filter((timer) => !timer.cancelled);
    this.currentMs = targetMs;
  }

  private nextDue(targetMs: number): ManualTimerEntry | undefined {
    let best: ManualTimerEntry | undefined;
    for (const timer of this.timers) {
      if (timer.cancelled || timer.atMs > targetMs) continue;
      if (
        best === undefined ||
        timer.atMs < best.atMs ||
        (timer.atMs === best.atMs && timer.sequence < best.sequence)
      ) {
        best = timer;
      }
    }
    return best;
  }
}
