import type { QuorumTiming } from '@pxsim/quorum';

/**
 * A running agent gets an input at least every heartbeat interval (its heartbeat timer). A gap between two inputs
 * longer than this (the heartbeat interval plus the snapshot freshness) means the process was paused (SIGSTOP, a
 * frozen VM) or its clock jumped: the view it holds is older than anything it may serve on.
 */
export function pauseGapMsOf(timing: QuorumTiming): number {
  return timing.heartbeatIntervalMs + timing.snapshotFreshnessMs;
}

/**
 * Notices pauses from the times of the agent's inputs (the injected clock's, so a simulated pause is seen the same
 * way, deterministically), and says which frames may have waited in the socket during one.
 */
export class PauseWatch {
  private lastInputMs: number | undefined;
  /** The instant of the last input before the current instant's (none yet: the current one). */
  private previousInputMs: number | undefined;
  /**
   * After a pause, frames received before this time are not counted as heartbeats: they may have waited in the
   * socket during the pause. One heartbeat interval plus the latency bound: by then the peers have heard this node
   * again and their own fresh frames arrive.
   */
  private drainUntilMs = 0;
  private readonly pauseGapMs: number;
  private readonly drainMs: number;

  constructor(timing: QuorumTiming) {
    this.pauseGapMs = pauseGapMsOf(timing);
    this.drainMs = timing.heartbeatIntervalMs + timing.latencyMaxMs;
  }

  /** Notes an input at `atMs`; returns what happened when it ends a pause of a running agent, else undefined. */
  note(atMs: number, running: boolean): { error: string; log: string } | undefined {
    const lastMs = this.lastInputMs;
    if (lastMs === undefined || atMs > lastMs) {
      this.previousInputMs = lastMs;
      this.lastInputMs = atMs;
    }
    if (lastMs === undefined || atMs - lastMs <= this.pauseGapMs || !running) return undefined;
    this.drainUntilMs = atMs + this.drainMs;
    const error = `no input for ${atMs - lastMs} ms (the process was paused or its clock jumped): the view is stale until a kvdb read sent after ${atMs} ms`;
    return { error, log: `${error}; frames before ${this.drainUntilMs} ms are not counted` };
  }

  /**
   * The latest time a frame taken at `atMs` (the current input's instant) shows its sender alive at: the agent's
   * previous input before this instant. The frame may have arrived any time since then (the process may have been
   * paused or stalled for less than a pause gap, unnoticed), and was sent at most the latency bound before arriving:
   * crediting it with its arrival would stretch the engine's bound by however long it waited.
   */
  heardAtMs(atMs: number): number {
    return this.lastInputMs === atMs && this.previousInputMs !== undefined ? this.previousInputMs : atMs;
  }

  /** Whether a frame received at `atMs` may have waited in the socket during a pause (and so does not count). */
  draining(atMs: number): boolean {
    return atMs < this.drainUntilMs;
  }
}
