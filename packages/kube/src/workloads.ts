import { ageOf } from './age.js';
import { stringAt, valueAt, type KubeObject } from './objects.js';
import { STORK_RESOURCES } from './stork.js';
import { AGE_COLUMN, ALL_VERBS, CLUSTER_RESOURCES, column, NAME_COLUMN, type ResourceType } from './resources.js';

/** A number at a path, 0 when missing. */
function countAt(object: KubeObject, path: string): number {
  const value = valueAt(object, path);
  return typeof value === 'number' ? value : 0;
}

/** The containers' names and images, comma-joined (`-o wide`'s Containers and Images columns). */
function containersOf(object: KubeObject, path: string, field: 'name' | 'image'): string {
  const containers = valueAt(object, path);
  if (!Array.isArray(containers)) return '<none>';
  return containers.map((container: unknown) => stringAt(container, field, '')).join(',');
}

/** A pod's Ready column: ready containers / containers. */
function podReady(object: KubeObject): string {
  const statuses = valueAt(object, 'status.containerStatuses');
  const containers = valueAt(object, 'spec.containers');
  const total = Array.isArray(containers) ? containers.length : 0;
  const ready = Array.isArray(statuses)
    ? statuses.filter((status: unknown) => valueAt(status, 'ready') === true).length
    : 0;
  return `${ready}/${total}`;
}

/** A pod's Status column: its reason if it has one (`NodeLost`, `ContainerCreating`), its phase otherwise. */
function podStatus(object: KubeObject): string {
  if (object.metadata['deletionTimestamp'] !== undefined) return 'Terminating';
  return stringAt(object, 'status.reason', stringAt(object, 'status.phase', 'Unknown'));
}

function labelSelectorText(object: KubeObject): string {
  const labels = valueAt(object, 'spec.selector.matchLabels');
  if (labels === null || typeof labels !== 'object') return '<none>';
  return Object.entries(labels as Record<string, unknown>)
    .map(([key, value]) => `${key}=${String(value)}`)
    .join(',');
}

const namespaced = (type: Omit<ResourceType, 'namespaced' | 'verbs' | 'nameRule'>): ResourceType => ({
  ...type,
  namespaced: true,
  verbs: ALL_VERBS,
  nameRule: 'subdomain',
});

export const PODS = namespaced({
  group: '',
  version: 'v1',
  resource: 'pods',
  singular: 'pod',
  kind: 'Pod',
  shortNames: ['po'],
  columns: [
    NAME_COLUMN,
    column('Ready', 0, 'The aggregate readiness state of this pod for accepting traffic.', podReady),
    column('Status', 0, 'The aggregate status of the containers in this pod.', podStatus),
    {
      ...column('Restarts', 0, 'The number of times the containers in this pod have been restarted.', () => 0),
      type: 'string',
    },
    AGE_COLUMN,
    column('IP', 1, 'The IP address assigned to the pod.', (object) => stringAt(object, 'status.podIP')),
    column('Node', 1, 'The name of the node the pod is assigned to.', (object) => stringAt(object, 'spec.nodeName')),
    column('Nominated Node', 1, 'The node the pod is nominated to.', () => '<none>'),
    column('Readiness Gates', 1, 'The readiness gates of the pod.', () => '<none>'),
  ],
});

