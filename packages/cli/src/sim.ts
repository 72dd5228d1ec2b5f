import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { createKvdb, type MemStore } from '@pxsim/kvdb-client';
import { LinkFaults, realClock } from '@pxsim/runtime';
import { EtcdProcess } from '@pxsim/kvdb-client/etcd-process';
import {
  WebSocketTransport,
  REPLICATION_CHANNEL,
  FileBlockStore,
  faultyKvdb,
  faultyTransport,
  fileIdentityStore,
  startNode,
  type AgentConfig,
  type AgentRuntime,
  type LogLevel,
  type NodeAgent,
  type RunningNode,
} from '@pxsim/node-agent';
import type { QuorumMode, TimingProfileName } from '@pxsim/quorum';
import { agentConfig, assembleCluster, groupIps, topology, type ClusterPlan, type NodeSpec } from '@pxsim/sim-harness';
import type { SimInfo, SimLogLevel } from './client.js';
import { buildControlApi, type ControlTarget } from './control.js';
import { KubeClusters } from './kube-clusters.js';

export interface SimOptions {
  clusterId: string;
  domains: string[];
  nodesPerDomain: number;
  witness: boolean;
  quorumMode: QuorumMode;
  timing: TimingProfileName;
  /** `mem://` (embedded), or etcd endpoints. */
  kvdb: string;
  /** Start a local etcd from the `etcd` binary. */
  startEtcd: boolean;
  stateDir: string;
  /** First two octets of every address (default 127.0): nodes on PREFIX.(i+1).n, the witness on PREFIX.9.1. */
  ipPrefix: string;
  /** Where the control API listens. */
  controlHost: string;
  controlPort: number;
  /** The agents' log level (default warn). */
  logLevel: SimLogLevel;
}

/** The pid of a live sim that wrote `sim.json` in this state dir, if any. */
export function runningSimPid(dir: string): number | undefined {
  try {
    const info = JSON.parse(readFileSync(join(dir, 'sim.json'), 'utf8')) as { pid?: unknown };
    if (typeof info.pid !== 'number' || info.pid === process.pid) return undefined;
    process.kill(info.pid, 0);
    return info.pid;
  } catch {
    return undefined;
  }
}

export type SimNodeSpec = NodeSpec;

/** An agent's `log(level, message)` (AgentRuntime.log) on a pino logger. */
export function agentLog(logger: Logger): AgentRuntime['log'] {
  return (level: LogLevel, message: string) => logger[level](message);
}

/** A running local sim: real agents with real sockets in this process, faults injected in user space. */
export class Sim implements ControlTarget {
  readonly faults = new LinkFaults();
  readonly nodes = new Map<string, RunningNode>();
  private readonly memStores = new Map<string, MemStore>();
  private control: FastifyInstance | undefined;
  private kube: KubeClusters | undefined;
  private etcd: EtcdProcess | undefined;
  private kvdb: string;
  private readonly logger: Logger;
  readonly specs: SimNodeSpec[];
  readonly adminToken = randomBytes(16).toString('hex');
  private wroteInfo = false;
  /** What this start created in the state dir (removed if the start fails), and what it overwrote. */
  private readonly created: string[] = [];
  private readonly overwritten = new Map<string, Buffer>();

  constructor(readonly options: SimOptions) {
    this.specs = topology(options.domains, options.nodesPerDomain, options.witness, options.ipPrefix);
    this.kvdb = options.kvdb;
    // Synchronous writes to stderr, so that nothing logged just before the process exits is lost.
    this.logger = pino({ level: options.logLevel, base: null }, pino.destination({ fd: 2, sync: true }));
  }

  get clusterId(): string {
    return this.options.clusterId;
  }

  /** The kvdb endpoint the agents use (a local etcd's, once started). */
  get kvdbEndpoint(): string {
    return this.kvdb;
  }

  get adminTokenFile(): string {
    return join(this.options.stateDir, 'admin-token');
  }

  /** The plan the sim's cluster is assembled from (sim-harness's cluster factory; the kvdb known once started). */
  private plan(): ClusterPlan {
    return {
      clusterId: this.options.clusterId,
      kvdb: this.kvdbEndpoint,
      quorumMode: this.options.quorumMode,
      timing: this.options.timing,
      adminToken: this.adminToken,
      dataDir: (spec) => join(this.options.stateDir, 'nodes', spec.ip),
      hostSuffix: '.pxsim.internal',
    };
  }

  configFor(spec: SimNodeSpec): AgentConfig {
    return agentConfig(this.plan(), spec);
  }

  private runtime(spec: SimNodeSpec, config: AgentConfig): AgentRuntime {
    return {
      clock: realClock,
      random: Math.random,
      transport: faultyTransport(new WebSocketTransport(realClock), spec.ip, this.faults, realClock, Math.random),
      replicationTransport: faultyTransport(
        new WebSocketTransport(realClock, REPLICATION_CHANNEL),
        spec.ip,
        this.faults,
        realClock,
        Math.random,
      ),
      blocks: new FileBlockStore(join(config.dataDir, 'blocks')),
      identity: fileIdentityStore(config.dataDir),
      openKvdb: (endpoints, namespace) =>
        faultyKvdb(
          createKvdb(endpoints, { namespace, clock: realClock, memStores: this.memStores }),
          spec.ip,
          this.faults,
          realClock,
        ),
      log: agentLog(this.logger.child({ node: spec.ip })),
    };
  }

