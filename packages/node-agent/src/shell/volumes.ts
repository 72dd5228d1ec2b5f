import { UsagePublisher } from './usage.js';
import { isKvdbError, type Kvdb, type Watch } from '@pxsim/kvdb-client';
import type { Clock, Timer } from '@pxsim/runtime';
import {
  GIB,
  MemoryBlockStore,
  placeReplicas,
  StorageNode,
  storageTiming,
  VOLUME_SIZE_GIB_MAX,
  type BlockStore,
  type OpResult,
  type StorageReady,
  type VolumeRecord,
  type VolumeView,
} from '@pxsim/storage';
import type { AgentConfig } from '../config.js';
import type { AgentStatus, LogLevel } from '../core/types.js';
import type { HeartbeatTransport } from '../runtime/types.js';
import type { FrameKey } from '../wire/frames.js';
import { parseKvdbValue, volumeRecordSchema, VOLUME_NAMES_PREFIX, VOLUMES_PREFIX } from '../wire/layout.js';
import { decodeReplication, encodeReplication } from '../wire/replication.js';
import { nameProblem, OBJECT_NAME_RULE } from '../wire/names.js';

/** Client operations waiting for their answer at once (more are refused: the caller sees BUSY). */
const CALLBACKS_MAX = 4096;
/** Labels on a volume at most. */
const LABELS_MAX = 32;

export interface VolumeCreateRequest {
  name: string;
  sizeGiB: number;
  haLevel: number;
  nodes?: readonly string[];
  labels?: Readonly<Record<string, string>>;
}

/** A refusal of a volume command, with the error table's code. */
export class VolumeError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface VolumeShellOptions {
  nodeId: string;
  config: AgentConfig;
  kvdb: Kvdb;
  clock: Clock;
  random: () => number;
  transport: HeartbeatTransport;
  store?: BlockStore;
  log(level: LogLevel, message: string): void;
  /** The agent's status now (serving, who is online, domains, node addresses). */
  status(): AgentStatus;
  /** Moves whenever the status may show something new other than counters (`AgentCore.statusRevision`). */
  statusRevision(): number;
  /** The cluster's frame key once known (heartbeat and replication frames are sealed with it). */
  frameKey(): FrameKey | undefined;
  onRejected(key: string, problem: string, consequence: string): void;
  /** The bytes this node's replicas hold changed (the status shows them as used). */
  onUsage(bytes: number): void;
}

/**
 * Whether two statuses give the same serving view: the same `serving`, domains (shared between snapshots while they
 * hold) and nodes by ID, domain and status (a write makes a new node list with only this node's used bytes moved).
 */
function sameServingParts(last: AgentStatus, status: AgentStatus): boolean {
  if (last.node.serving !== status.node.serving || last.domains !== status.domains) return false;
  if (last.nodes === status.nodes) return true;
  if (last.nodes.length !== status.nodes.length) return false;
  return status.nodes.every((node, index) => {
    const before = last.nodes[index];
    return before?.id === node.id && before.domain === node.domain && before.status === node.status;
  });
}

/** The nodes this node sees Online, and the nodes of domains it reads as Inactive. */
function servingView(status: AgentStatus): { online: Set<string>; inactive: Set<string> } {
  const online = new Set(status.nodes.filter((node) => node.status === 'Online').map((node) => node.id));
  const inactive = new Set(
    status.nodes
      .filter((node) => status.domains.some((domain) => domain.name === node.domain && domain.state === 'Inactive'))
      .map((node) => node.id),
  );
  return { online, inactive };
}

/**
 * The node's volumes: drives the pure `StorageNode` (@pxsim/storage) with what happens — volume records from the kvdb
 * (read and watched under `volumes/`), the node's quorum state, replication frames on the replication port, client
 * requests, timers — and performs what it answers (frames, compare-and-sets, answers).
 */
export class VolumeShell {
  private readonly storage: StorageNode;
  private readonly callbacks = new Map<number, (result: OpResult) => void>();
  private nextOpId = 1;
  private watch: Watch | undefined;
  private tickTimer: { atMs: number; timer: Timer } | undefined;
  private reading = false;
  private readAgain = false;
  private running = false;
  private lastStatus: AgentStatus | undefined;
  /** The status revision `lastStatus` was read at (`AgentCore.statusRevision`). */
  private seenStatusRevision: number | undefined;
  private servingKey = '';
  private usage = 0;
  private readonly usagePublisher: UsagePublisher;
  readonly counters = { framesReceived: 0, framesDropped: 0, framesSent: 0, recordsRejected: 0 };

