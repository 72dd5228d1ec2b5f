// eslint-disable-next-line @typescript-eslint/triple-slash-reference -- an ambient declaration, for every program compiling this file
/// <reference path="./prom-client-parts.d.ts" />
import type { Counter, Histogram, Registry } from 'prom-client';
// prom-client's classes from their own modules, not its index (prom-client-parts.d.ts says why).
import CounterClass from 'prom-client/lib/counter.js';
import GaugeClass from 'prom-client/lib/gauge.js';
import HistogramClass from 'prom-client/lib/histogram.js';
import RegistryClass from 'prom-client/lib/registry.js';
import { isKvdbError, type Kvdb } from '@pxsim/kvdb-client';
import type { Clock } from '@pxsim/runtime';
import { GOSSIP_STATES } from '@pxsim/quorum';
import type { AgentStatus } from './core/types.js';
import type { ClusterDomainUpdate } from './wire/layout.js';
import type { VolumeView } from '@pxsim/storage';

/** Replication statuses as `px_volume_replication_status` numbers them (Portworx's metrics reference). */
const REPLICATION_STATUS_CODES = { Up: 0, 'Not in quorum': 1, Resync: 2, Degraded: 3, Detached: 4 } as const;

/** What the metrics read from the agent at each scrape (the API's port offers both). */
export interface MetricsSource {
  status(): AgentStatus;
  listClusterDomainUpdates(): Promise<ClusterDomainUpdate[]>;
  /** The volumes as this node sees them (its I/O counters are the coordinator's, on the node attached). */
  volumes?(): VolumeView[];
}

const USER_STATUSES = ['Online', 'Out of Quorum', 'Offline', 'Initializing'] as const;
const CDU_STATUSES = ['Pending', 'Successful', 'Failed'] as const;
/** Counter name in the status → the `reason` label of `pxsim_heartbeat_frames_dropped_total`. */
const DROP_REASONS = {
  framesDropped: 'malformed_or_not_listening',
  framesFromOtherClusters: 'other_cluster',
  framesUnauthenticated: 'unauthenticated_or_replayed',
} as const;
/** The kvdb calls timed (watch is a stream, not a call: not timed). */
type KvdbOperation = 'get' | 'range' | 'prefixVersion' | 'put' | 'create' | 'update' | 'delete' | 'txn' | 'grantLease';

/**
 * One agent's Prometheus metrics (prom-client), in a registry of their own (several agents can share a process: tests,
 * `pnpm sim`). Status, quorum and frame counts are read from the agent's status snapshot at each scrape; kvdb calls are
 * timed as they happen by `meterKvdb`; ClusterDomainUpdates are counted by status at each scrape.
 */
export class AgentMetrics {
  readonly registry = new RegistryClass();
  private readonly kvdbSeconds: Histogram<'operation'>;
  private readonly kvdbErrors: Counter<'operation' | 'kind'>;

