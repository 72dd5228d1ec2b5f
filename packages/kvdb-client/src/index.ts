export * from './types.js';
export { KvdbError, isKvdbError, KVDB_ERROR_KINDS, type KvdbErrorKind, type KvdbErrorDetails } from './errors.js';
export { MemKvdb, MemStore, type MemKvdbOptions, type MemStoreOptions } from './mem.js';
export { EtcdKvdb, classifyEtcdError, type EtcdKvdbOptions } from './etcd.js';
export { EtcdGatewayKvdb, type EtcdGatewayKvdbOptions } from './etcd-gateway.js';
export {
  createKvdb,
  parseKvdbEndpoints,
  type CreateKvdbOptions,
  type EtcdClientKind,
  type KvdbEndpoints,
} from './endpoints.js';
export { KVDB_LIMITS } from './validation.js';
export { LeaseHandle, type LeaseBackend, type LeaseHandleOptions } from './lease-handle.js';