  constructor(private readonly options: VolumeShellOptions) {
    this.storage = new StorageNode({
      nodeId: options.nodeId,
      mode: options.config.quorumMode,
      timing: storageTiming(options.config.timingProfile),
      store: options.store ?? new MemoryBlockStore(),
    });
    this.usagePublisher = new UsagePublisher(
      options.kvdb,
      options.clock,
      options.nodeId,
      () => this.usage,
      (key, problem, consequence) => options.onRejected(key, problem, consequence),
    );
  }

  /** Listens on the replication port (before the agent joins: frames before then are dropped, unauthenticated). */
  async listen(): Promise<void> {
    const { config, transport } = this.options;
    await transport.listen({ ip: config.ip, port: config.replicationPort }, (bytes) => this.onFrame(bytes));
  }

  /** Joined: read and watch the volume records. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.noteUsage();
    this.usagePublisher.start();
    this.statusChanged();
    this.loadRecords();
    this.startWatch();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.usagePublisher.stop();
    this.watch?.cancel();
    this.tickTimer?.timer.cancel();
    for (const [opId, done] of this.callbacks) {
      this.callbacks.delete(opId);
      done({ ok: false, outcome: 'unknown', code: 'NOT_READY', reason: 'the node is stopping' });
    }
    await this.options.transport.close();
  }

  private startWatch(): void {
    this.watch = this.options.kvdb.watch(VOLUMES_PREFIX, {
      onBatch: (batch) => {
        for (const event of batch.events) {
          if (event.type !== 'delete') continue;
          // An explicit delete of a record: this node's copy of the volume goes too.
          this.options.store?.drop(event.kv.key.slice(VOLUMES_PREFIX.length));
        }
        this.loadRecords();
      },
      onError: (error) => {
        this.options.log('warn', `watch on ${VOLUMES_PREFIX} ended (${error.message}); watching again`);
        this.options.clock.setTimer(1000, () => {
          if (!this.running) return;
          this.startWatch();
          // What changed while no watch ran is read now, not when the next change comes.
          this.loadRecords();
        });
      },
    });
  }

  /** Reads every volume record; at most one read in flight, one more asked for meanwhile; a failure is retried. */
  private loadRecords(): void {
    if (!this.running) return;
    if (this.reading) {
      this.readAgain = true;
      return;
    }
    this.reading = true;
    this.options.kvdb.range(VOLUMES_PREFIX).then(
      (result) => {
        this.reading = false;
        const records: Array<{ record: VolumeRecord; revision: number }> = [];
        for (const kv of result.kvs) {
          const parsed = parseKvdbValue(kv.value, volumeRecordSchema);
          if (parsed.ok) {
            const { attachedOn, ...rest } = parsed.value;
            const record: VolumeRecord = attachedOn === undefined ? rest : { ...rest, attachedOn };
            records.push({ record, revision: kv.modRevision });
          } else {
            this.counters.recordsRejected += 1;
            this.options.onRejected(kv.key, parsed.problem, 'the volume is ignored until its record is valid');
          }
        }
        if (this.running) this.step({ type: 'records', atMs: this.options.clock.nowMs(), records });
        if (this.readAgain && this.running) {
          this.readAgain = false;
          this.loadRecords();
        }
      },
      () => {
        this.reading = false;
        if (this.running) this.options.clock.setTimer(500, () => this.loadRecords());
      },
    );
  }

  /** The agent's status may have changed: tell the storage whether this node serves and whom it sees online. */
  statusChanged(): void {
    if (!this.running || this.options.statusRevision() === this.seenStatusRevision) return;
    const status = this.options.status();
    this.seenStatusRevision = this.options.statusRevision();
    const last = this.lastStatus;
    this.lastStatus = status;
    if (last !== undefined && sameServingParts(last, status)) return;
    const { online, inactive } = servingView(status);
    const key = `${String(status.node.serving)}|${[...online].join()}|${[...inactive].join()}`;
    if (key === this.servingKey) return;
    this.servingKey = key;
    this.step({
      type: 'serving',
      atMs: this.options.clock.nowMs(),
      serving: status.node.serving,
      onlineNodes: online,
      inactiveDomainNodes: inactive,
    });
  }

  private onFrame(bytes: Uint8Array): void {
    const decoded = decodeReplication(this.options.frameKey(), bytes);
    if (!decoded.ok) {
      this.counters.framesDropped += 1;
      return;
    }
    this.counters.framesReceived += 1;
    if (!this.running) return;
    // A message about a volume this node has not read yet (its watch lags behind the coordinator's create): read the
    // records now, so that the coordinator's next retransmit is answered instead of timing this replica out.
    if (this.storage.volume(decoded.message.volumeId) === undefined) this.loadRecords();
    this.statusChanged();
    this.step({ type: 'message', atMs: this.options.clock.nowMs(), from: decoded.from, message: decoded.message });
  }

