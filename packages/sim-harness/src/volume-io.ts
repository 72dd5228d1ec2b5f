import { checkLinearizable, checkNoLostWrites, checkNoPhantomReads, type BlockOp, type Finding } from '@pxsim/checkers';
import type { OpResult } from '@pxsim/storage';
import type { LinkFaults, Scheduler, Timer } from '@pxsim/runtime';
import type { NodeLifecycle, SimNode } from './lifecycle.js';

/** One-way delay of a client's request between a client and the node next to it, ms. */
const CLIENT_LINK_MS = 1;
/** Outstanding client operations at once (one per client: each client is a sequential process, as Porcupine's). */
const CLIENTS_PER_DOMAIN = 2;
/** Operations recorded in one run at most (older ones are kept; a run that would exceed it stops issuing). */
export const BLOCK_OPS_MAX = 20_000;

export interface VolumeIoOptions {
  /** The volume's name. */
  volume: string;
  /** Blocks the clients use (0 … blocks − 1): few, so that operations meet on the same block. */
  blocks: number;
  /** One operation attempt every this many ms of virtual time (a client already waiting skips its turn). */
  opIntervalMs: number;
  /** A client gives up on an operation after this long: its outcome is unknown. */
  clientTimeoutMs: number;
  /** Share of reads among the operations, 0–1. */
  readShare: number;
}

export const DEFAULT_VOLUME_IO: VolumeIoOptions = {
  volume: 'sim-vol',
  blocks: 8,
  opIntervalMs: 200,
  clientTimeoutMs: 3000,
  readShare: 0.5,
};

/** Where a client sends its operations: the node the volume is attached on, as the application sees it. */
export interface IoTarget {
  coordinator(): string | undefined;
}

interface Client {
  name: string;
  /** The node the client runs next to (its requests cross the network from there). */
  home: string;
  busy: boolean;
  /**
   * The application instance it talks to: kept while it answers (a client in a split keeps using the instance on its
   * side), looked up again after an error or a timeout.
   */
  target?: string;
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/**
 * The clients of a volume: sequential processes in both data domains that read and write blocks through the node the
 * volume is attached on, over the simulated network (requests and answers cross the same link faults as heartbeats:
 * a lost request or answer, or a crashed coordinator, leaves the outcome unknown after the client's timeout). Every
 * operation is recorded with its invoke and completion times for the linearizability checker; every write writes a
 * value no other write writes.
 */
export class VolumeClients {
  readonly ops: BlockOp[] = [];
  private readonly clients: Client[];
  private timer: Timer | undefined;
  private nextId = 1;
  private stopped = false;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly lifecycle: NodeLifecycle,
    private readonly faults: LinkFaults,
    private readonly random: () => number,
    private readonly options: VolumeIoOptions,
    private readonly target: IoTarget,
  ) {
    this.clients = clientsOf(lifecycle);
  }

  /** Starts issuing operations (once; an interval of 0 means none). */
  start(): void {
    if (this.timer === undefined && !this.stopped && this.options.opIntervalMs > 0) this.next();
  }

