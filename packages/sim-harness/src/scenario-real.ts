import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { EtcdProcess } from '@pxsim/kvdb-client/etcd-process';
import { isNetworkFault, type Fault, type NetworkFault } from '@pxsim/runtime';
import {
  agentStatusSchema,
  blockReadSchema,
  clusterSyncStatuses,
  ioErrorSchema,
  replicaSetsOf,
  volumeJsonSchema,
  volumeListJsonSchema,
  type VolumeJson,
} from '@pxsim/node-agent';
import type { SyncStatus } from '@pxsim/storage';
import { DataSteps, SYNC_SAMPLE_MS, type DataStep, type DriverResult, type VolumeDriver } from './scenario-data.js';
import {
  dataSummary,
  describeStep,
  nodeLabels,
  resolveGroup,
  runDataStep,
  ScenarioError,
  type Scenario,
  type ScenarioRun,
  type ScenarioStep,
} from './scenario.js';

export interface RealRunOptions {
  /** The px-node launcher. */
  pxNode: string;
  /** Loopback prefix for the node addresses: PREFIX.(domain index + 1).(node index). */
  ipPrefix: string;
}

interface RealNode {
  label: string;
  ip: string;
  domain: string;
  child: ChildProcess | undefined;
  exited: Promise<unknown> | undefined;
  events: WebSocket | undefined;
  nodeId: string | undefined;
  stderr: string;
}

const STDERR_KEPT_CHARS = 2000;

const TOKEN = 'scenario-admin-token';

async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Longest wait for a started px-node to answer on its events stream: a bound in time, not in attempts, as six
 * processes starting at once on a loaded 2-core machine take seconds to listen.
 */
const READY_WAIT_MS = 60_000;

/**
 * A cluster of px-node processes on loopback around a real etcd, driven through each node's API: state changes come
 * from its own /v1/events stream; partitions, latency and kvdb cuts go through its fault layer (POST
 * /v1/debug/faults).
 */
class RealCluster {
  readonly nodes: Map<string, RealNode>;
  readonly transitions: Record<string, string[]>;
  private readonly tokenFile: string;

  constructor(
    private readonly scenario: Scenario,
    private readonly options: RealRunOptions,
    private readonly root: string,
    private readonly etcd: EtcdProcess,
  ) {
    this.tokenFile = join(root, 'token');
    writeFileSync(this.tokenFile, `${TOKEN}\n`);
    const labels = nodeLabels(scenario);
    this.nodes = new Map(
      labels.map((label) => {
        const [domain = '', index = '1'] = label.split('/');
        const ip = `${options.ipPrefix}.${scenario.cluster.domains.indexOf(domain) + 1}.${index}`;
        return [
          label,
          { label, ip, domain, child: undefined, exited: undefined, events: undefined, nodeId: undefined, stderr: '' },
        ];
      }),
    );
    this.transitions = Object.fromEntries(labels.map((label) => [label, []]));
  }

  node(label: string): RealNode {
    const found = this.nodes.get(label);
    if (found === undefined) throw new ScenarioError(`no node ${label}`);
    return found;
  }

  group(labels: string[]): RealNode[] {
    return labels.flatMap((text) => resolveGroup(this.scenario, text)).map((label) => this.node(label));
  }

  running(): RealNode[] {
    return [...this.nodes.values()].filter((candidate) => candidate.child !== undefined);
  }

  async api(target: RealNode, path: string, init: RequestInit = {}): Promise<unknown> {
    const { status, body } = await this.request(target, path, init);
    if (status >= 400) throw new ScenarioError(`${target.label} ${path}: ${status} ${JSON.stringify(body)}`);
    return body;
  }

