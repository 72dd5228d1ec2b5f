import { describe, expect, it } from 'vitest';
import { MemKvdb, MemStore } from '@pxsim/kvdb-client';
import { ManualClock, realClock, seededRandom } from '@pxsim/runtime';
import {
  buildKubeApi,
  CLUSTER_DOMAIN_UPDATES,
  CLUSTER_DOMAINS_STATUSES,
  CLUSTER_PAIRS,
  DEPLOYMENTS,
  ensureDefaultStorageClass,
  ensureSystemNamespaces,
  EVENTS,
  MIGRATED_LABEL,
  MIGRATION_REPLICAS_ANNOTATION,
  MIGRATIONS,
  NAMESPACES,
  ObjectStore,
  PERSISTENT_VOLUME_CLAIMS,
  PERSISTENT_VOLUMES,
  reconcileStork,
  reconcileWorkloads,
  remoteOverHttp,
  storeAsRemote,
  STATEFUL_SETS,
  type KubeObject,
  type StorkDeps,
  type StorkDriver,
  type VolumeDriver,
} from '../src/index.js';

/**
 * The px side as Stork sees it, for these tests: domains Active or Inactive, an unknown one refused with the agent's
 * wording. The end-to-end test in packages/cli runs the same controllers against the real agents.
 */
function pxDomains(localDomain: string) {
  const states = new Map([
    ['us-east-1a', 'Active'],
    ['us-east-1b', 'Active'],
  ]);
  const calls: string[] = [];
  const driver: StorkDriver = {
    clusterId: 'PX_DR/Cluster',
    localDomain,
    setDomainState: async (domain, active) => {
      calls.push(`${active ? 'activate' : 'deactivate'} ${domain}`);
      if (!states.has(domain))
        throw new Error(`cluster domain "${domain}" not found; known: ${[...states.keys()].join(', ')}`);
      states.set(domain, active ? 'Active' : 'Inactive');
    },
    domainsStatus: async () => {
      const names = [...states.keys()].sort();
      return {
        active: names.filter((name) => states.get(name) === 'Active'),
        inactive: names.filter((name) => states.get(name) === 'Inactive'),
        localDomain,
        clusterDomainInfos: names.map((name) => ({
          name,
          state: states.get(name),
          syncStatus: states.get(name) === 'Active' ? 'InSync' : 'NotInSync',
        })),
      };
    },
  };
  return { driver, calls, states };
}

async function twoClusters() {
  const clock = new ManualClock(Date.parse('2026-11-22T10:00:00Z'));
  const kvdb = new MemStore({ clock });
  const open = async (prefix: string, seed: number) => {
    const store = new ObjectStore(new MemKvdb({ store: kvdb, namespace: prefix }), {
      clock,
      random: seededRandom(seed),
    });
    await ensureSystemNamespaces(store);
    await ensureDefaultStorageClass(store);
    return store;
  };
  const source = await open('a/', 1);
  const destination = await open('b/', 2);
  const px = pxDomains('us-east-1a');
  const deps: StorkDeps = {
    clock,
    driver: px.driver,
    remote: (config) =>
      (config as { server?: string } | undefined)?.server === 'b'
        ? storeAsRemote(destination)
        : { problem: 'no such cluster' },
  };
  return { clock, source, destination, px, deps };
}

const cdu = (name: string, clusterdomain: string, active: boolean): KubeObject => ({
  apiVersion: 'stork.libopenstorage.org/v1alpha1',
  kind: 'ClusterDomainUpdate',
  metadata: { name },
  spec: { clusterdomain, active },
});

async function eventsOf(store: ObjectStore, namespace: string): Promise<string[]> {
  const { items } = await store.list(EVENTS, namespace);
  return items.map((event) => `${String(event['type'])} ${String(event['reason'])}: ${String(event['message'])}`);
}