  /** Stops issuing new operations; those in flight still complete or time out. */
  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }

  /** Whether some client still waits for an answer. */
  get busy(): boolean {
    return this.clients.some((client) => client.busy);
  }

  /** Blocks some write was attempted on (the final reads read these). */
  writtenBlocks(): number[] {
    return [...new Set(this.ops.filter((op) => op.kind === 'write').map((op) => op.block))].sort((a, b) => a - b);
  }

  private next(): void {
    this.timer = this.scheduler.setTimer(this.options.opIntervalMs, () => {
      const client = this.clients[Math.floor(this.random() * this.clients.length)];
      if (client !== undefined && !client.busy && this.ops.length < BLOCK_OPS_MAX) this.issue(client);
      this.next();
    });
  }

  private issue(client: Client): void {
    const coordinator = client.target ?? this.target.coordinator();
    if (coordinator === undefined) return; // no application running: nothing to send to
    client.target = coordinator;
    const block = Math.floor(this.random() * this.options.blocks);
    const write = this.random() >= this.options.readShare;
    const id = this.nextId++;
    const op: BlockOp = {
      id,
      client: client.name,
      volume: this.options.volume,
      block,
      kind: write ? 'write' : 'read',
      value: write ? `w${id}` : '',
      invokeMs: this.scheduler.nowMs(),
      outcome: 'unknown',
      via: coordinator,
    };
    this.ops.push(op);
    this.send(client, coordinator, op);
  }

  /**
   * Sends `op` from `client` to `node` and records the answer (`onDone` hears of it once answered or timed out). Also
   * used for the final reads (client `final`, next to the node itself).
   */
  private send(client: Client, node: string, op: BlockOp, onDone?: (op: BlockOp) => void): void {
    client.busy = true;
    let answered = false;
    const finish = (result: OpResult | undefined): void => {
      if (answered) return;
      answered = true;
      timeout.cancel();
      client.busy = false;
      if (result === undefined || !result.ok) delete client.target;
      complete(op, result, this.scheduler.nowMs());
      onDone?.(op);
    };
    const timeout = this.scheduler.setTimer(this.options.clientTimeoutMs, () => finish(undefined));
    this.cross(client.home, node, () =>
      this.perform(node, op, (result) => this.cross(node, client.home, () => finish(result))),
    );
  }

  /** A message from `from` to `to`: delivered after the link's delay, or lost (the link faults decide). */
  private cross(from: string, to: string, deliver: () => void): void {
    const extraMs = from === to ? 0 : this.faults.delivery(from, to, this.random);
    if (extraMs === undefined) return;
    this.scheduler.setTimer(CLIENT_LINK_MS + extraMs, deliver);
  }

  /** Runs `op` on `ip`'s agent, in its process (a paused process takes it when it resumes; a crashed one never). */
  private perform(ip: string, op: BlockOp, done: (result: OpResult) => void): void {
    const node = this.lifecycle.nodes.get(ip);
    const agent = node?.agent;
    const clock = node?.clock;
    if (node === undefined || agent === undefined || clock === undefined) return;
    const incarnation = node.incarnation;
    clock.run(() => {
      if (node.agent !== agent || node.incarnation !== incarnation) return;
      if (op.kind === 'write') agent.volumes.write(op.volume, op.block, encoder.encode(op.value), done);
      else agent.volumes.read(op.volume, op.block, done);
    });
  }

  /** Records a final read of `block` through `node`; `onDone` gets it once answered or timed out. */
  finalRead(node: string, block: number, onDone: (op: BlockOp) => void): void {
    const op: BlockOp = {
      id: this.nextId++,
      client: 'final',
      volume: this.options.volume,
      block,
      kind: 'read',
      value: '',
      invokeMs: this.scheduler.nowMs(),
      outcome: 'unknown',
      via: node,
    };
    this.ops.push(op);
    this.send({ name: 'final', home: node, busy: false }, node, op, onDone);
  }
}

/** The clients: `CLIENTS_PER_DOMAIN` next to storage nodes of each data domain, in topology order. */
function clientsOf(lifecycle: NodeLifecycle): Client[] {
  const byDomain = new Map<string, SimNode[]>();
  for (const node of lifecycle.nodes.values()) {
    if (node.spec.storageless === true) continue;
    const nodes = byDomain.get(node.spec.domain) ?? [];
    nodes.push(node);
    byDomain.set(node.spec.domain, nodes);
  }
  const clients: Client[] = [];
  for (const [domain, nodes] of byDomain) {
    for (let index = 0; index < CLIENTS_PER_DOMAIN && index < nodes.length; index++) {
      const home = nodes[index]?.spec.ip;
      if (home !== undefined) clients.push({ name: `${domain}/c${index + 1}`, home, busy: false });
    }
  }
  return clients;
}

/** Fills in an operation's outcome from the agent's answer (undefined: no answer before the client's timeout). */
function complete(op: BlockOp, result: OpResult | undefined, atMs: number): void {
  if (result === undefined) return; // unknown: stays without completion time
  if (result.ok) {
    op.outcome = 'ok';
    op.completeMs = atMs;
    if (op.kind === 'read') op.value = result.payload === undefined ? '' : decoder.decode(result.payload);
    return;
  }
  if (result.outcome === 'failed') {
    op.outcome = 'failed';
    op.completeMs = atMs;
  }
}

/** How often the application's controller looks at the volume (create, attach, fail over), ms of virtual time. */
const CONTROL_EVERY_MS = 500;
/** Controller rounds a failover condition must hold for before it acts (no failover on one missed heartbeat). */
const FAILOVER_ROUNDS = 2;
/** A create or attach whose answer never comes (its node crashed, its kvdb link is cut) is given up after this. */
const ACTION_TIMEOUT_MS = 10_000;

interface VolumeViewLike {
  record: { attachedOn?: string; currentSet: string[] };
  revision: number;
  coordinatorOpen: boolean;
}

/**
 * The application of the volume and its controller, as a metro-DR runbook automates it: create the volume once some
 * node serves; run the application where the volume is attached; when the node it runs on is no longer Online as
 * seen from a serving node of the volume's current set (for `FAILOVER_ROUNDS` looks), start it there (attach, which
 * Portworx allows when the attached node is down). Safe mode must make that failover harmless; in reference mode
 * the witness bridge lets both sides serve, so both attach: the divergence the checkers must find.
 */
