import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { createKvdb, type MemStore } from '@pxsim/kvdb-client';
import { LinkFaults, realClock } from '@pxsim/runtime';
import { EtcdProcess } from '@pxsim/kvdb-client/etcd-process';
import {
  WebSocketTransport,
  faultyKvdb,
  faultyTransport,
  fileIdentityStore,
  startNode,
  validateConfig,
  type AgentConfig,
  type AgentRuntime,
  type RunningNode,
} from '@pxsim/node-agent';
import type { QuorumMode, TimingProfileName } from '@pxsim/quorum';
import { groupIps, topology, type NodeSpec } from '@pxsim/sim-harness';
import type { SimInfo, SimLogLevel } from './client.js';
import { buildControlApi, type ControlTarget } from './control.js';

const AGENT_LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

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

/**
 * An agent's `log` on a pino logger. It takes `(level, message)` (AgentRuntime.log) and also a lone message, logged
 * at info, so that it fits both forms of AgentRuntime.log while the two-argument one is being introduced.
 */
export function agentLog(logger: Logger): (levelOrMessage: string, message?: string) => void {
  return (levelOrMessage, message) => {
    if (message === undefined) {
      logger.info(levelOrMessage);
      return;
    }
    const level = AGENT_LOG_LEVELS.find((candidate) => candidate === levelOrMessage) ?? 'info';
    logger[level](message);
  };
}

/** A running local sim: real agents with real sockets in this process, faults injected in user space. */
export class Sim implements ControlTarget {
  readonly faults = new LinkFaults();
  readonly nodes = new Map<string, RunningNode>();
  private readonly memStores = new Map<string, MemStore>();
  private control: FastifyInstance | undefined;
  private etcd: EtcdProcess | undefined;
  private kvdb: string;
  private readonly logger: Logger;
  readonly specs: SimNodeSpec[];
  readonly adminToken = randomBytes(16).toString('hex');
  private wroteInfo = false;

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

  configFor(spec: SimNodeSpec): AgentConfig {
    return validateConfig({
      clusterId: this.options.clusterId,
      kvdb: this.kvdbEndpoint,
      clusterDomain: spec.domain,
      ip: spec.ip,
      apiPort: 9001,
      heartbeatPort: 9002,
      replicationPort: 9003,
      dataDir: join(this.options.stateDir, 'nodes', spec.ip),
      schedulerNodeName: `ip-${spec.ip.replaceAll('.', '-')}.pxsim.internal`,
      poolCapacityGiB: spec.storageless ? 1 : 150,
      version: '2.1.0.0-pxsim',
      quorumMode: this.options.quorumMode,
      timingProfile: this.options.timing,
      adminToken: this.adminToken,
      storageless: spec.storageless,
    });
  }

  private runtime(spec: SimNodeSpec): AgentRuntime {
    const config = this.configFor(spec);
    return {
      clock: realClock,
      random: Math.random,
      transport: faultyTransport(new WebSocketTransport(realClock), spec.ip, this.faults, realClock, Math.random),
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

  async start(): Promise<void> {
    mkdirSync(this.options.stateDir, { recursive: true });
    const running = runningSimPid(this.options.stateDir);
    if (running !== undefined) {
      throw new Error(
        `a sim is already running from ${this.options.stateDir} (pid ${running}); stop it with Ctrl-C or: kill ${running}`,
      );
    }
    writeFileSync(this.adminTokenFile, `${this.adminToken}\n`, { mode: 0o600 });
    if (this.options.startEtcd) {
      this.etcd = await EtcdProcess.start({ dataDir: join(this.options.stateDir, 'etcd') });
      this.kvdb = this.etcd.kvdbEndpoint;
    }
    for (const spec of this.specs) await this.startNode(spec.ip);
    await this.startControl();
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
    this.nodes.set(ip, await startNode(this.configFor(spec), this.runtime(spec), { listenApi: true }));
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

  private async startControl(): Promise<void> {
    const app = buildControlApi(this);
    await app.listen({ host: this.options.controlHost, port: this.options.controlPort });
    this.control = app;
  }

  async stop(): Promise<void> {
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
