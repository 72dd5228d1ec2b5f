import type { Clock } from '@pxsim/runtime';
import { podVolumes, reconcileClaims, releaseVolumes, type VolumeDriver } from './claims.js';
import { KubeError } from './errors.js';
import { stringAt, valueAt, type KubeObject } from './objects.js';
import { NODES, type ResourceType } from './resources.js';
import type { ObjectStore } from './store.js';
import { DEPLOYMENTS, PERSISTENT_VOLUME_CLAIMS, PODS, STATEFUL_SETS } from './workloads.js';

/** What the controllers take as inputs besides the store: the clock and the random source (pod IPs, name suffixes). */
export interface ControllerDeps {
  clock: Clock;
  random: () => number;
  /** The storage behind the claims; without one, claims are not provisioned and pods do not wait for volumes. */
  driver?: VolumeDriver;
}

type Json = Record<string, unknown>;

function timestamp(nowMs: number): string {
  return new Date(nowMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function nodeIsReady(node: KubeObject): boolean {
  const conditions = valueAt(node, 'status.conditions');
  return (
    Array.isArray(conditions) &&
    conditions.some(
      (condition: unknown) => valueAt(condition, 'type') === 'Ready' && valueAt(condition, 'status') === 'True',
    )
  );
}

function ownerUidOf(pod: KubeObject): string | undefined {
  const owners = pod.metadata['ownerReferences'];
  if (!Array.isArray(owners)) return undefined;
  const owner: unknown = owners.find((reference: unknown) => valueAt(reference, 'controller') === true);
  const uid = valueAt(owner, 'uid');
  return typeof uid === 'string' ? uid : undefined;
}

/** Lower-case letters and digits Kubernetes uses for generated name suffixes (no vowels, no confusable digits). */
const SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

function suffix(random: () => number, length: number): string {
  return Array.from({ length }, () => SUFFIX_ALPHABET[Math.floor(random() * SUFFIX_ALPHABET.length)] ?? 'x').join('');
}

/** A pod of a workload from its template: labels, spec, and the workload as its controlling owner. */
function podFor(workload: KubeObject, name: string): KubeObject {
  const template = (valueAt(workload, 'spec.template') ?? {}) as {
    metadata?: { labels?: Record<string, string> };
    spec?: Json;
  };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: workload.metadata.namespace,
      labels: { ...template.metadata?.labels },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: workload.kind,
          name: workload.metadata.name,
          uid: workload.metadata.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: { ...template.spec },
    status: { phase: 'Pending' },
  };
}

/**
 * The workload controllers of one cluster, as one reconcile pass (what kube-controller-manager and the scheduler do,
 * reduced to what a failover rehearsal shows): every Deployment and StatefulSet has `spec.replicas` pods (a
 * StatefulSet's named `<name>-<ordinal>`, created and removed from the highest ordinal; a Deployment's
 * `<name>-<template hash>-<suffix>`); an unscheduled pod goes to the Ready node with the fewest pods; a pod is Running
 * and Ready while its node is Ready, not Ready (`NodeLost`) while its node is not, Pending while no node is Ready;
 * each workload's status counts its pods. Writes only what changed. Pods owned by a workload that is gone are
 * deleted (the garbage collector).
 */
export async function reconcileWorkloads(store: ObjectStore, deps: ControllerDeps): Promise<void> {
  if (deps.driver !== undefined) await reconcileClaims(store, deps.driver);
  const workloads = [
    ...(await store.list(DEPLOYMENTS, undefined)).items,
    ...(await store.list(STATEFUL_SETS, undefined)).items,
  ];
  let pods = (await store.list(PODS, undefined)).items;
  for (const workload of workloads) await scaleWorkload(store, deps, workload, pods);
  const owners = new Set(workloads.map((workload) => workload.metadata.uid));
  for (const pod of pods) {
    const owner = ownerUidOf(pod);
    if (owner !== undefined && !owners.has(owner)) await deleteIfThere(store, pod);
  }
  pods = (await store.list(PODS, undefined)).items;
  const nodes = (await store.list(NODES, undefined)).items;
  await schedulePods(store, deps, pods, nodes);
  pods = (await store.list(PODS, undefined)).items;
  for (const workload of workloads) await updateWorkloadStatus(store, workload, pods);
  if (deps.driver !== undefined) await releaseVolumes(store, deps.driver, pods);
}

async function deleteIfThere(store: ObjectStore, pod: KubeObject): Promise<void> {
  try {
    await store.delete({ type: PODS, namespace: pod.metadata.namespace, name: pod.metadata.name });
  } catch (error) {
    if (!(error instanceof KubeError && error.reason === 'NotFound')) throw error;
  }
}

async function scaleWorkload(
  store: ObjectStore,
  deps: ControllerDeps,
  workload: KubeObject,
  pods: KubeObject[],
): Promise<void> {
  const replicas = valueAt(workload, 'spec.replicas');
  const desired = typeof replicas === 'number' ? replicas : 1;
  const owned = pods
    .filter((pod) => ownerUidOf(pod) === workload.metadata.uid)
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name, 'en', { numeric: true }));
  const namespace = workload.metadata.namespace;
  const create = async (name: string): Promise<void> => {
    await ignoring(['AlreadyExists'], () => store.create({ type: PODS, namespace, name }, podFor(workload, name)));
  };
  if (workload.kind === 'StatefulSet') {
    const names = new Set(owned.map((pod) => pod.metadata.name));
    for (let ordinal = 0; ordinal < desired; ordinal++) {
      const name = `${workload.metadata.name}-${ordinal}`;
      if (names.has(name)) continue;
      const volumes = await claimsOf(store, workload, ordinal);
      await ignoring(['AlreadyExists'], () =>
        store.create({ type: PODS, namespace, name }, withVolumes(podFor(workload, name), volumes)),
      );
    }
    for (const pod of owned) {
      const ordinal = Number(pod.metadata.name.slice(workload.metadata.name.length + 1));
      if (!(ordinal < desired)) await deleteIfThere(store, pod);
    }
    return;
  }
  const hash = templateHash(workload);
  for (let count = owned.length; count < desired; count++) {
    await create(`${workload.metadata.name}-${hash}-${suffix(deps.random, 5)}`);
  }
  for (const pod of owned.slice(desired).reverse()) await deleteIfThere(store, pod);
}