export const PERSISTENT_VOLUME_CLAIMS = namespaced({
  group: '',
  version: 'v1',
  resource: 'persistentvolumeclaims',
  singular: 'persistentvolumeclaim',
  kind: 'PersistentVolumeClaim',
  shortNames: ['pvc'],
  columns: [
    NAME_COLUMN,
    column('Status', 0, 'The phase of the claim.', (object) => stringAt(object, 'status.phase', 'Pending')),
    column('Volume', 0, 'The volume bound to the claim.', (object) => stringAt(object, 'spec.volumeName', '')),
    column('Capacity', 0, 'The capacity of the bound volume.', (object) =>
      stringAt(object, 'status.capacity.storage', ''),
    ),
    column('Access Modes', 0, 'The access modes of the bound volume.', (object) =>
      accessModes(object, 'status.accessModes'),
    ),
    column('StorageClass', 0, 'The storage class of the claim.', (object) =>
      stringAt(object, 'spec.storageClassName', '<unset>'),
    ),
    column('VolumeAttributesClass', 0, 'The volume attributes class of the claim.', () => '<unset>'),
    AGE_COLUMN,
    column('VolumeMode', 1, 'The volume mode of the claim.', (object) =>
      stringAt(object, 'spec.volumeMode', 'Filesystem'),
    ),
  ],
});

/** `RWO`, `ROX`, `RWX`, `RWOP` as kubectl abbreviates access modes. */
function accessModes(object: KubeObject, path: string): string {
  const modes = valueAt(object, path);
  if (!Array.isArray(modes)) return '';
  const short: Record<string, string> = {
    ReadWriteOnce: 'RWO',
    ReadOnlyMany: 'ROX',
    ReadWriteMany: 'RWX',
    ReadWriteOncePod: 'RWOP',
  };
  return modes.map((mode: unknown) => short[String(mode)] ?? String(mode)).join(',');
}

export const PERSISTENT_VOLUMES: ResourceType = {
  group: '',
  version: 'v1',
  resource: 'persistentvolumes',
  singular: 'persistentvolume',
  kind: 'PersistentVolume',
  namespaced: false,
  shortNames: ['pv'],
  verbs: ALL_VERBS,
  nameRule: 'subdomain',
  columns: [
    NAME_COLUMN,
    column('Capacity', 0, 'The capacity of the volume.', (object) => stringAt(object, 'spec.capacity.storage', '')),
    column('Access Modes', 0, 'The access modes of the volume.', (object) => accessModes(object, 'spec.accessModes')),
    column('Reclaim Policy', 0, 'What happens to the volume when its claim goes.', (object) =>
      stringAt(object, 'spec.persistentVolumeReclaimPolicy', 'Delete'),
    ),
    column('Status', 0, 'The phase of the volume.', (object) => stringAt(object, 'status.phase', 'Pending')),
    column('Claim', 0, 'The claim bound to the volume.', (object) => {
      const namespace = stringAt(object, 'spec.claimRef.namespace', '');
      return namespace === '' ? '' : `${namespace}/${stringAt(object, 'spec.claimRef.name', '')}`;
    }),
    column('StorageClass', 0, 'The storage class of the volume.', (object) =>
      stringAt(object, 'spec.storageClassName', ''),
    ),
    column('VolumeAttributesClass', 0, 'The volume attributes class of the volume.', () => '<unset>'),
    column('Reason', 0, 'Why the volume is in its phase.', (object) => stringAt(object, 'status.reason', '')),
    AGE_COLUMN,
    column('VolumeMode', 1, 'The volume mode of the volume.', (object) =>
      stringAt(object, 'spec.volumeMode', 'Filesystem'),
    ),
  ],
};

/** A workload's Ready column: ready pods / desired. */
const REPLICAS_READY_COLUMN = column(
  'Ready',
  0,
  'Number of the pods ready / desired.',
  (object) => `${countAt(object, 'status.readyReplicas')}/${countAt(object, 'spec.replicas')}`,
);

/** A workload's `-o wide` Containers and Images columns, from its pod template. */
const TEMPLATE_COLUMNS = [
  column('Containers', 1, 'Names of each container in the template.', (object) =>
    containersOf(object, 'spec.template.spec.containers', 'name'),
  ),
  column('Images', 1, 'Images referenced by each container in the template.', (object) =>
    containersOf(object, 'spec.template.spec.containers', 'image'),
  ),
];

