import type { Finding } from '@pxsim/checkers';
import {
  ensureDefaultStorageClass,
  ensureSystemNamespaces,
  KubeError,
  ObjectStore,
  PODS,
  podVolumes,
  reconcileStork,
  reconcileWorkloads,
  resolveContext,
  storeAsRemote,
  syncNodes,
  valueAt,
  type KubeObject,
  type RemoteCluster,
  type VolumeDriver as KubeVolumeDriver,
} from '@pxsim/kube';
import { MemKvdb, MemStore } from '@pxsim/kvdb-client';
import { seededRandom } from '@pxsim/runtime';
import { schedulerNodeNameOf } from './cluster.js';
import { pxNodeViews, pxStorkDriver, pxVolumeDriver, type PxAccess } from './kube-drivers.js';
import { askInNode, type Simulation } from './simulation.js';
import { Ticker } from './ticker.js';

/** How often the controllers of every cluster run, ms of virtual time (as `pnpm sim` runs them every second). */
export const KUBE_PASS_MS = 1000;
/** A ClusterPair's server names one of the simulated clusters as `kube://<domain>`. */
export const VIRTUAL_SERVER_PREFIX = 'kube://';

/**
 * One Kubernetes cluster per data domain in virtual time, as `pnpm sim` serves them in real time: the objects in an
 * embedded kvdb of their own (on the simulation's clock), the same controllers (Nodes, workloads, claims, Stork) run
 * every `KUBE_PASS_MS`, reaching the simulated px nodes in their own processes. After every pass the K1 checker looks
 * at both clusters: an application never runs in two clusters at once with the same volume, each side on a px node
 * that serves (both could write).
 */
export class VirtualKube {
  readonly clusters = new Map<string, ObjectStore>();
  readonly findings: Finding[] = [];
  private readonly random: () => number;
  /** The double runs the last K1 check saw, and those already reported. */
  private lastDoubles = new Set<string>();
  private readonly reported = new Set<string>();

  constructor(
    private readonly sim: Simulation,
    private readonly domains: readonly string[],
    seed: number,
    /** A change to the claims' driver (the sensitivity tests break it on purpose to see K1 catch it). */
    private readonly wrapVolumeDriver: (driver: KubeVolumeDriver) => KubeVolumeDriver = (driver) => driver,
  ) {
    this.random = seededRandom(seed ^ 0x6b756265);
    const kvdb = new MemStore({ clock: sim.scheduler });
    for (const domain of domains) {
      const client = new MemKvdb({ store: kvdb, namespace: `pxsim-kube/${sim.clusterId}/${domain}/` });
      this.clusters.set(domain, new ObjectStore(client, { clock: sim.scheduler, random: this.random }));
    }
  }

  /** The system namespaces and the default StorageClass in every cluster; the controllers run from now on. */
  async start(): Promise<void> {
    for (const store of this.clusters.values()) {
      await ensureSystemNamespaces(store);
      await ensureDefaultStorageClass(store);
    }
    this.sim.ticker = new Ticker(KUBE_PASS_MS, () => this.pass(), this.sim.nowMs);
  }

  cluster(domain: string): ObjectStore {
    const store = this.clusters.get(domain);
    if (store === undefined)
      throw new Error(`no Kubernetes cluster "${domain}" (clusters: ${this.domains.join(', ')})`);
    return store;
  }

  /** The px nodes as the controllers reach them: in their own process, virtual time advancing until they answer. */
  readonly access: PxAccess = {
    nodes: (domain) =>
      this.sim.specs
        .filter((spec) => spec.domain === domain)
        .map((spec) => {
          const agent = this.sim.agent(spec.ip);
          return {
            ip: spec.ip,
            domain,
            name: schedulerNodeNameOf(spec.ip, '.sim.internal'),
            agent: agent !== undefined && agent.status().phase === 'running' ? agent : undefined,
          };
        }),
    call: (ip, withinMs, start) => askInNode(this.sim, ip, withinMs, start),
  };

