import { isKvdbError, type Kvdb, type Lease, type Watch } from '@pxsim/kvdb-client';
import type { Timer } from '@pxsim/runtime';
import {
  QuorumEngine,
  timingProfile,
  type DomainState,
  type GossipState,
  type QuorumAction,
  type QuorumInput,
  type QuorumTiming,
  type QuorumView,
  type UserStatus,
} from '@pxsim/quorum';
import type { AgentConfig } from './config.js';
import { decodeFrame, encodeFrame, type HeartbeatFrame } from './frames.js';
import {
  ALIVE_PREFIX,
  CDU_PREFIX,
  clusterDomainUpdateSchema,
  type ClusterDomainUpdate,
  type ClusterDomainUpdateSpec,
  CLUSTER_PREFIX,
  DOMAINS_PREFIX,
  INFO_KEY,
  NODES_PREFIX,
  claimKeyFor,
  namespaceFor,
  nodeEntrySchema,
  parseCluster,
  type DomainEntry,
  type NodeEntry,
  type ParseCache,
  type ParsedCluster,
} from './layout.js';
import type { AgentRuntime } from './runtime/types.js';

export type AgentPhase = 'starting' | 'waiting for kvdb' | 'running' | 'stopping' | 'stopped' | 'failed';

export interface NodeStatusEntry {
  id: string;
  ip: string;
  schedulerNodeName: string;
  domain: string;
  status: UserStatus;
  gossipState: GossipState;
  storageStatus: 'Up' | 'Down';
  reason: string;
  usedBytes: number;
  capacityBytes: number;
  version: string;
  storageless: boolean;
  thisNode: boolean;
}

/** Everything the API shows: an immutable snapshot, replaced on every change. */
export interface AgentStatus {
  phase: AgentPhase;
  phaseReason: string;
  nowMs: number;
  node: NodeStatusEntry & {
    apiPort: number;
    heartbeatPort: number;
    replicationPort: number;
    /** Whether this node serves I/O now (running, and its engine says it may). */
    serving: boolean;
  };
  cluster: {
    id: string;
    uuid: string;
    createdAtMs: number;
    scheduler: 'kubernetes';
    kvdb: string;
    kvdbRevision: number;
  };
  quorum: { mode: string; total: number; up: number; needed: number; activeDomains: string[] };
  nodes: NodeStatusEntry[];
  domains: Array<{ name: string; state: DomainState; nodes: number; updatedAtMs: number }>;
  counters: {
    framesReceived: number;
    framesDropped: number;
    framesFromOtherClusters: number;
    kvdbValuesRejected: number;
  };
}

export type AgentEvent =
  | { type: 'phase'; atMs: number; phase: AgentPhase; reason: string }
  | {
      type: 'node-status';
      atMs: number;
      nodeId: string;
      from: UserStatus | 'Unknown';
      to: UserStatus;
      gossipState: GossipState;
      reason: string;
    }
  | { type: 'domain-state'; atMs: number; domain: string; from: DomainState | 'Unknown'; to: DomainState };

export class DomainNotFoundError extends Error {
  constructor(
    readonly domain: string,
    readonly known: string[],
  ) {
    super(`unknown cluster domain "${domain}"; known domains: ${known.length === 0 ? '(none)' : known.join(', ')}`);
  }
}

/** A live record for this node ID exists: a crashed predecessor (it will expire) or a twin (it will not). */
class PredecessorStillLiveError extends Error {}

export class CduExistsError extends Error {
  constructor(readonly objectName: string) {
    super(`clusterdomainupdates.stork.libopenstorage.org "${objectName}" already exists`);
  }
}

export type WriteResult =
  { ok: true; usedBytes: number } | { ok: false; code: 'FENCED' | 'POOL_FULL' | 'NOT_READY'; reason: string };

const GiB = 1024 ** 3;
const RETRY_DELAY_MS_MIN = 200;
const RETRY_DELAY_MS_MAX = 5000;
const LISTENERS_MAX = 64;
const REJECTED_KEYS_LOGGED_MAX = 64;

