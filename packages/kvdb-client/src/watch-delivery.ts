import { KvdbError } from './errors.js';
import type { Watch, WatchBatch, WatchOptions } from './types.js';

export const DEFAULT_MAX_PENDING_BATCHES = 1024;

/**
 * The consumer side of a watch, shared by both backends: a bounded queue of per-revision batches, delivered in
 * order, each revision at most once (a backend that repeats a revision after a reconnect is deduplicated here),
 * and a single terminal error.
 */
export class WatchDelivery implements Watch {
  private delivered = 0;
  private accepted: number;
  private readonly queue: WatchBatch[] = [];
  private draining = false;
  private finished = false;
  private readonly maxPendingBatches: number;

  constructor(
    private readonly options: WatchOptions,
    private readonly onStop: () => void,
  ) {
    this.maxPendingBatches = options.maxPendingBatches ?? DEFAULT_MAX_PENDING_BATCHES;
    if (!Number.isSafeInteger(this.maxPendingBatches) || this.maxPendingBatches < 1) {
      throw new KvdbError('InvalidArgument', `maxPendingBatches must be a whole number of 1 or more`);
    }
    this.accepted = options.fromRevision === undefined ? 0 : options.fromRevision - 1;
  }

  get lastRevision(): number {
    return this.delivered;
  }

  /** The revision after which events are still wanted (for a backend that has to re-create its stream). */
  get resumeAfterRevision(): number {
    return this.accepted;
  }

  get active(): boolean {
    return !this.finished;
  }

  /** Nothing at or before `revision` is wanted any more (a backend learned where "now" is). */
  advanceTo(revision: number): void {
    if (!this.finished && revision > this.accepted) this.accepted = revision;
  }

  accept(batch: WatchBatch): void {
    if (this.finished || batch.revision <= this.accepted || batch.events.length === 0) return;
    if (this.queue.length >= this.maxPendingBatches) {
      // Everything from the oldest undelivered batch on is dropped: that is where the consumer resumes.
      const resumeRevision = this.queue[0]?.revision ?? batch.revision;
      this.fail(
        new KvdbError(
          'Lagged',
          `watcher fell ${this.queue.length} revisions behind (bound ${this.maxPendingBatches}); resume from revision ${resumeRevision}`,
          { revision: resumeRevision },
        ),
      );
      return;
    }
    this.accepted = batch.revision;
    this.queue.push(batch);
    if (!this.draining) {
      this.draining = true;
      queueMicrotask(() => void this.drain());
    }
  }

  fail(error: KvdbError): void {
    if (this.finished) return;
    this.stop();
    queueMicrotask(() => this.options.onError(error));
  }

  cancel(): void {
    if (this.finished) return;
    this.stop();
  }

  private stop(): void {
    this.finished = true;
    this.queue.length = 0;
    this.onStop();
  }

  private async drain(): Promise<void> {
    try {
      for (let batch = this.queue.shift(); batch !== undefined && !this.finished; batch = this.queue.shift()) {
        this.delivered = batch.revision;
        const pending = this.options.onBatch(batch);
        if (pending !== undefined) await pending;
      }
    } finally {
      this.draining = false;
    }
  }
}
