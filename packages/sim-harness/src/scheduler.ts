import type { Clock, Timer } from '@pxsim/kvdb-client';

/** One scheduled event; it is its own Timer handle (no closure per timer on the hot path). */
class Entry implements Timer {
  cancelled = false;
  constructor(readonly callback: () => void) {}

  cancel(): void {
    this.cancelled = true;
  }
}

/** A binary min-heap of instants (plain numbers: cheap to compare). */
class InstantHeap {
  private readonly items: number[] = [];

  peek(): number | undefined {
    return this.items[0];
  }

  push(value: number): void {
    const items = this.items;
    let index = items.length;
    items.push(value);
    while (index > 0) {
      const parent = (index - 1) >> 1;
      const above = items[parent] as number;
      if (above <= value) break;
      items[index] = above;
      index = parent;
    }
    items[index] = value;
  }

  pop(): void {
    const items = this.items;
    const last = items.pop();
    if (last === undefined || items.length === 0) return;
    let index = 0;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= items.length) break;
      const right = left + 1;
      const child = right < items.length && (items[right] as number) < (items[left] as number) ? right : left;
      const below = items[child] as number;
      if (below >= last) break;
      items[index] = below;
      index = child;
    }
    items[index] = last;
  }
}

/**
 * Lets the promise work started by an instant's events finish before the clock moves on. A process.nextTick callback
 * runs only once V8 has drained the whole microtask queue (including work queued while draining), so resolving from
 * one is an exact "all promise work done", without a trip through the event loop's I/O poll.
 */
const drainMicrotasks = (): Promise<void> => new Promise((resolve) => process.nextTick(resolve));

/**
 * The discrete-event scheduler and its virtual clock. Everything in a simulation that waits goes through `setTimer`;
 * `run` moves time from event to event, and after every instant lets the promise continuations it caused run at
 * that same instant.
 */
export class Scheduler implements Clock {
  private current = 0;
  private timersSetCount = 0;
  private pendingCount = 0;
  /**
   * Events by instant, each instant's in the order they were set (ties run in that order), and a heap of the instants
   * that have events: one heap operation per instant rather than per event.
   */
  private readonly byInstant = new Map<number, Entry[]>();
  private readonly instants = new InstantHeap();
  eventsRun = 0;
  /** Distinct instants run (each ends with a microtask drain). */
  instantsRun = 0;

  nowMs(): number {
    return this.current;
  }

  setTimer(delayMs: number, callback: () => void): Timer {
    const atMs = this.current + (delayMs > 0 ? delayMs : 0);
    const entry = new Entry(callback);
    let events = this.byInstant.get(atMs);
    if (events === undefined) {
      events = [];
      this.byInstant.set(atMs, events);
      this.instants.push(atMs);
    }
    events.push(entry);
    this.timersSetCount += 1;
    this.pendingCount += 1;
    return entry;
  }

  /** Timers set so far: a caller can tell whether any other timer was set since its own. */
  get timersSet(): number {
    return this.timersSetCount;
  }

  /** Events set and not yet run (cancelled ones included until their instant comes). */
  get pending(): number {
    return this.pendingCount;
  }

  /** Runs every event up to and including `untilMs`, then sets the clock to `untilMs`. */
  async runUntil(untilMs: number, eventsMax = Number.POSITIVE_INFINITY): Promise<void> {
    let ran = 0;
    await drainMicrotasks();
    for (;;) {
      const instant = this.instants.peek();
      if (instant === undefined || instant > untilMs) break;
      if (ran >= eventsMax) throw new Error(`event budget of ${eventsMax} exhausted at ${this.current} ms`);
      this.current = instant;
      const events = this.byInstant.get(instant) as Entry[];
      // Every event of this instant (including those set for it while it runs), then the promise work they started,
      // before time moves. Work that sets a timer for this instant during the drain gets a new round of it.
      let index = 0;
      try {
        for (; index < events.length; index++) {
          const entry = events[index] as Entry;
          if (entry.cancelled) continue;
          ran += 1;
          this.eventsRun += 1;
          entry.callback();
        }
      } finally {
        // An event that throws ends the run; the events after it stay scheduled.
        const done = Math.min(index + 1, events.length);
        this.pendingCount -= done;
        this.byInstant.delete(instant);
        this.instants.pop();
        if (done < events.length) {
          this.byInstant.set(instant, events.slice(done));
          this.instants.push(instant);
        }
      }
      this.instantsRun += 1;
      await drainMicrotasks();
    }
    this.current = Math.max(this.current, untilMs);
  }

  async runFor(ms: number, eventsMax?: number): Promise<void> {
    await this.runUntil(this.current + ms, eventsMax);
  }
}
