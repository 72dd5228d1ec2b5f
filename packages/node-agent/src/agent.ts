import { isKvdbError, type Kvdb } from '@pxsim/kvdb-client';
import type { Timer } from '@pxsim/runtime';
import { timingProfile, type DomainState, type QuorumAction, type QuorumTiming } from '@pxsim/quorum';
import type { AgentConfig } from './config.js';
import { AgentCore, type AgentInput, type AgentReady } from './core/core.js';
import { uuidFrom } from './core/join.js';
import type { AgentEvent, AgentStatus, WriteResult } from './core/types.js';
import {
  applyClusterDomainUpdate,
  listClusterDomainUpdates,
  removeDomain,
  setDomainState,
  type DomainCommandContext,
} from './shell/domains.js';
import { ClusterReader } from './shell/cluster-reader.js';
import { PredecessorStillLiveError, Registration } from './shell/registration.js';
import {
  CLUSTER_PREFIX,
  claimKeyFor,
  namespaceFor,
  type ClusterDomainUpdate,
  type ClusterDomainUpdateSpec,
} from './wire/layout.js';
import type { AgentRuntime, NodeIdentity } from './runtime/types.js';
import { loadIdentity } from './shell/identity.js';
import { VolumeShell } from './shell/volumes.js';

export type { AgentEvent, AgentPhase, AgentStatus, LogLevel, NodeStatusEntry, WriteResult } from './core/types.js';
export { aliveTtlMs } from './core/join.js';
export { CduExistsError, DomainNotFoundError } from './shell/domains.js';

const LISTENERS_MAX = 64;

/**
 * One simulated Portworx node: registers in the kvdb, heartbeats its peers, runs the quorum engine and obeys it
 * (fencing its storage when out of quorum), and publishes an immutable status for the API.
 *
 * This class is the shell: its decisions are the pure `AgentCore`'s (`core/`); it feeds the core what happens (frames,
 * timers, kvdb answers) and performs the `AgentReady` the core returns through the injected `AgentRuntime`.
 */
export class NodeAgent {
  readonly config: AgentConfig;
  readonly nodeId: string;
  readonly timing: QuorumTiming;
  private readonly runtime: AgentRuntime;
  private readonly core: AgentCore;
  private readonly kvdb: Kvdb;
  private readonly registration: Registration;
  private readonly commands: DomainCommandContext;
  /** As in the data dir: the cluster UUID is recorded once joined. */
  private readonly identity: NodeIdentity;
  /** Reads of `cluster/`: a mirror kept by watch, confirmed by a one-key read (`shell/cluster-reader.ts`). */
  private readonly reader: ClusterReader;
  /** Every timer but the tick's, so that stop() cancels them (at most a few: join, loops, alive re-claim). */
  private readonly timers = new Set<Timer>();
  private tickTimer: { atMs: number; timer: Timer } | undefined;
  private readonly listeners = new Set<(event: AgentEvent) => void>();
  /** The node's volumes: replication on the replication port, volume records in the kvdb (`shell/volumes.ts`). */
  readonly volumes: VolumeShell;
  /** Called when the agent cannot go on (another live agent has this node ID). */
  onFatal: (reason: string) => void = () => undefined;

  constructor(config: AgentConfig, runtime: AgentRuntime) {
    this.config = config;
    this.runtime = runtime;
    this.timing = timingProfile(config.timingProfile);
    this.identity = loadIdentity(config, runtime);
    this.nodeId = this.identity.nodeId;
    const incarnation = uuidFrom(runtime.random);
    this.kvdb = runtime.openKvdb(config.kvdb, namespaceFor(config.clusterId));
    const { nodeId, timing, kvdb } = this;
    const { quorumEngine: engine } = runtime;
    this.core = new AgentCore({
      config,
      nodeId,
      timing,
      random: runtime.random,
      kvdbDescription: kvdb.description,
      ...(engine === undefined ? {} : { engine }),
    });
    const onRejected = (key: string, problem: string, consequence: string): void =>
      this.input({ type: 'valueRejected', atMs: runtime.clock.nowMs(), key, problem, consequence });
    this.registration = new Registration({
      config,
      nodeId,
      incarnation,
      timing,
      kvdb,
      clock: runtime.clock,
      random: runtime.random,
      onAliveLost: (reason) => this.input({ type: 'aliveLost', atMs: runtime.clock.nowMs(), reason }),
      onRejected,
    });
    this.reader = new ClusterReader({
      kvdb,
      clock: runtime.clock,
      prefix: CLUSTER_PREFIX,
      running: () => this.core.phase === 'running',
      onRead: ({ readStartMs, revision, kvs }) => {
        this.input({ type: 'read', atMs: runtime.clock.nowMs(), readStartMs, revision, kvs });
        this.recordClusterUuid();
      },
      onReadFailed: (error) => this.input({ type: 'readFailed', atMs: runtime.clock.nowMs(), error }),
      log: (level, message) => runtime.log(level, message),
    });
    this.commands = { kvdb, clock: runtime.clock, requestRead: () => this.requestRead(), onRejected };
    this.volumes = new VolumeShell({
      nodeId,
      config,
      kvdb,
      clock: runtime.clock,
      random: runtime.random,
      transport: runtime.replicationTransport,
      ...(runtime.blocks === undefined ? {} : { store: runtime.blocks }),
      log: (level, message) => runtime.log(level, message),
      status: () => this.core.status(runtime.clock.nowMs()),
      statusRevision: () => this.core.statusRevision,
      frameKey: () => this.core.key,
      onRejected,
      onUsage: (bytes) => this.core.noteStorageUsed(bytes),
    });
  }

