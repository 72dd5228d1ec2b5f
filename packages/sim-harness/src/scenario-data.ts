import { checkLinearizable, checkNoLostWrites, checkNoPhantomReads, type BlockOp, type Finding } from '@pxsim/checkers';
import { SYNC_STATUSES, type SyncStatus } from '@pxsim/storage';

/**
 * The data steps of a scenario: a volume, the application's attachment, writes that must be acknowledged, reads that
 * must give every acknowledged write back, and ClusterDomainsStatus' syncStatus. The same steps run in virtual time
 * (the simulator's agents) and in real time (px-node processes through their REST API), through a `VolumeDriver`.
 */
export type DataStep =
  /** `pxctl volume create NAME --size GiB --repl N`. */
  | { kind: 'volume'; name: string; sizeGiB: number; repl: number }
  /** The application starts on a node of `on` (a group) that holds a current replica: the volume attaches there. */
  | { kind: 'attach'; volume: string; on: string; withinMs: number }
  /** The application stops: the volume is detached from the node it is attached on. */
  | { kind: 'detach'; volume: string; withinMs: number }
  /** Blocks 0 … blocks − 1 written with values of this step; every one must be acknowledged within the bound. */
  | { kind: 'write'; volume: string; blocks: number; withinMs: number }
  /** Every block the scenario wrote reads back as its last acknowledged value (zero RPO). */
  | { kind: 'verify'; volume: string; withinMs: number }
  /**
   * ClusterDomainsStatus shows `status` for `domain` (stork's rule over the volumes' replica sets), now or within the
   * bound, at or after what the previous `sync` step of that domain saw: a sequence of `sync` steps asks the status to
   * pass through those values in that order (a `SyncInProgress` between two looks is not missed: the status is
   * sampled every `SYNC_SAMPLE_MS` from the scenario's start).
   */
  | { kind: 'sync'; domain: string; status: SyncStatus; withinMs: number };

export const DATA_STEP_KINDS: readonly string[] = ['volume', 'attach', 'detach', 'write', 'verify', 'sync'];

export class DataStepError extends Error {}

const DEFAULT_WITHIN_MS = 30_000;
/** Blocks one write step may write (a scenario is a story, not a load test). */
export const WRITE_BLOCKS_MAX = 4096;
/** How often the syncStatus of every domain is looked at, ms (virtual or real time). */
export const SYNC_SAMPLE_MS = 50;
/** How often a step that waits for something tries again, ms. */
const RETRY_EVERY_MS = 100;

const FIELDS: Record<string, readonly string[]> = {
  volume: ['name', 'size', 'repl'],
  attach: ['volume', 'on', 'withinMs'],
  detach: ['volume', 'withinMs'],
  write: ['volume', 'blocks', 'withinMs'],
  verify: ['volume', 'withinMs'],
  sync: ['domain', 'status', 'withinMs'],
};

function text(value: Record<string, unknown>, name: string, where: string): string {
  if (!(name in value)) throw new DataStepError(`${where}: missing "${name}"`);
  const found = value[name];
  if (typeof found !== 'string' || found.trim() === '') throw new DataStepError(`${where}: "${name}" must be a name`);
  return found;
}

function integer(value: Record<string, unknown>, name: string, where: string, range: [number, number, number]): number {
  const [min, max, fallback] = range;
  if (!(name in value)) return fallback;
  const found = value[name];
  if (typeof found !== 'number' || !Number.isInteger(found) || found < min || found > max)
    throw new DataStepError(`${where}: "${name}" must be an integer from ${min} to ${max}`);
  return found;
}