export const DEPLOYMENTS: ResourceType = {
  ...namespaced({
    group: 'apps',
    version: 'v1',
    resource: 'deployments',
    singular: 'deployment',
    kind: 'Deployment',
    shortNames: ['deploy'],
    columns: [
      NAME_COLUMN,
      REPLICAS_READY_COLUMN,
      {
        ...column('Up-to-date', 0, 'Pods updated to the template.', () => 0),
        type: 'integer',
        cell: (object) => countAt(object, 'status.updatedReplicas'),
      },
      {
        ...column('Available', 0, 'Pods available.', () => 0),
        type: 'integer',
        cell: (object) => countAt(object, 'status.availableReplicas'),
      },
      AGE_COLUMN,
      ...TEMPLATE_COLUMNS,
      column('Selector', 1, 'Label selector of the pods.', labelSelectorText),
    ],
  }),
  scale: true,
};

export const STATEFUL_SETS: ResourceType = {
  ...namespaced({
    group: 'apps',
    version: 'v1',
    resource: 'statefulsets',
    singular: 'statefulset',
    kind: 'StatefulSet',
    shortNames: ['sts'],
    columns: [NAME_COLUMN, REPLICAS_READY_COLUMN, AGE_COLUMN, ...TEMPLATE_COLUMNS],
  }),
  scale: true,
};

export const EVENTS = namespaced({
  group: '',
  version: 'v1',
  resource: 'events',
  singular: 'event',
  kind: 'Event',
  shortNames: ['ev'],
  columns: [
    column('Last Seen', 0, 'Time since the event was last seen.', (object, nowMs) =>
      ageOf(stringAt(object, 'lastTimestamp', object.metadata.creationTimestamp ?? ''), nowMs),
    ),
    column('Type', 0, 'Normal or Warning.', (object) => stringAt(object, 'type', 'Normal')),
    column('Reason', 0, 'Why the event happened.', (object) => stringAt(object, 'reason', '')),
    column(
      'Object',
      0,
      'The object the event is about.',
      (object) =>
        `${stringAt(object, 'involvedObject.kind', '').toLowerCase()}/${stringAt(object, 'involvedObject.name', '')}`,
    ),
    column('Message', 0, 'What happened.', (object) => stringAt(object, 'message', '')),
  ],
});

export const STORAGE_CLASSES: ResourceType = {
  group: 'storage.k8s.io',
  version: 'v1',
  resource: 'storageclasses',
  singular: 'storageclass',
  kind: 'StorageClass',
  namespaced: false,
  shortNames: ['sc'],
  verbs: ALL_VERBS,
  nameRule: 'subdomain',
  columns: [
    {
      ...NAME_COLUMN,
      cell: (object) =>
        object.metadata.annotations?.['storageclass.kubernetes.io/is-default-class'] === 'true'
          ? `${object.metadata.name} (default)`
          : object.metadata.name,
    },
    column('Provisioner', 0, 'The provisioner of the class.', (object) => stringAt(object, 'provisioner', '')),
    column('ReclaimPolicy', 0, 'What happens to a volume when its claim goes.', (object) =>
      stringAt(object, 'reclaimPolicy', 'Delete'),
    ),
    column('VolumeBindingMode', 0, 'When volumes are bound.', (object) =>
      stringAt(object, 'volumeBindingMode', 'Immediate'),
    ),
    column('AllowVolumeExpansion', 0, 'Whether volumes can grow.', (object) =>
      String(valueAt(object, 'allowVolumeExpansion') === true),
    ),
    AGE_COLUMN,
  ],
};

/** Every resource the API serves (discovery lists them in this order). */
export const RESOURCES: ResourceType[] = [
  ...CLUSTER_RESOURCES,
  PODS,
  PERSISTENT_VOLUME_CLAIMS,
  PERSISTENT_VOLUMES,
  EVENTS,
  DEPLOYMENTS,
  STATEFUL_SETS,
  STORAGE_CLASSES,
  ...STORK_RESOURCES,
];