function uuidFrom(random: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16));
  hex[12] = '4';
  hex[16] = (Math.floor(random() * 4) + 8).toString(16);
  const text = hex.join('');
  return `${text.slice(0, 8)}-${text.slice(8, 12)}-${text.slice(12, 16)}-${text.slice(16, 20)}-${text.slice(20)}`;
}

/**
 * One simulated Portworx node: registers in the kvdb, heartbeats its peers, runs the quorum engine and obeys it
 * (fencing its storage when out of quorum), and publishes an immutable status for the API.
 */
export class NodeAgent {
  readonly config: AgentConfig;
  readonly nodeId: string;
  readonly timing: QuorumTiming;
  private readonly runtime: AgentRuntime;
  private readonly engine: QuorumEngine;
  private readonly kvdb: Kvdb;
  private phase: AgentPhase = 'starting';
  private phaseReason = '';
  private generation = 0;
  private sequence = 0;
  private view: QuorumView;
  private cluster: ParsedCluster | undefined;
  private usedBytes = 0;
  private aliveLease: Lease | undefined;
  private aliveConflictSinceMs: number | undefined;
  private watch: Watch | undefined;
  private readInFlight = false;
  private readAgain = false;
  private retryDelayMs = RETRY_DELAY_MS_MIN;
  private readonly timers = new Set<Timer>();
  private tickTimer: { atMs: number; timer: Timer } | undefined;
  private readonly listeners = new Set<(event: AgentEvent) => void>();
  private readonly loggedRejections = new Set<string>();
  private current: AgentStatus;
  /** The status is rebuilt lazily: only when asked for after a change. */
  private statusStale = false;
  private readonly parseCache: ParseCache = new Map();
  private readonly counters = {
    framesReceived: 0,
    framesDropped: 0,
    framesFromOtherClusters: 0,
    kvdbValuesRejected: 0,
  };
  /** Tells this run of the agent from a predecessor or a twin with the same node ID. */
  private readonly incarnation: string;
  /** Called when the agent cannot go on (another live agent has this node ID). */
  onFatal: (reason: string) => void = () => undefined;

  constructor(config: AgentConfig, runtime: AgentRuntime) {
    this.config = config;
    this.runtime = runtime;
    this.timing = timingProfile(config.timingProfile);
    const identity = runtime.identity.load();
    if (identity !== undefined && identity.clusterId !== config.clusterId) {
      throw new Error(
        `data dir ${config.dataDir} belongs to node ${identity.nodeId} of cluster ${identity.clusterId}; it cannot join cluster ${config.clusterId}`,
      );
    }
    if (identity === undefined) {
      this.nodeId = uuidFrom(runtime.random);
      runtime.identity.save({ nodeId: this.nodeId, clusterId: config.clusterId });
    } else {
      this.nodeId = identity.nodeId;
    }
    this.incarnation = uuidFrom(runtime.random);
    this.engine = new QuorumEngine({ selfId: this.nodeId, mode: config.quorumMode, timing: this.timing });
    this.view = this.engine.view();
    this.kvdb = runtime.openKvdb(config.kvdb, namespaceFor(config.clusterId));
    this.current = this.buildStatus();
  }

  /** The simulated pool's size (a storage-less witness has none). */
  private get poolCapacityBytes(): number {
    return this.config.storageless ? 0 : Math.round(this.config.poolCapacityGiB * GiB);
  }

  /** The engine's verdict for this node, without building the whole status. */
  selfState(): { gossipState: GossipState; status: UserStatus; serving: boolean } {
    const status = this.userStatus(this.nodeId, this.view.self.status);
    return {
      gossipState: this.view.self.gossipState,
      status,
      serving: this.phase === 'running' && this.view.self.serving,
    };
  }

  status(): AgentStatus {
    if (this.statusStale) {
      this.current = this.buildStatus();
      this.statusStale = false;
    }
    return this.current;
  }