export class VolumeApp implements IoTarget {
  private created = false;
  /** Until when the create or attach in flight blocks the next one (0: none in flight). */
  private busyUntilMs = 0;
  private timer: Timer | undefined;
  private coordinatorIp: string | undefined;
  /** Node → consecutive looks for which the failover condition held there. */
  private readonly suspicion = new Map<string, number>();
  /** Attachments asked for and done, for the coverage counts. */
  readonly counts = { attaches: 0, failovers: 0 };

  constructor(
    private readonly scheduler: Scheduler,
    private readonly lifecycle: NodeLifecycle,
    private readonly volume: string,
  ) {}

  coordinator(): string | undefined {
    return this.coordinatorIp;
  }

  start(): void {
    if (this.timer !== undefined) return;
    const loop = (): void => {
      this.timer = this.scheduler.setTimer(CONTROL_EVERY_MS, () => {
        this.look();
        loop();
      });
    };
    loop();
  }

  stop(): void {
    this.timer?.cancel();
  }

  /** The newest view of the volume among the running agents (highest kvdb revision), with the node that has it. */
  view(): VolumeViewLike | undefined {
    let best: VolumeViewLike | undefined;
    for (const node of this.lifecycle.running()) {
      const view = node.agent?.volumes.inspect(this.volume);
      if (view !== undefined && (best === undefined || view.revision > best.revision)) best = view;
    }
    return best;
  }

  /** The running, unpaused node whose agent has node ID `id`. */
  private nodeOf(id: string | undefined): SimNode | undefined {
    if (id === undefined) return undefined;
    return this.lifecycle.running().find((node) => node.agent?.nodeId === id);
  }

  private look(): void {
    if (this.scheduler.nowMs() < this.busyUntilMs) return;
    if (!this.created) return this.create();
    const view = this.view();
    if (view === undefined) return;
    const coordinator = this.nodeOf(view.record.attachedOn);
    this.coordinatorIp =
      view.record.attachedOn === undefined ? undefined : ipOfId(this.lifecycle, view.record.attachedOn);
    const candidate = this.failoverTarget(view, coordinator);
    if (candidate !== undefined) this.attach(candidate, view.record.attachedOn !== undefined);
  }

  /** Where the application should run now, if not where it is (undefined: leave it). */
  private failoverTarget(view: VolumeViewLike, coordinator: SimNode | undefined): SimNode | undefined {
    const attachedOn = view.record.attachedOn;
    const serving = view.record.currentSet
      .map((id) => this.nodeOf(id))
      .filter((node): node is SimNode => node?.agent?.status().node.serving === true);
    if (attachedOn === undefined) return serving[0];
    // The coordinator itself lost its attachment (restarted): attach it again where it is.
    if (
      coordinator !== undefined &&
      serving.includes(coordinator) &&
      !coordinator.agent?.volumes.inspect(this.volume)?.coordinatorOpen
    )
      return this.held(coordinator, true);
    for (const node of serving) {
      if (node === coordinator) continue;
      const seen = node.agent?.status().nodes.find((entry) => entry.id === attachedOn);
      const target = this.held(node, seen?.status !== 'Online');
      if (target !== undefined) return target;
    }
    return undefined;
  }

  /** Counts looks for which `condition` held at `node`; returns it once they reach `FAILOVER_ROUNDS`. */
  private held(node: SimNode, condition: boolean): SimNode | undefined {
    const rounds = condition ? (this.suspicion.get(node.spec.ip) ?? 0) + 1 : 0;
    this.suspicion.set(node.spec.ip, rounds);
    return rounds >= FAILOVER_ROUNDS ? node : undefined;
  }

  private create(): void {
    const via = this.lifecycle
      .running()
      .find((node) => node.spec.storageless !== true && node.agent?.status().node.serving === true);
    const agent = via?.agent;
    if (via === undefined || agent === undefined) return;
    this.busyUntilMs = this.scheduler.nowMs() + ACTION_TIMEOUT_MS;
    via.clock?.run(() => {
      agent.volumes.create({ name: this.volume, sizeGiB: 1, haLevel: 2 }).then(
        () => {
          this.created = true;
          this.busyUntilMs = 0;
        },
        () => {
          // Refused (not placeable yet) or already created by an earlier attempt whose answer was lost.
          this.created = this.view() !== undefined;
          this.busyUntilMs = 0;
        },
      );
    });
  }