  /** The status as of now: the engine is brought to the current time first (see `AgentCore.advance`). */
  status(): AgentStatus {
    const nowMs = this.runtime.clock.nowMs();
    this.perform(this.core.advance(nowMs));
    return this.core.status(nowMs);
  }

  /** Subscribes to state changes; returns the unsubscribe function. Bounded number of listeners. */
  subscribe(listener: (event: AgentEvent) => void): () => void {
    if (this.listeners.size >= LISTENERS_MAX) throw new Error(`too many event listeners (at most ${LISTENERS_MAX})`);
    this.listeners.add(listener);
    this.core.eventsWanted = true;
    return () => {
      this.listeners.delete(listener);
      this.core.eventsWanted = this.listeners.size > 0;
    };
  }

  async start(): Promise<void> {
    await this.runtime.transport.listen({ ip: this.config.ip, port: this.config.heartbeatPort }, (bytes) =>
      this.perform(this.core.stepFrame(this.runtime.clock.nowMs(), bytes)),
    );
    await this.volumes.listen();
    this.input({ type: 'started', atMs: this.runtime.clock.nowMs(), kvdbDescription: this.kvdb.description });
  }

  /**
   * SIGTERM: stop serving, close sockets, keep the registration. With `crash`, behave like SIGKILL instead: nothing
   * is handed back (the alive lease is left to expire), as a simulator's "kill" needs.
   */
  async stop(options: { crash?: boolean } = {}): Promise<void> {
    if (this.core.phase === 'stopped') return;
    this.input({ type: 'stopping', atMs: this.runtime.clock.nowMs() });
    for (const timer of this.timers) timer.cancel();
    this.timers.clear();
    this.tickTimer?.timer.cancel();
    this.tickTimer = undefined;
    this.reader.stop();
    await this.runtime.transport.close();
    await this.volumes.stop();
    if (options.crash !== true) await this.registration.release();
    await this.kvdb.close();
    this.input({ type: 'stopped', atMs: this.runtime.clock.nowMs() });
  }

  setDomainState(name: string, state: DomainState): Promise<{ name: string; state: DomainState; revision: number }> {
    return setDomainState(this.commands, name, state);
  }

  /** Removes an empty cluster domain (refusals: see `removeDomain` in shell/domains.ts). */
  removeDomain(name: string): Promise<{ name: string; revision: number }> {
    return removeDomain(this.commands, name);
  }

  applyClusterDomainUpdate(spec: ClusterDomainUpdateSpec, mode: 'create' | 'apply'): Promise<ClusterDomainUpdate> {
    return applyClusterDomainUpdate(this.commands, spec, mode);
  }

  listClusterDomainUpdates(): Promise<ClusterDomainUpdate[]> {
    return listClusterDomainUpdates(this.commands);
  }

  /** A write to the simulated pool: acknowledged only while this node serves. */
  write(bytes: number): WriteResult {
    this.perform(this.core.advance(this.runtime.clock.nowMs()));
    return this.core.write(bytes);
  }

  // ---- performing the core's output -----------------------------------------------------------------------------

  private input(input: AgentInput): void {
    this.perform(this.core.step(input));
  }

