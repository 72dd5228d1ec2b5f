import { KubeError } from './errors.js';
import { stringAt, valueAt, type KubeObject } from './objects.js';
import type { ObjectStore } from './store.js';
import { PERSISTENT_VOLUME_CLAIMS, PERSISTENT_VOLUMES, STORAGE_CLASSES } from './workloads.js';

/** The storage behind the claims: pxsim's volumes, through the px nodes of the cluster. */
export interface VolumeDriver {
  /** Creates a volume of `sizeGiB` with `repl` replicas; its ID, or why not. */
  create(request: {
    name: string;
    sizeGiB: number;
    repl: number;
  }): Promise<{ ok: true; id: string } | { ok: false; reason: string }>;
  /** The Kubernetes nodes whose px nodes hold an up-to-date replica of the volume (where it can be attached). */
  replicaNodes(volumeName: string): Promise<string[]>;
  /** Attaches the volume on the px node behind Kubernetes node `nodeName` (already there: ok). */
  attach(volumeName: string, nodeName: string): Promise<{ ok: true } | { ok: false; reason: string }>;
  /** The node of this cluster the volume is attached on; undefined when it is not attached in this cluster. */
  attachedOn?(volumeName: string): Promise<string | undefined>;
  /**
   * Whether the volume serves I/O on the px node behind `nodeName` as that node sees it (attached there and open: what
   * the application's reads and writes need); a Running pod whose volume does not must attach again.
   */
  ioReady?(volumeName: string, nodeName: string): Promise<boolean>;
  /** Detaches the volume from the px node behind Kubernetes node `nodeName`. */
  detach?(volumeName: string, nodeName: string): Promise<{ ok: true } | { ok: false; reason: string }>;
}

/** The provisioners that make pxsim volumes: Portworx's CSI driver and its in-tree name. */
export const PORTWORX_PROVISIONERS = ['pxd.portworx.com', 'kubernetes.io/portworx-volume'];

/** The class Portworx installs as the cluster's default (2 replicas: one per domain in a metro cluster). */
export const DEFAULT_STORAGE_CLASS: KubeObject = {
  apiVersion: 'storage.k8s.io/v1',
  kind: 'StorageClass',
  metadata: { name: 'px-csi-replicated', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
  provisioner: 'pxd.portworx.com',
  parameters: { repl: '2' },
  reclaimPolicy: 'Delete',
  volumeBindingMode: 'Immediate',
  allowVolumeExpansion: true,
};

/** Creates the default class if the cluster has none of that name (at a new cluster's first start). */
export async function ensureDefaultStorageClass(store: ObjectStore): Promise<void> {
  try {
    await store.create(
      { type: STORAGE_CLASSES, namespace: undefined, name: DEFAULT_STORAGE_CLASS.metadata.name },
      DEFAULT_STORAGE_CLASS,
    );
  } catch (error) {
    if (!(error instanceof KubeError && error.reason === 'AlreadyExists')) throw error;
  }
}

/** `1Gi`, `500Mi`, `2G`, … as whole GiB, rounded up (pxsim volumes are sized in GiB); undefined if unreadable. */
export function gibOf(quantity: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|K|M|G|T)?$/.exec(quantity.trim());
  if (match === null) return undefined;
  const units: Record<string, number> = {
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
    K: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
  };
  const bytes = Number(match[1]) * (units[match[2] ?? ''] ?? 1);
  return Math.max(1, Math.ceil(bytes / 2 ** 30));
}

async function classOf(store: ObjectStore, claim: KubeObject): Promise<KubeObject | undefined> {
  const { items } = await store.list(STORAGE_CLASSES, undefined);
  const wanted = valueAt(claim, 'spec.storageClassName');
  if (typeof wanted === 'string') return items.find((item) => item.metadata.name === wanted);
  return items.find((item) => item.metadata.annotations?.['storageclass.kubernetes.io/is-default-class'] === 'true');
}

/**
 * The Portworx provisioner, as one pass: every Pending claim of a Portworx class gets a pxsim volume (`pvc-<uid>`,
 * its size in GiB rounded up, the class's `repl`), a PersistentVolume for it, and is Bound to it. A claim whose size
 * cannot be read, or that the driver refuses (no quorum, no placement), stays Pending with the reason in its status
 * until a later pass succeeds.
 */