  private attach(node: SimNode, failover: boolean): void {
    const agent = node.agent;
    if (agent === undefined) return;
    this.busyUntilMs = this.scheduler.nowMs() + ACTION_TIMEOUT_MS;
    this.suspicion.clear();
    this.counts.attaches += 1;
    if (failover) this.counts.failovers += 1;
    node.clock?.run(() =>
      agent.volumes.attach(this.volume, (result) => {
        this.busyUntilMs = 0;
        if (result.ok) this.coordinatorIp = node.spec.ip;
      }),
    );
  }
}

/** The IP of the node whose identity has node ID `id` (its data dir keeps it across restarts). */
function ipOfId(lifecycle: NodeLifecycle, id: string): string | undefined {
  for (const node of lifecycle.nodes.values()) {
    if (node.agent?.nodeId === id || node.identity?.nodeId === id) return node.spec.ip;
  }
  return undefined;
}

/** The end of a run's I/O: what the final reads found, and the written blocks no final read could reach. */
export interface FinalReads {
  reads: BlockOp[];
  unreadable: number[];
}

/**
 * Stops the clients, lets their operations finish or time out, then reads back every block some write was attempted
 * on, through the node the volume is attached on, retrying for up to `withinMs` of virtual time (the application
 * controller keeps running meanwhile, so a volume detached or attached on a lost node is attached again first).
 */
export async function finalReads(
  app: VolumeApp,
  clients: VolumeClients,
  runFor: (ms: number) => Promise<void>,
  options: { clientTimeoutMs: number; withinMs: number },
): Promise<FinalReads> {
  clients.stop();
  for (let waitedMs = 0; clients.busy && waitedMs <= options.clientTimeoutMs; waitedMs += 100) await runFor(100);
  const blocks = clients.writtenBlocks();
  const reads = new Map<number, BlockOp>();
  const pending = new Set<number>();
  for (let waitedMs = 0; reads.size < blocks.length && waitedMs < options.withinMs; waitedMs += CONTROL_EVERY_MS) {
    await runFor(CONTROL_EVERY_MS);
    const coordinator = app.coordinator();
    if (coordinator === undefined) continue;
    for (const block of blocks) {
      if (reads.has(block) || pending.has(block)) continue;
      pending.add(block);
      clients.finalRead(coordinator, block, (op) => {
        pending.delete(block);
        if (op.outcome === 'ok') reads.set(block, op);
      });
    }
  }
  return { reads: [...reads.values()], unreadable: blocks.filter((block) => !reads.has(block)) };
}

/**
 * A run's volume I/O: the application (create, attach, fail over), its clients in both domains, and at the end the
 * final reads and the data checkers (linearizability per block, no acknowledged write lost, no value never written).
 */
export class VolumeIo {
  readonly app: VolumeApp;
  readonly clients: VolumeClients;

  constructor(
    scheduler: Scheduler,
    lifecycle: NodeLifecycle,
    faults: LinkFaults,
    random: () => number,
    readonly options: VolumeIoOptions,
  ) {
    this.app = new VolumeApp(scheduler, lifecycle, options.volume);
    this.clients = new VolumeClients(scheduler, lifecycle, faults, random, options, this.app);
  }

  get ops(): readonly BlockOp[] {
    return this.clients.ops;
  }

  start(): void {
    this.app.start();
    this.clients.start();
  }

  stop(): void {
    this.app.stop();
    this.clients.stop();
  }

  /** Final reads, then the checkers over every operation; findings go to `report`. */
  async finish(
    runFor: (ms: number) => Promise<void>,
    report: (finding: Finding) => void,
    withinMs: number,
  ): Promise<FinalReads> {
    const final = await finalReads(this.app, this.clients, runFor, {
      clientTimeoutMs: this.options.clientTimeoutMs,
      withinMs,
    });
    this.app.stop();
    const ops = this.clients.ops;
    const lin = checkLinearizable(ops);
    if (lin.ok === false) report({ check: 'LIN', detail: lin.explanation });
    for (const finding of checkNoLostWrites(ops, final.reads)) report(finding);
    for (const finding of checkNoPhantomReads(ops)) report(finding);
    if (final.unreadable.length > 0)
      report({
        check: 'RPO',
        detail:
          `blocks ${final.unreadable.join(', ')} of ${this.options.volume} could not be read back within ` +
          `${withinMs} ms after every fault healed and every domain was activated again`,
      });
    return final;
  }
}

/** The run's volume I/O as the simulation options ask for it (default on; `false`: none). */
export function volumeIoFor(
  options: Partial<VolumeIoOptions> | false | undefined,
  scheduler: Scheduler,
  lifecycle: NodeLifecycle,
  faults: LinkFaults,
  random: () => number,
): VolumeIo | undefined {
  if (options === false) return undefined;
  return new VolumeIo(scheduler, lifecycle, faults, random, { ...DEFAULT_VOLUME_IO, ...options });
}
