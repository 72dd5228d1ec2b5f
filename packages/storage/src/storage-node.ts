import { Coordinator, PENDING_OPS_MAX, type CoordinatorHost } from './coordinator.js';
import type { StorageTiming } from './timing.js';
import {
  BLOCK_BYTES,
  type BlockStore,
  type OpResult,
  type ReplicationMessage,
  type ReplicationStatus,
  type StorageInput,
  type StorageReady,
  type VolumeRecord,
  type VolumeView,
} from './types.js';

/** Entries in one digest message at most. */
export const DIGEST_ENTRIES_MAX = 1024;
/** Volumes a node tracks at most (records beyond are ignored, with an event). */
export const VOLUMES_MAX = 1024;
/** Compare-and-sets in flight at once per node. */
const CAS_IN_FLIGHT_MAX = 256;

export interface StorageNodeOptions {
  nodeId: string;
  mode: 'safe' | 'reference';
  timing: StorageTiming;
  store: BlockStore;
}

interface Ready {
  messages: Array<{ to: string; message: ReplicationMessage }>;
  cas: Array<{ casId: number; volumeId: string; expectedRevision: number; record: VolumeRecord }>;
  replies: Array<{ opId: number; result: OpResult }>;
  events: Array<{ atMs: number; volumeId: string; what: string }>;
}

const failed = (code: string, reason: string): OpResult => ({ ok: false, outcome: 'failed', code, reason });

/**
 * The storage of one node, pure: every volume's replica here (applying writes from its coordinator, fenced by quorum
 * and, in safe mode, by the attach epoch) and the coordinator of each volume attached here. `step(input)` returns what
 * to do (messages, compare-and-sets, answers, the next tick); it does no I/O and reads no clock.
 */
export class StorageNode {
  private readonly records = new Map<string, { record: VolumeRecord; revision: number }>();
  private readonly coordinators = new Map<string, Coordinator>();
  private readonly casDone = new Map<number, (ok: boolean, revision: number | undefined) => void>();
  private nextCasId = 1;
  private serving = false;
  private online: ReadonlySet<string> = new Set();
  private inactive: ReadonlySet<string> = new Set();
  private nowMs = 0;
  private ready: Ready = { messages: [], cas: [], replies: [], events: [] };

  constructor(private readonly options: StorageNodeOptions) {}

  step(input: StorageInput): StorageReady {
    this.nowMs = Math.max(this.nowMs, input.atMs);
    for (const coordinator of this.coordinators.values()) coordinator.nowMs = this.nowMs;
    this.handle(input);
    for (const [id, coordinator] of this.coordinators) if (coordinator.phase === 'gone') this.coordinators.delete(id);
    const ready = this.ready;
    this.ready = { messages: [], cas: [], replies: [], events: [] };
    const tickAtMs = this.nextTickMs();
    return {
      ...(ready.messages.length > 0 ? { messages: ready.messages } : {}),
      ...(ready.cas.length > 0 ? { cas: ready.cas } : {}),
      ...(ready.replies.length > 0 ? { replies: ready.replies } : {}),
      ...(ready.events.length > 0 ? { events: ready.events } : {}),
      ...(tickAtMs === undefined ? {} : { tickAtMs }),
    };
  }

  private handle(input: StorageInput): void {
    switch (input.type) {
      case 'records':
        return this.onRecords(input.records);
      case 'serving':
        return this.onServing(input.serving, input.onlineNodes, input.inactiveDomainNodes);
      case 'message':
        return this.onMessage(input.from, input.message);
      case 'write':
      case 'read':
        return this.onIo(input);
      case 'attach':
        return this.attach(input.opId, input.volume);
      case 'detach':
        return this.detach(input.opId, input.volume);
      case 'casResult': {
        const done = this.casDone.get(input.casId);
        this.casDone.delete(input.casId);
        return done?.(input.ok, input.revision);
      }
      case 'tick':
        for (const coordinator of this.coordinators.values()) coordinator.tick(this.nowMs);
        return;
    }
  }

  // ---- the kvdb's view and quorum ----------------------------------------------------------------------------------