export async function reconcileClaims(store: ObjectStore, driver: VolumeDriver): Promise<void> {
  const { items } = await store.list(PERSISTENT_VOLUME_CLAIMS, undefined);
  for (const claim of items) {
    if (stringAt(claim, 'status.phase', 'Pending') !== 'Pending') continue;
    const volumeName = valueAt(claim, 'spec.volumeName');
    if (typeof volumeName === 'string' && volumeName !== '') {
      await bindToVolume(store, claim, volumeName);
      continue;
    }
    const storageClass = await classOf(store, claim);
    if (storageClass === undefined || !PORTWORX_PROVISIONERS.includes(stringAt(storageClass, 'provisioner', '')))
      continue;
    const size = stringAt(claim, 'spec.resources.requests.storage', '');
    const sizeGiB = gibOf(size);
    const repl = Number(stringAt(storageClass, 'parameters.repl', '1'));
    const name = `pvc-${claim.metadata.uid ?? claim.metadata.name}`;
    const created =
      sizeGiB === undefined
        ? { ok: false as const, reason: `storage request ${JSON.stringify(size)} is not a quantity` }
        : await driver.create({ name, sizeGiB, repl: [1, 2, 3].includes(repl) ? repl : 1 });
    if (!created.ok) {
      await pending(store, claim, created.reason);
      continue;
    }
    await bind(store, claim, storageClass, name, sizeGiB ?? 1);
  }
}

async function pending(store: ObjectStore, claim: KubeObject, reason: string): Promise<void> {
  const status = { phase: 'Pending', conditions: [{ type: 'Provisioning', status: 'False', message: reason }] };
  if (JSON.stringify(claim['status']) === JSON.stringify(status)) return;
  await ignoringConflict(() => store.update(refOf(claim), { ...claim, status }, claim.metadata.resourceVersion ?? ''));
}

function refOf(claim: KubeObject) {
  return { type: PERSISTENT_VOLUME_CLAIMS, namespace: claim.metadata.namespace, name: claim.metadata.name };
}

async function bind(
  store: ObjectStore,
  claim: KubeObject,
  storageClass: KubeObject,
  name: string,
  sizeGiB: number,
): Promise<void> {
  const accessModes = valueAt(claim, 'spec.accessModes') ?? ['ReadWriteOnce'];
  const capacity = { storage: `${sizeGiB}Gi` };
  try {
    await store.create(
      { type: PERSISTENT_VOLUMES, namespace: undefined, name },
      {
        apiVersion: 'v1',
        kind: 'PersistentVolume',
        metadata: {
          name,
          annotations: { 'pv.kubernetes.io/provisioned-by': stringAt(storageClass, 'provisioner', '') },
        },
        spec: {
          capacity,
          accessModes,
          persistentVolumeReclaimPolicy: stringAt(storageClass, 'reclaimPolicy', 'Delete'),
          storageClassName: storageClass.metadata.name,
          claimRef: {
            kind: 'PersistentVolumeClaim',
            namespace: claim.metadata.namespace,
            name: claim.metadata.name,
            uid: claim.metadata.uid,
          },
          csi: { driver: 'pxd.portworx.com', volumeHandle: name },
        },
        status: { phase: 'Bound' },
      },
    );
  } catch (error) {
    if (!(error instanceof KubeError && error.reason === 'AlreadyExists')) throw error;
  }
  const spec = { ...(claim['spec'] as object), volumeName: name, storageClassName: storageClass.metadata.name };
  await ignoringConflict(() =>
    store.update(
      refOf(claim),
      { ...claim, spec, status: { phase: 'Bound', accessModes, capacity } },
      claim.metadata.resourceVersion ?? '',
    ),
  );
}

/**
 * A claim that names its volume (`spec.volumeName`, as a migrated claim does) is bound to that PersistentVolume if
 * it is free or already claimed by this claim; otherwise it stays Pending saying why.
 */