describe('ClusterDomainUpdate and ClusterDomainsStatus controllers', () => {
  it('carries an update out once: Successful, or Failed with stork’s reason and a Warning event', async () => {
    const { source, px, deps } = await twoClusters();
    const ref = (name: string) => ({ type: CLUSTER_DOMAIN_UPDATES, namespace: undefined, name });
    await source.create(ref('deactivate-us-east-1b'), cdu('deactivate-us-east-1b', 'us-east-1b', false));
    await source.create(ref('deactivate-us-east-1x'), cdu('deactivate-us-east-1x', 'us-east-1x', false));
    await reconcileStork(source, deps);
    expect((await source.get(ref('deactivate-us-east-1b')))['status']).toEqual({ status: 'Successful', reason: '' });
    expect((await source.get(ref('deactivate-us-east-1x')))['status']).toEqual({
      status: 'Failed',
      reason:
        'unable to deactivate cluster domain: cluster domain "us-east-1x" not found; known: us-east-1a, us-east-1b',
    });
    expect(await eventsOf(source, 'default')).toEqual([
      'Normal Successful: cluster domain us-east-1b deactivated',
      'Warning Failed: unable to deactivate cluster domain: cluster domain "us-east-1x" not found; known: us-east-1a, us-east-1b',
    ]);
    // The ClusterDomainsStatus is named after the cluster ID (lower case, other characters replaced) and refreshed
    // after the updates, in the same pass.
    const cds = await source.get({ type: CLUSTER_DOMAINS_STATUSES, namespace: undefined, name: 'px-dr-cluster' });
    expect(cds['status']).toMatchObject({
      active: ['us-east-1a'],
      inactive: ['us-east-1b'],
      localDomain: 'us-east-1a',
    });
    // Finished updates are never run again.
    await reconcileStork(source, deps);
    expect(px.calls).toEqual(['deactivate us-east-1b', 'deactivate us-east-1x']);
  });
});

describe('ClusterPair controller', () => {
  const pair = (server: string, options?: Record<string, string>): KubeObject => ({
    apiVersion: 'stork.libopenstorage.org/v1alpha1',
    kind: 'ClusterPair',
    metadata: { name: 'remotecluster', namespace: 'default' },
    spec: { config: { server }, ...(options === undefined ? {} : { options }) },
  });
  const ref = { type: CLUSTER_PAIRS, namespace: 'default', name: 'remotecluster' };

  it('metro: storage NotProvided, scheduler Ready while the remote answers; options or no remote are Errors', async () => {
    const { source, deps } = await twoClusters();
    await source.create(ref, pair('b'));
    await reconcileStork(source, deps);
    expect((await source.get(ref))['status']).toEqual({
      remoteStorageId: '',
      schedulerStatus: 'Ready',
      storageStatus: 'NotProvided',
    });
    await source.delete(ref);
    await source.create(ref, pair('nowhere', { insert_storage_options_here: '' }));
    await reconcileStork(source, deps);
    expect((await source.get(ref))['status']).toMatchObject({ schedulerStatus: 'Error', storageStatus: 'Error' });
    const events = await eventsOf(source, 'default');
    expect(events).toContain('Warning Error: Error getting remote config: no such cluster');
    expect(events.some((event) => event.includes('remove spec.options (the insert_storage_options_here line)'))).toBe(
      true,
    );
  });

  it('over HTTP: Ready against a live API server, Error naming the refusal when it is down', async () => {
    const clock = new ManualClock(Date.parse('2026-11-22T10:00:00Z'));
    const store = new ObjectStore(new MemKvdb({ store: new MemStore({ clock }), namespace: 'r/' }), {
      clock,
      random: seededRandom(3),
    });
    const app = buildKubeApi({ store, clock: realClock, serverAddress: '127.6.7.254:0' });
    await app.listen({ host: '127.6.7.254', port: 0 });
    const port = (app.server.address() as { port: number }).port;
    try {
      const config = {
        clusters: [{ name: 'b', cluster: { server: `http://127.6.7.254:${port}` } }],
        contexts: [{ name: 'b', context: { cluster: 'b', user: 'b' } }],
        'current-context': 'b',
      };
      const remote = remoteOverHttp(config);
      expect('problem' in remote).toBe(false);
      if (!('problem' in remote)) await expect(remote.version()).resolves.toMatchObject({ major: '1' });
      const { source, deps } = await twoClusters();
      await source.create(ref, { ...pair('x'), spec: { config } });
      await reconcileStork(source, { ...deps, remote: remoteOverHttp });
      expect((await source.get(ref))['status']).toMatchObject({ schedulerStatus: 'Ready' });
      await app.close();
      await reconcileStork(source, { ...deps, remote: remoteOverHttp });
      expect((await source.get(ref))['status']).toMatchObject({ schedulerStatus: 'Error' });
      expect((await eventsOf(source, 'default')).join('\n')).toMatch(
        /Error connecting to the remote cluster: cannot reach the API server at http:\/\/127\.6\.7\.254:\d+: \S/,
      );
    } finally {
      await app.close();
    }
  });
});