/**
 * A StatefulSet pod's claims from the set's `volumeClaimTemplates` (`<template>-<set>-<ordinal>`, created if missing
 * and kept when the pod goes, as Kubernetes does), as the pod's volumes.
 */
async function claimsOf(store: ObjectStore, workload: KubeObject, ordinal: number): Promise<Json[]> {
  const templates = valueAt(workload, 'spec.volumeClaimTemplates');
  if (!Array.isArray(templates)) return [];
  const volumes: Json[] = [];
  for (const template of templates as unknown[]) {
    const templateName = stringAt(template, 'metadata.name', 'data');
    const claimName = `${templateName}-${workload.metadata.name}-${ordinal}`;
    const namespace = workload.metadata.namespace;
    await ignoring(['AlreadyExists'], () =>
      store.create(
        { type: PERSISTENT_VOLUME_CLAIMS, namespace, name: claimName },
        {
          apiVersion: 'v1',
          kind: 'PersistentVolumeClaim',
          metadata: {
            name: claimName,
            namespace,
            labels: { ...(valueAt(workload, 'spec.template.metadata.labels') as Record<string, string> | undefined) },
          },
          spec: valueAt(template, 'spec') ?? {},
          status: { phase: 'Pending' },
        },
      ),
    );
    volumes.push({ name: templateName, persistentVolumeClaim: { claimName } });
  }
  return volumes;
}

function withVolumes(pod: KubeObject, volumes: Json[]): KubeObject {
  if (volumes.length === 0) return pod;
  const spec = (pod['spec'] ?? {}) as Json;
  const existing = Array.isArray(spec['volumes']) ? (spec['volumes'] as Json[]) : [];
  return { ...pod, spec: { ...spec, volumes: [...existing, ...volumes] } };
}

/** A short, stable hash of a Deployment's pod template (the pod-template-hash of its pods' names). */
function templateHash(workload: KubeObject): string {
  const text = JSON.stringify(valueAt(workload, 'spec.template') ?? {});
  let hash = 2166136261;
  for (let index = 0; index < text.length; index++) hash = Math.imul(hash ^ text.charCodeAt(index), 16777619) >>> 0;
  let out = '';
  for (let digit = 0; digit < 10; digit++) {
    out += SUFFIX_ALPHABET[hash % SUFFIX_ALPHABET.length] ?? 'x';
    hash = Math.floor(hash / SUFFIX_ALPHABET.length) + digit * 7919;
  }
  return out;
}