  /** Subscribes to state changes; returns the unsubscribe function. Bounded number of listeners. */
  subscribe(listener: (event: AgentEvent) => void): () => void {
    if (this.listeners.size >= LISTENERS_MAX) throw new Error(`too many event listeners (at most ${LISTENERS_MAX})`);
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async start(): Promise<void> {
    await this.runtime.transport.listen({ ip: this.config.ip, port: this.config.heartbeatPort }, (bytes) =>
      this.onFrame(bytes),
    );
    this.setPhase('waiting for kvdb', `connecting to ${this.kvdb.description}`);
    this.later(0, () => void this.join());
  }

  /**
   * SIGTERM: stop serving, close sockets, keep the registration. With `crash`, behave like SIGKILL instead: nothing
   * is handed back (the alive lease is left to expire), as a simulator's "kill" needs.
   */
  async stop(options: { crash?: boolean } = {}): Promise<void> {
    if (this.phase === 'stopped') return;
    this.setPhase('stopping', 'shutting down');
    for (const timer of this.timers) timer.cancel();
    this.timers.clear();
    this.tickTimer?.timer.cancel();
    this.tickTimer = undefined;
    this.watch?.cancel();
    await this.runtime.transport.close();
    if (options.crash !== true) await this.aliveLease?.revoke().catch(() => undefined);
    await this.kvdb.close();
    this.setPhase('stopped', 'stopped');
  }

  // ---- joining -------------------------------------------------------------------------------------------------

  private later(delayMs: number, work: () => void): void {
    const timer = this.runtime.clock.setTimer(delayMs, () => {
      this.timers.delete(timer);
      work();
    });
    this.timers.add(timer);
  }

  private async join(): Promise<void> {
    if (this.phase !== 'waiting for kvdb') return;
    try {
      await this.ensureClusterInfo();
      await this.ensureDomain();
      const claimed = await this.claimAlive();
      if (!claimed) return;
      await this.register();
    } catch (error) {
      this.retryJoin(error);
      return;
    }
    this.retryDelayMs = RETRY_DELAY_MS_MIN;
    this.setPhase('running', '');
    this.startLoops();
  }

  private retryJoin(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof PredecessorStillLiveError) {
      this.setPhase('waiting for kvdb', message);
    } else {
      this.setPhase('waiting for kvdb', `waiting for kvdb: ${message}`);
      this.step({ type: 'snapshotFailed', atMs: this.runtime.clock.nowMs(), error: message });
    }
    const jitter = 1 + this.runtime.random() * 0.2;
    const delayMs = Math.round(this.retryDelayMs * jitter);
    this.retryDelayMs = Math.min(RETRY_DELAY_MS_MAX, this.retryDelayMs * 2);
    this.later(delayMs, () => void this.join());
  }

  private async ensureClusterInfo(): Promise<void> {
    const info = {
      clusterId: this.config.clusterId,
      clusterUuid: uuidFrom(this.runtime.random),
      createdAtMs: this.runtime.clock.nowMs(),
    };
    await this.kvdb.create(INFO_KEY, JSON.stringify(info)).catch((error: unknown) => {
      if (!isKvdbError(error, 'Exists')) throw error;
    });
  }

  private async ensureDomain(): Promise<void> {
    const entry: DomainEntry = {
      name: this.config.clusterDomain,
      state: 'Active',
      updatedAtMs: this.runtime.clock.nowMs(),
    };
    await this.kvdb.create(`${DOMAINS_PREFIX}${entry.name}`, JSON.stringify(entry)).catch((error: unknown) => {
      if (!isKvdbError(error, 'Exists')) throw error;
    });
  }

  private aliveTtlMs(): number {
    return Math.max(3000, 3 * this.timing.heartbeatIntervalMs);
  }

