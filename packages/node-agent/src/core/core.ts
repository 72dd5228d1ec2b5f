import type { KeyValue } from '@pxsim/kvdb-client';
import { QuorumEngine, type QuorumAction, type QuorumInput, type QuorumTiming, type QuorumView } from '@pxsim/quorum';
import type { AgentConfig } from '../config.js';
import { AcceptedFrames, clusterTagOf, decodeFrame, encodeFrame, frameKey, type FrameKey } from '../wire/frames.js';
import { clusterParser, type ParsedCluster } from '../wire/layout.js';
import { frameVerdict, outgoingFrame, type FrameFilterContext } from './frame-filter.js';
import { domainChanges, nodeStatusChanges, phaseChanges } from './events.js';
import { PoolUsage, writeRefusal } from './pool.js';
import { nextRetryDelayMs, poolCapacityBytesOf, RETRY_DELAY_MS_MIN } from './join.js';
import { AliveRecordWatch } from './alive.js';
import { kvdbLostProblem, PeerList, RejectionLog } from './memo.js';
import { PauseWatch } from './pause.js';
import { StatusBuilder, type SelfPhase } from './status.js';
import type { AgentEvent, AgentPhase, AgentStatus, LogLevel, WriteResult } from './types.js';

/** Where a peer's heartbeats go. */
export interface PeerAddress {
  ip: string;
  port: number;
}

/** Everything that happens to an agent, as its core sees it. Every input carries the time it happened at. */
export type AgentInput =
  /** The agent's sockets are open: it starts joining. */
  | { type: 'started'; atMs: number; kvdbDescription: string }
  /** A join attempt failed; `predecessorLive`: only because a previous agent's alive record has not expired yet. */
  | { type: 'joinFailed'; atMs: number; error: string; predecessorLive: boolean }
  /** Joined: registered as generation `generation`, with the pool's used bytes as registered. */
  | { type: 'joined'; atMs: number; generation: number; usedBytes: number }
  /** Another live agent has this node ID: this one must not run. */
  | { type: 'joinRefused'; atMs: number; reason: string }
  | { type: 'frame'; atMs: number; bytes: Uint8Array }
  | { type: 'tick'; atMs: number }
  /** The heartbeat interval came round. */
  | { type: 'heartbeatDue'; atMs: number }
  /** A read of `cluster/` sent at `readStartMs` answered. */
  | { type: 'read'; atMs: number; readStartMs: number; revision: number; kvs: readonly KeyValue[] }
  | { type: 'readFailed'; atMs: number; error: string }
  /** The alive lease was lost (the alive record is gone or going). */
  | { type: 'aliveLost'; atMs: number; reason: string }
  /** A re-claim of the alive record failed: it is retried, with a bounded backoff, until it succeeds. */
  | { type: 'aliveClaimFailed'; atMs: number; error: string }
  | { type: 'aliveClaimed'; atMs: number }
  /** A kvdb value the shell read outside `cluster/` (a node entry, a ClusterDomainUpdate) failed its schema. */
  | { type: 'valueRejected'; atMs: number; key: string; problem: string; consequence: string }
  | { type: 'stopping'; atMs: number }
  | { type: 'stopped'; atMs: number };

/**
 * What the shell must do after an input, in this order: set the tick timer, start the kvdb operations, send the
 * frame, log, deliver the events, then start what the remaining fields ask for. A field left out means nothing to
 * do. The order is part of the contract: timers and kvdb calls are set in it, so a simulated run is the same run
 * every time. The core's state is already updated when the shell performs it (a listener reading the status during
 * an event sees the state after the input).
 */
