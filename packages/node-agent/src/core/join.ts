import type { QuorumTiming } from '@pxsim/quorum';
import type { AgentConfig } from '../config.js';
import {
  aliveRecordSchema,
  nodeEntrySchema,
  parseKvdbValue,
  type AliveRecord,
  type ClusterInfo,
  type DomainEntry,
  type NodeEntry,
} from '../wire/layout.js';

/**
 * The values the agent writes when it joins, and the decisions of joining: pure functions of their arguments (the
 * time and the random source are passed in).
 */

const GiB = 1024 ** 3;
/** Join and alive re-claim retries back off from this delay, doubling, up to the max (every retry loop is bounded). */
export const RETRY_DELAY_MS_MIN = 200;
export const RETRY_DELAY_MS_MAX = 5000;

/** The alive lease's TTL: a crashed agent's alive record is gone within this long. */
export function aliveTtlMs(timing: QuorumTiming): number {
  return Math.max(3000, 3 * timing.heartbeatIntervalMs);
}

/** The next delay of a doubling backoff, bounded by `RETRY_DELAY_MS_MAX`. */
export function nextRetryDelayMs(delayMs: number): number {
  return Math.min(RETRY_DELAY_MS_MAX, delayMs * 2);
}

/** A random (version 4) UUID from `random` (uniform in [0, 1)): 33 draws. */
export function uuidFrom(random: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16));
  hex[12] = '4';
  hex[16] = (Math.floor(random() * 4) + 8).toString(16);
  const text = hex.join('');
  return `${text.slice(0, 8)}-${text.slice(8, 12)}-${text.slice(12, 16)}-${text.slice(16, 20)}-${text.slice(20)}`;
}

/** The pool's size (a storage-less witness has none). */
export function poolCapacityBytesOf(config: AgentConfig): number {
  return config.storageless ? 0 : Math.round(config.poolCapacityGiB * GiB);
}

/** The cluster's info record, offered by every joining agent (the first one's stays). */
export function clusterInfoRecord(
  config: AgentConfig,
  random: () => number,
  nowMs: number,
  heartbeatSecret: string,
): ClusterInfo {
  return { clusterId: config.clusterId, clusterUuid: uuidFrom(random), createdAtMs: nowMs, heartbeatSecret };
}

/** This node's domain, offered Active by every joining agent of the domain (the first one's stays). */
export function domainRecord(config: AgentConfig, nowMs: number): DomainEntry {
  return { name: config.clusterDomain, state: 'Active', updatedAtMs: nowMs };
}

export function aliveRecord(config: AgentConfig, incarnation: string, nowMs: number): AliveRecord {
  return { ip: config.ip, apiPort: config.apiPort, sinceMs: nowMs, incarnation };
}

/** Whether an alive record is this incarnation's own (an answer lost on the way back); a malformed one is not. */
export function isOwnAliveRecord(text: string | undefined, incarnation: string): boolean {
  if (text === undefined) return false;
  const parsed = parseKvdbValue(text, aliveRecordSchema);
  return parsed.ok && parsed.value.incarnation === incarnation;
}

/**
 * Another live record for this node ID: a crashed predecessor's expires within its TTL; one that outlives that (and
 * a margin) belongs to a twin, and this agent must not run.
 */
export function aliveConflictIsTwin(conflictSinceMs: number, nowMs: number, ttlMs: number): boolean {
  return nowMs - conflictSinceMs > ttlMs + 2000;
}

/** What registering finds under the node's key: the previous entry, or a problem with the value (then rewritten). */
export function previousNodeEntry(text: string | undefined): {
  entry: NodeEntry | undefined;
  problem: string | undefined;
} {
  if (text === undefined) return { entry: undefined, problem: undefined };
  const parsed = parseKvdbValue(text, nodeEntrySchema);
  return parsed.ok ? { entry: parsed.value, problem: undefined } : { entry: undefined, problem: parsed.problem };
}

/** The node entry this run registers: the next generation, keeping the pool's used bytes. */
export function nodeEntryFor(
  config: AgentConfig,
  nodeId: string,
  previous: NodeEntry | undefined,
  nowMs: number,
): NodeEntry {
  return {
    id: nodeId,
    clusterId: config.clusterId,
    schedulerNodeName: config.schedulerNodeName,
    mgmtIp: config.ip,
    dataIp: config.ip,
    apiPort: config.apiPort,
    heartbeatPort: config.heartbeatPort,
    replicationPort: config.replicationPort,
    genNumber: (previous?.genNumber ?? 0) + 1,
    startTimeMs: nowMs,
    hostname: config.schedulerNodeName,
    clusterDomain: config.clusterDomain,
    nonQuorumMember: false,
    storageless: config.storageless,
    poolCapacityBytes: poolCapacityBytesOf(config),
    poolUsedBytes: previous?.poolUsedBytes ?? 0,
    volumeUsedBytes: previous?.volumeUsedBytes ?? 0,
    version: config.version,
    decommissioned: false,
  };
}
