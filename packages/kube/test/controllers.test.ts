import { describe, expect, it } from 'vitest';
import { MemKvdb, MemStore } from '@pxsim/kvdb-client';
import { ManualClock, seededRandom } from '@pxsim/runtime';
import {
  DEPLOYMENTS,
  ensureDefaultStorageClass,
  gibOf,
  PERSISTENT_VOLUME_CLAIMS,
  PERSISTENT_VOLUMES,
  type VolumeDriver,
  ObjectStore,
  PODS,
  reconcileWorkloads,
  STATEFUL_SETS,
  syncNodes,
  type KubeObject,
  type PxNodeView,
} from '../src/index.js';

const NODE_NAMES = ['n1', 'n2', 'n3'];

async function cluster(seed = 1) {
  const clock = new ManualClock(Date.parse('2026-11-22T10:00:00Z'));
  const store = new ObjectStore(new MemKvdb({ store: new MemStore({ clock }), namespace: 'k/' }), {
    clock,
    random: seededRandom(seed),
  });
  const deps = { clock, random: seededRandom(seed + 1) };
  const nodes = async (online: Record<string, boolean>) => {
    const views: PxNodeView[] = NODE_NAMES.map((name, index) => ({
      name,
      ip: `127.0.1.${index + 1}`,
      domain: 'a',
      running: true,
      status: online[name] === false ? 'Out of Quorum' : 'Online',
      reason: '',
    }));
    await syncNodes(store, views, clock.nowMs());
  };
  await nodes({});
  return { store, deps, nodes, clock };
}

const workload = (kind: 'Deployment' | 'StatefulSet', name: string, replicas: number): KubeObject => ({
  apiVersion: 'apps/v1',
  kind,
  metadata: { name, namespace: 'default' },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'i' }] } },
  },
});

async function pods(store: ObjectStore): Promise<string[]> {
  const { items } = await store.list(PODS, 'default');
  return items.map((pod) => {
    const status = pod['status'] as { phase?: string; reason?: string };
    const node = (pod['spec'] as { nodeName?: string }).nodeName ?? '-';
    return `${pod.metadata.name} ${node} ${status.reason ?? status.phase ?? ''}`;
  });
}

describe('the workload controllers: replicas, scheduling on Ready nodes, pods follow their node', () => {
  it('creates the pods, spreads them over the Ready nodes, counts them in the workload status', async () => {
    const { store, deps } = await cluster();
    await store.create({ type: STATEFUL_SETS, namespace: 'default', name: 'db' }, workload('StatefulSet', 'db', 3));
    await store.create({ type: DEPLOYMENTS, namespace: 'default', name: 'web' }, workload('Deployment', 'web', 2));
    await reconcileWorkloads(store, deps);
    const listed = await pods(store);
    expect(listed.filter((pod) => pod.startsWith('db-'))).toEqual([
      'db-0 n1 Running',
      'db-1 n2 Running',
      'db-2 n3 Running',
    ]);
    const web = listed.filter((pod) => pod.startsWith('web-'));
    expect(web).toHaveLength(2);
    for (const pod of web) expect(pod).toMatch(/^web-[a-z0-9]{10}-[a-z0-9]{5} n\d Running$/);
    const db = await store.get({ type: STATEFUL_SETS, namespace: 'default', name: 'db' });
    expect(db['status']).toMatchObject({ replicas: 3, readyReplicas: 3 });
    // A second pass with nothing changed writes nothing.
    const before = (await store.list(PODS, 'default')).revision;
    await reconcileWorkloads(store, deps);
    expect((await store.list(PODS, 'default')).revision).toBe(before);
  });

  it('scales a StatefulSet down from the highest ordinal; deleting a workload deletes its pods', async () => {
    const { store, deps } = await cluster();
    const ref = { type: STATEFUL_SETS, namespace: 'default', name: 'db' };
    const created = await store.create(ref, workload('StatefulSet', 'db', 3));
    await reconcileWorkloads(store, deps);
    const current = await store.get(ref);
    await store.update(
      ref,
      { ...current, spec: { ...(created['spec'] as object), replicas: 1 } },
      current.metadata.resourceVersion ?? '',
    );
    await reconcileWorkloads(store, deps);
    expect(await pods(store)).toEqual(['db-0 n1 Running']);
    await store.delete(ref);
    await reconcileWorkloads(store, deps);
    expect(await pods(store)).toEqual([]);
  });

  it('a pod on a node that is not Ready is NodeLost and not ready; with no Ready node a new pod is Pending', async () => {
    const { store, deps, nodes } = await cluster();
    await store.create({ type: STATEFUL_SETS, namespace: 'default', name: 'db' }, workload('StatefulSet', 'db', 2));
    await reconcileWorkloads(store, deps);
    await nodes({ n1: false });
    await reconcileWorkloads(store, deps);
    expect(await pods(store)).toEqual(['db-0 n1 NodeLost', 'db-1 n2 Running']);
    expect((await store.get({ type: STATEFUL_SETS, namespace: 'default', name: 'db' }))['status']).toMatchObject({
      readyReplicas: 1,
    });
    await nodes({ n1: false, n2: false, n3: false });
    await store.create(
      { type: PODS, namespace: 'default', name: 'lonely' },
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'lonely' }, spec: { containers: [] } },
    );
    await reconcileWorkloads(store, deps);
    expect((await pods(store)).find((pod) => pod.startsWith('lonely'))).toBe('lonely - Pending');
    await nodes({});
    await reconcileWorkloads(store, deps);
    expect(await pods(store)).toEqual(['db-0 n1 Running', 'db-1 n2 Running', 'lonely n3 Running']);
  });

  it('one seed gives the same pod names and addresses', async () => {
    const run = async () => {
      const { store, deps } = await cluster(42);
      await store.create({ type: DEPLOYMENTS, namespace: 'default', name: 'web' }, workload('Deployment', 'web', 3));
      await reconcileWorkloads(store, deps);
      return (await store.list(PODS, 'default')).items.map(
        (pod) => `${pod.metadata.name} ${String((pod['status'] as { podIP?: string }).podIP)}`,
      );
    };
    expect(await run()).toEqual(await run());
  });
});

