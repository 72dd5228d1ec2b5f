import { nextRetryDelayMs, RETRY_DELAY_MS_MIN } from './join.js';

/** While running without an alive record: since when, why, and the next re-claim's backoff (bounded doubling). */
export class AliveRecordWatch {
  private missing: { sinceMs: number; reason: string; attempts: number; retryDelayMs: number } | undefined;

  /** The lease was lost at `atMs`: returns the phase reason to show. */
  lost(atMs: number, reason: string): string {
    this.missing = { sinceMs: atMs, reason, attempts: 0, retryDelayMs: RETRY_DELAY_MS_MIN };
    return this.reasonText('claiming it again');
  }

  /** A re-claim failed: what to log and show, and when to retry; undefined when no record is missing. */
  claimFailed(error: string): { log: string; phaseReason: string; retryInMs: number } | undefined {
    const missing = this.missing;
    if (missing === undefined) return undefined;
    missing.attempts += 1;
    const retryInMs = missing.retryDelayMs;
    const phaseReason = this.reasonText(`attempt ${missing.attempts} failed (${error}); retrying in ${retryInMs} ms`);
    missing.retryDelayMs = nextRetryDelayMs(missing.retryDelayMs);
    return {
      log: `re-claiming the alive record failed (attempt ${missing.attempts}): ${error}`,
      phaseReason,
      retryInMs,
    };
  }

  /** The record is held again: the message to log, or undefined when none was missing. */
  claimed(atMs: number): string | undefined {
    if (this.missing === undefined) return undefined;
    const log = `alive record claimed again after ${atMs - this.missing.sinceMs} ms`;
    this.missing = undefined;
    return log;
  }

  private reasonText(what: string): string {
    const missing = this.missing;
    return missing === undefined
      ? ''
      : `no alive record since ${missing.sinceMs} ms (lease lost: ${missing.reason}); ${what}`;
  }
}