/** Reads one data step of the YAML (`kind` is its key); every problem names the step and the field. */
export function parseDataStep(kind: string, raw: unknown, where: string): DataStep {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new DataStepError(`${where}: ${kind} takes a mapping (${(FIELDS[kind] ?? []).join(', ')})`);
  const value = raw as Record<string, unknown>;
  const unknown = Object.keys(value).filter((key) => !(FIELDS[kind] ?? []).includes(key));
  if (unknown.length > 0)
    throw new DataStepError(`${where}: ${kind} has no "${unknown[0]}" (it takes ${(FIELDS[kind] ?? []).join(', ')})`);
  const withinMs = (): number => integer(value, 'withinMs', where, [0, 3_600_000, DEFAULT_WITHIN_MS]);
  switch (kind) {
    case 'volume':
      return {
        kind,
        name: text(value, 'name', where),
        sizeGiB: integer(value, 'size', where, [1, 1024, 1]),
        repl: integer(value, 'repl', where, [1, 3, 1]),
      };
    case 'attach':
      return { kind, volume: text(value, 'volume', where), on: text(value, 'on', where), withinMs: withinMs() };
    case 'detach':
      return { kind, volume: text(value, 'volume', where), withinMs: withinMs() };
    case 'write':
      return {
        kind,
        volume: text(value, 'volume', where),
        blocks: integer(value, 'blocks', where, [1, WRITE_BLOCKS_MAX, 1]),
        withinMs: withinMs(),
      };
    case 'verify':
      return { kind, volume: text(value, 'volume', where), withinMs: withinMs() };
    case 'sync': {
      const status = text(value, 'status', where);
      const known = SYNC_STATUSES.find((candidate) => candidate === status);
      if (known === undefined)
        throw new DataStepError(`${where}: sync status must be one of ${SYNC_STATUSES.join(', ')}`);
      return { kind, domain: text(value, 'domain', where), status: known, withinMs: withinMs() };
    }
    default:
      throw new DataStepError(`${where}: unknown data step "${kind}"`);
  }
}

/** What a data step says, for the timeline. */
export function describeDataStep(step: DataStep): string {
  switch (step.kind) {
    case 'volume':
      return `volume create ${step.name} --size ${step.sizeGiB} --repl ${step.repl}`;
    case 'attach':
      return `attach ${step.volume} on ${step.on} within ${step.withinMs} ms`;
    case 'detach':
      return `detach ${step.volume} within ${step.withinMs} ms`;
    case 'write':
      return `write ${step.blocks} block(s) of ${step.volume} within ${step.withinMs} ms`;
    case 'verify':
      return `verify ${step.volume} within ${step.withinMs} ms`;
    case 'sync':
      return `expect syncStatus ${step.domain} ${step.status} within ${step.withinMs} ms`;
  }
}

/** An answer of the cluster: ok with a value (a read's payload as text), or why not. */
export type DriverResult = { ok: true; value: string } | { ok: false; reason: string; unknown?: boolean };

/** How the steps reach a cluster: the simulator's agents, or px-node processes over REST. */
export interface VolumeDriver {
  /** Creates the volume through some serving node. */
  create(step: Extract<DataStep, { kind: 'volume' }>): Promise<DriverResult>;
  /** Attaches the volume on `node` (a label). */
  attach(volume: string, node: string): Promise<DriverResult>;
  /** Detaches the volume from `node` (a label), where it is attached. */
  detach(volume: string, node: string): Promise<DriverResult>;
  /** Where the volume is attached now (a node label), if anywhere. */
  attachedOn(volume: string): Promise<string | undefined>;
  /** The volume as the cluster has it now, in a line for an error message. */
  describe(volume: string): Promise<string>;
  /** Whether `node` holds a replica of the volume's current set (the nodes an attach may go to). */
  inCurrentSet(volume: string, node: string): Promise<boolean>;
  write(node: string, volume: string, block: number, value: string): Promise<DriverResult>;
  read(node: string, volume: string, block: number): Promise<DriverResult>;
  /** Every domain's syncStatus as `storkctl get clusterdomainsstatus` would show it now (undefined: no answer). */
  syncStatuses(): Promise<Map<string, SyncStatus> | undefined>;
  /** Lets `ms` of (virtual or real) time pass. */
  pass(ms: number): Promise<void>;
  now(): number;
}

