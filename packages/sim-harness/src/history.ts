import { createHash } from 'node:crypto';
import { historyLine, type HistoryEvent } from '@pxsim/checkers';

/**
 * The typed history of a run, with a running SHA-256 of its transcript lines: equal digests, equal runs. At most
 * `historyMax` events are kept (older ones stay in the digest only).
 */
export class HistoryRecorder {
  readonly events: HistoryEvent[] = [];
  private readonly hash = createHash('sha256');

  constructor(private readonly historyMax: number) {}

  record(event: HistoryEvent): void {
    this.hash.update(`${historyLine(event)}\n`);
    if (this.events.length < this.historyMax) this.events.push(event);
  }

  /** The hex digest of every line recorded so far. */
  digest(): string {
    return this.hash.copy().digest('hex');
  }
}