/** The status a pod should show given its node. */
function podStatusFor(pod: KubeObject, node: KubeObject | undefined, deps: ControllerDeps): Json {
  const status = (pod['status'] ?? {}) as Json;
  const now = timestamp(deps.clock.nowMs());
  const containers = valueAt(pod, 'spec.containers');
  const names = Array.isArray(containers)
    ? containers.map((container: unknown) => stringAt(container, 'name', ''))
    : [];
  if (node === undefined) {
    return {
      phase: 'Pending',
      conditions: [
        {
          type: 'PodScheduled',
          status: 'False',
          reason: 'Unschedulable',
          message: '0/0 nodes are available: no Ready node.',
          lastTransitionTime: status['conditions'] === undefined ? now : undefined,
        },
      ],
    };
  }
  const ready = nodeIsReady(node);
  const podIP =
    typeof status['podIP'] === 'string'
      ? status['podIP']
      : `10.244.${Math.floor(deps.random() * 256)}.${1 + Math.floor(deps.random() * 254)}`;
  return {
    phase: ready ? 'Running' : 'Unknown',
    ...(ready
      ? {}
      : {
          reason: 'NodeLost',
          message: `Node ${node.metadata.name} which was running pod ${pod.metadata.name} is unresponsive`,
        }),
    hostIP: valueAt(node, 'status.addresses.0.address'),
    podIP,
    startTime: status['startTime'] ?? now,
    conditions: [
      { type: 'PodScheduled', status: 'True' },
      { type: 'Ready', status: ready ? 'True' : 'False' },
    ],
    containerStatuses: names.map((name) => ({
      name,
      ready,
      restartCount: 0,
      state: ready ? { running: {} } : { waiting: { reason: 'NodeLost' } },
    })),
  };
}

async function schedulePods(
  store: ObjectStore,
  deps: ControllerDeps,
  pods: KubeObject[],
  nodes: KubeObject[],
): Promise<void> {
  const load = new Map(nodes.map((node) => [node.metadata.name, 0]));
  for (const pod of pods) {
    const nodeName = valueAt(pod, 'spec.nodeName');
    if (typeof nodeName === 'string') load.set(nodeName, (load.get(nodeName) ?? 0) + 1);
  }
  for (const pod of pods) {
    let nodeName = valueAt(pod, 'spec.nodeName');
    if (typeof nodeName !== 'string') {
      const allowed = await placementOf(store, deps, pod);
      const candidates = nodes
        .filter((node) => nodeIsReady(node) && (allowed === undefined || allowed.includes(node.metadata.name)))
        .sort(
          (a, b) =>
            (load.get(a.metadata.name) ?? 0) - (load.get(b.metadata.name) ?? 0) ||
            a.metadata.name.localeCompare(b.metadata.name),
        );
      nodeName = candidates[0]?.metadata.name;
      if (typeof nodeName === 'string') load.set(nodeName, (load.get(nodeName) ?? 0) + 1);
    }
    const node = nodes.find((candidate) => candidate.metadata.name === nodeName);
    const blocked = node !== undefined && nodeIsReady(node) ? await volumesProblem(store, deps, pod, node) : undefined;
    const status =
      blocked === undefined
        ? podStatusFor(pod, node, deps)
        : {
            phase: 'Pending',
            reason: 'ContainerCreating',
            message: blocked,
            conditions: [{ type: 'PodScheduled', status: 'True' }],
          };
    const spec = { ...(pod['spec'] as Json | undefined), ...(typeof nodeName === 'string' ? { nodeName } : {}) };
    if (sameShown(pod['status'], status) && valueAt(pod, 'spec.nodeName') === spec['nodeName']) continue;
    await ignoring(['Conflict', 'NotFound'], () =>
      store.update(
        { type: PODS, namespace: pod.metadata.namespace, name: pod.metadata.name },
        { ...pod, spec, status },
        pod.metadata.resourceVersion ?? '',
      ),
    );
  }
}