/** Retries `attempt` every `RETRY_EVERY_MS` until it succeeds or `withinMs` passed; fails naming the last reason. */
async function until<T>(
  driver: VolumeDriver,
  withinMs: number,
  what: string,
  attempt: () => Promise<{ ok: true; value: T } | { ok: false; reason: string }>,
): Promise<T> {
  const deadline = driver.now() + withinMs;
  for (;;) {
    const result = await attempt();
    if (result.ok) return result.value;
    if (driver.now() >= deadline) throw new DataStepError(`${what}: not within ${withinMs} ms: ${result.reason}`);
    await driver.pass(RETRY_EVERY_MS);
  }
}

/**
 * Every domain's syncStatus as sampled: the sequence of values it took (repeats collapsed), for the `sync` steps to
 * match in order and for the run's summary.
 */
export class SyncWatch {
  readonly seen = new Map<string, SyncStatus[]>();
  /** Domain → index in `seen` the next `sync` step of that domain matches from. */
  private readonly cursor = new Map<string, number>();

  note(statuses: ReadonlyMap<string, SyncStatus>): void {
    for (const [domain, status] of statuses) {
      const list = this.seen.get(domain) ?? [];
      if (list.at(-1) !== status) list.push(status);
      this.seen.set(domain, list);
    }
  }

  /** Whether `domain` showed `status` at or after the previous match; moves the cursor to it. */
  match(domain: string, status: SyncStatus): boolean {
    const list = this.seen.get(domain) ?? [];
    const from = this.cursor.get(domain) ?? 0;
    const index = list.indexOf(status, from);
    if (index < 0) return false;
    this.cursor.set(domain, index);
    return true;
  }
}

/**
 * Runs the data steps of one scenario, recording every block operation with its invoke and completion times for the
 * checkers (linearizability per block, no acknowledged write lost, no value never written) and remembering the last
 * acknowledged value of every block written.
 */
export class DataSteps {
  readonly ops: BlockOp[] = [];
  readonly sync = new SyncWatch();
  /** volume → block → last acknowledged value. */
  private readonly written = new Map<string, Map<number, string>>();
  private readonly verifyReads: BlockOp[] = [];
  private writeSteps = 0;
  private nextId = 1;

  constructor(
    private readonly driver: VolumeDriver,
    private readonly nodesOf: (group: string) => string[],
  ) {}

  /** Looks at every domain's syncStatus once (the runner calls this every `SYNC_SAMPLE_MS`). */
  async sample(): Promise<void> {
    const statuses = await this.driver.syncStatuses();
    if (statuses !== undefined) this.sync.note(statuses);
  }

  async run(step: DataStep): Promise<void> {
    const { driver } = this;
    switch (step.kind) {
      case 'volume':
        await until(driver, DEFAULT_WITHIN_MS, `create ${step.name}`, () => driver.create(step));
        return;
      case 'attach':
        await until(driver, step.withinMs, `attach ${step.volume} on ${step.on}`, () => this.attach(step));
        return;
      case 'detach':
        await until(driver, step.withinMs, `detach ${step.volume}`, async () => {
          const node = await driver.attachedOn(step.volume);
          return node === undefined ? { ok: true, value: '' } : driver.detach(step.volume, node);
        });
        return;
      case 'write':
        return this.write(step);
      case 'verify':
        return this.verify(step);
      case 'sync':
        await until(driver, step.withinMs, `syncStatus of ${step.domain} ${step.status}`, async () =>
          this.sync.match(step.domain, step.status)
            ? { ok: true, value: step.status }
            : { ok: false, reason: `it went ${(this.sync.seen.get(step.domain) ?? []).join(' -> ') || 'unseen'}` },
        );
        return;
    }
  }

  /** The checkers over every operation recorded, the verify steps' reads as the final reads. */
  findings(): Finding[] {
    const findings: Finding[] = [];
    const lin = checkLinearizable(this.ops);
    if (lin.ok === false) findings.push({ check: 'LIN', detail: lin.explanation });
    findings.push(...checkNoLostWrites(this.ops, this.lastVerifyReads()), ...checkNoPhantomReads(this.ops));
    return findings;
  }

