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
export {
  kubeConfig,
  pruneToContext,
  resolveContext,
  type KubeConfigCluster,
  type ResolvedContext,
} from './kubeconfig.js';
export { nodeObject, syncNodes, KUBELET_VERSION, type PxNodeView } from './nodes.js';
export {
  kubeObjectSchema,
  objectMetaSchema,
  nameProblem,
  stringAt,
  valueAt,
  type KubeObject,
  type ObjectMeta,
} from './objects.js';
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
export { recordEvent, timestampOf } from './events.js';
export { HttpKubeApi, pathOf, type KubeApi } from './remote.js';
export {
  CLUSTER_DOMAIN_UPDATES,
  CLUSTER_DOMAINS_STATUSES,
  CLUSTER_PAIRS,
  clusterDomainsStatusName,
  LEGACY_MIGRATION_REPLICAS_ANNOTATION,
  MIGRATED_LABEL,
  MIGRATION_REPLICAS_ANNOTATION,
  MIGRATIONS,
  STORK_API_VERSION,
  STORK_GROUP,
  STORK_RESOURCES,
} from './stork.js';
export {
  reconcileClusterDomainsStatus,
  reconcileClusterDomainUpdates,
  reconcileClusterPairs,
  remoteOverHttp,
  storeAsRemote,
  type RemoteCluster,
  type StorkDeps,
  type StorkDriver,
} from './stork-controllers.js';
export { reconcileMigrations, scaleMigratedApplications } from './migrations.js';
export { reconcileStork } from './stork-pass.js';