export interface AgentReady {
  /** The engine wants a tick at this time (absolute ms); the shell keeps one tick timer. */
  tickAtMs?: number;
  /** Partition claims to write or release (safe mode); each success asks for a read. */
  kvdbOps?: readonly QuorumAction[];
  /** One heartbeat frame, to each of these peers. */
  frame?: { bytes: Uint8Array; to: readonly PeerAddress[] };
  logs?: ReadonlyArray<{ level: LogLevel; message: string }>;
  events?: readonly AgentEvent[];
  /** Try joining after this delay (always through a timer: 0 is later in this instant). */
  joinInMs?: number;
  /** Joined: send the first heartbeat after this delay, read the cluster now and every refresh, watch it. */
  runLoopsFirstHeartbeatInMs?: number;
  /** Try re-claiming the alive record after this delay; 0: at once (in the lease-loss callback, as it happens). */
  aliveClaimInMs?: number;
  /** The agent cannot go on (the shell calls onFatal with this). */
  fatal?: string;
}

/** The ready value while an input is being stepped (its lists still growing). */
interface MutableReady extends AgentReady {
  kvdbOps?: QuorumAction[];
  logs?: Array<{ level: LogLevel; message: string }>;
  events?: AgentEvent[];
}

export interface AgentCoreOptions {
  config: AgentConfig;
  nodeId: string;
  timing: QuorumTiming;
  /** Uniform in [0, 1): the core's only source of randomness (retry jitter, the first heartbeat's offset). */
  random: () => number;
  kvdbDescription: string;
  /** Makes the quorum engine (default: the real `QuorumEngine`; tests give deliberately broken ones). */
  engine?: (options: ConstructorParameters<typeof QuorumEngine>[0]) => QuorumEngine;
}

/**
 * The node agent's decisions, as a pure state machine in the manner of etcd-io/raft's RawNode: `step(input)` returns
 * an `AgentReady` value saying what to do; it does no I/O, reads no clock, sets no timer, and draws random numbers
 * only from the source it is given. It drives the quorum engine, keeps the status snapshot and diffs the events.
 */
function zeroCounters(): AgentStatus['counters'] {
  return {
    framesReceived: 0,
    framesDropped: 0,
    framesFromOtherClusters: 0,
    framesUnauthenticated: 0,
    framesSent: 0,
    kvdbValuesRejected: 0,
  };
}

export class AgentCore {
  /** The ready value of an input that asks for nothing (most frames): shared, frozen. */
  static readonly NOTHING: AgentReady = Object.freeze({});
  readonly nodeId: string;
  private readonly config: AgentConfig;
  private readonly engine: QuorumEngine;
  private readonly random: () => number;
  private readonly parse = clusterParser();
  private readonly statusBuilder: StatusBuilder;
  private readonly pool: PoolUsage;
  private self: SelfPhase;
  private view: QuorumView;
  private cluster: ParsedCluster | undefined;
  private generation = 0;
  private sequence = 0;
  private joinRetryDelayMs = RETRY_DELAY_MS_MIN;
  private readonly alive = new AliveRecordWatch();
  private readonly counters = zeroCounters();
  private readonly rejections = new RejectionLog();
  /** The heartbeat key, from the cluster info record: none yet, no frame is sent or accepted. */
  private frameKey: FrameKey | undefined;
  /** What the frame filter asks of this core: made once, not per frame (the simulator's hot path). */
  private readonly frameFilter: FrameFilterContext;
  private readonly peers: PeerList;
  private current: AgentStatus | undefined;
  /** The current snapshot is right but for its counters (a frame came in). */
  private countersMoved = false;
  private out: MutableReady | undefined;
  private readonly pauses: PauseWatch;
  /** Events are computed only while someone listens. */
  eventsWanted = false;

  constructor(options: AgentCoreOptions) {
    this.frameFilter = {
      clusterTag: clusterTagOf(options.config.clusterId),
      nodeId: options.nodeId,
      listening: (atMs) => this.self.phase === 'running' && !this.pauses.draining(atMs),
      accepted: new AcceptedFrames(),
    };
    this.config = options.config;
    this.nodeId = options.nodeId;
    this.random = options.random;
    this.pool = new PoolUsage(poolCapacityBytesOf(options.config));
    this.pauses = new PauseWatch(options.timing);
    this.peers = new PeerList(options.nodeId);
    const engineOptions = { selfId: options.nodeId, mode: options.config.quorumMode, timing: options.timing };
    this.engine = options.engine?.(engineOptions) ?? new QuorumEngine(engineOptions);
    this.view = this.engine.view();
    this.self = { nodeId: options.nodeId, phase: 'starting', phaseReason: '' };
    this.statusBuilder = new StatusBuilder({
      config: options.config,
      kvdbDescription: options.kvdbDescription,
      poolCapacityBytes: this.pool.capacityBytes,
    });
  }