describe('Migration controller', () => {
  const namespace = 'migrationnamespace';
  const pairRef = { type: CLUSTER_PAIRS, namespace, name: 'remotecluster' };
  const migrationRef = { type: MIGRATIONS, namespace, name: 'mysqlmigration' };
  const claimDriver: VolumeDriver = {
    create: async ({ name }) => ({ ok: true, id: `id-${name}` }),
    replicaNodes: async () => [],
    attach: async () => ({ ok: true }),
  };

  /** The seed's application on the source: a namespace, a bound claim and its volume, a Deployment, a StatefulSet. */
  async function application(source: ObjectStore, deps: StorkDeps) {
    await source.create(
      { type: NAMESPACES, namespace: undefined, name: namespace },
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels: { team: 'db' } } },
    );
    await source.create(
      { type: PERSISTENT_VOLUME_CLAIMS, namespace, name: 'mysql-data' },
      {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name: 'mysql-data', namespace },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '2Gi' } } },
      },
    );
    await reconcileWorkloads(source, { clock: deps.clock, random: seededRandom(9), driver: claimDriver });
    for (const [type, kind, name, replicas] of [
      [DEPLOYMENTS, 'Deployment', 'mysql', 3],
      [STATEFUL_SETS, 'StatefulSet', 'cache', 2],
    ] as const) {
      await source.create(
        { type, namespace, name },
        {
          apiVersion: 'apps/v1',
          kind,
          metadata: { name, namespace, labels: { app: name } },
          spec: {
            replicas,
            selector: { matchLabels: { app: name } },
            template: { metadata: { labels: { app: name } } },
          },
        },
      );
    }
  }

  const migration = (spec: Record<string, unknown> = {}): KubeObject => ({
    apiVersion: 'stork.libopenstorage.org/v1alpha1',
    kind: 'Migration',
    metadata: { name: 'mysqlmigration', namespace },
    spec: {
      clusterPair: 'remotecluster',
      includeResources: true,
      startApplications: false,
      includeVolumes: false,
      namespaces: [namespace],
      ...spec,
    },
  });

  async function paired() {
    const clusters = await twoClusters();
    await application(clusters.source, clusters.deps);
    await clusters.source.create(pairRef, {
      apiVersion: 'stork.libopenstorage.org/v1alpha1',
      kind: 'ClusterPair',
      metadata: { name: 'remotecluster', namespace },
      spec: { config: { server: 'b' } },
    });
    return clusters;
  }

  it('moves the application without starting it: replicas 0, the count annotated, labelled migrated, claims bound', async () => {
    const { source, destination, deps } = await paired();
    await source.create(migrationRef, migration());
    await reconcileStork(source, deps);
    const status = (await source.get(migrationRef))['status'] as Record<string, unknown>;
    expect(status).toMatchObject({ stage: 'Final', status: 'Successful', volumes: [] });
    expect(
      (status['resources'] as Array<{ kind: string; status: string }>).map((r) => `${r.kind} ${r.status}`),
    ).toEqual([
      'PersistentVolumeClaim Successful',
      'PersistentVolume Successful',
      'Deployment Successful',
      'StatefulSet Successful',
    ]);
    const deployment = await destination.get({ type: DEPLOYMENTS, namespace, name: 'mysql' });
    expect(deployment['spec']).toMatchObject({ replicas: 0 });
    expect(deployment.metadata.annotations).toEqual({ [MIGRATION_REPLICAS_ANNOTATION]: '3' });
    expect(deployment.metadata.labels).toEqual({ app: 'mysql', [MIGRATED_LABEL]: 'true' });
    expect(deployment['status']).toBeUndefined();
    const sts = await destination.get({ type: STATEFUL_SETS, namespace, name: 'cache' });
    expect(sts.metadata.annotations).toEqual({ [MIGRATION_REPLICAS_ANNOTATION]: '2' });
    expect(
      (await destination.get({ type: NAMESPACES, namespace: undefined, name: namespace })).metadata.labels,
    ).toEqual({ team: 'db' });
    // The claim arrives naming its volume and binds to it there (no new volume is provisioned).
    const sourceClaim = await source.get({ type: PERSISTENT_VOLUME_CLAIMS, namespace, name: 'mysql-data' });
    const volumeName = (sourceClaim['spec'] as { volumeName: string }).volumeName;
    await reconcileWorkloads(destination, { clock: deps.clock, random: seededRandom(5), driver: claimDriver });
    const claim = await destination.get({ type: PERSISTENT_VOLUME_CLAIMS, namespace, name: 'mysql-data' });
    expect(claim['spec']).toMatchObject({ volumeName });
    expect(claim['status']).toMatchObject({ phase: 'Bound' });
    const volume = await destination.get({ type: PERSISTENT_VOLUMES, namespace: undefined, name: volumeName });
    expect(volume['spec']).toMatchObject({ claimRef: { namespace, name: 'mysql-data', uid: claim.metadata.uid } });
    // Final: a later pass leaves it alone.
    const version = (await source.get(migrationRef)).metadata.resourceVersion;
    await reconcileStork(source, deps);
    expect((await source.get(migrationRef)).metadata.resourceVersion).toBe(version);
  });

  it('with startApplications the replicas are kept; a workload already on the destination is replaced', async () => {
    const { source, destination, deps } = await paired();
    await destination.create(
      { type: NAMESPACES, namespace: undefined, name: namespace },
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
    );
    await destination.create(
      { type: DEPLOYMENTS, namespace, name: 'mysql' },
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'mysql', namespace }, spec: { replicas: 7 } },
    );
    await source.create(migrationRef, migration({ startApplications: true }));
    await reconcileStork(source, deps);
    expect((await source.get(migrationRef))['status']).toMatchObject({ status: 'Successful' });
    const deployment = await destination.get({ type: DEPLOYMENTS, namespace, name: 'mysql' });
    expect(deployment['spec']).toMatchObject({ replicas: 3 });
    expect(deployment.metadata.annotations).toBeUndefined();
  });

  it('fails while the local domain is Inactive, and for a namespace other than its own', async () => {
    const { source, px, deps } = await paired();
    px.states.set('us-east-1a', 'Inactive');
    await source.create(migrationRef, migration());
    await reconcileStork(source, deps);
    expect((await source.get(migrationRef))['status']).toMatchObject({ stage: 'Final', status: 'Failed' });
    expect(await eventsOf(source, namespace)).toContain(
      'Warning Failed: Failing migration since local clusterdomain is inactive',
    );
    px.states.set('us-east-1a', 'Active');
    const other = { ...migrationRef, name: 'other' };
    await source.create(other, { ...migration({ namespaces: ['default'] }), metadata: { name: 'other', namespace } });
    await reconcileStork(source, deps);
    expect((await source.get(other))['status']).toMatchObject({ stage: 'Final', status: 'Failed' });
    expect(await eventsOf(source, namespace)).toContain(
      'Warning Failed: Spec.Namespaces should only contain the current namespace',
    );
  });

  it('waits for its ClusterPair (Pending, a Warning event counted, not repeated) and runs once the pair is Ready', async () => {
    const { source, destination, deps } = await paired();
    await source.delete(pairRef);
    await source.create(migrationRef, migration());
    await reconcileStork(source, deps);
    await reconcileStork(source, deps);
    expect((await source.get(migrationRef))['status']).toMatchObject({ stage: '', status: 'Pending' });
    const { items } = await source.list(EVENTS, namespace);
    expect(items.map((event) => [event['message'], event['count']])).toEqual([
      ['Error getting clusterpair remotecluster: clusterpairs.stork.libopenstorage.org "remotecluster" not found', 2],
    ]);
    await source.create(pairRef, {
      apiVersion: 'stork.libopenstorage.org/v1alpha1',
      kind: 'ClusterPair',
      metadata: { name: 'remotecluster', namespace },
      spec: { config: { server: 'b' } },
    });
    await reconcileStork(source, deps);
    expect((await source.get(migrationRef))['status']).toMatchObject({ stage: 'Final', status: 'Successful' });
    expect((await destination.list(DEPLOYMENTS, namespace)).items).toHaveLength(1);
  });
});