  /** The last verify read of every block. */
  private lastVerifyReads(): BlockOp[] {
    const last = new Map<string, BlockOp>();
    for (const op of this.verifyReads) last.set(`${op.volume}/${op.block}`, op);
    return [...last.values()];
  }

  private async attach(step: Extract<DataStep, { kind: 'attach' }>): Promise<DriverResult> {
    const reasons: string[] = [];
    for (const node of this.nodesOf(step.on)) {
      if (!(await this.driver.inCurrentSet(step.volume, node))) {
        reasons.push(`${node}: no current replica`);
        continue;
      }
      const result = await this.driver.attach(step.volume, node);
      if (result.ok) return result;
      reasons.push(`${node}: ${result.reason}`);
    }
    const now = await this.driver.describe(step.volume);
    return { ok: false, reason: `${reasons.join('; ') || `no node in ${step.on}`} (${now})` };
  }

  private async coordinator(volume: string, withinMs: number): Promise<string> {
    return until(this.driver, withinMs, `${volume} attached`, async () => {
      const node = await this.driver.attachedOn(volume);
      return node === undefined ? { ok: false, reason: 'it is not attached' } : { ok: true, value: node };
    });
  }

  /** One block operation through the coordinator, recorded. */
  private async perform(kind: 'read' | 'write', volume: string, block: number, value: string): Promise<DriverResult> {
    const node = await this.driver.attachedOn(volume);
    if (node === undefined) return { ok: false, reason: `${volume} is not attached` };
    const op: BlockOp = {
      id: this.nextId++,
      client: 'scenario',
      volume,
      block,
      kind,
      value,
      invokeMs: this.driver.now(),
      outcome: 'unknown',
      via: node,
    };
    this.ops.push(op);
    const result =
      kind === 'write'
        ? await this.driver.write(node, volume, block, value)
        : await this.driver.read(node, volume, block);
    if (result.ok) {
      op.outcome = 'ok';
      op.completeMs = this.driver.now();
      if (kind === 'read') op.value = result.value;
    } else if (result.unknown !== true) {
      op.outcome = 'failed';
      op.completeMs = this.driver.now();
    }
    return result;
  }

  private async write(step: Extract<DataStep, { kind: 'write' }>): Promise<void> {
    this.writeSteps += 1;
    const blocks = this.written.get(step.volume) ?? new Map<number, string>();
    this.written.set(step.volume, blocks);
    await this.coordinator(step.volume, step.withinMs);
    const deadline = this.driver.now() + step.withinMs;
    for (let block = 0; block < step.blocks; block++) {
      // Every attempt writes its own value: a retried write whose first attempt's outcome is unknown stays tellable.
      // Attempts are bounded by the step's time bound (one every RETRY_EVERY_MS at most).
      let attempt = 0;
      const what = `write block ${block} of ${step.volume}`;
      const value = await until(this.driver, Math.max(0, deadline - this.driver.now()), what, async () => {
        attempt += 1;
        const written = `s${this.writeSteps}-b${block}-a${attempt}`;
        const result = await this.perform('write', step.volume, block, written);
        return result.ok ? { ok: true as const, value: written } : result;
      });
      blocks.set(block, value);
    }
  }

  private async verify(step: Extract<DataStep, { kind: 'verify' }>): Promise<void> {
    for (const [block, expected] of this.written.get(step.volume) ?? new Map<number, string>()) {
      const value = await until(this.driver, step.withinMs, `read block ${block} of ${step.volume}`, async () => {
        const result = await this.perform('read', step.volume, block, '');
        return result.ok ? { ok: true as const, value: result.value } : result;
      });
      const read = this.ops.at(-1);
      if (read !== undefined) this.verifyReads.push(read);
      if (value !== expected)
        throw new DataStepError(
          `block ${block} of ${step.volume} reads "${value || '(never written)'}", but "${expected}" was acknowledged: an acknowledged write was lost`,
        );
    }
  }
}