  get phase(): AgentPhase {
    return this.self.phase;
  }

  /** The cluster's frame key, once the cluster record was read (replication frames are sealed with it too). */
  get key(): FrameKey | undefined {
    return this.frameKey;
  }

  /** The cluster UUID of the last cluster read (undefined before one, or while the kvdb has no info record). */
  get clusterUuid(): string | undefined {
    return this.cluster?.info?.clusterUuid;
  }

  /** The status snapshot: rebuilt (from memoised parts) only when something changed since the last one. */
  status(nowMs: number): AgentStatus {
    if (this.current !== undefined && this.countersMoved) {
      this.current = this.statusBuilder.withCounters(this.current, this.counters, nowMs);
    }
    this.countersMoved = false;
    this.current ??= this.statusBuilder.build(
      {
        self: this.self,
        view: this.view,
        cluster: this.cluster,
        usedBytes: this.pool.usedBytes,
        counters: this.counters,
      },
      nowMs,
    );
    return this.current;
  }

  /** Moves when the snapshot is to be rebuilt or was (not for counters): who needs no counters reads status less. */
  get statusRevision(): number {
    return this.current === undefined ? -1 : this.statusBuilder.builds;
  }

  /**
   * Brings the engine to `nowMs` before anything is served or reported: steps a tick when a deadline of the view has
   * passed (its timer may not have fired yet: a paused process answers queued requests before its timers), and notes
   * a pause. Cheap when nothing is due (the same frozen `NOTHING`). The shell performs what it returns, then serves.
   */
  advance(nowMs: number): AgentReady {
    this.out = undefined;
    this.notePause(nowMs);
    const deadlineMs = this.view.nextDeadlineMs;
    if (deadlineMs !== undefined && nowMs >= deadlineMs) {
      this.stepEngine({ type: 'tick', atMs: Math.max(nowMs, this.view.nowMs) });
    }
    return this.done();
  }

  step(input: AgentInput): AgentReady {
    this.out = undefined;
    this.notePause(input.atMs);
    switch (input.type) {
      case 'frame':
        this.onFrame(input.bytes, input.atMs);
        break;
      case 'tick':
        this.stepEngine({ type: 'tick', atMs: Math.max(input.atMs, this.view.nowMs) });
        break;
      case 'heartbeatDue':
        this.heartbeat(input.atMs);
        break;
      case 'read':
        this.onRead(input.atMs, input.readStartMs, input.revision, input.kvs);
        break;
      case 'readFailed':
        this.stepEngine({ type: 'snapshotFailed', atMs: input.atMs, error: input.error });
        break;
      default:
        this.stepLifecycle(input);
    }
    return this.done();
  }

  /**
   * `step({ type: 'frame', atMs, bytes })` without the input object: frames are most of an agent's inputs, and most
   * ask for nothing (the same frozen `NOTHING`).
   */
  stepFrame(atMs: number, bytes: Uint8Array): AgentReady {
    this.out = undefined;
    this.notePause(atMs);
    this.onFrame(bytes, atMs);
    return this.done();
  }

  /** A write to the pool: acknowledged only while this node serves (the shell calls `advance(now)` first). */
  write(bytes: number): WriteResult {
    const result = writeRefusal(this.self, this.view.self) ?? this.pool.write(bytes);
    if (result.ok) this.current = undefined;
    return result;
  }

  /** The bytes this node's volume replicas hold changed (the shell tells it): the status shows them as used. */
  noteStorageUsed(bytes: number): void {
    if (this.pool.noteVolumes(bytes)) this.current = undefined;
  }

