/**
 * Who has heard whom, from the network's deliveries: for each receiving node, the send time of the latest frame it
 * actually received from each sender (a frame waiting in a paused node's inbox counts when the node takes it, with the
 * time it was sent, so a stale frame is no evidence that its sender is alive now). A node (re)started at `t` has
 * heard nothing before `t`: a new process remembers nothing of its predecessor. Bounded by the number of node pairs.
 */
export class HearingLog {
  /** receiver → sender → latest send time of a frame the receiver received. */
  private readonly heardSentAtMs = new Map<string, Map<string, number>>();
  /** receiver → since when its current process has been listening. */
  private readonly listeningSinceMs = new Map<string, number>();

  /** A process of `node` started at `atMs` (it has heard nothing yet). */
  started(node: string, atMs: number): void {
    this.listeningSinceMs.set(node, atMs);
    this.heardSentAtMs.delete(node);
  }

  /** `receiver` took a frame `sender` sent at `sentAtMs`. */
  received(receiver: string, sender: string, sentAtMs: number): void {
    let heard = this.heardSentAtMs.get(receiver);
    if (heard === undefined) {
      heard = new Map();
      this.heardSentAtMs.set(receiver, heard);
    }
    if ((heard.get(sender) ?? Number.NEGATIVE_INFINITY) < sentAtMs) heard.set(sender, sentAtMs);
  }

  /**
   * Since when `receiver` has heard nothing from `sender`: the send time of the latest frame received, or the start
   * of the receiver's process when that is later (or nothing was received).
   */
  silentSinceMs(receiver: string, sender: string): number {
    const since = this.listeningSinceMs.get(receiver) ?? 0;
    const heard = this.heardSentAtMs.get(receiver)?.get(sender);
    return heard === undefined ? since : Math.max(since, heard);
  }

  /**
   * `hears(receiver, sender.node, nowMs, boundMs)` for each of `senders`, in their order; the receiver's own records
   * are looked up once (S1 asks this of every serving node at every check).
   */
  hearsEach(receiver: string, senders: readonly { node: string }[], nowMs: number, boundMs: number): boolean[] {
    const since = this.listeningSinceMs.get(receiver) ?? 0;
    const heard = this.heardSentAtMs.get(receiver);
    const result: boolean[] = [];
    for (const { node: sender } of senders) {
      const sentAtMs = heard?.get(sender);
      result.push(
        receiver === sender || nowMs - (sentAtMs === undefined ? since : Math.max(since, sentAtMs)) <= boundMs,
      );
    }
    return result;
  }

  /** Whether `receiver` has heard from `sender` within `boundMs` of `nowMs` (a node always hears itself). */
  hears(receiver: string, sender: string, nowMs: number, boundMs: number): boolean {
    return receiver === sender || nowMs - this.silentSinceMs(receiver, sender) <= boundMs;
  }
}
