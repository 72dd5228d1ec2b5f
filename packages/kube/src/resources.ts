import { ageOf } from './age.js';
import { stringAt, valueAt, type KubeObject } from './objects.js';

/** A column of a resource's server-side table (`kubectl get`); priority 1 shows only with `-o wide`. */
export interface Column {
  name: string;
  type: 'string' | 'integer' | 'date';
  format?: string;
  description: string;
  priority: 0 | 1;
  cell(object: KubeObject, nowMs: number): string | number;
}

/** One kind of object the API serves, as discovery describes it, with its table. */
export interface ResourceType {
  /** '' for the core group (`/api/v1`). */
  group: string;
  version: string;
  /** The plural, lowercase name in paths (`nodes`). */
  resource: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  shortNames: string[];
  verbs: string[];
  /** The rule every name of this kind follows. */
  nameRule: 'label' | 'subdomain';
  /** Its `scale` subresource (autoscaling/v1 Scale over `spec.replicas`), for `kubectl scale`. */
  scale?: boolean;
  /** What the API server fills in on create (defaults, status), if anything. */
  prepare?(object: KubeObject): KubeObject;
  columns: Column[];
}

export const ALL_VERBS = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];

export const NAME_COLUMN: Column = {
  name: 'Name',
  type: 'string',
  format: 'name',
  description:
    'Name must be unique within a namespace. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names',
  priority: 0,
  cell: (object) => object.metadata.name,
};

export const AGE_COLUMN: Column = {
  name: 'Age',
  type: 'string',
  description:
    'CreationTimestamp is a timestamp representing the server time when this object was created. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata',
  priority: 0,
  cell: (object, nowMs) => ageOf(object.metadata.creationTimestamp, nowMs),
};

/** `Ready` or `NotReady` from the node's Ready condition (`Unknown` when it has none). */
function nodeReadiness(object: KubeObject): string {
  const conditions = valueAt(object, 'status.conditions');
  if (!Array.isArray(conditions)) return 'Unknown';
  const ready: unknown = conditions.find((condition: unknown) => stringAt(condition, 'type', '') === 'Ready');
  if (ready === undefined) return 'Unknown';
  return stringAt(ready, 'status', '') === 'True' ? 'Ready' : 'NotReady';
}

/** The roles from `node-role.kubernetes.io/<role>` labels, `<none>` without any. */
function nodeRoles(object: KubeObject): string {
  const prefix = 'node-role.kubernetes.io/';
  const roles = Object.keys(object.metadata.labels ?? {})
    .filter((label) => label.startsWith(prefix))
    .map((label) => label.slice(prefix.length))
    .sort();
  return roles.length === 0 ? '<none>' : roles.join(',');
}

/** The first address of a type in `status.addresses`, `<none>` without one. */
function nodeAddress(object: KubeObject, type: string): string {
  const addresses = valueAt(object, 'status.addresses');
  if (!Array.isArray(addresses)) return '<none>';
  const address: unknown = addresses.find((candidate: unknown) => stringAt(candidate, 'type', '') === type);
  return address === undefined ? '<none>' : stringAt(address, 'address');
}

export function column(name: string, priority: 0 | 1, description: string, cell: Column['cell']): Column {
  return { name, type: 'string', description, priority, cell };
}

export const NAMESPACES: ResourceType = {
  group: '',
  version: 'v1',
  resource: 'namespaces',
  singular: 'namespace',
  kind: 'Namespace',
  namespaced: false,
  shortNames: ['ns'],
  verbs: ALL_VERBS,
  nameRule: 'label',
  // As the apiserver: the name label, the kubernetes finalizer, phase Active.
  prepare: (object) => ({
    ...object,
    metadata: {
      ...object.metadata,
      labels: { ...object.metadata.labels, 'kubernetes.io/metadata.name': object.metadata.name },
    },
    spec: { finalizers: ['kubernetes'], ...(object['spec'] as object | undefined) },
    status: { phase: 'Active' },
  }),
  columns: [
    NAME_COLUMN,
    column('Status', 0, 'The status of the namespace', (object) => stringAt(object, 'status.phase', 'Active')),
    AGE_COLUMN,
  ],
};

export const NODES: ResourceType = {
  group: '',
  version: 'v1',
  resource: 'nodes',
  singular: 'node',
  kind: 'Node',
  namespaced: false,
  shortNames: ['no'],
  verbs: ALL_VERBS,
  nameRule: 'subdomain',
  columns: [
    NAME_COLUMN,
    column('Status', 0, 'The status of the node', nodeReadiness),
    column('Roles', 0, 'The roles of the node', nodeRoles),
    AGE_COLUMN,
    column('Version', 0, 'Kubelet Version reported by the node.', (object) =>
      stringAt(object, 'status.nodeInfo.kubeletVersion', ''),
    ),
    column('Internal-IP', 1, 'List of internal IPs.', (object) => nodeAddress(object, 'InternalIP')),
    column('External-IP', 1, 'List of external IPs.', (object) => nodeAddress(object, 'ExternalIP')),
    column(
      'OS-Image',
      1,
      'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).',
      (object) => stringAt(object, 'status.nodeInfo.osImage', '<unknown>'),
    ),
    column(
      'Kernel-Version',
      1,
      "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
      (object) => stringAt(object, 'status.nodeInfo.kernelVersion', '<unknown>'),
    ),
    column(
      'Container-Runtime',
      1,
      'Container Runtime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).',
      (object) => stringAt(object, 'status.nodeInfo.containerRuntimeVersion', '<unknown>'),
    ),
  ],
};

/** The resources of the core group and apps that are not workloads (workloads: workloads.ts). */
export const CLUSTER_RESOURCES: ResourceType[] = [NAMESPACES, NODES];

/** `v1` for the core group, `group/version` otherwise. */
export function groupVersionOf(type: Pick<ResourceType, 'group' | 'version'>): string {
  return type.group === '' ? type.version : `${type.group}/${type.version}`;
}
