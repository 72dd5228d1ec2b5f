import { KubeError } from './errors.js';
import { recordEvent, timestampOf } from './events.js';
import { stringAt, valueAt, type KubeObject } from './objects.js';
import { NAMESPACES, type ResourceType } from './resources.js';
import type { ObjectStore } from './store.js';
import {
  CLUSTER_PAIRS,
  LEGACY_MIGRATION_REPLICAS_ANNOTATION,
  MIGRATED_LABEL,
  MIGRATION_REPLICAS_ANNOTATION,
  MIGRATIONS,
} from './stork.js';
import type { KubeApi } from './remote.js';
import {
  refOf,
  remoteOverHttp,
  STORK_COMPONENT,
  writeStatus,
  type RemoteCluster,
  type StorkDeps,
} from './stork-controllers.js';
import { DEPLOYMENTS, PERSISTENT_VOLUME_CLAIMS, PERSISTENT_VOLUMES, STATEFUL_SETS } from './workloads.js';

/** A resource a migration moves, as its status lists it. */
interface ResourceInfo {
  name: string;
  namespace: string;
  group: string;
  version: string;
  kind: string;
  status: string;
  reason: string;
}

/** Why a migration cannot go on: `fail` ends it (Final, Failed); `wait` leaves it for a later pass. */
type Stop = { fail: string } | { wait: string };

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Stork's Migration controller, as one pass over the Migrations not yet Final. Stages `"" → Applications → Final`: a
 * metro pair provides no storage (`NotProvided`, one fabric spans both clusters), so there are no volumes to move
 * whatever `includeVolumes` says, and a pair whose storage is in Error fails a migration that includes volumes. The
 * Applications stage copies the namespaces' claims, their volumes, Deployments and StatefulSets to the paired cluster,
 * without status and with only name, namespace, labels and annotations of their metadata, labelled migrated; with
 * `startApplications: false` a workload arrives with 0 replicas and the source's count in an annotation. An object
 * already on the destination is replaced (claims and volumes are kept). Fails while the local domain is Inactive.
 */
export async function reconcileMigrations(store: ObjectStore, deps: StorkDeps): Promise<void> {
  const { items } = await store.list(MIGRATIONS, undefined);
  for (const migration of items) {
    if (stringAt(migration, 'status.stage', '') === 'Final') continue;
    const stop = await precondition(store, deps, migration);
    if (stop !== undefined && 'fail' in stop) {
      await finish(store, deps, migration, { stage: 'Final', status: 'Failed', resources: [], volumes: [] }, stop.fail);
      continue;
    }
    if (stop !== undefined) {
      await writeStatus(store, refOf(MIGRATIONS, migration), migration, {
        stage: '',
        status: 'Pending',
        resources: [],
        volumes: [],
      });
      await recordEvent(
        store,
        migration,
        { type: 'Warning', reason: 'Failed', message: stop.wait, component: STORK_COMPONENT },
        deps.clock.nowMs(),
      );
      continue;
    }
    if (valueAt(migration, 'spec.includeResources') === false) {
      await finish(store, deps, migration, { stage: 'Final', status: 'Successful', resources: [], volumes: [] });
      continue;
    }
    const started = await writeStatus(store, refOf(MIGRATIONS, migration), migration, {
      stage: 'Applications',
      status: 'InProgress',
      resources: [],
      volumes: [],
    });
    if (started === undefined) continue;
    await migrateResources(store, deps, started);
  }
}

async function localDomainInactive(deps: StorkDeps): Promise<boolean> {
  const status = await deps.driver.domainsStatus();
  const inactive = status?.['inactive'];
  return Array.isArray(inactive) && inactive.includes(deps.driver.localDomain);
}

function namespacesOf(migration: KubeObject): string[] {
  const namespaces = valueAt(migration, 'spec.namespaces');
  return Array.isArray(namespaces) ? namespaces.filter((name): name is string => typeof name === 'string') : [];
}