  /** A pair's remote: `kube://<domain>` is that cluster's store; anything else is not reachable from here. */
  remote = (config: unknown): RemoteCluster | { problem: string } => {
    const resolved = resolveContext(config);
    if (!resolved.ok) return { problem: resolved.problem };
    const domain = resolved.server.startsWith(VIRTUAL_SERVER_PREFIX)
      ? resolved.server.slice(VIRTUAL_SERVER_PREFIX.length)
      : undefined;
    const store = domain === undefined ? undefined : this.clusters.get(domain);
    if (store === undefined)
      return { problem: `${resolved.server}: not one of the simulated clusters (${VIRTUAL_SERVER_PREFIX}<domain>)` };
    return storeAsRemote(store);
  };

  /** One pass of every cluster's controllers, then the K1 check. */
  async pass(): Promise<void> {
    for (const [domain, store] of this.clusters) {
      await syncNodes(store, pxNodeViews(this.access, domain), this.sim.nowMs);
      await reconcileWorkloads(store, {
        clock: this.sim.scheduler,
        random: this.random,
        driver: this.wrapVolumeDriver(pxVolumeDriver(this.access, domain)),
      });
      await reconcileStork(store, {
        clock: this.sim.scheduler,
        driver: pxStorkDriver(this.access, domain, this.sim.clusterId),
        remote: this.remote,
      });
    }
    await this.checkK1();
  }

  /** Whether the pod runs on a px node that serves (its writes would be accepted). */
  private servingNode(pod: KubeObject, domain: string): string | undefined {
    const nodeName = valueAt(pod, 'spec.nodeName');
    if (valueAt(pod, 'status.phase') !== 'Running' || typeof nodeName !== 'string') return undefined;
    const node = this.access.nodes(domain).find((candidate) => candidate.name === nodeName);
    return node?.agent?.status().node.serving === true ? nodeName : undefined;
  }

  /**
   * K1: no volume used by Running pods in two clusters whose px nodes both serve, at two checks in a row. A pod whose
   * volume was taken over while its node was out is found out at its cluster's next pass (as a kubelet notices its
   * container failing): one pass of overlap is that detection's lag, the same pods still running together one pass
   * later is the violation.
   */
  private async checkK1(): Promise<void> {
    const users = new Map<string, string[]>();
    for (const [domain, store] of this.clusters) {
      for (const pod of (await store.list(PODS, undefined)).items) {
        const node = this.servingNode(pod, domain);
        if (node === undefined) continue;
        for (const volume of (await podVolumes(store, pod)).volumes)
          users.set(volume, [...(users.get(volume) ?? []), `${domain}: pod ${pod.metadata.name} on ${node}`]);
      }
    }
    const doubles = new Set<string>();
    for (const [volume, where] of users) {
      const clusters = new Set(where.map((entry) => entry.split(':')[0]));
      if (clusters.size < 2) continue;
      const key = `${volume} ${where.join('; ')}`;
      doubles.add(key);
      if (!this.lastDoubles.has(key) || this.reported.has(key)) continue;
      this.reported.add(key);
      this.findings.push({
        check: 'K1',
        detail: `at ${this.sim.nowMs} ms volume ${volume} is used by Running pods in ${clusters.size} clusters at once, each on a serving px node, for two controller passes in a row (${where.join('; ')})`,
      });
    }
    this.lastDoubles = doubles;
  }

  /** Creates each object, or replaces it (keeping its status) when it exists: `kubectl apply`, simplified. */
  async apply(
    domain: string,
    objects: readonly KubeObject[],
    typeOf: (object: KubeObject) => ObjectRefType,
  ): Promise<void> {
    const store = this.cluster(domain);
    for (const object of objects) {
      const type = typeOf(object);
      const ref = {
        type,
        namespace: type.namespaced ? (object.metadata.namespace ?? 'default') : undefined,
        name: object.metadata.name,
      };
      try {
        await store.create(ref, object);
      } catch (error) {
        if (!(error instanceof KubeError && error.reason === 'AlreadyExists')) throw error;
        const current = await store.get(ref);
        await store.update(ref, { ...object, status: current['status'] }, current.metadata.resourceVersion ?? '');
      }
    }
  }
}

type ObjectRefType = Parameters<ObjectStore['list']>[0];
