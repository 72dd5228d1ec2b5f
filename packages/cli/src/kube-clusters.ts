import { writeFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { Kvdb } from '@pxsim/kvdb-client';
import {
  buildKubeApi,
  ensureDefaultStorageClass,
  ensureSystemNamespaces,
  kubeConfig,
  ObjectStore,
  reconcileStork,
  reconcileWorkloads,
  syncNodes,
  type StorkDriver,
  type PxNodeView,
  type VolumeDriver,
} from '@pxsim/kube';
import type { NodeAgent } from '@pxsim/node-agent';
import { realClock, type Timer } from '@pxsim/runtime';
import { clusterDomainsStatus } from './format.js';
import type { NodeSpec } from '@pxsim/sim-harness';

/** The port every simulated Kubernetes API listens on (the apiserver's usual 6443), each on its domain's address. */
export const KUBE_API_PORT = 6443;
/** How long a controller pass waits for a volume attach before it reports the pod as still waiting. */
const ATTACH_TIMEOUT_MS = 5000;
/** How often the Node objects are brought in line with the px nodes (a kubelet's status updates) and the workload controllers run. */
const NODE_SYNC_MS = 1000;

/**
 * A volume attach or detach with a bound on its wait: a kvdb cut can hold the compare-and-set, and the controller
 * pass goes on (a later one asks again).
 */
function volumeOp(
  start: (done: (result: { ok: true } | { ok: false; reason: string }) => void) => void,
): Promise<{ ok: true } | { ok: false; reason: string }> {
  return new Promise((resolve) => {
    const timer = realClock.setTimer(ATTACH_TIMEOUT_MS, () =>
      resolve({ ok: false, reason: `no answer within ${ATTACH_TIMEOUT_MS} ms` }),
    );
    start((result) => {
      timer.cancel();
      resolve(result.ok ? { ok: true } : { ok: false, reason: result.reason });
    });
  });
}

/** What the Kubernetes clusters need of the sim: its nodes, whether they run, their agents. */
export interface KubeHost {
  readonly specs: NodeSpec[];
  isRunning(ip: string): boolean;
  agentOf(ip: string): NodeAgent | undefined;
  /** The name a node registers with the scheduler: its Kubernetes Node's name, running or not. */
  schedulerNodeName(spec: NodeSpec): string;
  /** A kvdb client on the cluster's kvdb under `namespace`. */
  openKvdb(namespace: string): Kvdb;
  log(level: 'warn', message: string): void;
}

interface KubeCluster {
  domain: string;
  server: string;
  store: ObjectStore;
  kvdb: Kvdb;
  app: FastifyInstance;
}

/**
 * One Kubernetes-compatible API per data cluster domain (the witness has none), as `pnpm sim` serves them: on the
 * domain's own loopback subnet (`<prefix>.<i+1>.254:6443`), objects in the cluster's kvdb under
 * `pxsim-kube/<cluster ID>/<domain>/`, Node objects kept in line with the domain's px nodes, and a kubeconfig with one
 * context per domain, named after it.
 */
export class KubeClusters {
  private readonly clusters: KubeCluster[] = [];
  private timer: Timer | undefined;
  private stopped = false;

  constructor(
    private readonly host: KubeHost,
    private readonly options: { clusterId: string; domains: string[]; ipPrefix: string },
  ) {}

  /** The address of a domain's API (`http://127.0.1.254:6443` for the first). */
  serverOf(index: number): { host: string; port: number } {
    return { host: `${this.options.ipPrefix}.${index + 1}.254`, port: KUBE_API_PORT };
  }

  get servers(): Array<{ domain: string; server: string }> {
    return this.clusters.map(({ domain, server }) => ({ domain, server }));
  }

  async start(): Promise<void> {
    for (const [index, domain] of this.options.domains.entries()) {
      const { host, port } = this.serverOf(index);
      const kvdb = this.host.openKvdb(`pxsim-kube/${this.options.clusterId}/${domain}/`);
      const store = new ObjectStore(kvdb, { clock: realClock, random: Math.random });
      const app = buildKubeApi({ store, clock: realClock, serverAddress: `${host}:${port}` });
      const cluster = { domain, server: `http://${host}:${port}`, store, kvdb, app };
      this.clusters.push(cluster);
      await ensureSystemNamespaces(store);
      await ensureDefaultStorageClass(store);
      await this.syncOne(cluster);
      await app.listen({ host, port });
    }
    this.schedule();
  }

  /** The kubeconfig text: a context per domain, the first current. */
  kubeConfig(): string {
    return kubeConfig(this.clusters.map(({ domain, server }) => ({ name: domain, server })));
  }

  writeKubeConfig(path: string): void {
    writeFileSync(path, this.kubeConfig(), { mode: 0o600 });
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = realClock.setTimer(NODE_SYNC_MS, () => {
      void this.syncAll().finally(() => this.schedule());
    });
  }

  private async syncAll(): Promise<void> {
    for (const cluster of this.clusters) {
      try {
        await this.syncOne(cluster);
      } catch (error) {
        this.host.log(
          'warn',
          `kubernetes ${cluster.domain}: node sync failed: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
  }

  private async syncOne(cluster: KubeCluster): Promise<void> {
    const views: PxNodeView[] = this.host.specs
      .filter((spec) => spec.domain === cluster.domain)
      .map((spec) => {
        const status = this.host.agentOf(spec.ip)?.status().node;
        return {
          name: this.host.schedulerNodeName(spec),
          ip: spec.ip,
          domain: spec.domain,
          running: this.host.isRunning(spec.ip),
          status: status?.status ?? 'Offline',
          reason: status?.reason ?? '',
        };
      });
    await syncNodes(cluster.store, views, realClock.nowMs());
    await reconcileWorkloads(cluster.store, { clock: realClock, random: Math.random, driver: this.driverFor(cluster) });
    await reconcileStork(cluster.store, { clock: realClock, driver: this.storkDriverFor(cluster) });
  }

  private runningAgents(domain: string): NodeAgent[] {
    return this.host.specs
      .filter((spec) => spec.domain === domain && this.host.isRunning(spec.ip))
      .map((spec) => this.host.agentOf(spec.ip))
      .filter((agent): agent is NodeAgent => agent !== undefined);
  }

  /** Stork's driver: the cluster domains through the running px nodes of the cluster's own domain. */
  private storkDriverFor(cluster: KubeCluster): StorkDriver {
    return {
      clusterId: this.options.clusterId,
      localDomain: cluster.domain,
      // Recorded on the px side as well, so the px nodes' list of updates (storkctl get cdu) has it.
      setDomainState: async (domain, active, updateName) => {
        const agent = this.runningAgents(cluster.domain)[0];
        if (agent === undefined) throw new Error(`no px node of ${cluster.domain} is running`);
        let timer: Timer | undefined;
        const timeout = new Promise<never>((_resolve, reject) => {
          timer = realClock.setTimer(ATTACH_TIMEOUT_MS, () =>
            reject(new Error(`the kvdb did not answer within ${ATTACH_TIMEOUT_MS} ms`)),
          );
        });
        try {
          const done = await Promise.race([
            agent.applyClusterDomainUpdate({ name: updateName, clusterDomain: domain, active }, 'apply'),
            timeout,
          ]);
          if (done.status === 'Failed') throw new Error(done.reason);
        } finally {
          timer?.cancel();
        }
      },
      domainsStatus: async () => {
        const agent = this.runningAgents(cluster.domain)[0];
        if (agent === undefined) return undefined;
        const volumes = agent.volumes.list().map(({ record }) => ({
          createSet: record.createSet,
          currentSet: record.currentSet,
        }));
        return clusterDomainsStatus(agent.status(), volumes).status;
      },
    };
  }

  /** Claims' volumes through the px nodes of the cluster's domain: created by a serving one, attached by the pod's. */
  private driverFor(cluster: KubeCluster): VolumeDriver {
    const agents = (): NodeAgent[] =>
      this.host.specs
        .filter((spec) => spec.domain === cluster.domain)
        .map((spec) => this.host.agentOf(spec.ip))
        .filter((agent): agent is NodeAgent => agent !== undefined);
    return {
      create: async ({ name, sizeGiB, repl }) => {
        const agent = agents().find((candidate) => candidate.status().node.serving);
        if (agent === undefined)
          return { ok: false, reason: `no px node of ${cluster.domain} serves (none in quorum)` };
        try {
          return { ok: true, id: (await agent.volumes.create({ name, sizeGiB, haLevel: repl })).record.id };
        } catch (error) {
          // An earlier pass created it and its answer came too late: the volume is there.
          const existing = agent.volumes.inspect(name);
          if (existing !== undefined) return { ok: true, id: existing.record.id };
          return { ok: false, reason: error instanceof Error ? error.message : String(error) };
        }
      },
      replicaNodes: async (volume) => {
        const view = agents()
          .map((agent) => agent.volumes.inspect(volume))
          .find((candidate) => candidate !== undefined);
        if (view === undefined) return [];
        return this.host.specs
          .filter((spec) => view.record.currentSet.includes(this.host.agentOf(spec.ip)?.nodeId ?? ''))
          .map((spec) => this.host.schedulerNodeName(spec));
      },
      attachedOn: async (volume) => {
        const view = agents()
          .map((agent) => agent.volumes.inspect(volume))
          .find((candidate) => candidate !== undefined);
        const holder = view?.record.attachedOn;
        if (holder === undefined) return undefined;
        const agent = agents().find((candidate) => candidate.nodeId === holder);
        return agent?.status().node.schedulerNodeName;
      },
      detach: async (volume, nodeName) => {
        const agent = agents().find((candidate) => candidate.status().node.schedulerNodeName === nodeName);
        if (agent === undefined || !this.host.isRunning(agent.status().node.ip))
          return { ok: false, reason: `the px node of ${nodeName} is not running` };
        return volumeOp((done) => agent.volumes.detach(volume, done));
      },
      attach: async (volume, nodeName) => {
        const agent = agents().find((candidate) => candidate.status().node.schedulerNodeName === nodeName);
        if (agent === undefined) return { ok: false, reason: `the px node of ${nodeName} is not running` };
        return volumeOp((done) => agent.volumes.attach(volume, done));
      },
    };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    for (const cluster of this.clusters) {
      await cluster.app.close();
      await cluster.kvdb.close();
    }
    this.clusters.length = 0;
  }
}
