export { humanDuration, ageOf } from './age.js';
export { apiGroupList, apiResourceList, apiVersions, SERVER_VERSION } from './discovery.js';
export {
  KubeError,
  notFound,
  alreadyExists,
  conflict,
  invalid,
  type StatusReason,
  type StatusCause,
} from './errors.js';
export { kubeConfig, type KubeConfigCluster } from './kubeconfig.js';
export { nodeObject, syncNodes, KUBELET_VERSION, type PxNodeView } from './nodes.js';
export { kubeObjectSchema, objectMetaSchema, nameProblem, type KubeObject, type ObjectMeta } from './objects.js';
export { NAMESPACES, NODES, CLUSTER_RESOURCES, groupVersionOf, type Column, type ResourceType } from './resources.js';
export {
  RESOURCES,
  PODS,
  PERSISTENT_VOLUME_CLAIMS,
  PERSISTENT_VOLUMES,
  EVENTS,
  DEPLOYMENTS,
  STATEFUL_SETS,
  STORAGE_CLASSES,
} from './workloads.js';
export { labelSelector, fieldSelector, type Selector } from './selectors.js';
export { buildKubeApi, ensureSystemNamespaces, SYSTEM_NAMESPACES, type KubeApiOptions } from './server.js';
export { ObjectStore, type ObjectList, type ObjectRef } from './store.js';
export { tableOf, wantsTable, type IncludeObject } from './table.js';
export { reconcileWorkloads, type ControllerDeps } from './controllers.js';
export {
  reconcileClaims,
  podVolumes,
  gibOf,
  DEFAULT_STORAGE_CLASS,
  ensureDefaultStorageClass,
  PORTWORX_PROVISIONERS,
  type VolumeDriver,
} from './claims.js';