describe('claims: the Portworx provisioner and pods that wait for their volumes', () => {
  /** A driver that records what it is asked and refuses attaches while `refuse` says why. */
  function fakeDriver() {
    const calls: string[] = [];
    const state = { refuse: undefined as string | undefined };
    const driver: VolumeDriver = {
      create: async ({ name, sizeGiB, repl }) => {
        calls.push(`create ${name} ${sizeGiB} ${repl}`);
        return { ok: true, id: `id-${name}` };
      },
      // The replicas are on n2 and n3 (n1 holds none): the pod must go to one of them.
      replicaNodes: async () => ['n2', 'n3'],
      attach: async (volume, node) => {
        calls.push(`attach ${volume} ${node}`);
        return state.refuse === undefined ? { ok: true } : { ok: false, reason: state.refuse };
      },
    };
    return { driver, calls, state };
  }

  const statefulSetWithClaim = (): KubeObject => ({
    ...workload('StatefulSet', 'pg', 1),
    spec: {
      ...(workload('StatefulSet', 'pg', 1)['spec'] as object),
      volumeClaimTemplates: [
        {
          metadata: { name: 'data' },
          spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1500Mi' } } },
        },
      ],
    },
  });

  it('a StatefulSet claim is provisioned on the default class (size rounded up to GiB, its repl), bound, and its pod placed where a replica is', async () => {
    const { store, deps } = await cluster();
    await ensureDefaultStorageClass(store);
    const { driver, calls } = fakeDriver();
    await store.create({ type: STATEFUL_SETS, namespace: 'default', name: 'pg' }, statefulSetWithClaim());
    await reconcileWorkloads(store, { ...deps, driver }); // creates the claim and the pod, unscheduled until bound
    expect(await pods(store)).toEqual(['pg-0 - Pending']);
    await reconcileWorkloads(store, { ...deps, driver }); // provisions and binds, places by replica, attaches
    const claim = await store.get({ type: PERSISTENT_VOLUME_CLAIMS, namespace: 'default', name: 'data-pg-0' });
    const volume = (claim['spec'] as { volumeName: string }).volumeName;
    expect(claim['status']).toMatchObject({ phase: 'Bound', capacity: { storage: '2Gi' } });
    expect(calls).toEqual([`create ${volume} 2 2`, `attach ${volume} n2`]);
    expect(await pods(store)).toEqual(['pg-0 n2 Running']);
    expect((await store.get({ type: PERSISTENT_VOLUMES, namespace: undefined, name: volume }))['spec']).toMatchObject({
      claimRef: { namespace: 'default', name: 'data-pg-0' },
      storageClassName: 'px-csi-replicated',
    });
  });

  it('a volume the driver will not attach keeps the pod ContainerCreating with the reason; it runs once attached', async () => {
    const { store, deps } = await cluster();
    await ensureDefaultStorageClass(store);
    const { driver, state } = fakeDriver();
    state.refuse = 'pvc-x is attached on ip-2, which is online';
    await store.create({ type: STATEFUL_SETS, namespace: 'default', name: 'pg' }, statefulSetWithClaim());
    await reconcileWorkloads(store, { ...deps, driver });
    await reconcileWorkloads(store, { ...deps, driver });
    const pod = await store.get({ type: PODS, namespace: 'default', name: 'pg-0' });
    expect(pod['status']).toMatchObject({ phase: 'Pending', reason: 'ContainerCreating' });
    expect((pod['status'] as { message: string }).message).toMatch(
      /^AttachVolume.Attach failed for volume "pvc-.*": pvc-x is attached on ip-2, which is online$/,
    );
    state.refuse = undefined;
    await reconcileWorkloads(store, { ...deps, driver });
    expect(await pods(store)).toEqual(['pg-0 n2 Running']);
  });

  it('sizes as Kubernetes quantities, in whole GiB rounded up', () => {
    expect(['1Gi', '1500Mi', '2G', '10', 'lots'].map(gibOf)).toEqual([1, 2, 2, 1, undefined]);
  });
});
