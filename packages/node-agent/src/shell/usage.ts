import type { Kvdb } from '@pxsim/kvdb-client';
import type { Clock, Timer } from '@pxsim/runtime';
import { nodeEntrySchema, NODES_PREFIX, parseKvdbValue } from '../wire/layout.js';

/** How often a node looks whether its volumes' used bytes changed, and publishes them in its node entry if so. */
export const USAGE_PUBLISH_MS = 10_000;

/**
 * Publishes the bytes a node's volume replicas hold in its node entry (`volumeUsedBytes`), so that every node's
 * `pxctl status` shows every node's used capacity and placement balances on it. At most one compare-and-set every
 * `USAGE_PUBLISH_MS`, only when the figure changed since the last one that succeeded; a failure (kvdb away, entry
 * changed meanwhile) is tried again at the next look.
 */
export class UsagePublisher {
  private timer: Timer | undefined;
  private published: number | undefined;
  private inFlight = false;

  constructor(
    private readonly kvdb: Kvdb,
    private readonly clock: Clock,
    private readonly nodeId: string,
    private readonly usedBytes: () => number,
    private readonly onRejected: (key: string, problem: string, consequence: string) => void,
  ) {}

  start(): void {
    if (this.timer !== undefined) return;
    const loop = (): void => {
      this.timer = this.clock.setTimer(USAGE_PUBLISH_MS, () => {
        void this.look();
        loop();
      });
    };
    loop();
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  private async look(): Promise<void> {
    const bytes = this.usedBytes();
    if (this.inFlight || bytes === this.published) return;
    this.inFlight = true;
    const key = `${NODES_PREFIX}${this.nodeId}`;
    try {
      const got = await this.kvdb.get(key);
      const parsed = parseKvdbValue(got.kv.value, nodeEntrySchema);
      if (!parsed.ok) {
        this.onRejected(key, parsed.problem, 'not publishing volume usage into it');
        return;
      }
      const entry = { ...parsed.value, volumeUsedBytes: bytes };
      await this.kvdb.update(key, JSON.stringify(entry), { ifModRevision: got.kv.modRevision });
      this.published = bytes;
    } catch {
      // kvdb away or the entry changed meanwhile: the next look tries again
    } finally {
      this.inFlight = false;
    }
  }
}