  constructor(source: MetricsSource) {
    const registers = [this.registry];
    const status = (): AgentStatus => source.status();
    new GaugeClass({
      name: 'pxsim_node_status',
      help: "This node's status as pxctl shows it: 1 for the current one, 0 for the others",
      labelNames: ['status'],
      registers,
      collect() {
        const current = status().node.status;
        for (const name of USER_STATUSES) this.set({ status: name }, current === name ? 1 : 0);
      },
    });
    new GaugeClass({
      name: 'pxsim_node_gossip_state',
      help: "This node's gossip state as its peers hear it: 1 for the current one, 0 for the others",
      labelNames: ['state'],
      registers,
      collect() {
        const current = status().node.gossipState;
        for (const name of GOSSIP_STATES) this.set({ state: name }, current === name ? 1 : 0);
      },
    });
    new GaugeClass({
      name: 'pxsim_node_serving',
      help: 'Whether this node serves I/O now (1) or is fenced (0)',
      registers,
      collect() {
        this.set(status().node.serving ? 1 : 0);
      },
    });
    this.quorumGauges(status, registers);
    this.frameCounters(status, registers);
    this.kvdbSeconds = new HistogramClass({
      name: 'pxsim_kvdb_operation_seconds',
      help: "Duration of this agent's kvdb calls, by operation (failed calls included)",
      labelNames: ['operation'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.kvdbErrors = new CounterClass({
      name: 'pxsim_kvdb_errors_total',
      help: "This agent's failed kvdb calls, by operation and error kind (the kvdb client's typed kinds)",
      labelNames: ['operation', 'kind'],
      registers,
    });
    this.cduGauge(source, registers);
    this.volumeGauges(source, registers);
  }

  /** Volume I/O and replication, per volume, read from the node's view at each scrape. */
  private volumeGauges(source: MetricsSource, registers: Registry[]): void {
    const volumes = (): VolumeView[] => source.volumes?.() ?? [];
    const io = (name: string, help: string, pick: (view: VolumeView) => number): void => {
      new GaugeClass({
        name,
        help,
        labelNames: ['volume'],
        registers,
        collect() {
          this.reset();
          for (const view of volumes()) this.set({ volume: view.record.name }, pick(view));
        },
      });
    };
    io('pxsim_volume_reads_total', 'Reads this node coordinated for the volume', (view) => view.io.reads);
    io('pxsim_volume_writes_total', 'Writes this node coordinated for the volume', (view) => view.io.writes);
    io('pxsim_volume_read_bytes_total', 'Bytes read through this node', (view) => view.io.bytesRead);
    io('pxsim_volume_written_bytes_total', 'Bytes written through this node', (view) => view.io.bytesWritten);
    io('pxsim_volume_ios_in_progress', 'Operations waiting on replicas now', (view) => view.io.inProgress);
    io('pxsim_volume_used_bytes', "Bytes this node's replica holds", (view) => view.usedBytes);
    io(
      'pxsim_volume_replication_status',
      'Replication status as Portworx numbers it: 0 up, 1 not in quorum, 2 resync, 3 degraded, 4 detached',
      (view) => REPLICATION_STATUS_CODES[view.replicationStatus],
    );
  }

  /**
   * ClusterDomainUpdates by status, as of the last read that answered: a scrape starts a read (unless one is under
   * way) and never waits on the kvdb, so a scrape during a kvdb outage answers at once (these series then stay as they
   * were, or are left out before the first read answered).
   */
  private cduGauge(source: MetricsSource, registers: Registry[]): void {
    let known: ClusterDomainUpdate[] | undefined;
    let reading = false;
    new GaugeClass({
      name: 'pxsim_cluster_domain_updates',
      help: 'ClusterDomainUpdate objects in the kvdb, by status (as of the previous scrape: a scrape never waits on the kvdb)',
      labelNames: ['status'],
      registers,
      collect() {
        if (!reading) {
          reading = true;
          source.listClusterDomainUpdates().then(
            (updates) => {
              known = updates;
              reading = false;
            },
            () => {
              reading = false;
            },
          );
        }
        this.reset();
        if (known === undefined) return;
        for (const name of CDU_STATUSES)
          this.set({ status: name }, known.filter((update) => update.status === name).length);
      },
    });
  }

  private quorumGauges(status: () => AgentStatus, registers: Registry[]): void {
    const quorum = [
      ['pxsim_quorum_up', 'Members this node hears that count towards quorum', 'up'],
      ['pxsim_quorum_needed', 'Members needed for quorum', 'needed'],
      ['pxsim_quorum_total', 'Members of the active domains', 'total'],
    ] as const;
    for (const [name, help, field] of quorum) {
      new GaugeClass({
        name,
        help,
        registers,
        collect() {
          this.set(status().quorum[field]);
        },
      });
    }
  }

  private frameCounters(status: () => AgentStatus, registers: Registry[]): void {
    // The status holds running totals; at a scrape each counter moves by what its total moved since the last one.
    // Whichever of the three is collected first brings all three up to date (the others then move by nothing).
    const seen = { received: 0, sent: 0, dropped: new Map<string, number>() };
    const moved = (total: number, before: number): number => Math.max(0, total - before);
    const refresh = (): void => {
      const counters = status().counters;
      received.inc(moved(counters.framesReceived, seen.received));
      seen.received = Math.max(seen.received, counters.framesReceived);
      sent.inc(moved(counters.framesSent, seen.sent));
      seen.sent = Math.max(seen.sent, counters.framesSent);
      for (const [field, reason] of Object.entries(DROP_REASONS) as Array<[keyof typeof DROP_REASONS, string]>) {
        dropped.inc({ reason }, moved(counters[field], seen.dropped.get(reason) ?? 0));
        seen.dropped.set(reason, Math.max(seen.dropped.get(reason) ?? 0, counters[field]));
      }
    };
    const received = new CounterClass({
      name: 'pxsim_heartbeat_frames_received_total',
      help: 'Heartbeat frames accepted from peers',
      registers,
      collect: refresh,
    });
    const sent = new CounterClass({
      name: 'pxsim_heartbeat_frames_sent_total',
      help: 'Heartbeat frames sent to peers (one per peer per heartbeat round)',
      registers,
      collect: refresh,
    });
    const dropped = new CounterClass({
      name: 'pxsim_heartbeat_frames_dropped_total',
      help: 'Heartbeat frames dropped, by reason',
      labelNames: ['reason'],
      registers,
      collect: refresh,
    });
  }

  /** Records one kvdb call. */
  observeKvdb(operation: KvdbOperation, seconds: number, error: unknown): void {
    this.kvdbSeconds.observe({ operation }, seconds);
    if (error !== undefined) this.kvdbErrors.inc({ operation, kind: isKvdbError(error) ? error.kind : 'other' });
  }

  /** The Prometheus text exposition (version 0.0.4). */
  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/** `kvdb` with every call but watch, compaction and close timed into `metrics` on `clock` (the runtime's: virtual in a simulator). */
export function meterKvdb(kvdb: Kvdb, metrics: AgentMetrics, clock: Clock): Kvdb {
  const timed = <T>(operation: KvdbOperation, call: () => Promise<T>): Promise<T> => {
    const startedMs = clock.nowMs();
    return call().then(
      (value) => {
        metrics.observeKvdb(operation, (clock.nowMs() - startedMs) / 1000, undefined);
        return value;
      },
      (error: unknown) => {
        metrics.observeKvdb(operation, (clock.nowMs() - startedMs) / 1000, error ?? 'unknown');
        throw error;
      },
    );
  };
  return {
    get description() {
      return kvdb.description;
    },
    get: (key) => timed('get', () => kvdb.get(key)),
    range: (prefix, options) => timed('range', () => kvdb.range(prefix, options)),
    prefixVersion: (prefix) => timed('prefixVersion', () => kvdb.prefixVersion(prefix)),
    put: (key, value, options) => timed('put', () => kvdb.put(key, value, options)),
    create: (key, value, options) => timed('create', () => kvdb.create(key, value, options)),
    update: (key, value, options) => timed('update', () => kvdb.update(key, value, options)),
    delete: (key, options) => timed('delete', () => kvdb.delete(key, options)),
    txn: (request) => timed('txn', () => kvdb.txn(request)),
    grantLease: (ttlMs, options) => timed('grantLease', () => kvdb.grantLease(ttlMs, options)),
    watch: (prefix, options) => kvdb.watch(prefix, options),
    compact: (revision) => kvdb.compact(revision),
    currentRevision: () => kvdb.currentRevision(),
    close: () => kvdb.close(),
  };
}