/** Runs a write, dropping the refusals a later pass settles (changed or removed meanwhile, created by another). */
async function ignoring(reasons: string[], write: () => Promise<unknown>): Promise<void> {
  try {
    await write();
  } catch (error) {
    if (!(error instanceof KubeError && reasons.includes(error.reason))) throw error;
  }
}

/**
 * The nodes a pod with claims may go to (Stork's rule for Portworx volumes: where a replica of each of its volumes
 * is, since the volume is attached on a node that holds one); none while a claim is not bound yet. Undefined: any.
 */
async function placementOf(store: ObjectStore, deps: ControllerDeps, pod: KubeObject): Promise<string[] | undefined> {
  if (deps.driver === undefined) return undefined;
  const { volumes, waiting } = await podVolumes(store, pod);
  if (waiting !== undefined) return [];
  let allowed: string[] | undefined;
  for (const volume of volumes) {
    const holders = await deps.driver.replicaNodes(volume);
    allowed = allowed === undefined ? holders : allowed.filter((name) => holders.includes(name));
  }
  return allowed;
}

/**
 * Why a pod cannot run on `node`: a claim not Bound, or a volume the driver will not attach there (attached on a node
 * that is still online, no quorum, …). A Running pod keeps running while its volumes are attached on its node; one
 * whose volume was taken over meanwhile (a failover attach elsewhere while its node was out), or no longer serves I/O
 * there (its node fenced, cut off from the kvdb), is found out here, as a kubelet finds its container failing on
 * I/O: it must attach again, and waits (`ContainerCreating`) while it cannot.
 * Undefined: it may run.
 */
async function volumesProblem(
  store: ObjectStore,
  deps: ControllerDeps,
  pod: KubeObject,
  node: KubeObject,
): Promise<string | undefined> {
  const driver = deps.driver;
  if (driver === undefined) return undefined;
  const { volumes, waiting } = await podVolumes(store, pod);
  if (waiting !== undefined) return `waiting for PersistentVolumeClaim ${JSON.stringify(waiting)} to be bound`;
  const running = valueAt(pod, 'status.phase') === 'Running';
  for (const volume of volumes) {
    if (running && (await stillServes(driver, volume, node.metadata.name))) continue;
    const attached = await driver.attach(volume, node.metadata.name);
    if (!attached.ok) return `AttachVolume.Attach failed for volume "${volume}": ${attached.reason}`;
  }
  return undefined;
}

/** Whether a Running pod's volume still serves its I/O where it runs (a driver that cannot tell: assumed so). */
async function stillServes(driver: VolumeDriver, volume: string, nodeName: string): Promise<boolean> {
  if (driver.attachedOn !== undefined && (await driver.attachedOn(volume)) !== nodeName) return false;
  return driver.ioReady === undefined || (await driver.ioReady(volume, nodeName));
}

/** Whether two pod statuses show the same (times aside). */
function sameShown(a: unknown, b: unknown): boolean {
  const strip = (value: unknown): string =>
    JSON.stringify(value, (key, inner: unknown) =>
      key === 'lastTransitionTime' || key === 'startTime' ? undefined : inner,
    );
  return strip(a) === strip(b);
}

async function updateWorkloadStatus(store: ObjectStore, workload: KubeObject, pods: KubeObject[]): Promise<void> {
  const owned = pods.filter((pod) => ownerUidOf(pod) === workload.metadata.uid);
  const ready = owned.filter((pod) => valueAt(pod, 'status.phase') === 'Running').length;
  const status = {
    observedGeneration: workload.metadata.generation ?? 1,
    replicas: owned.length,
    readyReplicas: ready,
    availableReplicas: ready,
    updatedReplicas: owned.length,
    ...(workload.kind === 'StatefulSet' ? { currentReplicas: owned.length } : {}),
  };
  if (JSON.stringify(workload['status']) === JSON.stringify(status)) return;
  const type: ResourceType = workload.kind === 'StatefulSet' ? STATEFUL_SETS : DEPLOYMENTS;
  try {
    await store.update(
      { type, namespace: workload.metadata.namespace, name: workload.metadata.name },
      { ...workload, status },
      workload.metadata.resourceVersion ?? '',
    );
  } catch (error) {
    // Changed meanwhile (kubectl scale): the next pass counts again.
    if (!(error instanceof KubeError && error.reason === 'Conflict')) throw error;
  }
}
