import type { Clock, Timer } from '@pxsim/kvdb-client';

/** One scheduled event; it is its own Timer handle (no closure per timer on the hot path). */
class Entry implements Timer {
  cancelled = false;
  constructor(
    readonly atMs: number,
    readonly sequence: number,
    readonly callback: () => void,
  ) {}

  cancel(): void {
    this.cancelled = true;
  }
}

/** A binary heap of events ordered by (time, sequence): ties run in the order they were scheduled. */
class EventHeap {
  private readonly items: Entry[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): Entry | undefined {
    return this.items[0];
  }

  push(entry: Entry): void {
    const items = this.items;
    items.push(entry);
    let index = items.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!EventHeap.before(entry, items[parent] as Entry)) break;
      items[index] = items[parent] as Entry;
      index = parent;
    }
    items[index] = entry;
  }

  pop(): Entry | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    let index = 0;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= items.length) break;
      const right = left + 1;
      const child =
        right < items.length && EventHeap.before(items[right] as Entry, items[left] as Entry) ? right : left;
      if (!EventHeap.before(items[child] as Entry, last)) break;
      items[index] = items[child] as Entry;
      index = child;
    }
    items[index] = last;
    return top;
  }

  private static before(a: Entry, b: Entry): boolean {
    return a.atMs < b.atMs || (a.atMs === b.atMs && a.sequence < b.sequence);
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
  private sequence = 0;
  private readonly heap = new EventHeap();
  eventsRun = 0;
  /** Distinct instants run (each ends with a microtask drain). */
  instantsRun = 0;

  nowMs(): number {
    return this.current;
  }

  setTimer(delayMs: number, callback: () => void): Timer {
    const entry = new Entry(this.current + (delayMs > 0 ? delayMs : 0), this.sequence++, callback);
    this.heap.push(entry);
    return entry;
  }

  /** Timers set so far: a caller can tell whether any other timer was set since its own. */
  get timersSet(): number {
    return this.sequence;
  }

  get pending(): number {
    return this.heap.size;
  }

  /** Runs every event up to and including `untilMs`, then sets the clock to `untilMs`. */
  async runUntil(untilMs: number, eventsMax = Number.POSITIVE_INFINITY): Promise<void> {
    let ran = 0;
    await drainMicrotasks();
    for (;;) {
      const next = this.heap.peek();
      if (next === undefined || next.atMs > untilMs) break;
      if (ran >= eventsMax) throw new Error(`event budget of ${eventsMax} exhausted at ${this.current} ms`);
      const instant = next.atMs;
      this.current = instant;
      // Every event of this instant, then the promise work they started, before time moves.
      for (let entry = this.heap.peek(); entry !== undefined && entry.atMs === instant; entry = this.heap.peek()) {
        this.heap.pop();
        if (entry.cancelled) continue;
        ran += 1;
        this.eventsRun += 1;
        entry.callback();
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
