import type { BroadcastMessage } from './messages.js';

/** A queued broadcast (queue.go limitedBroadcast): its message, encoded size and transmits so far. */
interface Entry {
  message: BroadcastMessage;
  node: string;
  size: number;
  id: number;
  transmits: number;
}

/**
 * queue.go TransmitLimitedQueue for memberlist's own broadcasts, which are all named by the member they are about
 * (broadcast.go memberlistBroadcast.Name): a new broadcast about a member replaces the queued one. `take` hands out
 * the least transmitted first, then the largest that fits, then the newest (queue.go limitedBroadcast.Less), and drops
 * a broadcast once it has been sent `transmitLimit` times. Entries sit in one bucket per transmit count, each sorted
 * by (size desc, id desc), so taking one is a look at the first entries of a few buckets, not a walk of the queue.
 */
export class TransmitLimitedQueue {
  private readonly buckets: Entry[][] = [];
  private readonly byNode = new Map<string, Entry>();
  private idGen = 0;

  get length(): number {
    return this.byNode.size;
  }

  /** queue.go queueBroadcast: invalidates (replaces) what is queued about the same member. */
  push(message: BroadcastMessage, size: number): void {
    const old = this.byNode.get(message.node);
    if (old !== undefined) this.remove(old);
    const entry: Entry = { message, node: message.node, size, id: ++this.idGen, transmits: 0 };
    this.byNode.set(entry.node, entry);
    this.insert(entry);
  }

  /** The queued message about `node`, if any (for tests and inspection). */
  queued(node: string): BroadcastMessage | undefined {
    return this.byNode.get(node)?.message;
  }

  /** Transmits so far of the message queued about `node`. */
  transmits(node: string): number | undefined {
    return this.byNode.get(node)?.transmits;
  }

  /**
   * queue.go GetBroadcasts: as many broadcasts as fit in `limit` bytes, each costing its size plus `overhead`,
   * least transmitted first; each counts one transmit and leaves the queue at `transmitLimit`.
   */
  take(overhead: number, limit: number, transmitLimit: number): BroadcastMessage[] {
    const out: BroadcastMessage[] = [];
    const reinsert: Entry[] = [];
    let used = 0;
    for (let transmits = 0; transmits < this.buckets.length;) {
      const free = limit - used - overhead;
      if (free <= 0) break;
      const bucket = this.buckets[transmits] ?? [];
      const index = bucket.findIndex((entry) => entry.size <= free);
      const entry = index < 0 ? undefined : bucket[index];
      if (entry === undefined) {
        transmits++;
        continue;
      }
      bucket.splice(index, 1);
      used += overhead + entry.size;
      out.push(entry.message);
      if (entry.transmits + 1 >= transmitLimit) this.byNode.delete(entry.node);
      else {
        entry.transmits++;
        reinsert.push(entry);
      }
    }
    for (const entry of reinsert) this.insert(entry);
    if (this.byNode.size === 0) this.idGen = 0;
    return out;
  }

  private insert(entry: Entry): void {
    while (this.buckets.length <= entry.transmits) this.buckets.push([]);
    const bucket = this.buckets[entry.transmits] ?? [];
    bucket.splice(this.position(bucket, entry), 0, entry);
  }

  private remove(entry: Entry): void {
    const bucket = this.buckets[entry.transmits] ?? [];
    const index = this.position(bucket, entry);
    if (bucket[index] === entry) bucket.splice(index, 1);
    this.byNode.delete(entry.node);
  }

  /** Where `entry` is, or goes, in a bucket sorted by (size desc, id desc): a binary search. */
  private position(bucket: Entry[], entry: Entry): number {
    let low = 0;
    let high = bucket.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      const other = bucket[middle];
      if (other !== undefined && (other.size > entry.size || (other.size === entry.size && other.id > entry.id)))
        low = middle + 1;
      else high = middle;
    }
    return low;
  }
}