  private step(input: Parameters<StorageNode['step']>[0]): void {
    this.perform(this.storage.step(input));
  }

  private perform(ready: StorageReady): void {
    for (const { to, message } of ready.messages ?? []) this.send(to, message);
    for (const cas of ready.cas ?? []) void this.cas(cas.casId, cas.volumeId, cas.expectedRevision, cas.record);
    for (const { opId, result } of ready.replies ?? []) {
      const done = this.callbacks.get(opId);
      this.callbacks.delete(opId);
      done?.(result);
    }
    for (const event of ready.events ?? []) this.options.log('info', `volume ${event.volumeId}: ${event.what}`);
    if (ready.tickAtMs !== undefined) this.scheduleTick(ready.tickAtMs);
    this.noteUsage();
  }

  private noteUsage(): void {
    const bytes = this.storage.usedBytes();
    if (bytes === this.usage) return;
    this.usage = bytes;
    this.options.onUsage(bytes);
  }

  private send(to: string, message: Parameters<typeof encodeReplication>[2]): void {
    const key = this.options.frameKey();
    const node = this.lastStatus?.nodes.find((entry) => entry.id === to);
    if (key === undefined || node === undefined) return;
    this.counters.framesSent += 1;
    // Every node of a cluster listens for replication on the same port (pxsim's layout; see the README).
    this.options.transport.send(
      { ip: node.ip, port: this.options.config.replicationPort },
      encodeReplication(key, this.options.nodeId, message),
    );
  }

  private async cas(casId: number, volumeId: string, expectedRevision: number, record: VolumeRecord): Promise<void> {
    const atMs = (): number => this.options.clock.nowMs();
    try {
      const result = await this.options.kvdb.update(`${VOLUMES_PREFIX}${volumeId}`, JSON.stringify(record), {
        ifModRevision: expectedRevision,
      });
      this.step({ type: 'casResult', atMs: atMs(), casId, ok: true, revision: result.revision });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.step({ type: 'casResult', atMs: atMs(), casId, ok: false, error: message });
      if (isKvdbError(error, 'Modified')) this.loadRecords();
    }
  }

  private scheduleTick(atMs: number): void {
    if (this.tickTimer !== undefined && this.tickTimer.atMs <= atMs) return;
    this.tickTimer?.timer.cancel();
    const timer = this.options.clock.setTimer(Math.max(0, atMs - this.options.clock.nowMs()), () => {
      this.tickTimer = undefined;
      if (!this.running) return;
      this.statusChanged();
      this.step({ type: 'tick', atMs: this.options.clock.nowMs() });
    });
    this.tickTimer = { atMs, timer };
  }

  // ---- what clients ask ------------------------------------------------------------------------------------------

  private request(done: (result: OpResult) => void): number | undefined {
    if (!this.running) {
      done({ ok: false, outcome: 'failed', code: 'NOT_READY', reason: 'the node is not running yet' });
      return undefined;
    }
    if (this.callbacks.size >= CALLBACKS_MAX) {
      done({ ok: false, outcome: 'failed', code: 'BUSY', reason: `${CALLBACKS_MAX} requests already wait` });
      return undefined;
    }
    this.statusChanged();
    const opId = this.nextOpId++;
    this.callbacks.set(opId, done);
    return opId;
  }

  write(volume: string, block: number, payload: Uint8Array, done: (result: OpResult) => void): void {
    const opId = this.request(done);
    if (opId !== undefined)
      this.step({ type: 'write', atMs: this.options.clock.nowMs(), opId, volume, block, payload });
  }

  read(volume: string, block: number, done: (result: OpResult) => void): void {
    const opId = this.request(done);
    if (opId !== undefined) this.step({ type: 'read', atMs: this.options.clock.nowMs(), opId, volume, block });
  }

  attach(volume: string, done: (result: OpResult) => void): void {
    const opId = this.request(done);
    if (opId !== undefined) this.step({ type: 'attach', atMs: this.options.clock.nowMs(), opId, volume });
  }

  detach(volume: string, done: (result: OpResult) => void): void {
    const opId = this.request(done);
    if (opId !== undefined) this.step({ type: 'detach', atMs: this.options.clock.nowMs(), opId, volume });
  }

  list(): VolumeView[] {
    return this.storage.volumes();
  }

  inspect(nameOrId: string): VolumeView | undefined {
    return this.storage.volume(nameOrId);
  }

  /** Bytes this node stores for volumes. */
  usedBytes(): number {
    return this.storage.usedBytes();
  }