  /**
   * One live agent per node ID: a lease-bound key. A crashed predecessor's key expires within its TTL. A claim already
   * held is kept across join retries, and a record carrying this incarnation's token is our own (an answer lost on
   * the way back), not a twin's.
   */
  private async claimAlive(): Promise<boolean> {
    if (this.aliveLease !== undefined && !this.aliveLease.lost) return true;
    const key = `${ALIVE_PREFIX}${this.nodeId}`;
    const lease = await this.kvdb.grantLease(this.aliveTtlMs());
    const value = JSON.stringify({
      ip: this.config.ip,
      apiPort: this.config.apiPort,
      sinceMs: this.runtime.clock.nowMs(),
      incarnation: this.incarnation,
    });
    try {
      await this.kvdb.create(key, value, { leaseId: lease.id });
    } catch (error) {
      await lease.revoke().catch(() => undefined);
      if (!isKvdbError(error, 'Exists')) throw error;
      const existing = await this.kvdb.get(key).then(
        (got) => got.kv,
        () => undefined,
      );
      if (existing !== undefined && existing.value.includes(`"incarnation":"${this.incarnation}"`)) {
        // Ours, from an attempt whose answer was lost: remove it and claim again on the next try.
        await this.kvdb.delete(key, { ifModRevision: existing.modRevision }).catch(() => undefined);
        throw new Error("re-claiming this agent's own live record");
      }
      const nowMs = this.runtime.clock.nowMs();
      this.aliveConflictSinceMs ??= nowMs;
      const other = existing?.value ?? '(gone)';
      if (nowMs - this.aliveConflictSinceMs > lease.ttlMs + 2000) {
        const reason = `node ID ${this.nodeId} is already live (${other}); refusing to start a second agent with it`;
        this.setPhase('failed', reason);
        this.onFatal(reason);
        return false;
      }
      throw new PredecessorStillLiveError(
        `waiting for the previous agent with node ID ${this.nodeId} to expire (its live record: ${other}); a crashed agent's record expires within ${lease.ttlMs} ms`,
      );
    }
    this.aliveConflictSinceMs = undefined;
    this.aliveLease = lease;
    lease.onLost((reason) => {
      this.runtime.log('warn', `alive lease lost (${reason.message}); re-registering`);
      if (this.phase === 'running') void this.claimAlive().catch(() => undefined);
    });
    return true;
  }

  private async register(): Promise<void> {
    const key = `${NODES_PREFIX}${this.nodeId}`;
    const existing = await this.kvdb.get(key).then(
      (got) => got,
      (error: unknown) => {
        if (isKvdbError(error, 'NotFound')) return undefined;
        throw error;
      },
    );
    let previous: NodeEntry | undefined;
    if (existing !== undefined) {
      const parsed = nodeEntrySchema.safeParse(JSON.parse(existing.kv.value));
      if (parsed.success) previous = parsed.data;
      else
        this.runtime.log(
          'warn',
          `node entry ${key} is malformed (${parsed.error.issues[0]?.message ?? 'invalid'}); rewriting it`,
        );
    }
    const entry: NodeEntry = {
      id: this.nodeId,
      clusterId: this.config.clusterId,
      schedulerNodeName: this.config.schedulerNodeName,
      mgmtIp: this.config.ip,
      dataIp: this.config.ip,
      apiPort: this.config.apiPort,
      heartbeatPort: this.config.heartbeatPort,
      replicationPort: this.config.replicationPort,
      genNumber: (previous?.genNumber ?? 0) + 1,
      startTimeMs: this.runtime.clock.nowMs(),
      hostname: this.config.schedulerNodeName,
      clusterDomain: this.config.clusterDomain,
      nonQuorumMember: false,
      storageless: this.config.storageless,
      poolCapacityBytes: this.poolCapacityBytes,
      poolUsedBytes: previous?.poolUsedBytes ?? 0,
      version: this.config.version,
      decommissioned: false,
    };
    if (existing === undefined) await this.kvdb.create(key, JSON.stringify(entry));
    else await this.kvdb.update(key, JSON.stringify(entry), { ifModRevision: existing.kv.modRevision });
    this.generation = entry.genNumber;
    this.usedBytes = entry.poolUsedBytes;
  }