  private onRecords(records: ReadonlyArray<{ record: VolumeRecord; revision: number }>): void {
    this.records.clear();
    for (const entry of records.slice(0, VOLUMES_MAX)) this.records.set(entry.record.id, entry);
    for (const [id, coordinator] of this.coordinators) {
      const entry = this.records.get(id);
      if (entry === undefined) coordinator.displace('the volume was deleted');
      else coordinator.recordChanged(entry.record, entry.revision);
    }
    this.reopenOwn();
  }

  /**
   * Volumes the kvdb says are attached here with no coordinator here (this node lost quorum for a while, or
   * restarted): attached again, with a new epoch, as soon as this node serves, so their I/O resumes by itself.
   */
  private reopenOwn(): void {
    if (!this.serving) return;
    for (const entry of this.records.values()) {
      const { record } = entry;
      if (record.attachedOn !== this.options.nodeId || this.coordinators.has(record.id)) continue;
      if (!record.currentSet.includes(this.options.nodeId)) continue;
      this.event(record.id, 'attached here with no coordinator: opening again');
      this.attach(undefined, record.id);
    }
  }

  private onServing(serving: boolean, online: ReadonlySet<string>, inactive: ReadonlySet<string>): void {
    this.serving = serving;
    this.online = online;
    this.inactive = inactive;
    if (!serving)
      for (const coordinator of this.coordinators.values()) coordinator.displace('this node does not serve');
    else for (const coordinator of this.coordinators.values()) coordinator.startResyncs(this.nowMs);
    for (const [id, coordinator] of this.coordinators) if (coordinator.phase === 'gone') this.coordinators.delete(id);
    this.reopenOwn();
  }

  /** A volume by name or ID. */
  private find(volume: string): { record: VolumeRecord; revision: number } | undefined {
    const byId = this.records.get(volume);
    if (byId !== undefined) return byId;
    for (const entry of this.records.values()) if (entry.record.name === volume) return entry;
    return undefined;
  }

  // ---- the replica role -------------------------------------------------------------------------------------------

  private onMessage(from: string, message: ReplicationMessage): void {
    if (message.type === 'ack' || message.type === 'nack' || message.type === 'digest') {
      this.coordinators.get(message.volumeId)?.answer(this.nowMs, from, message);
      return;
    }
    const { store, mode } = this.options;
    const base = { volumeId: message.volumeId, epoch: message.epoch, seq: message.seq };
    const nack = (reason: 'not serving' | 'stale epoch' | 'unknown volume'): void =>
      this.send(from, { type: 'nack', ...base, reason, epochSeen: store.epochSeen(message.volumeId) });
    if (!this.serving) return nack('not serving');
    if (!this.records.has(message.volumeId)) return nack('unknown volume');
    if (mode === 'safe') {
      if (message.epoch < store.epochSeen(message.volumeId)) return nack('stale epoch');
      store.setEpochSeen(message.volumeId, message.epoch);
      const mine = this.coordinators.get(message.volumeId);
      if (mine !== undefined && mine.epoch < message.epoch)
        mine.displace(`${from} coordinates at epoch ${message.epoch}`);
    }
    switch (message.type) {
      case 'write':
        store.put(message.volumeId, message.block, { epoch: message.epoch, seq: message.seq }, message.payload);
        return this.send(from, { type: 'ack', ...base });
      case 'set':
        store.put(message.volumeId, message.block, message.version, message.payload);
        return this.send(from, { type: 'ack', ...base });
      case 'check':
        return this.send(from, { type: 'ack', ...base });
      case 'digestRequest':
        return this.sendDigest(from, base);
    }
  }

  private sendDigest(to: string, base: { volumeId: string; epoch: number; seq: number }): void {
    const entries = this.options.store.digest(base.volumeId);
    for (let start = 0; start === 0 || start < entries.length; start += DIGEST_ENTRIES_MAX) {
      const blocks = entries.slice(start, start + DIGEST_ENTRIES_MAX);
      this.send(to, { type: 'digest', ...base, blocks, last: start + DIGEST_ENTRIES_MAX >= entries.length });
    }
  }

  private send(to: string, message: ReplicationMessage): void {
    this.ready.messages.push({ to, message });
  }

  private reply(opId: number, result: OpResult): void {
    this.ready.replies.push({ opId, result });
  }

  private event(volumeId: string, what: string): void {
    this.ready.events.push({ atMs: this.nowMs, volumeId, what });
  }

  // ---- the coordinator role ---------------------------------------------------------------------------------------