  /**
   * After a pause every deadline of the view has passed: the engine is told that its view went stale (a failed read,
   * so its status says why), and a tick at `atMs` follows; it serves again after a kvdb read sent after the pause and
   * heartbeats received after the drain (the engine's own freshness rules).
   */
  private notePause(atMs: number): void {
    const pause = this.pauses.note(atMs, this.self.phase === 'running');
    if (pause === undefined) return;
    this.log('warn', pause.log);
    this.stepEngine({ type: 'snapshotFailed', atMs: Math.max(atMs, this.view.nowMs), error: pause.error });
  }

  /** What the input stepped asks for (the frozen `NOTHING` when nothing), and the core ready for the next one. */
  private done(): AgentReady {
    const ready = this.out ?? AgentCore.NOTHING;
    this.out = undefined;
    return ready;
  }

  private ready(): MutableReady {
    this.out ??= {};
    return this.out;
  }

  private log(level: LogLevel, message: string): void {
    (this.ready().logs ??= []).push({ level, message });
  }

  private stepLifecycle(
    input: Exclude<AgentInput, { type: 'frame' | 'tick' | 'heartbeatDue' | 'read' | 'readFailed' }>,
  ): void {
    switch (input.type) {
      case 'started':
        this.setPhase('waiting for kvdb', `connecting to ${input.kvdbDescription}`, input.atMs);
        this.ready().joinInMs = 0;
        break;
      case 'joinFailed':
        this.onJoinFailed(input.atMs, input.error, input.predecessorLive);
        break;
      case 'joined':
        if (this.self.phase !== 'waiting for kvdb') return; // stopped while the last kvdb call was on its way
        this.joinRetryDelayMs = RETRY_DELAY_MS_MIN;
        this.generation = input.generation;
        this.pool.restore(input.usedBytes);
        this.setPhase('running', '', input.atMs);
        this.ready().runLoopsFirstHeartbeatInMs = Math.floor(this.random() * this.engine.timing.heartbeatIntervalMs);
        break;
      case 'joinRefused':
        this.setPhase('failed', input.reason, input.atMs);
        this.ready().fatal = input.reason;
        break;
      default:
        this.stepRunningOrStopping(input);
    }
  }

  private onJoinFailed(atMs: number, error: string, predecessorLive: boolean): void {
    if (this.self.phase !== 'waiting for kvdb') return;
    if (predecessorLive) {
      this.setPhase('waiting for kvdb', error, atMs);
    } else {
      this.setPhase('waiting for kvdb', `waiting for kvdb: ${error}`, atMs);
      this.stepEngine({ type: 'snapshotFailed', atMs, error });
    }
    const jitter = 1 + this.random() * 0.2;
    this.ready().joinInMs = Math.round(this.joinRetryDelayMs * jitter);
    this.joinRetryDelayMs = nextRetryDelayMs(this.joinRetryDelayMs);
  }

  private stepRunningOrStopping(
    input: Extract<
      AgentInput,
      { type: 'aliveLost' | 'aliveClaimFailed' | 'aliveClaimed' | 'valueRejected' | 'stopping' | 'stopped' }
    >,
  ): void {
    switch (input.type) {
      case 'aliveLost':
        this.log('warn', `alive lease lost (${input.reason}); re-registering`);
        if (this.self.phase !== 'running') return;
        this.setPhase('running', this.alive.lost(input.atMs, input.reason), input.atMs);
        this.ready().aliveClaimInMs = 0;
        break;
      case 'aliveClaimFailed': {
        const failed = this.self.phase === 'running' ? this.alive.claimFailed(input.error) : undefined;
        if (failed === undefined) return;
        this.log('warn', failed.log);
        this.setPhase('running', failed.phaseReason, input.atMs);
        this.ready().aliveClaimInMs = failed.retryInMs;
        break;
      }
      case 'aliveClaimed': {
        const claimed = this.alive.claimed(input.atMs);
        if (claimed === undefined) return;
        this.log('info', claimed);
        if (this.self.phase === 'running') this.setPhase('running', '', input.atMs);
        break;
      }
      case 'valueRejected':
        this.noteRejection(input.key, input.problem, input.consequence);
        break;
      case 'stopping':
        this.setPhase('stopping', 'shutting down', input.atMs);
        break;
      case 'stopped':
        this.setPhase('stopped', 'stopped', input.atMs);
        break;
    }
  }

