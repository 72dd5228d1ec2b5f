import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
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
import type { SimInfo } from './client.js';

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
  log: (line: string) => void;
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

/** A running local sim: real agents with real sockets in this process, faults injected in user space. */
export class Sim {
  readonly faults = new LinkFaults();
  readonly nodes = new Map<string, RunningNode>();
  private readonly memStores = new Map<string, MemStore>();
  private control: FastifyInstance | undefined;
  private etcd: EtcdProcess | undefined;
  private kvdbEndpoint: string;
  readonly specs: SimNodeSpec[];
  readonly adminToken = randomBytes(16).toString('hex');
  private wroteInfo = false;

  constructor(readonly options: SimOptions) {
    this.specs = topology(options.domains, options.nodesPerDomain, options.witness, options.ipPrefix);
    this.kvdbEndpoint = options.kvdb;
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
      log: (_level, message) => this.options.log(`${spec.ip} ${message}`),
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
      this.kvdbEndpoint = this.etcd.kvdbEndpoint;
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

  private async startControl(): Promise<void> {
    const app = Fastify({ ajv: { customOptions: { removeAdditional: false, coerceTypes: false } } });
    const groupSchema = { type: 'string', minLength: 1, maxLength: 512 } as const;
    // A fault route's work; a group or value it cannot use is answered 400 with the reason.
    const faultRoute =
      <Body>(work: (body: Body) => unknown) =>
      async (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
        try {
          return await work(request.body as Body); // the route's schema has checked it
        } catch (error) {
          return reply.code(400).send({
            error: { code: 'BAD_FAULT', message: error instanceof Error ? error.message : String(error) },
          });
        }
      };
    app.get('/sim', async () => ({
      clusterId: this.options.clusterId,
      kvdb: this.kvdbEndpoint,
      nodes: this.specs.map((spec) => ({ ...spec, running: this.nodes.has(spec.ip) })),
      faults: this.faults.summary(),
    }));
    app.post<{ Body: { a: string; b: string; oneway?: boolean } }>(
      '/faults/partition',
      {
        schema: {
          body: {
            type: 'object',
            required: ['a', 'b'],
            additionalProperties: false,
            properties: { a: groupSchema, b: groupSchema, oneway: { type: 'boolean' } },
          },
        },
      },
      faultRoute((body: { a: string; b: string; oneway?: boolean }) => {
        const a = this.group(body.a);
        const b = this.group(body.b);
        this.faults.cut(a, b);
        if (body.oneway !== true) this.faults.cut(b, a);
        return { cut: body.oneway === true ? `${a.join(',')} -> ${b.join(',')}` : `${a.join(',')} <-> ${b.join(',')}` };
      }),
    );
    const linkBody = (extra: Record<string, unknown>, required: string[]) =>
      ({
        type: 'object',
        required,
        additionalProperties: false,
        properties: { from: groupSchema, to: groupSchema, ...extra },
      }) as const;
    app.post<{ Body: { ms: number; jitterMs?: number; from?: string; to?: string; allowOverMetroLimit?: boolean } }>(
      '/faults/latency',
      {
        schema: {
          body: linkBody(
            {
              ms: { type: 'number', minimum: 0 },
              jitterMs: { type: 'number', minimum: 0 },
              allowOverMetroLimit: { type: 'boolean' },
            },
            ['ms'],
          ),
        },
      },
      faultRoute(
        (body: { ms: number; jitterMs?: number; from?: string; to?: string; allowOverMetroLimit?: boolean }) => {
          this.faults.addLatency(
            {
              ms: body.ms,
              jitterMs: body.jitterMs ?? 0,
              ...(body.from === undefined ? {} : { from: this.group(body.from) }),
              ...(body.to === undefined ? {} : { to: this.group(body.to) }),
            },
            { allowOverMetroLimit: body.allowOverMetroLimit === true },
          );
          return { latency: this.faults.summary().latency };
        },
      ),
    );
    app.post<{ Body: { percent: number; from?: string; to?: string } }>(
      '/faults/loss',
      { schema: { body: linkBody({ percent: { type: 'number', minimum: 0, maximum: 100 } }, ['percent']) } },
      faultRoute((body: { percent: number; from?: string; to?: string }) => {
        this.faults.addLoss({
          percent: body.percent,
          ...(body.from === undefined ? {} : { from: this.group(body.from) }),
          ...(body.to === undefined ? {} : { to: this.group(body.to) }),
        });
        return { loss: this.faults.summary().loss };
      }),
    );
    const nodesBody = {
      schema: {
        body: { type: 'object', required: ['nodes'], additionalProperties: false, properties: { nodes: groupSchema } },
      },
    };
    app.post<{ Body: { nodes: string } }>(
      '/faults/kill',
      nodesBody,
      faultRoute(async (body: { nodes: string }) => {
        const ips = this.group(body.nodes);
        for (const ip of ips) await this.killNode(ip);
        return { killed: ips };
      }),
    );
    app.post<{ Body: { nodes: string } }>(
      '/faults/restart',
      nodesBody,
      faultRoute(async (body: { nodes: string }) => {
        const ips = this.group(body.nodes);
        for (const ip of ips) {
          await this.killNode(ip);
          await this.startNode(ip);
        }
        return { restarted: ips };
      }),
    );
    app.post<{ Body: { nodes: string } }>(
      '/faults/kvdb-cut',
      nodesBody,
      faultRoute((body: { nodes: string }) => {
        const ips = this.group(body.nodes);
        this.faults.cutKvdb(ips);
        return { kvdbCut: ips };
      }),
    );
    app.post('/faults/heal', async () => {
      this.faults.heal();
      return { healed: true };
    });
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