/** What must hold before a migration runs; undefined when everything does. */
async function precondition(store: ObjectStore, deps: StorkDeps, migration: KubeObject): Promise<Stop | undefined> {
  const pairName = valueAt(migration, 'spec.clusterPair');
  if (typeof pairName !== 'string' || pairName === '') return { fail: 'clusterPair to migrate to cannot be empty' };
  if (await localDomainInactive(deps)) return { fail: 'Failing migration since local clusterdomain is inactive' };
  const namespaces = namespacesOf(migration);
  if (namespaces.length === 0) return { fail: 'Spec.Namespaces must name at least one namespace' };
  if (migration.metadata.namespace !== (deps.adminNamespace ?? 'kube-system')) {
    if (namespaces.some((namespace) => namespace !== migration.metadata.namespace))
      return { fail: 'Spec.Namespaces should only contain the current namespace' };
  }
  for (const namespace of namespaces) {
    try {
      await store.get({ type: NAMESPACES, namespace: undefined, name: namespace });
    } catch (error) {
      if (error instanceof KubeError && error.reason === 'NotFound')
        return { fail: `Error getting namespace ${namespace}: ${error.message}` };
      throw error;
    }
  }
  let pair: KubeObject;
  try {
    pair = await store.get({ type: CLUSTER_PAIRS, namespace: migration.metadata.namespace, name: pairName });
  } catch (error) {
    if (error instanceof KubeError && error.reason === 'NotFound')
      return { wait: `Error getting clusterpair ${pairName}: ${error.message}` };
    throw error;
  }
  // Metro: the pair provides no storage (NotProvided) because both clusters share the volumes; there are none to move.
  const storage = stringAt(pair, 'status.storageStatus', 'Pending');
  if (valueAt(migration, 'spec.includeVolumes') !== false && !['Ready', 'NotProvided'].includes(storage))
    return { fail: `Storage Cluster pair is not ready. Status: ${storage}` };
  const scheduler = stringAt(pair, 'status.schedulerStatus', 'Pending');
  if (scheduler !== 'Ready') return { wait: `Scheduler Cluster pair is not ready. Status: ${scheduler}` };
  return undefined;
}

async function finish(
  store: ObjectStore,
  deps: StorkDeps,
  migration: KubeObject,
  status: Record<string, unknown>,
  failure?: string,
): Promise<void> {
  const nowMs = deps.clock.nowMs();
  const written = await writeStatus(store, refOf(MIGRATIONS, migration), migration, {
    ...status,
    finishTimestamp: timestampOf(nowMs),
  });
  if (written === undefined) return;
  const event =
    failure === undefined
      ? { type: 'Normal' as const, reason: String(status['status']), message: 'Migration finished' }
      : { type: 'Warning' as const, reason: 'Failed', message: failure };
  await recordEvent(store, written, { ...event, component: STORK_COMPONENT }, nowMs);
}

/** The objects of the namespaces a migration moves: bound claims, their volumes, the workloads. */
async function collect(
  store: ObjectStore,
  namespaces: string[],
): Promise<Array<{ type: ResourceType; object: KubeObject }>> {
  const found: Array<{ type: ResourceType; object: KubeObject }> = [];
  const boundClaims = new Set<string>();
  for (const namespace of namespaces) {
    for (const claim of (await store.list(PERSISTENT_VOLUME_CLAIMS, namespace)).items) {
      if (stringAt(claim, 'status.phase', '') !== 'Bound') continue;
      boundClaims.add(`${namespace}/${claim.metadata.name}`);
      found.push({ type: PERSISTENT_VOLUME_CLAIMS, object: claim });
    }
  }
  for (const volume of (await store.list(PERSISTENT_VOLUMES, undefined)).items) {
    const claim = `${stringAt(volume, 'spec.claimRef.namespace', '')}/${stringAt(volume, 'spec.claimRef.name', '')}`;
    if (stringAt(volume, 'status.phase', '') === 'Bound' && boundClaims.has(claim))
      found.push({ type: PERSISTENT_VOLUMES, object: volume });
  }
  for (const namespace of namespaces) {
    for (const type of [DEPLOYMENTS, STATEFUL_SETS])
      for (const object of (await store.list(type, namespace)).items) found.push({ type, object });
  }
  return found;
}

/** The object as the destination gets it (stork's prepareResources). */
function prepared(type: ResourceType, object: KubeObject, startApplications: boolean): KubeObject {
  const { name, namespace, labels, annotations } = object.metadata;
  const metadata = {
    name,
    ...(namespace === undefined ? {} : { namespace }),
    labels: { ...labels, [MIGRATED_LABEL]: 'true' },
    ...(annotations === undefined ? {} : { annotations: { ...annotations } }),
  };
  const rest: KubeObject = { ...object };
  delete rest['status'];
  const spec = { ...(object['spec'] as Record<string, unknown> | undefined) };
  if (type === PERSISTENT_VOLUMES) delete spec['claimRef'];
  if ((type === DEPLOYMENTS || type === STATEFUL_SETS) && !startApplications) {
    const replicas = typeof spec['replicas'] === 'number' ? spec['replicas'] : 1;
    metadata.annotations = { ...metadata.annotations, [MIGRATION_REPLICAS_ANNOTATION]: String(replicas) };
    spec['replicas'] = 0;
  }
  return { ...rest, metadata, spec };
}

function infoOf(type: ResourceType, object: KubeObject): ResourceInfo {
  return {
    name: object.metadata.name,
    namespace: object.metadata.namespace ?? '',
    group: type.group === '' ? 'core' : type.group,
    version: type.version,
    kind: type.kind,
    status: 'InProgress',
    reason: '',
  };
}

