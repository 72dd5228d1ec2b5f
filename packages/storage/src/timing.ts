/** The replication timers. */
export interface StorageTiming {
  /** An unacknowledged message is sent again after this long. */
  retransmitMs: number;
  /** A replica silent this long (no answer to a write, check or digest request) is removed from the current set. */
  replicaTimeoutMs: number;
}

/**
 * The timers for a quorum timing profile's name: `fast` for tests and the simulator, `portworx` for a real-size
 * cluster. The timeout is above twice the metro latency limit (500 ms one way) plus retransmits, so latency alone
 * never removes a replica.
 */
export function storageTiming(profile: string): StorageTiming {
  switch (profile) {
    case 'fast':
      return { retransmitMs: 300, replicaTimeoutMs: 2500 };
    case 'portworx':
      return { retransmitMs: 500, replicaTimeoutMs: 10_000 };
    default:
      throw new RangeError(`unknown timing profile "${profile}" (fast or portworx)`);
  }
}