  private host(volumeId: string): CoordinatorHost {
    return {
      nodeId: this.options.nodeId,
      epochFencing: this.options.mode === 'safe',
      store: this.options.store,
      timing: this.options.timing,
      send: (to, message) => this.send(to, message),
      cas: (record, expectedRevision, done) => this.cas(record, expectedRevision, done),
      reply: (opId, result) => this.reply(opId, result),
      event: (what) => this.event(volumeId, what),
      online: (nodeId) => this.online.has(nodeId),
    };
  }

  private cas(
    record: VolumeRecord,
    expectedRevision: number,
    done: (ok: boolean, revision: number | undefined) => void,
  ): void {
    if (this.casDone.size >= CAS_IN_FLIGHT_MAX) return done(false, undefined);
    const casId = this.nextCasId++;
    this.casDone.set(casId, done);
    this.ready.cas.push({ casId, volumeId: record.id, expectedRevision, record });
  }

  /** Why this node cannot coordinate `entry` now ('' when it can). */
  private attachRefusal(entry: { record: VolumeRecord }): [string, string] | undefined {
    const { record } = entry;
    const self = this.options.nodeId;
    if (!this.serving) return ['FENCED', 'this node does not serve (not in quorum)'];
    if (!record.currentSet.includes(self))
      return [
        'NOT_IN_CURRENT_SET',
        `this node holds no up-to-date replica of ${record.name} (current set: ${record.currentSet.join(', ')})`,
      ];
    const on = record.attachedOn;
    if (on !== undefined && on !== self && this.online.has(on) && !this.inactive.has(on))
      return ['ATTACHED_ELSEWHERE', `${record.name} is attached on ${on}, which is online`];
    return undefined;
  }

  /** Attaches a volume here (`opId` undefined: this node reopening its own attachment, nobody to answer). */
  private attach(opId: number | undefined, volume: string): void {
    const answer = (result: OpResult): void => {
      if (opId !== undefined) this.reply(opId, result);
    };
    const entry = this.find(volume);
    if (entry === undefined) return answer(failed('VOLUME_NOT_FOUND', `no volume ${volume}`));
    const existing = this.coordinators.get(entry.record.id);
    if (existing?.phase === 'open' && entry.record.attachedOn === this.options.nodeId) return answer({ ok: true });
    if (existing !== undefined) {
      if (opId === undefined) return;
      return existing.joinAttach(opId); // answered when the attach in progress here ends
    }
    const refusal = this.attachRefusal(entry);
    if (refusal !== undefined) return answer(failed(refusal[0], refusal[1]));
    const epoch = entry.record.attachEpoch + 1;
    const record: VolumeRecord = { ...entry.record, attachedOn: this.options.nodeId, attachEpoch: epoch };
    const coordinator = new Coordinator(this.host(record.id), record, entry.revision, epoch, opId);
    coordinator.nowMs = this.nowMs;
    this.coordinators.set(record.id, coordinator);
    this.cas(record, entry.revision, (ok, revision) => {
      if (!ok || revision === undefined || coordinator.phase === 'gone') {
        this.coordinators.delete(record.id);
        if (coordinator.phase !== 'gone')
          answer(failed('CONFLICT', `${record.name} changed in the kvdb meanwhile, or the kvdb is unreachable`));
        return;
      }
      coordinator.open(this.nowMs, record, revision);
    });
  }

  private detach(opId: number, volume: string): void {
    const entry = this.find(volume);
    if (entry === undefined) return this.reply(opId, failed('VOLUME_NOT_FOUND', `no volume ${volume}`));
    const coordinator = this.coordinators.get(entry.record.id);
    if (entry.record.attachedOn !== this.options.nodeId || coordinator === undefined)
      return this.reply(opId, failed('NOT_ATTACHED_HERE', `${entry.record.name} is not attached on this node`));
    const detached: VolumeRecord = { ...entry.record };
    delete detached.attachedOn;
    this.cas(detached, coordinator.revision, (ok) => {
      if (!ok) return this.reply(opId, failed('CONFLICT', 'the kvdb refused or could not be reached; still attached'));
      coordinator.displace('detached');
      this.reply(opId, { ok: true });
    });
  }

