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
} from '@pxsim/kube';
import type { NodeAgent } from '@pxsim/node-agent';
import { realClock, type Timer } from '@pxsim/runtime';
import { pxNodeViews, pxStorkDriver, pxVolumeDriver, type NodeSpec, type PxAccess } from '@pxsim/sim-harness';

/** The port every simulated Kubernetes API listens on (the apiserver's usual 6443), each on its domain's address. */
export const KUBE_API_PORT = 6443;
/** How often the Node objects are brought in line with the px nodes (a kubelet's status updates) and the workload controllers run. */
const NODE_SYNC_MS = 1000;

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
    const { domain, store } = cluster;
    await syncNodes(store, pxNodeViews(this.access, domain), realClock.nowMs());
    await reconcileWorkloads(store, {
      clock: realClock,
      random: Math.random,
      driver: pxVolumeDriver(this.access, domain),
    });
    await reconcileStork(store, {
      clock: realClock,
      driver: pxStorkDriver(this.access, domain, this.options.clusterId),
    });
  }

  /** The px nodes as the controllers reach them: the agents in this process, answers awaited on the wall clock. */
  private readonly access: PxAccess = {
    nodes: (domain) =>
      this.host.specs
        .filter((spec) => spec.domain === domain)
        .map((spec) => ({
          ip: spec.ip,
          domain,
          name: this.host.schedulerNodeName(spec),
          agent: this.host.isRunning(spec.ip) ? this.host.agentOf(spec.ip) : undefined,
        })),
    call: (ip, withinMs, start) =>
      new Promise((resolve) => {
        const agent = this.host.agentOf(ip);
        if (agent === undefined) {
          resolve(undefined);
          return;
        }
        // A kvdb cut can hold an answer: the pass goes on, a later one asks again.
        const timer = realClock.setTimer(withinMs, () => resolve(undefined));
        start(agent, (value) => {
          timer.cancel();
          resolve(value);
        });
      }),
  };

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