async function bindToVolume(store: ObjectStore, claim: KubeObject, volumeName: string): Promise<void> {
  let volume: KubeObject;
  try {
    volume = await store.get({ type: PERSISTENT_VOLUMES, namespace: undefined, name: volumeName });
  } catch (error) {
    if (!(error instanceof KubeError && error.reason === 'NotFound')) throw error;
    await pending(store, claim, `volume "${volumeName}" not found`);
    return;
  }
  const holder = `${stringAt(volume, 'spec.claimRef.namespace', '')}/${stringAt(volume, 'spec.claimRef.name', '')}`;
  const mine = `${claim.metadata.namespace ?? ''}/${claim.metadata.name}`;
  if (holder !== '/' && holder !== mine) {
    await pending(store, claim, `volume "${volumeName}" is already bound to claim ${holder}`);
    return;
  }
  const claimRef = {
    kind: 'PersistentVolumeClaim',
    namespace: claim.metadata.namespace,
    name: claim.metadata.name,
    uid: claim.metadata.uid,
  };
  const spec = { ...(volume['spec'] as object), claimRef };
  await ignoringConflict(() =>
    store.update(
      { type: PERSISTENT_VOLUMES, namespace: undefined, name: volumeName },
      { ...volume, spec, status: { phase: 'Bound' } },
      volume.metadata.resourceVersion ?? '',
    ),
  );
  const accessModes = valueAt(claim, 'spec.accessModes') ?? valueAt(volume, 'spec.accessModes') ?? ['ReadWriteOnce'];
  const capacity = valueAt(volume, 'spec.capacity') ?? {};
  await ignoringConflict(() =>
    store.update(
      refOf(claim),
      { ...claim, status: { phase: 'Bound', accessModes, capacity } },
      claim.metadata.resourceVersion ?? '',
    ),
  );
}

async function ignoringConflict(write: () => Promise<unknown>): Promise<void> {
  try {
    await write();
  } catch (error) {
    if (!(error instanceof KubeError && (error.reason === 'Conflict' || error.reason === 'NotFound'))) throw error;
  }
}

/** The pxsim volumes a pod's claims are bound to; `waiting` names a claim that is not Bound (yet). */
export async function podVolumes(
  store: ObjectStore,
  pod: KubeObject,
): Promise<{ volumes: string[]; waiting?: string }> {
  const volumes = valueAt(pod, 'spec.volumes');
  const names: string[] = [];
  if (!Array.isArray(volumes)) return { volumes: names };
  for (const volume of volumes) {
    const claimName = valueAt(volume, 'persistentVolumeClaim.claimName');
    if (typeof claimName !== 'string') continue;
    try {
      const claim = await store.get({
        type: PERSISTENT_VOLUME_CLAIMS,
        namespace: pod.metadata.namespace,
        name: claimName,
      });
      const bound = valueAt(claim, 'spec.volumeName');
      if (stringAt(claim, 'status.phase', '') !== 'Bound' || typeof bound !== 'string')
        return { volumes: names, waiting: claimName };
      names.push(bound);
    } catch (error) {
      if (error instanceof KubeError && error.reason === 'NotFound') return { volumes: names, waiting: claimName };
      throw error;
    }
  }
  return { volumes: names };
}

/**
 * The attach/detach controller's other half: a volume of this cluster's PersistentVolumes that is attached on one of
 * its nodes while no pod placed on that node uses it is detached (a pod scaled down, deleted or moved), so that the
 * volume can be attached where it is wanted next, in this cluster or the paired one.
 */
export async function releaseVolumes(store: ObjectStore, driver: VolumeDriver, pods: KubeObject[]): Promise<void> {
  if (driver.attachedOn === undefined || driver.detach === undefined) return;
  const wanted = new Set<string>();
  for (const pod of pods) {
    const nodeName = valueAt(pod, 'spec.nodeName');
    if (typeof nodeName !== 'string') continue;
    for (const volume of (await podVolumes(store, pod)).volumes) wanted.add(`${volume}@${nodeName}`);
  }
  for (const volume of (await store.list(PERSISTENT_VOLUMES, undefined)).items) {
    const name = stringAt(volume, 'spec.csi.volumeHandle', volume.metadata.name);
    const node = await driver.attachedOn(name);
    if (node === undefined || wanted.has(`${name}@${node}`)) continue;
    await driver.detach(name, node);
  }
}
