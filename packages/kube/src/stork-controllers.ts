import type { Clock } from '@pxsim/runtime';
import { KubeError } from './errors.js';
import { recordEvent } from './events.js';
import { resolveContext } from './kubeconfig.js';
import { stringAt, valueAt, type KubeObject } from './objects.js';
import { HttpKubeApi, type KubeApi } from './remote.js';
import type { ObjectRef, ObjectStore } from './store.js';
import {
  CLUSTER_DOMAIN_UPDATES,
  CLUSTER_DOMAINS_STATUSES,
  CLUSTER_PAIRS,
  clusterDomainsStatusName,
  STORK_API_VERSION,
} from './stork.js';

/** What Stork asks of the storage driver (Portworx): the cluster domains, as the px nodes of this cluster see them. */
export interface StorkDriver {
  /** The storage cluster's ID (the ClusterDomainsStatus is named after it). */
  readonly clusterId: string;
  /** The cluster domain this Kubernetes cluster is. */
  readonly localDomain: string;
  /**
   * Activates or deactivates a cluster domain through a px node of this cluster, as the update `updateName`;
   * rejects with the reason.
   */
  setDomainState(domain: string, active: boolean, updateName: string): Promise<void>;
  /**
   * The ClusterDomainsStatus' status (`active`, `inactive`, `localDomain`, `clusterDomainInfos`); undefined when no
   * px node of this cluster answers.
   */
  domainsStatus(): Promise<Record<string, unknown> | undefined>;
}

/** A client for the Kubernetes cluster a ClusterPair's `spec.config` names. */
export type RemoteCluster = KubeApi & { version(): Promise<unknown> };

export interface StorkDeps {
  clock: Clock;
  driver: StorkDriver;
  /** The remote cluster of a pair's config, or why there is none (default: over HTTP, from the config's context). */
  remote?(config: unknown): RemoteCluster | { problem: string };
  /** The namespace whose Migrations may name other namespaces (stork's `--admin-namespace`, default kube-system). */
  adminNamespace?: string;
}

export const STORK_COMPONENT = 'stork';

/** Another cluster's store seen as a remote cluster, answering `/version` (the virtual-time simulator's pairs). */
export function storeAsRemote(store: ObjectStore): RemoteCluster {
  return {
    get: (ref) => store.get(ref),
    list: (type, namespace) => store.list(type, namespace),
    create: (ref, object) => store.create(ref, object),
    update: (ref, object, version) => store.update(ref, object, version),
    delete: (ref) => store.delete(ref),
    version: () => Promise.resolve({ major: '1', minor: '32' }),
  };
}

/** The remote cluster a kubeconfig (either shape) names, over HTTP. */
export function remoteOverHttp(config: unknown): RemoteCluster | { problem: string } {
  const resolved = resolveContext(config);
  if (!resolved.ok) return { problem: resolved.problem };
  try {
    return new HttpKubeApi(resolved.server, 5000);
  } catch (error) {
    return { problem: (error as Error).message };
  }
}

export function refOf(type: ObjectRef['type'], object: KubeObject): ObjectRef {
  return { type, namespace: object.metadata.namespace, name: object.metadata.name };
}

