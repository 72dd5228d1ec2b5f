import { checkWriteAcknowledgement, type Finding } from '@pxsim/checkers';
import type { Scheduler, Timer } from '@pxsim/runtime';
import type { NodeLifecycle, SimNode } from './lifecycle.js';

/** One-way delay of a client's request to a node, ms (a write sent just before a pause waits in the node's inbox). */
const CLIENT_LINK_MS = 1;

/**
 * Client traffic: every `intervalMs`, a 4 KiB write sent to a random node with storage and a process (paused ones
 * included: a paused process's socket still takes requests, and it handles them when it resumes, as SIGCONT does).
 * S3 judges each acknowledgement at its instant against the now-current view: the node's status brought to the
 * current time (a node that acknowledges on a view it has not re-checked after a pause is caught).
 */
export class Workload {
  writesAcknowledged = 0;
  /** Writes a node took only on resuming (sent before or during its pause), and how many of them it acknowledged. */
  readonly queuedAcrossPause = { taken: 0, acknowledged: 0 };
  private timer: Timer | undefined;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly lifecycle: NodeLifecycle,
    private readonly random: () => number,
    private readonly intervalMs: number,
    private readonly report: (finding: Finding) => void,
  ) {}

  /** Starts the writes (once; an interval of 0 means none). */
  start(): void {
    if (this.timer === undefined && this.intervalMs > 0) this.next();
  }

  stop(): void {
    this.timer?.cancel();
  }

  private next(): void {
    this.timer = this.scheduler.setTimer(this.intervalMs, () => {
      const targets = [...this.lifecycle.nodes.values()].filter(
        (node) => node.agent !== undefined && !node.spec.storageless,
      );
      const target = targets[Math.floor(this.random() * targets.length)];
      if (target !== undefined) this.send(target);
      this.next();
    });
  }

  private send(target: SimNode): void {
    const clock = target.clock;
    const incarnation = target.incarnation;
    this.scheduler.setTimer(CLIENT_LINK_MS, () => {
      if (clock === undefined || target.incarnation !== incarnation) return; // the process it was sent to is gone
      const queued = clock.paused;
      clock.run(() => this.write(target, queued));
    });
  }

  private write(target: SimNode, queued: boolean): void {
    const agent = target.agent;
    if (agent === undefined) return;
    if (queued) this.queuedAcrossPause.taken += 1;
    if (!agent.write(4096).ok) return;
    this.writesAcknowledged += 1;
    if (queued) this.queuedAcrossPause.acknowledged += 1;
    const finding = checkWriteAcknowledgement(target.spec.ip, agent.status().node.status);
    if (finding !== undefined) this.report(finding);
  }
}