  private setPhase(phase: AgentPhase, reason: string, atMs: number): void {
    const before = this.self;
    if (before.phase === phase && before.phaseReason === reason) return;
    this.self = { nodeId: this.nodeId, phase, phaseReason: reason };
    this.current = undefined;
    if (this.eventsWanted) phaseChanges(this.view, before, this.self, atMs, this.eventList());
  }

  private eventList(): AgentEvent[] {
    return (this.ready().events ??= []);
  }

  private onFrame(bytes: Uint8Array, atMs: number): void {
    this.countersMoved = true;
    const verdict = frameVerdict(decodeFrame(bytes, this.frameKey), this.frameFilter, atMs);
    this.counters[typeof verdict === 'string' ? verdict : 'framesReceived'] += 1;
    if (typeof verdict === 'string') return;
    const heardAtMs = this.pauses.heardAtMs(atMs); // it may have waited since the previous input: see PauseWatch
    this.stepEngine({ type: 'heartbeat', atMs, from: verdict.nodeId, peerState: verdict.state, heardAtMs });
  }

  private stepEngine(input: QuorumInput): void {
    if (this.self.phase === 'stopping' || this.self.phase === 'stopped') return;
    const before = this.view;
    this.view = this.engine.step(input);
    // The engine hands back the same view when an input changed nothing (a routine heartbeat).
    if (this.view === before) return;
    this.current = undefined;
    const ready = this.ready();
    if (this.view.nextDeadlineMs !== undefined) ready.tickAtMs = this.view.nextDeadlineMs;
    if (this.view.actions.length > 0) (ready.kvdbOps ??= []).push(...this.view.actions);
    if (this.eventsWanted) {
      const events = nodeStatusChanges(before, this.view, this.self, ready.events);
      if (events !== undefined) ready.events = events;
    }
  }

  private heartbeat(atMs: number): void {
    const cluster = this.cluster;
    if (this.self.phase !== 'running' || cluster === undefined || this.frameKey === undefined) return;
    // Reference mode: out of gossip while its domain has been inactive since its start, or while restarting.
    if (!this.view.self.gossiping) return;
    const frame = outgoingFrame(
      this.frameFilter.clusterTag,
      this.nodeId,
      this.generation,
      this.sequence++,
      atMs,
      this.view.self.gossipState,
    );
    const to = this.peers.of(cluster);
    this.counters.framesSent += to.length;
    this.countersMoved = true;
    this.ready().frame = { bytes: encodeFrame(frame, this.frameKey), to };
  }

  private onRead(atMs: number, readStartMs: number, revision: number, kvs: readonly KeyValue[]): void {
    // The same revision parses to the same cluster: reuse it.
    const parsed = this.cluster?.revision === revision ? this.cluster : this.parse(revision, kvs);
    const lost = kvdbLostProblem(this.cluster, parsed);
    if (lost !== undefined) {
      this.stepEngine({ type: 'snapshotFailed', atMs, error: lost });
      return;
    }
    if (parsed !== this.cluster) {
      for (const rejected of parsed.rejected) this.noteRejection(rejected.key, rejected.problem, '');
      if (this.eventsWanted) domainChanges(this.cluster, parsed, atMs, this.eventList());
      this.cluster = parsed;
      this.current = undefined;
      const secret = parsed.info?.heartbeatSecret;
      if (secret !== undefined) this.frameKey = frameKey(secret);
    }
    this.stepEngine({ type: 'snapshot', atMs, readStartMs, snapshot: parsed.snapshot });
  }

  /** A rejected kvdb value: logged and counted once per key and problem (a bounded number of them). */
  private noteRejection(key: string, problem: string, consequence: string): void {
    const message = this.rejections.note(key, problem, consequence);
    if (message === undefined) return;
    this.counters.kvdbValuesRejected += 1;
    this.current = undefined;
    this.log('warn', message);
  }
}