/** Writes `status` if it differs from the object's; a conflict or a deleted object leaves it to the next pass. */
export async function writeStatus(
  store: ObjectStore,
  ref: ObjectRef,
  object: KubeObject,
  status: Record<string, unknown>,
): Promise<KubeObject | undefined> {
  if (JSON.stringify(object['status']) === JSON.stringify(status)) return object;
  try {
    return await store.update(ref, { ...object, status }, object.metadata.resourceVersion ?? '');
  } catch (error) {
    if (error instanceof KubeError && (error.reason === 'Conflict' || error.reason === 'NotFound')) return undefined;
    throw error;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Stork's ClusterDomainUpdate controller: an update whose status is empty (or Pending, when a pass stopped half-way)
 * is marked Pending, carried out through the driver, then marked `Successful`, or `Failed` with the reason
 * `unable to <activate|deactivate> cluster domain: <why>` and a Warning event. A finished update is never run again.
 */
export async function reconcileClusterDomainUpdates(store: ObjectStore, deps: StorkDeps): Promise<void> {
  const { items } = await store.list(CLUSTER_DOMAIN_UPDATES, undefined);
  for (const update of items) {
    const state = stringAt(update, 'status.status', '');
    if (state === 'Successful' || state === 'Failed') continue;
    const domain = valueAt(update, 'spec.clusterdomain');
    const active = valueAt(update, 'spec.active');
    const action = active === true ? 'activate' : 'deactivate';
    const done = await carryOut(store, deps, update, { domain, active, action });
    if (done === undefined) continue;
    const message =
      done.outcome.status === 'Failed' ? done.outcome.reason : `cluster domain ${String(domain)} ${action}d`;
    await recordEvent(
      store,
      done.written,
      {
        type: done.outcome.status === 'Failed' ? 'Warning' : 'Normal',
        reason: done.outcome.status,
        message,
        component: STORK_COMPONENT,
      },
      deps.clock.nowMs(),
    );
  }
}

/** One update: Pending, the driver's call, the outcome written (undefined when a write lost a race). */
async function carryOut(
  store: ObjectStore,
  deps: StorkDeps,
  update: KubeObject,
  spec: { domain: unknown; active: unknown; action: string },
): Promise<{ outcome: { status: string; reason: string }; written: KubeObject } | undefined> {
  const ref = refOf(CLUSTER_DOMAIN_UPDATES, update);
  const { domain, active, action } = spec;
  if (typeof domain !== 'string' || domain === '' || typeof active !== 'boolean') {
    const outcome = {
      status: 'Failed',
      reason: `unable to ${action} cluster domain: spec.clusterdomain must name a domain and spec.active be true or false`,
    };
    const written = await writeStatus(store, ref, update, outcome);
    return written === undefined ? undefined : { outcome, written };
  }
  const pending = await writeStatus(store, ref, update, { status: 'Pending', reason: '' });
  if (pending === undefined) return undefined;
  let outcome: { status: string; reason: string };
  try {
    await deps.driver.setDomainState(domain, active, update.metadata.name);
    outcome = { status: 'Successful', reason: '' };
  } catch (error) {
    outcome = { status: 'Failed', reason: `unable to ${action} cluster domain: ${messageOf(error)}` };
  }
  const written = await writeStatus(store, ref, pending, outcome);
  return written === undefined ? undefined : { outcome, written };
}

/** Stork's ClusterDomainsStatus controller: one object named after the cluster ID, its status the driver's view. */
export async function reconcileClusterDomainsStatus(store: ObjectStore, deps: StorkDeps): Promise<void> {
  const status = await deps.driver.domainsStatus();
  if (status === undefined) return;
  const ref: ObjectRef = {
    type: CLUSTER_DOMAINS_STATUSES,
    namespace: undefined,
    name: clusterDomainsStatusName(deps.driver.clusterId),
  };
  let object: KubeObject;
  try {
    object = await store.get(ref);
  } catch (error) {
    if (!(error instanceof KubeError && error.reason === 'NotFound')) throw error;
    await store.create(ref, {
      apiVersion: STORK_API_VERSION,
      kind: 'ClusterDomainsStatus',
      metadata: { name: ref.name },
      status,
    });
    return;
  }
  await writeStatus(store, ref, object, status);
}

/** The storage side of a pair: none in a metro cluster (one fabric), so options make it an Error with the reason. */
function storageStatusOf(pair: KubeObject): { status: string; problem?: string } {
  const options = valueAt(pair, 'spec.options');
  const keys = options !== null && typeof options === 'object' ? Object.keys(options) : [];
  if (keys.length === 0) return { status: 'NotProvided' };
  return {
    status: 'Error',
    problem:
      `storage pairing options given (${keys.sort().join(', ')}), but pxsim's metro cluster is one storage fabric ` +
      'stretched over both domains and pairs no storage: remove spec.options (the insert_storage_options_here line)',
  };
}

/**
 * Stork's ClusterPair controller: `storageStatus` NotProvided (metro, no options) or Error; `schedulerStatus` Ready
 * when the remote API answers, Error (with a Warning event naming why) when it does not.
 */
export async function reconcileClusterPairs(store: ObjectStore, deps: StorkDeps): Promise<void> {
  const { items } = await store.list(CLUSTER_PAIRS, undefined);
  const remoteOf = (config: unknown): RemoteCluster | { problem: string } =>
    deps.remote === undefined ? remoteOverHttp(config) : deps.remote(config);
  for (const pair of items) {
    const storage = storageStatusOf(pair);
    let schedulerStatus = 'Ready';
    let schedulerProblem: string | undefined;
    const remote = remoteOf(valueAt(pair, 'spec.config'));
    if ('problem' in remote) {
      schedulerStatus = 'Error';
      schedulerProblem = `Error getting remote config: ${remote.problem}`;
    } else {
      try {
        await remote.version();
      } catch (error) {
        schedulerStatus = 'Error';
        schedulerProblem = `Error connecting to the remote cluster: ${messageOf(error)}`;
      }
    }
    const status = { remoteStorageId: '', schedulerStatus, storageStatus: storage.status };
    const before = stringAt(pair, 'status.schedulerStatus', '') + stringAt(pair, 'status.storageStatus', '');
    const written = await writeStatus(store, refOf(CLUSTER_PAIRS, pair), pair, status);
    if (written === undefined || before === schedulerStatus + storage.status) continue;
    const nowMs = deps.clock.nowMs();
    for (const problem of [schedulerProblem, storage.problem]) {
      if (problem !== undefined)
        await recordEvent(
          store,
          written,
          { type: 'Warning', reason: 'Error', message: problem, component: STORK_COMPONENT },
          nowMs,
        );
    }
    if (schedulerStatus === 'Ready')
      await recordEvent(
        store,
        written,
        { type: 'Normal', reason: 'Ready', message: 'Scheduler successfully paired', component: STORK_COMPONENT },
        nowMs,
      );
  }
}