  private onIo(input: Extract<StorageInput, { type: 'write' | 'read' }>): void {
    const entry = this.find(input.volume);
    if (entry === undefined) return this.reply(input.opId, failed('VOLUME_NOT_FOUND', `no volume ${input.volume}`));
    const blocks = entry.record.sizeBytes / BLOCK_BYTES;
    if (!Number.isInteger(input.block) || input.block < 0 || input.block >= blocks)
      return this.reply(
        input.opId,
        failed('BLOCK_OUT_OF_RANGE', `block ${input.block}: ${entry.record.name} has blocks 0-${blocks - 1}`),
      );
    if (input.type === 'write' && input.payload.length > BLOCK_BYTES)
      return this.reply(
        input.opId,
        failed('PAYLOAD_TOO_LARGE', `${input.payload.length} bytes: a block holds ${BLOCK_BYTES}`),
      );
    if (!this.serving) return this.reply(input.opId, failed('FENCED', 'this node does not serve (not in quorum)'));
    const coordinator = this.coordinators.get(entry.record.id);
    if (coordinator === undefined) {
      const on = entry.record.attachedOn;
      const reason =
        on === this.options.nodeId
          ? `${entry.record.name} has no coordinator on this node any more (it stepped down)`
          : `${entry.record.name} is attached on ${on ?? 'no node'}`;
      return this.reply(input.opId, failed('NOT_ATTACHED_HERE', reason));
    }
    if (coordinator.phase !== 'open')
      return this.reply(input.opId, failed('VOLUME_NOT_OPEN', `${entry.record.name} is still opening here`));
    if (coordinator.pendingCount() >= PENDING_OPS_MAX)
      return this.reply(
        input.opId,
        failed('BUSY', `${PENDING_OPS_MAX} operations already wait on ${entry.record.name}`),
      );
    if (input.type === 'write') coordinator.write(this.nowMs, input.opId, input.block, input.payload);
    else coordinator.read(this.nowMs, input.opId, input.block);
  }

  private nextTickMs(): number | undefined {
    let due: number | undefined;
    for (const coordinator of this.coordinators.values()) {
      const at = coordinator.nextDueMs();
      if (at !== undefined) due = due === undefined ? at : Math.min(due, at);
    }
    return due === undefined ? undefined : Math.max(due, this.nowMs);
  }

  // ---- views -------------------------------------------------------------------------------------------------------

  /** Every volume as this node sees it, by name. */
  volumes(): VolumeView[] {
    return [...this.records.values()]
      .map((entry) => this.view(entry.record, entry.revision))
      .sort((left, right) => (left.record.name < right.record.name ? -1 : 1));
  }

  volume(nameOrId: string): VolumeView | undefined {
    const entry = this.find(nameOrId);
    return entry === undefined ? undefined : this.view(entry.record, entry.revision);
  }

  private view(record: VolumeRecord, revision: number): VolumeView {
    const coordinator = this.coordinators.get(record.id);
    const here = coordinator?.phase === 'open' ? coordinator : undefined;
    const current = here?.record ?? record;
    const replicas = current.createSet.map((nodeId) => {
      const inCurrentSet = current.currentSet.includes(nodeId);
      const state: VolumeView['replicas'][number]['state'] = here?.resyncing.has(nodeId)
        ? 'resync'
        : !inCurrentSet
          ? 'removed'
          : nodeId === this.options.nodeId || this.online.has(nodeId)
            ? 'up'
            : 'down';
      return { nodeId, inCurrentSet, state };
    });
    return {
      record: current,
      revision: here?.revision ?? revision,
      replicationStatus: this.statusOf(current, here),
      coordinatorOpen: here !== undefined,
      replicas,
      usedBytes: this.options.store.digest(record.id).length * BLOCK_BYTES,
      io: {
        ...(coordinator?.io ?? { reads: 0, writes: 0, bytesRead: 0, bytesWritten: 0 }),
        inProgress: coordinator?.inProgress ?? 0,
      },
    };
  }

  private statusOf(record: VolumeRecord, here: Coordinator | undefined): ReplicationStatus {
    if (record.attachedOn === undefined) return 'Detached';
    if (record.attachedOn === this.options.nodeId && !this.serving) return 'Not in quorum';
    if (here !== undefined && here.resyncing.size > 0) return 'Resync';
    return record.currentSet.length < record.createSet.length ? 'Degraded' : 'Up';
  }

  /** Bytes this node stores for every volume. */
  usedBytes(): number {
    return this.options.store.usedBytes();
  }
}