  // ---- running -------------------------------------------------------------------------------------------------

  private startLoops(): void {
    const heartbeat = (): void => {
      this.sendHeartbeats();
      this.later(this.timing.heartbeatIntervalMs, heartbeat);
    };
    this.later(Math.floor(this.runtime.random() * this.timing.heartbeatIntervalMs), heartbeat);
    const refresh = (): void => {
      this.requestRead();
      this.later(this.timing.snapshotRefreshMs, refresh);
    };
    refresh();
    this.startWatch();
  }

  private startWatch(): void {
    this.watch = this.kvdb.watch(CLUSTER_PREFIX, {
      onBatch: () => this.requestRead(),
      onError: (error) => {
        this.runtime.log('warn', `watch on ${CLUSTER_PREFIX} ended (${error.message}); watching again`);
        this.later(this.timing.snapshotRefreshMs, () => {
          if (this.phase === 'running') this.startWatch();
        });
      },
    });
  }

  private requestRead(): void {
    if (this.readInFlight) {
      this.readAgain = true;
      return;
    }
    this.readInFlight = true;
    const readStartMs = this.runtime.clock.nowMs();
    this.kvdb.range(CLUSTER_PREFIX).then(
      (result) => {
        this.readInFlight = false;
        // The same revision parses to the same cluster: reuse it.
        const parsed =
          this.cluster !== undefined && this.cluster.revision === result.revision
            ? this.cluster
            : parseCluster(result.revision, result.kvs, this.parseCache);
        if (parsed !== this.cluster) {
          this.noteRejections(parsed);
          this.emitDomainChanges(this.cluster, parsed);
          this.cluster = parsed;
        }
        this.step({ type: 'snapshot', atMs: this.runtime.clock.nowMs(), readStartMs, snapshot: parsed.snapshot });
        this.afterRead();
      },
      (error: unknown) => {
        this.readInFlight = false;
        this.step({
          type: 'snapshotFailed',
          atMs: this.runtime.clock.nowMs(),
          error: error instanceof Error ? error.message : String(error),
        });
        this.afterRead();
      },
    );
  }

  private afterRead(): void {
    if (this.readAgain && this.phase === 'running') {
      this.readAgain = false;
      this.requestRead();
    }
  }

  private noteRejections(parsed: ParsedCluster): void {
    for (const rejected of parsed.rejected) {
      const key = `${rejected.key}: ${rejected.problem}`;
      if (this.loggedRejections.has(key) || this.loggedRejections.size >= REJECTED_KEYS_LOGGED_MAX) continue;
      this.loggedRejections.add(key);
      this.counters.kvdbValuesRejected += 1;
      this.statusStale = true;
      this.runtime.log('warn', `rejected kvdb value ${key}`);
    }
  }

  private sendHeartbeats(): void {
    if (this.phase !== 'running' || this.cluster === undefined) return;
    const state = this.view.self.gossipState;
    const frame: HeartbeatFrame = {
      v: 1,
      clusterId: this.config.clusterId,
      nodeId: this.nodeId,
      generation: this.generation,
      sequence: this.sequence++,
      sentAtMs: this.runtime.clock.nowMs(),
      state: state === 'UP' || state === 'SUSPECT_NOT_IN_QUORUM' ? state : 'NOT_IN_QUORUM',
    };
    const bytes = encodeFrame(frame);
    for (const node of this.cluster.nodes) {
      if (node.id === this.nodeId || node.decommissioned) continue;
      this.runtime.transport.send({ ip: node.mgmtIp, port: node.heartbeatPort }, bytes);
    }
  }

  private onFrame(bytes: Uint8Array): void {
    this.statusStale = true; // the counters move
    const decoded = decodeFrame(bytes);
    if (!decoded.ok) {
      this.counters.framesDropped += 1;
      return;
    }
    const frame = decoded.frame;
    if (frame.clusterId !== this.config.clusterId) {
      this.counters.framesFromOtherClusters += 1;
      return;
    }
    if (frame.nodeId === this.nodeId || this.phase !== 'running') {
      this.counters.framesDropped += 1;
      return;
    }
    this.counters.framesReceived += 1;
    this.step({ type: 'heartbeat', atMs: this.runtime.clock.nowMs(), from: frame.nodeId, peerState: frame.state });
  }