  /** Performs one `AgentReady`, in the order its contract states. */
  private perform(ready: AgentReady): void {
    if (ready === AgentCore.NOTHING) return;
    if (ready.tickAtMs !== undefined) this.scheduleTick(ready.tickAtMs);
    if (ready.kvdbOps !== undefined) for (const action of ready.kvdbOps) void this.performClaim(action);
    if (ready.frame !== undefined) {
      const { bytes, to } = ready.frame;
      for (const address of to) this.runtime.transport.send(address, bytes);
    }
    if (ready.logs !== undefined) for (const { level, message } of ready.logs) this.runtime.log(level, message);
    if (ready.events !== undefined) {
      for (const event of ready.events) for (const listener of this.listeners) listener(event);
    }
    if (ready.joinInMs !== undefined) this.later(ready.joinInMs, () => void this.join());
    if (ready.runLoopsFirstHeartbeatInMs !== undefined) this.startLoops(ready.runLoopsFirstHeartbeatInMs);
    if (ready.aliveClaimInMs === 0) void this.reclaimAlive();
    else if (ready.aliveClaimInMs !== undefined) this.later(ready.aliveClaimInMs, () => void this.reclaimAlive());
    if (ready.fatal !== undefined) this.onFatal(ready.fatal);
    this.volumes.statusChanged();
  }

  private later(delayMs: number, work: () => void): void {
    const timer = this.runtime.clock.setTimer(delayMs, () => {
      this.timers.delete(timer);
      work();
    });
    this.timers.add(timer);
  }

  private scheduleTick(atMs: number): void {
    if (this.tickTimer !== undefined && this.tickTimer.atMs === atMs) return;
    this.tickTimer?.timer.cancel();
    const timer = this.runtime.clock.setTimer(Math.max(0, atMs - this.runtime.clock.nowMs()), () => {
      this.tickTimer = undefined;
      this.input({ type: 'tick', atMs: this.runtime.clock.nowMs() });
    });
    this.tickTimer = { atMs, timer };
  }

  private async performClaim(action: QuorumAction): Promise<void> {
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
        const message = error instanceof Error ? error.message : String(error);
        this.runtime.log('warn', `partition ${action.type} ${key} failed: ${message}`);
      }
    }
  }

  // ---- joining --------------------------------------------------------------------------------------------------

  private async join(): Promise<void> {
    if (this.core.phase !== 'waiting for kvdb') return;
    let generation: number;
    let usedBytes: number;
    try {
      await this.registration.ensureClusterInfo(this.identity.clusterUuid);
      await this.registration.ensureDomain();
      const refused = await this.registration.claimAlive();
      if (refused !== undefined) {
        this.input({ type: 'joinRefused', atMs: this.runtime.clock.nowMs(), reason: refused });
        return;
      }
      ({ genNumber: generation, poolUsedBytes: usedBytes } = await this.registration.register());
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const predecessorLive = error instanceof PredecessorStillLiveError;
      this.input({ type: 'joinFailed', atMs: this.runtime.clock.nowMs(), error: message, predecessorLive });
      return;
    }
    this.input({ type: 'joined', atMs: this.runtime.clock.nowMs(), generation, usedBytes });
    if (!this.registration.aliveHeld) {
      this.input({ type: 'aliveLost', atMs: this.runtime.clock.nowMs(), reason: 'lost while joining' });
    }
  }

  /** One attempt to claim the alive record again after its lease was lost; the core decides when to retry. */
  private async reclaimAlive(): Promise<void> {
    if (this.core.phase !== 'running') return;
    try {
      const refused = await this.registration.claimAlive();
      const atMs = this.runtime.clock.nowMs();
      this.input(
        refused === undefined ? { type: 'aliveClaimed', atMs } : { type: 'joinRefused', atMs, reason: refused },
      );
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.input({ type: 'aliveClaimFailed', atMs: this.runtime.clock.nowMs(), error: message });
    }
  }

  // ---- running --------------------------------------------------------------------------------------------------

  private startLoops(firstHeartbeatInMs: number): void {
    const heartbeat = (): void => {
      this.input({ type: 'heartbeatDue', atMs: this.runtime.clock.nowMs() });
      this.later(this.timing.heartbeatIntervalMs, heartbeat);
    };
    this.later(firstHeartbeatInMs, heartbeat);
    const refresh = (): void => {
      this.requestRead();
      this.later(this.timing.snapshotRefreshMs, refresh);
    };
    refresh();
    this.reader.startWatching();
    this.volumes.start();
  }

  /** Reads `cluster/` (see `ClusterReader`): at most one read in flight, and at most one more asked for meanwhile. */
  private requestRead(): void {
    this.reader.request();
  }

  /** Records in the data dir the cluster UUID this node runs in (once joined; again after --allow-new-cluster-uuid). */
  private recordClusterUuid(): void {
    const uuid = this.core.clusterUuid;
    if (uuid === undefined || uuid === this.identity.clusterUuid || this.core.phase !== 'running') return;
    if (this.identity.clusterUuid !== undefined) {
      this.runtime.log(
        'warn',
        `now in cluster UUID ${uuid}, not ${this.identity.clusterUuid} (--allow-new-cluster-uuid)`,
      );
    }
    this.identity.clusterUuid = uuid;
    this.runtime.identity.save(this.identity);
  }
}