describe('the attach/detach controller', () => {
  it('detaches a volume of this cluster whose pod is gone, so the paired cluster can attach it', async () => {
    const { source, deps } = await twoClusters();
    await source.create(
      { type: PERSISTENT_VOLUME_CLAIMS, namespace: 'default', name: 'data' },
      {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name: 'data', namespace: 'default' },
        spec: { resources: { requests: { storage: '1Gi' } } },
      },
    );
    const attached = new Map<string, string>();
    const calls: string[] = [];
    const driver: VolumeDriver = {
      create: async ({ name }) => ({ ok: true, id: name }),
      replicaNodes: async () => [],
      attach: async (volume, node) => {
        attached.set(volume, node);
        return { ok: true };
      },
      attachedOn: async (volume) => attached.get(volume),
      detach: async (volume, node) => {
        calls.push(`detach ${volume} ${node}`);
        attached.delete(volume);
        return { ok: true };
      },
    };
    await reconcileWorkloads(source, { clock: deps.clock, random: seededRandom(4), driver });
    const claim = await source.get({ type: PERSISTENT_VOLUME_CLAIMS, namespace: 'default', name: 'data' });
    const volume = (claim['spec'] as { volumeName: string }).volumeName;
    attached.set(volume, 'n1');
    await reconcileWorkloads(source, { clock: deps.clock, random: seededRandom(4), driver });
    expect(calls).toEqual([`detach ${volume} n1`]);
    // Attached in the other cluster (not on one of this cluster's nodes): left alone.
    await reconcileWorkloads(source, { clock: deps.clock, random: seededRandom(4), driver });
    expect(calls).toHaveLength(1);
  });
});