  private step(input: QuorumInput): void {
    if (this.phase === 'stopping' || this.phase === 'stopped') return;
    const before = this.view;
    this.view = this.engine.step(input);
    // The engine hands back the same view when an input changed nothing (a routine heartbeat).
    if (this.view === before) return;
    this.scheduleTick(this.view.nextDeadlineMs);
    for (const action of this.view.actions) void this.perform(action);
    this.statusStale = true;
    this.emitChanges(before, this.view);
  }

  private scheduleTick(atMs: number | undefined): void {
    if (atMs === undefined || (this.tickTimer !== undefined && this.tickTimer.atMs === atMs)) return;
    this.tickTimer?.timer.cancel();
    const timer = this.runtime.clock.setTimer(Math.max(0, atMs - this.runtime.clock.nowMs()), () => {
      this.tickTimer = undefined;
      this.step({ type: 'tick', atMs: Math.max(this.runtime.clock.nowMs(), this.view.nowMs) });
    });
    this.tickTimer = { atMs, timer };
  }

  private async perform(action: QuorumAction): Promise<void> {
    const key = claimKeyFor(action.domains);
    try {
      if (action.type === 'claim') {
        await this.kvdb.create(key, JSON.stringify({ domains: action.domains, winner: action.winner }));
      } else {
        await this.kvdb.delete(key, { ifModRevision: action.revision });
      }
      this.requestRead();
    } catch (error) {
      if (!isKvdbError(error, 'Exists') && !isKvdbError(error, 'Modified') && !isKvdbError(error, 'NotFound')) {
        this.runtime.log(
          'warn',
          `partition ${action.type} ${key} failed: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
  }

  // ---- commands ------------------------------------------------------------------------------------------------

  /** ClusterDomainUpdate: marks a domain Active or Inactive in the kvdb (compare-and-set). */
  async setDomainState(
    name: string,
    state: DomainState,
  ): Promise<{ name: string; state: DomainState; revision: number }> {
    const range = await this.kvdb.range(DOMAINS_PREFIX);
    const known = range.kvs.map((kv) => kv.key.slice(DOMAINS_PREFIX.length)).sort();
    const found = range.kvs.find((kv) => kv.key === `${DOMAINS_PREFIX}${name}`);
    if (found === undefined) throw new DomainNotFoundError(name, known);
    const entry: DomainEntry = { name, state, updatedAtMs: this.runtime.clock.nowMs() };
    const result = await this.kvdb.update(found.key, JSON.stringify(entry), { ifModRevision: found.modRevision });
    this.requestRead();
    return { name, state, revision: result.revision };
  }

  /**
   * A Stork ClusterDomainUpdate: recorded as Pending, carried out (activate or deactivate), then recorded as
   * Successful, or Failed with the reason (an unknown domain names the known ones). `create` refuses an existing name
   * (kubectl create); `apply` replaces it (kubectl apply).
   */
  async applyClusterDomainUpdate(
    spec: ClusterDomainUpdateSpec,
    mode: 'create' | 'apply',
  ): Promise<ClusterDomainUpdate> {
    const key = `${CDU_PREFIX}${spec.name}`;
    const nowMs = this.runtime.clock.nowMs();
    const record: ClusterDomainUpdate = {
      ...spec,
      status: 'Pending',
      reason: '',
      createdAtMs: nowMs,
      updatedAtMs: nowMs,
    };
    if (mode === 'create') {
      try {
        await this.kvdb.create(key, JSON.stringify(record));
      } catch (error) {
        if (isKvdbError(error, 'Exists')) throw new CduExistsError(spec.name);
        throw error;
      }
    } else {
      await this.kvdb.put(key, JSON.stringify(record));
    }
    let done: ClusterDomainUpdate;
    try {
      await this.setDomainState(spec.clusterDomain, spec.active ? 'Active' : 'Inactive');
      done = { ...record, status: 'Successful', updatedAtMs: this.runtime.clock.nowMs() };
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      done = { ...record, status: 'Failed', reason, updatedAtMs: this.runtime.clock.nowMs() };
    }
    await this.kvdb.put(key, JSON.stringify(done));
    return done;
  }

  async listClusterDomainUpdates(): Promise<ClusterDomainUpdate[]> {
    const range = await this.kvdb.range(CDU_PREFIX);
    const updates: ClusterDomainUpdate[] = [];
    for (const kv of range.kvs) {
      const parsed = clusterDomainUpdateSchema.safeParse(JSON.parse(kv.value));
      if (parsed.success) updates.push(parsed.data);
      else this.runtime.log('warn', `rejected kvdb value ${kv.key}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    }
    return updates.sort((left, right) => left.createdAtMs - right.createdAtMs || (left.name < right.name ? -1 : 1));
  }

  /** A write to the simulated pool: acknowledged only while this node serves. */
  write(bytes: number): WriteResult {
    if (this.phase !== 'running') return { ok: false, code: 'NOT_READY', reason: this.phaseReason || this.phase };
    if (!this.view.self.serving) {
      return {
        ok: false,
        code: 'FENCED',
        reason: `storage fenced: ${this.view.self.status}: ${this.view.self.reason}`,
      };
    }
    const capacityBytes = this.poolCapacityBytes;
    if (this.usedBytes + bytes > capacityBytes) {
      return {
        ok: false,
        code: 'POOL_FULL',
        reason: `pool full: ${this.usedBytes} + ${bytes} > ${capacityBytes} bytes`,
      };
    }
    this.usedBytes += bytes;
    this.statusStale = true;
    return { ok: true, usedBytes: this.usedBytes };
  }

  // ---- status --------------------------------------------------------------------------------------------------

  private setPhase(phase: AgentPhase, reason: string): void {
    if (this.phase === phase && this.phaseReason === reason) return;
    const selfBefore = this.userStatus(this.nodeId, this.view.self.status);
    this.phase = phase;
    this.phaseReason = reason;
    this.statusStale = true;
    this.emit({ type: 'phase', atMs: this.runtime.clock.nowMs(), phase, reason });
    const selfAfter = this.userStatus(this.nodeId, this.view.self.status);
    if (selfAfter !== selfBefore) {
      this.emit({
        type: 'node-status',
        atMs: this.runtime.clock.nowMs(),
        nodeId: this.nodeId,
        from: selfBefore,
        to: selfAfter,
        gossipState: this.view.self.gossipState,
        reason: phase === 'running' ? this.view.self.reason : reason,
      });
    }
  }

  private emit(event: AgentEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  private userStatus(nodeId: string, status: UserStatus): UserStatus {
    return nodeId === this.nodeId && this.phase !== 'running' ? 'Initializing' : status;
  }

  private emitChanges(before: QuorumView, after: QuorumView): void {
    if (this.listeners.size === 0) return;
    let previous: Map<string, UserStatus> | undefined;
    for (const [index, node] of after.nodes.entries()) {
      const to = this.userStatus(node.nodeId, node.status);
      // Both views list the membership in the same order unless it changed: look up by ID only then.
      const same = before.nodes[index];
      let from: UserStatus | undefined;
      if (same?.nodeId === node.nodeId) from = this.userStatus(same.nodeId, same.status);
      else {
        previous ??= new Map(before.nodes.map((old) => [old.nodeId, this.userStatus(old.nodeId, old.status)]));
        from = previous.get(node.nodeId);
      }
      if (from === to) continue;
      const reason = node.nodeId === this.nodeId && this.phase !== 'running' ? this.phaseReason : node.reason;
      this.emit({
        type: 'node-status',
        atMs: after.nowMs,
        nodeId: node.nodeId,
        from: from ?? 'Unknown',
        to,
        gossipState: node.gossipState,
        reason,
      });
    }
  }

  private emitDomainChanges(before: ParsedCluster | undefined, after: ParsedCluster): void {
    if (this.listeners.size === 0) return;
    const old = new Map((before?.domains ?? []).map((domain) => [domain.name, domain.state]));
    for (const domain of after.domains) {
      const from = old.get(domain.name);
      if (from === domain.state) continue;
      this.emit({
        type: 'domain-state',
        atMs: this.runtime.clock.nowMs(),
        domain: domain.name,
        from: from ?? 'Unknown',
        to: domain.state,
      });
    }
  }

  private buildStatus(): AgentStatus {
    const entries = new Map((this.cluster?.nodes ?? []).map((node) => [node.id, node]));
    const nodes: NodeStatusEntry[] = this.view.nodes.map((node) => {
      const entry = entries.get(node.nodeId);
      const thisNode = node.nodeId === this.nodeId;
      const status: UserStatus = thisNode && this.phase !== 'running' ? 'Initializing' : node.status;
      return {
        id: node.nodeId,
        ip: entry?.mgmtIp ?? '',
        schedulerNodeName: entry?.schedulerNodeName ?? '',
        domain: node.domain,
        status,
        gossipState: node.gossipState,
        storageStatus: status === 'Online' ? 'Up' : 'Down',
        reason: thisNode && this.phase !== 'running' ? this.phaseReason : node.reason,
        usedBytes: thisNode ? this.usedBytes : (entry?.poolUsedBytes ?? 0),
        capacityBytes: entry?.poolCapacityBytes ?? 0,
        version: entry?.version ?? '',
        storageless: entry?.storageless ?? false,
        thisNode,
      };
    });
    const self = nodes.find((node) => node.thisNode);
    const selfStatus: UserStatus = this.phase === 'running' ? this.view.self.status : 'Initializing';
    const node: AgentStatus['node'] = {
      id: this.nodeId,
      ip: this.config.ip,
      schedulerNodeName: this.config.schedulerNodeName,
      domain: this.config.clusterDomain,
      status: selfStatus,
      gossipState: this.view.self.gossipState,
      storageStatus: selfStatus === 'Online' ? 'Up' : 'Down',
      reason: this.phase === 'running' ? this.view.self.reason : this.phaseReason,
      usedBytes: this.usedBytes,
      capacityBytes: self?.capacityBytes ?? this.poolCapacityBytes,
      version: this.config.version,
      storageless: this.config.storageless,
      thisNode: true,
      apiPort: this.config.apiPort,
      heartbeatPort: this.config.heartbeatPort,
      replicationPort: this.config.replicationPort,
      serving: this.phase === 'running' && this.view.self.serving,
    };
    const domainCounts = new Map<string, number>();
    for (const entry of this.cluster?.nodes ?? [])
      domainCounts.set(entry.clusterDomain, (domainCounts.get(entry.clusterDomain) ?? 0) + 1);
    return {
      phase: this.phase,
      phaseReason: this.phaseReason,
      nowMs: this.runtime.clock.nowMs(),
      node,
      cluster: {
        id: this.config.clusterId,
        uuid: this.cluster?.info?.clusterUuid ?? '',
        createdAtMs: this.cluster?.info?.createdAtMs ?? 0,
        scheduler: 'kubernetes',
        kvdb: this.kvdb.description,
        kvdbRevision: this.cluster?.revision ?? 0,
      },
      quorum: { mode: this.config.quorumMode, ...this.view.quorum },
      nodes,
      domains: (this.cluster?.domains ?? [])
        .map((domain) => ({
          name: domain.name,
          state: domain.state,
          nodes: domainCounts.get(domain.name) ?? 0,
          updatedAtMs: domain.updatedAtMs,
        }))
        .sort((left, right) => (left.name < right.name ? -1 : 1)),
      counters: { ...this.counters },
    };
  }
}
