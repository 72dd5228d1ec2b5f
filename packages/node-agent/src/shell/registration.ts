import { isKvdbError, type Kvdb, type Lease } from '@pxsim/kvdb-client';
import type { Clock } from '@pxsim/runtime';
import type { QuorumTiming } from '@pxsim/quorum';
import type { AgentConfig } from '../config.js';
import {
  aliveConflictIsTwin,
  aliveRecord,
  aliveTtlMs,
  clusterInfoRecord,
  domainRecord,
  isOwnAliveRecord,
  nodeEntryFor,
  previousNodeEntry,
} from '../core/join.js';
import { newFrameSecret } from '../wire/frames.js';
import {
  ALIVE_PREFIX,
  clusterInfoSchema,
  DOMAINS_PREFIX,
  INFO_KEY,
  NODES_PREFIX,
  parseKvdbValue,
  type NodeEntry,
} from '../wire/layout.js';
import { clusterUuidProblem } from './identity.js';

/** A live record for this node ID exists: a crashed predecessor (it will expire) or a twin (it will not). */
export class PredecessorStillLiveError extends Error {}

export interface RegistrationOptions {
  config: AgentConfig;
  nodeId: string;
  /** Tells this run of the agent from a predecessor or a twin with the same node ID. */
  incarnation: string;
  timing: QuorumTiming;
  kvdb: Kvdb;
  clock: Clock;
  random: () => number;
  /** The alive lease was lost. */
  onAliveLost: (reason: string) => void;
  /** A kvdb value read here failed its schema (what the agent does about it is said in `consequence`). */
  onRejected: (key: string, problem: string, consequence: string) => void;
}

/**
 * The shell's kvdb work of joining: the cluster info and domain records, the alive record on its lease (one live
 * agent per node ID) and the node entry. The values written and the decisions come from `core/join.ts`; this class
 * only performs them, one kvdb call after another.
 */
export class Registration {
  private readonly options: RegistrationOptions;
  private readonly kvdb: Kvdb;
  private aliveLease: Lease | undefined;
  private aliveConflictSinceMs: number | undefined;

  constructor(options: RegistrationOptions) {
    this.options = options;
    this.kvdb = options.kvdb;
  }

  /** Whether this agent holds its alive record (as far as its lease knows). */
  get aliveHeld(): boolean {
    return this.aliveLease !== undefined && !this.aliveLease.lost;
  }

  /**
   * The cluster's info record, created by the first node. A node that joined cluster UUID `recordedUuid` before
   * never creates or joins another (the kvdb lost its data) unless `--allow-new-cluster-uuid`: it throws, naming both
   * and the way out, and the join is retried (the status says why). A new node only offers the record, as before; the
   * UUID it joined is recorded from its first read of the cluster.
   */
  async ensureClusterInfo(recordedUuid: string | undefined): Promise<void> {
    const { config, random, clock } = this.options;
    if (recordedUuid !== undefined && config.allowNewClusterUuid !== true) {
      const existing = await this.kvdb.get(INFO_KEY).then(
        (got) => got.kv.value,
        (error: unknown) => {
          if (isKvdbError(error, 'NotFound')) return undefined;
          throw error;
        },
      );
      const parsed = existing === undefined ? undefined : parseKvdbValue(existing, clusterInfoSchema);
      if (parsed !== undefined && !parsed.ok) throw new Error(`${INFO_KEY} is malformed: ${parsed.problem}`);
      const problem = clusterUuidProblem(config, recordedUuid, parsed?.value.clusterUuid);
      if (problem !== undefined) throw new Error(problem);
      return;
    }
    // The heartbeat secret is key material: from the OS, not from the (seeded, in the simulator) `random`. Its value
    // changes no decision, so a simulated run stays the same run.
    const info = clusterInfoRecord(config, random, clock.nowMs(), newFrameSecret());
    await this.kvdb.create(INFO_KEY, JSON.stringify(info)).catch((error: unknown) => {
      if (!isKvdbError(error, 'Exists')) throw error;
    });
  }

  async ensureDomain(): Promise<void> {
    const entry = domainRecord(this.options.config, this.options.clock.nowMs());
    await this.kvdb.create(`${DOMAINS_PREFIX}${entry.name}`, JSON.stringify(entry)).catch((error: unknown) => {
      if (!isKvdbError(error, 'Exists')) throw error;
    });
  }

  /**
   * One live agent per node ID: a lease-bound key. A crashed predecessor's key expires within its TTL. A claim already
   * held is kept across join retries, and a record carrying this incarnation's token is our own (an answer lost on
   * the way back), not a twin's. Resolves to the reason this agent must not run (a twin has its node ID), or to
   * undefined once claimed; throws (to be retried) otherwise.
   */
  async claimAlive(): Promise<string | undefined> {
    if (this.aliveHeld) return undefined;
    const { config, nodeId, incarnation, timing, clock } = this.options;
    const key = `${ALIVE_PREFIX}${nodeId}`;
    const lease = await this.kvdb.grantLease(aliveTtlMs(timing));
    const value = JSON.stringify(aliveRecord(config, incarnation, clock.nowMs()));
    try {
      await this.kvdb.create(key, value, { leaseId: lease.id });
    } catch (error) {
      await lease.revoke().catch(() => undefined);
      if (!isKvdbError(error, 'Exists')) throw error;
      const existing = await this.kvdb.get(key).then(
        (got) => got.kv,
        () => undefined,
      );
      if (existing !== undefined && isOwnAliveRecord(existing.value, incarnation)) {
        // Ours, from an attempt whose answer was lost: remove it and claim again on the next try.
        await this.kvdb.delete(key, { ifModRevision: existing.modRevision }).catch(() => undefined);
        throw new Error("re-claiming this agent's own live record");
      }
      const nowMs = clock.nowMs();
      this.aliveConflictSinceMs ??= nowMs;
      const other = existing?.value ?? '(gone)';
      if (aliveConflictIsTwin(this.aliveConflictSinceMs, nowMs, lease.ttlMs)) {
        return `node ID ${nodeId} is already live (${other}); refusing to start a second agent with it`;
      }
      throw new PredecessorStillLiveError(
        `waiting for the previous agent with node ID ${nodeId} to expire (its live record: ${other}); a crashed agent's record expires within ${lease.ttlMs} ms`,
      );
    }
    this.aliveConflictSinceMs = undefined;
    this.aliveLease = lease;
    lease.onLost((reason) => this.options.onAliveLost(reason.message));
    return undefined;
  }

  /** Writes this run's node entry (a malformed previous entry is reported and rewritten). */
  async register(): Promise<NodeEntry> {
    const { config, nodeId, clock } = this.options;
    const key = `${NODES_PREFIX}${nodeId}`;
    const existing = await this.kvdb.get(key).then(
      (got) => got,
      (error: unknown) => {
        if (isKvdbError(error, 'NotFound')) return undefined;
        throw error;
      },
    );
    const previous = previousNodeEntry(existing?.kv.value);
    if (previous.problem !== undefined) this.options.onRejected(key, previous.problem, 'rewriting it');
    const entry = nodeEntryFor(config, nodeId, previous.entry, clock.nowMs());
    if (existing === undefined) await this.kvdb.create(key, JSON.stringify(entry));
    else await this.kvdb.update(key, JSON.stringify(entry), { ifModRevision: existing.kv.modRevision });
    return entry;
  }

  /** Hands the alive record back (a clean stop). */
  async release(): Promise<void> {
    await this.aliveLease?.revoke().catch(() => undefined);
  }
}
