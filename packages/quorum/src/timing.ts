import { QuorumInputError } from './errors.js';

/** Every timer of the engine, in ms. Names carry their unit. */
export interface QuorumTiming {
  /** How often a node heartbeats each peer (gossip interval). */
  heartbeatIntervalMs: number;
  /** A peer not heard for this long has left (memberlist suspicion timeout). */
  suspectAfterMs: number;
  /** Reference mode: SUSPECT_NOT_IN_QUORUM lasts this long before NOT_IN_QUORUM. */
  quorumTimeoutMs: number;
  /**
   * Reference mode: how long a (re)started node waits for quorum before it gives up, goes Offline and is restarted
   * (openstorage `cluster/manager/manager.go` `waitForQuorum`: 600 tries × the 2 s gossip interval).
   */
  quorumWaitMs: number;
  /** A peer whose whole domain is silent is SUSPECT_DOWN for this long before DOWN. */
  suspectDownProbationMs: number;
  /** How often the host re-reads the cluster snapshot from the kvdb. */
  snapshotRefreshMs: number;
  /**
   * Safe mode: a snapshot is fresh for this long after its read was sent. Without a fresh snapshot a node does not
   * serve; a newly active domain and a newly seen claim wait this long before they count.
   */
  snapshotFreshnessMs: number;
  /** The largest one-way latency the profile must tolerate (the metro limit: 500 ms). */
  latencyMaxMs: number;
}

/** The reference defaults (gossip, memberlist, openstorage). */
export const PORTWORX_TIMING: QuorumTiming = {
  heartbeatIntervalMs: 2000,
  suspectAfterMs: 25_000,
  quorumTimeoutMs: 60_000,
  quorumWaitMs: 1_200_000,
  suspectDownProbationMs: 60_000,
  snapshotRefreshMs: 2000,
  snapshotFreshnessMs: 10_000,
  latencyMaxMs: 500,
};

/** Short timers for local sims and tests; still tolerates 500 ms one-way latency. */
export const FAST_TIMING: QuorumTiming = {
  heartbeatIntervalMs: 500,
  suspectAfterMs: 2500,
  quorumTimeoutMs: 5000,
  quorumWaitMs: 30_000,
  suspectDownProbationMs: 5000,
  snapshotRefreshMs: 500,
  snapshotFreshnessMs: 3000,
  latencyMaxMs: 500,
};

export const TIMING_PROFILES = { portworx: PORTWORX_TIMING, fast: FAST_TIMING } as const;
export type TimingProfileName = keyof typeof TIMING_PROFILES;

export function timingProfile(name: string): QuorumTiming {
  if (name === 'portworx' || name === 'fast') return TIMING_PROFILES[name];
  throw new QuorumInputError(`unknown timing profile "${name}": expected portworx or fast`);
}

/**
 * Problems that make a timing unable to tolerate its own latency bound (hazard H4): a peer would be suspected
 * while it is merely slow, or a snapshot would go stale between two refreshes. Empty when the timing is sound.
 */
export function timingProblems(timing: QuorumTiming): string[] {
  const problems: string[] = [];
  for (const [name, value] of Object.entries(timing)) {
    if (!Number.isSafeInteger(value) || value < 0) problems.push(`${name} must be a whole number of ms, got ${value}`);
  }
  if (problems.length > 0) return problems;
  const heartbeatGapMaxMs = timing.heartbeatIntervalMs + 2 * timing.latencyMaxMs;
  if (timing.suspectAfterMs <= heartbeatGapMaxMs) {
    problems.push(
      `suspectAfterMs ${timing.suspectAfterMs} must exceed heartbeatIntervalMs + 2 × latencyMaxMs = ${heartbeatGapMaxMs}: ` +
        `with ${timing.latencyMaxMs} ms latency a healthy peer would look dead`,
    );
  }
  const readGapMaxMs = timing.snapshotRefreshMs + 2 * timing.latencyMaxMs;
  if (timing.snapshotFreshnessMs <= readGapMaxMs) {
    problems.push(
      `snapshotFreshnessMs ${timing.snapshotFreshnessMs} must exceed snapshotRefreshMs + 2 × latencyMaxMs = ${readGapMaxMs}: ` +
        `a healthy node's view of the domain map would go stale between reads`,
    );
  }
  if (timing.heartbeatIntervalMs < 1) problems.push('heartbeatIntervalMs must be at least 1');
  return problems;
}
