import { checkWriteAcknowledgement, type Finding } from '@pxsim/checkers';
import type { Scheduler, Timer } from '@pxsim/runtime';
import type { NodeLifecycle } from './lifecycle.js';

/**
 * Client traffic: every `intervalMs`, a 4 KiB write to a random running node with storage. An acknowledgement from
 * a node that is not Online is an S3 violation.
 */
export class Workload {
  writesAcknowledged = 0;
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
      const running = this.lifecycle.running().filter((node) => !node.spec.storageless);
      const target = running[Math.floor(this.random() * running.length)];
      if (target?.agent !== undefined && target.agent.write(4096).ok) {
        this.writesAcknowledged += 1;
        const finding = checkWriteAcknowledgement(target.spec.ip, target.state);
        if (finding !== undefined) this.report(finding);
      }
      this.next();
    });
  }
}
