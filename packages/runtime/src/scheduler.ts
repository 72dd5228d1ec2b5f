import type { Clock, Timer } from './clock.js';

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

/** What a scheduler may run before it stops the run: a loop that never lets time pass must not hang it. */
export interface EventBudget {
  /** Events in the scheduler's whole life. Default 50,000,000 (a 96-node hour is about 5 million). */
  eventsMax: number;
  /** Events at one instant of virtual time. Default 100,000 (a zero-delay loop trips it in well under a second). */
  instantEventsMax: number;
}

export const DEFAULT_EVENT_BUDGET: EventBudget = { eventsMax: 50_000_000, instantEventsMax: 100_000 };

/** A run stopped because it used up its event budget; the message names the budget. */
export class EventBudgetExceeded extends Error {
  constructor(
    readonly budget: keyof EventBudget | 'runEventsMax',
    readonly limit: number,
    readonly atMs: number,
  ) {
    super(
      `event budget exhausted: ${budget} = ${limit} events reached at ${atMs} ms of virtual time (a loop that never lets time pass?)`,
    );
    this.name = 'EventBudgetExceeded';
  }
}

/**
 * The discrete-event scheduler and its virtual clock. Everything in a simulation that waits goes through `setTimer`;
 * `run` moves time from event to event, and after every instant lets the promise continuations it caused run at
 * that same instant. `runUntilSync` is the same loop for purely synchronous users (no promise work between instants).
 * Every run obeys the event budget: running out throws `EventBudgetExceeded`.
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
  private readonly budget: EventBudget;
  eventsRun = 0;
  /** Distinct instants run (each ends with a microtask drain). */
  instantsRun = 0;

  constructor(budget: Partial<EventBudget> = {}) {
    this.budget = { ...DEFAULT_EVENT_BUDGET, ...budget };
  }

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

  /**
   * Runs every event up to and including `untilMs`, then sets the clock to `untilMs`. `runEventsMax` bounds this call
   * (on top of the scheduler's budget).
   */
  async runUntil(untilMs: number, runEventsMax = Number.POSITIVE_INFINITY): Promise<void> {
    const runStart = this.eventsRun;
    await drainMicrotasks();
    for (;;) {
      const instant = this.nextInstant(untilMs, runStart, runEventsMax);
      if (instant === undefined) break;
      this.runInstant(instant);
      await drainMicrotasks();
    }
    this.current = Math.max(this.current, untilMs);
  }

  async runFor(ms: number, runEventsMax?: number): Promise<void> {
    await this.runUntil(this.current + ms, runEventsMax);
  }

  /** `runUntil` for callers whose events start no promise work: no microtask drain between instants. */
  runUntilSync(untilMs: number): void {
    for (;;) {
      const instant = this.nextInstant(untilMs, this.eventsRun, Number.POSITIVE_INFINITY);
      if (instant === undefined) break;
      this.runInstant(instant);
    }
    this.current = Math.max(this.current, untilMs);
  }

  /** The next instant with events, if it is due by `untilMs` and the budgets allow another. */
  private nextInstant(untilMs: number, runStart: number, runEventsMax: number): number | undefined {
    const instant = this.instants.peek();
    if (instant === undefined || instant > untilMs) return undefined;
    if (this.eventsRun - runStart >= runEventsMax)
      throw new EventBudgetExceeded('runEventsMax', runEventsMax, this.current);
    if (this.eventsRun >= this.budget.eventsMax)
      throw new EventBudgetExceeded('eventsMax', this.budget.eventsMax, this.current);
    return instant;
  }

  /**
   * Every event of this instant (including those set for it while it runs) before time moves. Work that sets a timer
   * for this instant during the caller's drain gets a new round of it.
   */
  private runInstant(instant: number): void {
    this.current = instant;
    const events = this.byInstant.get(instant) as Entry[];
    const instantEventsMax = this.budget.instantEventsMax;
    let index = 0;
    try {
      for (; index < events.length; index++) {
        if (index >= instantEventsMax) throw new EventBudgetExceeded('instantEventsMax', instantEventsMax, instant);
        const entry = events[index] as Entry;
        if (entry.cancelled) continue;
        this.eventsRun += 1;
        entry.callback();
      }
    } finally {
      // An event that throws (or the budget) ends the run; the events after it stay scheduled.
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
  }
}