  /** Creates a volume: placement over this node's view, then the record and its name in one transaction. */
  async create(request: VolumeCreateRequest): Promise<VolumeView> {
    const problem = createProblem(request);
    if (problem !== undefined) throw new VolumeError('INVALID_VOLUME', problem);
    const status = this.options.status();
    if (!status.node.serving) throw new VolumeError('FENCED', 'this node does not serve (not in quorum)');
    const sizeBytes = request.sizeGiB * GIB;
    const active = new Set(status.domains.filter((domain) => domain.state === 'Active').map((domain) => domain.name));
    const candidates = status.nodes.map((node) => ({
      id: node.id,
      domain: node.domain,
      domainActive: active.has(node.domain),
      online: node.status === 'Online',
      storageless: node.storageless,
      capacityBytes: node.capacityBytes,
      usedBytes: node.usedBytes,
    }));
    const placed = placeReplicas(
      { haLevel: request.haLevel, sizeBytes, ...(request.nodes === undefined ? {} : { nodes: request.nodes }) },
      candidates,
      this.options.random,
    );
    if (!placed.ok) throw new VolumeError('PLACEMENT_FAILED', placed.reason);
    const record: VolumeRecord = {
      id: volumeIdFrom(this.options.random),
      name: request.name,
      sizeBytes,
      haLevel: request.haLevel as 1 | 2 | 3,
      createSet: placed.nodes,
      currentSet: placed.nodes,
      attachEpoch: 0,
      createdAtMs: this.options.clock.nowMs(),
      labels: { ...request.labels },
    };
    const nameKey = `${VOLUME_NAMES_PREFIX}${record.name}`;
    const result = await this.options.kvdb.txn({
      compare: [{ key: nameKey, target: 'version', op: '==', value: 0 }],
      success: [
        { type: 'put', key: nameKey, value: record.id },
        { type: 'put', key: `${VOLUMES_PREFIX}${record.id}`, value: JSON.stringify(record) },
      ],
    });
    if (!result.succeeded) throw new VolumeError('ALREADY_EXISTS', `a volume named ${record.name} exists already`);
    this.loadRecords();
    return this.viewAfterCreate(record, result.revision);
  }

  private viewAfterCreate(record: VolumeRecord, revision: number): VolumeView {
    return (
      this.storage.volume(record.id) ?? {
        record,
        revision,
        replicationStatus: 'Detached',
        coordinatorOpen: false,
        replicas: record.createSet.map((nodeId) => ({ nodeId, inCurrentSet: true, state: 'up' as const })),
        usedBytes: 0,
        io: { reads: 0, writes: 0, bytesRead: 0, bytesWritten: 0, inProgress: 0 },
      }
    );
  }

  /** Deletes a detached volume (record and name, in one transaction guarded by the record's revision). */
  async delete(nameOrId: string): Promise<void> {
    const view = this.storage.volume(nameOrId);
    if (view === undefined) throw new VolumeError('VOLUME_NOT_FOUND', `no volume ${nameOrId}`);
    if (view.record.attachedOn !== undefined)
      throw new VolumeError(
        'VOLUME_ATTACHED',
        `${view.record.name} is attached on ${view.record.attachedOn}; detach it first`,
      );
    const result = await this.options.kvdb.txn({
      compare: [{ key: `${VOLUMES_PREFIX}${view.record.id}`, target: 'modRevision', op: '==', value: view.revision }],
      success: [
        { type: 'delete', key: `${VOLUMES_PREFIX}${view.record.id}` },
        { type: 'delete', key: `${VOLUME_NAMES_PREFIX}${view.record.name}` },
      ],
    });
    if (!result.succeeded) throw new VolumeError('CONFLICT', `${view.record.name} changed meanwhile; look again`);
    this.loadRecords();
  }
}

/** What is wrong with a create request (undefined: nothing). */
function createProblem(request: VolumeCreateRequest): string | undefined {
  const name = nameProblem(OBJECT_NAME_RULE, request.name);
  if (name !== undefined) return `volume name: ${name}`;
  if (!Number.isInteger(request.sizeGiB) || request.sizeGiB < 1 || request.sizeGiB > VOLUME_SIZE_GIB_MAX)
    return `size ${request.sizeGiB}: a whole number of GiB from 1 to ${VOLUME_SIZE_GIB_MAX}`;
  if (!Number.isInteger(request.haLevel) || request.haLevel < 1 || request.haLevel > 3)
    return `replication factor ${request.haLevel}: 1, 2 or 3`;
  const labels = Object.entries(request.labels ?? {});
  if (labels.length > LABELS_MAX) return `${labels.length} labels: at most ${LABELS_MAX}`;
  return undefined;
}

/** A Portworx-like volume ID: 18 decimal digits from the node's random source. */
function volumeIdFrom(random: () => number): string {
  let id = String(1 + Math.floor(random() * 9));
  for (let digit = 1; digit < 18; digit++) id += String(Math.floor(random() * 10));
  return id;
}