  /** A request to a node's API: its HTTP status and JSON body (network errors throw). */
  async request(
    target: RealNode,
    path: string,
    init: RequestInit = {},
    timeoutMs = 3000,
  ): Promise<{ status: number; body: unknown }> {
    const response = await fetch(`http://${target.ip}:9001${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${TOKEN}`,
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { status: response.status, body: await response.json() };
  }

  private record(target: RealNode, state: string): void {
    const list = this.transitions[target.label];
    if (list !== undefined && list.at(-1) !== state) list.push(state);
  }

  private onEvent(target: RealNode, data: Buffer): void {
    const event = JSON.parse(data.toString()) as {
      type: string;
      nodeId?: string;
      to?: string;
      status?: { node: { id: string; status: string } };
    };
    if (event.type === 'hello' && event.status !== undefined) {
      target.nodeId = event.status.node.id;
      this.record(target, event.status.node.status);
    } else if (event.type === 'node-status' && event.nodeId === target.nodeId && event.to !== undefined) {
      this.record(target, event.to);
    }
  }

  private async subscribe(target: RealNode): Promise<void> {
    for (const deadline = Date.now() + READY_WAIT_MS; Date.now() < deadline;) {
      try {
        const socket = new WebSocket(`ws://${target.ip}:9001/v1/events`);
        // Listen before the upgrade completes: the hello may arrive in the same chunk.
        socket.on('message', (data: Buffer) => this.onEvent(target, data));
        await new Promise<void>((resolve, reject) => {
          socket.once('open', () => resolve());
          socket.once('error', reject);
        });
        socket.on('error', () => undefined);
        target.events = socket;
        return;
      } catch {
        await sleep(50);
      }
    }
    throw new ScenarioError(
      `${target.label}: no events stream within ${READY_WAIT_MS / 1000} s of starting; px-node said: ${target.stderr.trim() || '(nothing)'}`,
    );
  }

  async start(target: RealNode): Promise<void> {
    if (target.child !== undefined) return;
    const { scenario } = this;
    const child = spawn(
      this.options.pxNode,
      [
        ...['-c', 'px-dr-cluster', '-k', this.etcd.kvdbEndpoint, '--cluster-domain', target.domain],
        ...['--ip', target.ip, '--data-dir', join(this.root, target.ip), '--timing', scenario.cluster.timing],
        ...['--quorum-mode', scenario.cluster.quorumMode, '--admin-token-file', this.tokenFile],
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    target.child = child;
    target.stderr = '';
    // The tail of what the process said, for the error if it never serves (bounded).
    child.stderr?.on('data', (chunk: Buffer) => {
      target.stderr = (target.stderr + chunk.toString()).slice(-STDERR_KEPT_CHARS);
    });
    target.exited = new Promise((resolve) => child.once('exit', resolve));
    await this.subscribe(target);
  }

  async crash(target: RealNode): Promise<void> {
    if (target.child === undefined) return;
    target.events?.terminate();
    target.child.kill('SIGKILL');
    await target.exited;
    target.child = undefined;
    this.record(target, 'crashed');
  }

  /** POSTs a fault of the one vocabulary (as each node applies it on its sending side) to each target. */
  async debugFault(targets: RealNode[], body: Fault): Promise<void> {
    for (const target of targets)
      await this.api(target, '/v1/debug/faults', { method: 'POST', body: JSON.stringify(body) });
  }

  async stop(): Promise<void> {
    for (const target of this.nodes.values()) {
      target.events?.terminate();
      target.child?.kill('SIGKILL');
    }
    await Promise.all([...this.nodes.values()].map(async (target) => target.exited));
  }
}

const ips = (targets: RealNode[]): string[] => targets.map((target) => target.ip);

/**
 * A network or kvdb-link fault, as each node applies it on its own sending side through its debug fault API (the
 * same vocabulary: a partition becomes a cut from every node of each side to the other side's IPs).
 */
async function applyRealNetworkFault(cluster: RealCluster, fault: NetworkFault): Promise<void> {
  const cutFrom = async (senders: RealNode[], to: string[]): Promise<void> => {
    for (const from of senders) await cluster.debugFault([from], { kind: 'cut', from: [from.ip], to });
  };
  switch (fault.kind) {
    case 'partition':
      await cutFrom(cluster.group(fault.a), ips(cluster.group(fault.b)));
      return cutFrom(cluster.group(fault.b), ips(cluster.group(fault.a)));
    case 'cut':
      return cutFrom(cluster.group(fault.from), ips(cluster.group(fault.to)));
    case 'latency':
    case 'loss': {
      // Each sender applies the rule to its own frames; `to` resolved to the peers' IPs.
      const senders = fault.from === undefined ? cluster.running() : cluster.group(fault.from);
      const to = fault.to === undefined ? {} : { to: ips(cluster.group(fault.to)) };
      const rule: Fault =
        fault.kind === 'latency'
          ? { kind: 'latency', ms: fault.ms, jitterMs: fault.jitterMs, ...to }
          : { kind: 'loss', percent: fault.percent, ...to };
      return cluster.debugFault(senders, rule);
    }
    case 'kvdb-cut':
    case 'kvdb-heal':
      for (const target of cluster.group(fault.nodes))
        await cluster.debugFault([target], { kind: fault.kind, nodes: [target.ip] });
      return;
    default:
      return cluster.debugFault(cluster.running(), fault);
  }
}

/** Applies a fault of the vocabulary (groups already resolved to labels) to the real cluster. */
async function applyRealFault(cluster: RealCluster, fault: Fault): Promise<void> {
  if (isNetworkFault(fault)) return applyRealNetworkFault(cluster, fault);
  switch (fault.kind) {
    case 'start':
      return void (await Promise.all(cluster.group(fault.nodes).map((target) => cluster.start(target))));
    case 'crash':
      for (const target of cluster.group(fault.nodes)) await cluster.crash(target);
      return;
    case 'deactivate':
    case 'activate': {
      const via = cluster.running().find((candidate) => candidate.domain !== fault.domain) ?? cluster.running()[0];
      if (via === undefined) throw new ScenarioError('no running node to send the ClusterDomainUpdate to');
      await cluster.api(via, `/v1/clusterdomains/${fault.kind}/${fault.domain}`, { method: 'POST' });
      return;
    }
    default:
      throw new ScenarioError(`real runs cannot apply "${fault.kind}" yet`);
  }
}

/** Polls the nodes' status until they are in the expected state, failing past the deadline. */
async function expectReal(
  cluster: RealCluster,
  expected: { nodes: string; status: string; withinMs: number },
): Promise<void> {
  const targets = cluster.group([expected.nodes]);
  const deadline = Date.now() + expected.withinMs;
  for (;;) {
    const states = await Promise.all(
      targets.map(
        async (target) =>
          (
            (await cluster.api(target, '/v1/cluster').catch(() => undefined)) as
              { node?: { status?: string } } | undefined
          )?.node?.status,
      ),
    );
    if (states.every((state) => state === expected.status)) return;
    if (Date.now() > deadline)
      throw new ScenarioError(
        `real run: expected ${expected.nodes} ${expected.status} within ${expected.withinMs} ms; states: ${JSON.stringify(states)}`,
      );
    await sleep(100);
  }
}

async function runRealStep(cluster: RealCluster, data: DataSteps, step: ScenarioStep, atMs: number): Promise<void> {
  if ('fault' in step) await applyRealFault(cluster, step.fault);
  else if ('wait' in step) await sleep(step.wait);
  else if ('data' in step) await runDataStep(data, step.data, `real run at ${atMs} ms`);
  else if ('kube' in step)
    throw new ScenarioError(`real run: ${describeStep(step)}: Kubernetes steps run in virtual time only`);
  else await expectReal(cluster, step.expect);
}

/**
 * Runs a scenario in real time: px-node processes on loopback and a real etcd; partitions, latency and kvdb cuts are
 * injected in user space through each node's fault layer (POST /v1/debug/faults). Each node's state changes come from
 * its own /v1/events stream.
 */
export async function runScenarioReal(scenario: Scenario, options: RealRunOptions): Promise<ScenarioRun> {
  if (scenario.steps.some((step) => 'kube' in step))
    throw new ScenarioError(
      `${scenario.name}: its Kubernetes steps run in virtual time only; in real time, run them with kubectl and storkctl against pnpm sim`,
    );
  const root = mkdtempSync(join(tmpdir(), 'pxsim-scenario-'));
  const etcd = await EtcdProcess.start();
  const cluster = new RealCluster(scenario, options, root, etcd);
  const timeline: string[] = [];
  const started = Date.now();
  const data = new DataSteps(new RealDriver(cluster), (group) => resolveGroup(scenario, group));
  const sampler = new Sampler(data);
  try {
    for (const step of scenario.steps) {
      timeline.push(`${Date.now() - started} ms: ${describeStep(step)}`);
      await runRealStep(cluster, data, step, Date.now() - started);
    }
    await sleep(300);
  } finally {
    await sampler.stop();
    await cluster.stop();
    await etcd.stop();
    rmSync(root, { recursive: true, force: true });
  }
  const run = { transitions: cluster.transitions, ...dataSummary(data), timeline };
  timeline.push(...run.io.findings.map((finding) => `VIOLATION ${finding.check}: ${finding.detail}`));
  return run;
}

/** Samples every domain's syncStatus every `SYNC_SAMPLE_MS` (one look at a time) until stopped. */
class Sampler {
  private stopped = false;
  private readonly done: Promise<void>;

  constructor(data: DataSteps) {
    this.done = (async () => {
      while (!this.stopped) {
        await data.sample().catch(() => undefined);
        await sleep(SYNC_SAMPLE_MS);
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}

type Answer = { ok: true; body: unknown } | { ok: false; reason: string; unknown: boolean };

/** The data steps' way into px-node processes: their REST API (`/v1/volumes…`), as pxctl and an application use it. */
class RealDriver implements VolumeDriver {
  constructor(private readonly cluster: RealCluster) {}

  now(): number {
    return Date.now();
  }

  async pass(ms: number): Promise<void> {
    await sleep(ms);
  }

  /** A request; an error answer's outcome (may it yet take effect?) read through the API's error schema. */
  private async call(node: RealNode, path: string, init: RequestInit = {}, timeoutMs = 5000): Promise<Answer> {
    try {
      const { status, body } = await this.cluster.request(node, path, init, timeoutMs);
      if (status < 400) return { ok: true, body };
      const parsed = ioErrorSchema.safeParse(body);
      const error = parsed.success ? parsed.data.error : undefined;
      return {
        ok: false,
        reason: `${status} ${error?.code ?? ''}: ${error?.message ?? JSON.stringify(body)}`,
        unknown: error?.outcome === 'unknown' || status >= 500,
      };
    } catch (error) {
      return { ok: false, reason: error instanceof Error ? error.message : String(error), unknown: true };
    }
  }

  private static result(answer: Answer, value = ''): DriverResult {
    return answer.ok ? { ok: true, value } : answer;
  }

  private async volume(name: string): Promise<VolumeJson | undefined> {
    for (const node of this.cluster.running()) {
      const answer = await this.call(node, `/v1/volumes/${encodeURIComponent(name)}`);
      const parsed = answer.ok ? volumeJsonSchema.safeParse(answer.body) : undefined;
      if (parsed?.success === true) return parsed.data;
    }
    return undefined;
  }

  private labelOfId(id: string): string | undefined {
    return [...this.cluster.nodes.values()].find((node) => node.nodeId === id)?.label;
  }

  async create(step: Extract<DataStep, { kind: 'volume' }>): Promise<DriverResult> {
    const via = this.cluster.running()[0];
    if (via === undefined) return { ok: false, reason: 'no node runs' };
    const body = JSON.stringify({ name: step.name, size: step.sizeGiB, repl: step.repl });
    return RealDriver.result(await this.call(via, '/v1/volumes', { method: 'POST', body }));
  }

  async attach(volume: string, node: string): Promise<DriverResult> {
    const path = `/v1/volumes/${encodeURIComponent(volume)}/attach`;
    return RealDriver.result(await this.call(this.cluster.node(node), path, { method: 'POST' }, 30_000));
  }

  async detach(volume: string, node: string): Promise<DriverResult> {
    const path = `/v1/volumes/${encodeURIComponent(volume)}/detach`;
    return RealDriver.result(await this.call(this.cluster.node(node), path, { method: 'POST' }));
  }

  async attachedOn(volume: string): Promise<string | undefined> {
    const found = await this.volume(volume);
    return found === undefined || found.attached_on === '' ? undefined : this.labelOfId(found.attached_on);
  }

  async describe(volume: string): Promise<string> {
    const found = await this.volume(volume);
    if (found === undefined) return `no volume ${volume} (or no node answers)`;
    const sets = replicaSetsOf(found);
    const names = (ids: readonly string[]): string => ids.map((id) => this.labelOfId(id) ?? id).join(', ');
    return (
      `attached on ${found.attached_on === '' ? 'no node' : (this.labelOfId(found.attached_on) ?? found.attached_on)}` +
      `, create set [${names(sets.createSet)}], current set [${names(sets.currentSet)}], ` +
      `replication status ${found.replication_status}`
    );
  }

  async inCurrentSet(volume: string, node: string): Promise<boolean> {
    const found = await this.volume(volume);
    const id = this.cluster.node(node).nodeId;
    return found !== undefined && id !== undefined && replicaSetsOf(found).currentSet.includes(id);
  }

  async write(node: string, volume: string, block: number, value: string): Promise<DriverResult> {
    const body = JSON.stringify({ data: Buffer.from(value).toString('base64') });
    const path = `/v1/volumes/${encodeURIComponent(volume)}/blocks/${block}`;
    return RealDriver.result(await this.call(this.cluster.node(node), path, { method: 'PUT', body }));
  }

  async read(node: string, volume: string, block: number): Promise<DriverResult> {
    const path = `/v1/volumes/${encodeURIComponent(volume)}/blocks/${block}`;
    const answer = await this.call(this.cluster.node(node), path);
    if (!answer.ok) return answer;
    const parsed = blockReadSchema.safeParse(answer.body);
    if (!parsed.success) return { ok: false, reason: `not a block answer: ${JSON.stringify(answer.body)}` };
    return { ok: true, value: Buffer.from(parsed.data.data, 'base64').toString() };
  }

  /**
   * What `storkctl get clusterdomainsstatus` shows through the first node that is Online (as stork asks its own
   * cluster's Portworx); undefined (no sample) while none is, or when its answers fail.
   */
  async syncStatuses(): Promise<Map<string, SyncStatus> | undefined> {
    for (const node of this.cluster.running()) {
      const status = await this.cluster.request(node, '/v1/cluster').catch(() => undefined);
      const parsed = agentStatusSchema.safeParse(status?.body);
      if (!parsed.success || parsed.data.node.status !== 'Online') continue;
      const listed = await this.call(node, '/v1/volumes');
      const volumes = listed.ok ? volumeListJsonSchema.safeParse(listed.body) : undefined;
      if (volumes?.success !== true) return undefined;
      return clusterSyncStatuses(parsed.data, volumes.data.volumes.map(replicaSetsOf));
    }
    return undefined;
  }
}
