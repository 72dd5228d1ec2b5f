export {
  BLOCK_BYTES,
  VOLUME_SIZE_GIB_MAX,
  GIB,
  compareVersions,
  type BlockVersion,
  type VolumeRecord,
  type ReplicationMessage,
  type StorageInput,
  type OpResult,
  type StorageReady,
  type BlockStore,
  type ReplicationStatus,
  type VolumeView,
} from './types.js';
export { placeReplicas, type PlacementNode, type PlacementResult } from './placement.js';
export { MemoryBlockStore, STORE_VOLUMES_MAX } from './block-store.js';
export { storageTiming, type StorageTiming } from './timing.js';
export { StorageNode, DIGEST_ENTRIES_MAX, VOLUMES_MAX, type StorageNodeOptions } from './storage-node.js';
export { PENDING_OPS_MAX, REWRITES_IN_FLIGHT_MAX } from './coordinator.js';
export {
  domainSyncStatuses,
  replicasNotInCurrent,
  SYNC_STATUSES,
  type SyncStatus,
  type ReplicaSets,
} from './sync-status.js';