  /**
   * Starts the kvdb (if asked), every node and the control API, then writes `sim.json`. When any of it fails, what
   * was started is stopped and what this start created in the state dir is removed (a file it overwrote gets its
   * old content back), so that a refused second sim leaves no admin token or node identity behind.
   */
  async start(): Promise<void> {
    this.track(this.options.stateDir);
    mkdirSync(this.options.stateDir, { recursive: true });
    const running = runningSimPid(this.options.stateDir);
    if (running !== undefined) {
      throw new Error(
        `a sim is already running from ${this.options.stateDir} (pid ${running}); stop it with Ctrl-C or: kill ${running}`,
      );
    }
    try {
      await this.startEverything();
    } catch (error) {
      await this.stop().catch(() => undefined);
      this.discardCreated();
      throw error;
    }
  }

  /** Remembers a path before this start may create or overwrite it. */
  private track(path: string): void {
    if (!existsSync(path)) this.created.push(path);
    else if (path === this.adminTokenFile) this.overwritten.set(path, readFileSync(path));
  }

  /** Removes what this start created (newest first) and restores what it overwrote. */
  private discardCreated(): void {
    for (const path of [...this.created].reverse()) rmSync(path, { recursive: true, force: true });
    for (const [path, content] of this.overwritten) writeFileSync(path, content, { mode: 0o600 });
    this.created.length = 0;
    this.overwritten.clear();
  }

  private async startEverything(): Promise<void> {
    this.track(this.adminTokenFile);
    writeFileSync(this.adminTokenFile, `${this.adminToken}\n`, { mode: 0o600 });
    if (this.options.startEtcd) {
      const etcdDir = join(this.options.stateDir, 'etcd');
      this.track(etcdDir);
      this.etcd = await EtcdProcess.start({ dataDir: etcdDir });
      this.kvdb = this.etcd.kvdbEndpoint;
    }
    // The whole cluster assembled by the factory; the nodes start one after another.
    const members = assembleCluster(
      this.plan(),
      this.specs,
      (spec, config) => this.runtime(spec, config),
      (config, runtime) => async () => startNode(config, runtime, { listenApi: true }),
    );
    this.track(join(this.options.stateDir, 'nodes'));
    for (const member of members) {
      this.track(member.config.dataDir);
      this.nodes.set(member.spec.ip, await member.agent());
    }
    await this.startControl();
    await this.startKube();
    const info: SimInfo = {
      clusterId: this.options.clusterId,
      controlUrl: `http://${this.options.controlHost}:${this.options.controlPort}`,
      adminTokenFile: this.adminTokenFile,
      nodes: this.specs.map((spec) => ({
        ip: spec.ip,
        domain: spec.domain,
        apiPort: 9001,
        storageless: spec.storageless,
      })),
      kvdb: this.kvdbEndpoint,
      pid: process.pid,
    };
    writeFileSync(join(this.options.stateDir, 'sim.json'), `${JSON.stringify(info, null, 2)}\n`);
    this.wroteInfo = true;
  }

  private spec(ip: string): SimNodeSpec {
    const spec = this.specs.find((candidate) => candidate.ip === ip);
    if (spec === undefined) throw new Error(`no node ${ip} in this sim`);
    return spec;
  }

  async startNode(ip: string): Promise<void> {
    if (this.nodes.has(ip)) return;
    const spec = this.spec(ip);
    const config = this.configFor(spec);
    this.nodes.set(ip, await startNode(config, this.runtime(spec, config), { listenApi: true }));
  }

  /** Kill: as SIGKILL, nothing handed back (its alive lease expires on its own). */
  async killNode(ip: string): Promise<void> {
    this.spec(ip);
    const node = this.nodes.get(ip);
    this.nodes.delete(ip);
    await node?.stop({ crash: true });
  }

  group(text: string): string[] {
    return groupIps(this.specs, text);
  }

  isRunning(ip: string): boolean {
    return this.nodes.has(ip);
  }

  agentOf(ip: string): NodeAgent | undefined {
    return this.nodes.get(ip)?.agent;
  }

  private async startControl(): Promise<void> {
    const app = buildControlApi(this);
    await app.listen({ host: this.options.controlHost, port: this.options.controlPort });
    this.control = app;
  }

  /** The Kubernetes API of every data domain, and `kubeconfig` in the state dir with a context per domain. */
  private async startKube(): Promise<void> {
    const kube = new KubeClusters(
      {
        specs: this.specs,
        isRunning: (ip) => this.isRunning(ip),
        agentOf: (ip) => this.agentOf(ip),
        schedulerNodeName: (spec) => this.configFor(spec).schedulerNodeName,
        openKvdb: (namespace) =>
          createKvdb(this.kvdbEndpoint, { namespace, clock: realClock, memStores: this.memStores }),
        log: (level, message) => this.logger[level](message),
      },
      { clusterId: this.options.clusterId, domains: this.options.domains, ipPrefix: this.options.ipPrefix },
    );
    this.kube = kube;
    await kube.start();
    this.track(this.kubeConfigFile);
    kube.writeKubeConfig(this.kubeConfigFile);
  }

  get kubeConfigFile(): string {
    return join(this.options.stateDir, 'kubeconfig');
  }

  /** Each data domain's Kubernetes API (once started). */
  get kubeServers(): Array<{ domain: string; server: string }> {
    return this.kube?.servers ?? [];
  }

  async stop(): Promise<void> {
    await this.kube?.stop();
    await this.control?.close();
    for (const ip of [...this.nodes.keys()]) {
      const node = this.nodes.get(ip);
      this.nodes.delete(ip);
      await node?.stop();
    }
    await this.etcd?.stop();
    if (this.wroteInfo) rmSync(join(this.options.stateDir, 'sim.json'), { force: true });
  }
}
