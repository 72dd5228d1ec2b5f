import type { NodeAgent } from '@pxsim/node-agent';
import { clusterSyncStatuses } from '@pxsim/node-agent';
import type { OpResult, SyncStatus, VolumeView } from '@pxsim/storage';
import type { DataStep, DriverResult, VolumeDriver } from './scenario-data.js';
import { askInNode, type Simulation } from './simulation.js';

/** How long a block operation's answer is waited for, ms of virtual time (then its outcome is unknown). */
const IO_ANSWER_MS = 5000;
/** How long a create or an attach (its open round may wait out a silent replica) is waited for, ms. */
const CONTROL_ANSWER_MS = 15_000;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function driverResult(result: OpResult | undefined): DriverResult {
  if (result === undefined) return { ok: false, reason: 'no answer', unknown: true };
  if (result.ok) return { ok: true, value: result.payload === undefined ? '' : decoder.decode(result.payload) };
  return { ok: false, reason: `${result.code}: ${result.reason}`, unknown: result.outcome === 'unknown' };
}

/**
 * The data steps' way into the simulator: each request runs in the node's own process (`Simulation.inNode`), and
 * virtual time advances until it is answered.
 */
export class VirtualDriver implements VolumeDriver {
  constructor(
    private readonly sim: Simulation,
    private readonly ipOf: ReadonlyMap<string, string>,
  ) {}

  now(): number {
    return this.sim.nowMs;
  }

  async pass(ms: number): Promise<void> {
    await this.sim.run(ms);
  }

  /** Runs `start` in `label`'s process and advances virtual time until it answers (undefined: it never did). */
  /** Runs `start` in `label`'s process and advances virtual time until it answers (undefined: it never did). */
  private ask<T>(
    label: string,
    withinMs: number,
    start: (agent: NodeAgent, done: (answer: T) => void) => void,
  ): Promise<T | undefined> {
    return askInNode(this.sim, this.ipOf.get(label) ?? '', withinMs, start);
  }

  private runningAgents(): Array<{ label: string; agent: NodeAgent }> {
    return [...this.ipOf].flatMap(([label, ip]) => {
      const agent = this.sim.agent(ip);
      return agent === undefined || agent.status().phase !== 'running' ? [] : [{ label, agent }];
    });
  }

  /** The newest view of the volume among the running agents (highest kvdb revision). */
  private view(volume: string): VolumeView | undefined {
    let best: VolumeView | undefined;
    for (const { agent } of this.runningAgents()) {
      const view = agent.volumes.inspect(volume);
      if (view !== undefined && (best === undefined || view.revision > best.revision)) best = view;
    }
    return best;
  }

  private labelOfId(id: string | undefined): string | undefined {
    if (id === undefined) return undefined;
    for (const [label, ip] of this.ipOf) if (this.sim.agent(ip)?.nodeId === id) return label;
    return undefined;
  }

  async create(step: Extract<DataStep, { kind: 'volume' }>): Promise<DriverResult> {
    const via = this.runningAgents().find(({ agent }) => agent.status().node.serving);
    if (via === undefined) return { ok: false, reason: 'no node serves' };
    const request = { name: step.name, sizeGiB: step.sizeGiB, haLevel: step.repl };
    const answer = await this.ask<DriverResult>(via.label, CONTROL_ANSWER_MS, (agent, done) => {
      agent.volumes.create(request).then(
        (view) => done({ ok: true, value: view.record.id }),
        (error: unknown) => done({ ok: false, reason: error instanceof Error ? error.message : String(error) }),
      );
    });
    return answer ?? { ok: false, reason: `${via.label} did not answer` };
  }

  async attach(volume: string, node: string): Promise<DriverResult> {
    const answer = await this.ask<OpResult>(node, CONTROL_ANSWER_MS, (agent, done) =>
      agent.volumes.attach(volume, done),
    );
    return driverResult(answer);
  }

  async detach(volume: string, node: string): Promise<DriverResult> {
    const answer = await this.ask<OpResult>(node, CONTROL_ANSWER_MS, (agent, done) =>
      agent.volumes.detach(volume, done),
    );
    return driverResult(answer);
  }

  async attachedOn(volume: string): Promise<string | undefined> {
    return Promise.resolve(this.labelOfId(this.view(volume)?.record.attachedOn));
  }

  async describe(volume: string): Promise<string> {
    const view = this.view(volume);
    if (view === undefined) return Promise.resolve(`no volume ${volume}`);
    const names = (ids: readonly string[]): string => ids.map((id) => this.labelOfId(id) ?? id).join(', ');
    const { record } = view;
    return Promise.resolve(
      `attached on ${this.labelOfId(record.attachedOn) ?? 'no node'}, create set [${names(record.createSet)}], ` +
        `current set [${names(record.currentSet)}], epoch ${record.attachEpoch}`,
    );
  }

  async inCurrentSet(volume: string, node: string): Promise<boolean> {
    const id = this.sim.agent(this.ipOf.get(node) ?? '')?.nodeId;
    return Promise.resolve(id !== undefined && (this.view(volume)?.record.currentSet.includes(id) ?? false));
  }

  async write(node: string, volume: string, block: number, value: string): Promise<DriverResult> {
    const payload = encoder.encode(value);
    return driverResult(
      await this.ask<OpResult>(node, IO_ANSWER_MS, (agent, done) => agent.volumes.write(volume, block, payload, done)),
    );
  }

  async read(node: string, volume: string, block: number): Promise<DriverResult> {
    return driverResult(
      await this.ask<OpResult>(node, IO_ANSWER_MS, (agent, done) => agent.volumes.read(volume, block, done)),
    );
  }

  /**
   * What `storkctl get clusterdomainsstatus` shows through the first node that serves (topology order), as stork asks
   * its own cluster's Portworx; undefined (no sample) while none does.
   */
  syncStatusesNow(): Map<string, SyncStatus> | undefined {
    const via = this.runningAgents().find(({ agent }) => agent.status().node.serving)?.agent;
    if (via === undefined) return undefined;
    return clusterSyncStatuses(
      via.status(),
      via.volumes.list().map((view) => view.record),
    );
  }

  async syncStatuses(): Promise<Map<string, SyncStatus> | undefined> {
    return Promise.resolve(this.syncStatusesNow());
  }
}
