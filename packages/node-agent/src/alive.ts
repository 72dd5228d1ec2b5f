import type { QuorumTiming } from '@pxsim/quorum';

/**
 * The TTL of a node's alive lease: three heartbeats, at least 3 s. A crashed agent's record (and with it the node ID)
 * is free again within this; the simulator's liveness bound is built on it.
 */
export function aliveTtlMs(timing: QuorumTiming): number {
  return Math.max(3000, 3 * timing.heartbeatIntervalMs);
}