async function migrateResources(store: ObjectStore, deps: StorkDeps, migration: KubeObject): Promise<void> {
  const pairName = stringAt(migration, 'spec.clusterPair', '');
  const pair = await store.get({ type: CLUSTER_PAIRS, namespace: migration.metadata.namespace, name: pairName });
  const config = valueAt(pair, 'spec.config');
  const remote = deps.remote === undefined ? remoteOverHttp(config) : deps.remote(config);
  const objects = await collect(store, namespacesOf(migration));
  const resources = objects.map(({ type, object }) => infoOf(type, object));
  if ('problem' in remote) {
    const status = { stage: 'Final', status: 'Failed', resources, volumes: [] };
    await finish(store, deps, migration, status, `Error getting remote config: ${remote.problem}`);
    return;
  }
  const startApplications = valueAt(migration, 'spec.startApplications') === true;
  try {
    await ensureNamespaces(store, remote, namespacesOf(migration));
  } catch (error) {
    const status = { stage: 'Final', status: 'Failed', resources, volumes: [] };
    await finish(store, deps, migration, status, `Error applying resources: ${messageOf(error)}`);
    return;
  }
  for (const [index, { type, object }] of objects.entries()) {
    const info = resources[index];
    if (info === undefined) continue;
    try {
      await applyRemote(remote, type, prepared(type, object, startApplications));
      info.status = 'Successful';
      info.reason = 'Resource migrated successfully';
    } catch (error) {
      info.status = 'Failed';
      info.reason = `Error applying resource: ${messageOf(error)}`;
    }
  }
  const allGood = resources.every((info) => info.status === 'Successful');
  await finish(store, deps, migration, {
    stage: 'Final',
    status: allGood ? 'Successful' : 'PartialSuccess',
    resources,
    volumes: [],
  });
}

async function ensureNamespaces(store: ObjectStore, remote: RemoteCluster, namespaces: string[]): Promise<void> {
  for (const name of namespaces) {
    const ref = { type: NAMESPACES, namespace: undefined, name };
    try {
      await remote.get(ref);
      continue;
    } catch (error) {
      if (!(error instanceof KubeError && error.reason === 'NotFound')) throw error;
    }
    const local = await store.get(ref);
    try {
      await remote.create(ref, {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name, ...(local.metadata.labels === undefined ? {} : { labels: local.metadata.labels }) },
      });
    } catch (error) {
      if (!(error instanceof KubeError && error.reason === 'AlreadyExists')) throw error;
    }
  }
}

/** Creates the object on the destination; one already there is replaced, except claims and volumes, which stay. */
async function applyRemote(remote: RemoteCluster, type: ResourceType, object: KubeObject): Promise<void> {
  const ref = { type, namespace: object.metadata.namespace, name: object.metadata.name };
  try {
    await remote.create(ref, object);
  } catch (error) {
    if (!(error instanceof KubeError && error.reason === 'AlreadyExists')) throw error;
    if (type === PERSISTENT_VOLUME_CLAIMS || type === PERSISTENT_VOLUMES) return;
    await remote.delete(ref);
    await remote.create(ref, object);
  }
}

/** The replica count a migrated application had on its source, if it is a migrated one. */
function migrationReplicas(object: KubeObject): number | undefined {
  const annotations = object.metadata.annotations ?? {};
  const value = annotations[MIGRATION_REPLICAS_ANNOTATION] ?? annotations[LEGACY_MIGRATION_REPLICAS_ANNOTATION];
  const count = Number(value);
  return value === undefined || !Number.isInteger(count) || count < 0 ? undefined : count;
}

/**
 * `storkctl activate|deactivate migrations`: every migrated Deployment and StatefulSet of the namespace (all of them:
 * undefined) scaled to the replica count annotated from its source, or to 0. What was changed, in order.
 */
export async function scaleMigratedApplications(
  api: KubeApi,
  namespace: string | undefined,
  action: 'activate' | 'deactivate',
): Promise<Array<{ kind: 'deployment' | 'statefulset'; namespace: string; name: string; replicas: number }>> {
  const changed: Array<{ kind: 'deployment' | 'statefulset'; namespace: string; name: string; replicas: number }> = [];
  for (const [type, kind] of [
    [DEPLOYMENTS, 'deployment'],
    [STATEFUL_SETS, 'statefulset'],
  ] as const) {
    for (const object of (await api.list(type, namespace)).items) {
      const wanted = migrationReplicas(object);
      if (wanted === undefined) continue;
      const replicas = action === 'activate' ? wanted : 0;
      const ref = { type, namespace: object.metadata.namespace, name: object.metadata.name };
      const spec = { ...(object['spec'] as Record<string, unknown> | undefined), replicas };
      await api.update(ref, { ...object, spec }, object.metadata.resourceVersion ?? '');
      changed.push({ kind, namespace: ref.namespace ?? '', name: ref.name, replicas });
    }
  }
  return changed;
}
