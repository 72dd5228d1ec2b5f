import type { Clock } from '@pxsim/runtime';
import { realClock } from '@pxsim/runtime';
import { EtcdKvdb } from './etcd.js';
import { EtcdGatewayKvdb } from './etcd-gateway.js';
import { KvdbError } from './errors.js';
import { MemKvdb, MemStore } from './mem.js';
import type { Kvdb } from './types.js';

/**
 * Which etcd client: `gateway` (default, `EtcdGatewayKvdb`: JSON over `node:http`) or `grpc` (`EtcdKvdb`, the
 * etcd3 package over gRPC), chosen with the `etcd+grpc:` scheme.
 */
export type EtcdClientKind = 'gateway' | 'grpc';

export type KvdbEndpoints =
  { backend: 'mem'; storeName: string } | { backend: 'etcd'; hosts: string[]; client: EtcdClientKind };

const HOST_PORT = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})$/;

function parseEtcdHost(value: string, original: string): string {
  const match = /^https?:\/\/(.+?)\/?$/.exec(value);
  const hostPort = match?.[1];
  if (hostPort === undefined) {
    throw new KvdbError('InvalidArgument', `kvdb endpoint ${JSON.stringify(original)}: expected etcd:http://HOST:PORT`);
  }
  const parts = HOST_PORT.exec(hostPort);
  const port = Number(parts?.[2]);
  if (parts === null || !(port >= 1 && port <= 65535)) {
    throw new KvdbError(
      'InvalidArgument',
      `kvdb endpoint ${JSON.stringify(original)}: "${hostPort}" is not HOST:PORT with a port from 1 to 65535`,
    );
  }
  if (value.startsWith('https://')) {
    throw new KvdbError(
      'InvalidArgument',
      `kvdb endpoint ${JSON.stringify(original)}: TLS endpoints are not supported; use http://`,
    );
  }
  return hostPort;
}

/**
 * Parses Portworx-style `-k` values: `mem://` or `mem://NAME` (an in-process store), `etcd:http://HOST:PORT`, or a
 * comma-separated list of etcd endpoints (`etcd:http://a:2379,etcd:http://b:2379`; the scheme may be given once).
 * `etcd+grpc:` instead of `etcd:` (on the first entry) selects the gRPC client.
 */
export function parseKvdbEndpoints(value: string): KvdbEndpoints {
  const trimmed = value.trim();
  if (trimmed === '')
    throw new KvdbError('InvalidArgument', 'kvdb endpoint is empty: expected mem:// or etcd:http://HOST:PORT');
  const mem = /^mem:\/\/([A-Za-z0-9._-]*)$/.exec(trimmed);
  if (mem !== null) return { backend: 'mem', storeName: mem[1] ?? '' };
  const client: EtcdClientKind = trimmed.startsWith('etcd+grpc:') ? 'grpc' : 'gateway';
  const scheme = client === 'grpc' ? 'etcd+grpc:' : 'etcd:';
  const items = trimmed.split(',').map((item) => item.trim());
  if (!items[0]?.startsWith(scheme)) {
    throw new KvdbError(
      'InvalidArgument',
      `kvdb endpoint ${JSON.stringify(value)} is not supported: expected mem://, mem://NAME or etcd[+grpc]:http://HOST:PORT[,…]`,
    );
  }
  const hosts = items.map((item) => {
    if (item === '')
      throw new KvdbError('InvalidArgument', `kvdb endpoint list ${JSON.stringify(value)} has an empty entry`);
    return parseEtcdHost(item.startsWith(scheme) ? item.slice(scheme.length) : item, item);
  });
  return { backend: 'etcd', hosts, client };
}

export interface CreateKvdbOptions {
  /** Key prefix for this cluster, e.g. `pxsim/px-dr-cluster/`. */
  namespace: string;
  /** Drives lease expiry and keep-alives. Default: the wall clock. */
  clock?: Clock;
  /** Where `mem://NAME` stores live; each name is created once. Default: one registry per process. */
  memStores?: Map<string, MemStore>;
  requestTimeoutMs?: number;
}

const processMemStores = new Map<string, MemStore>();

/** Opens a client for the given `-k` value. */
export function createKvdb(endpoints: string, options: CreateKvdbOptions): Kvdb {
  const parsed = parseKvdbEndpoints(endpoints);
  const clock = options.clock ?? realClock;
  if (parsed.backend === 'mem') {
    const stores = options.memStores ?? processMemStores;
    let store = stores.get(parsed.storeName);
    if (store === undefined) {
      store = new MemStore({ clock });
      stores.set(parsed.storeName, store);
    }
    return new MemKvdb({
      store,
      namespace: options.namespace,
      description: `mem://${parsed.storeName} (namespace ${options.namespace})`,
    });
  }
  const etcdOptions = {
    hosts: parsed.hosts,
    namespace: options.namespace,
    clock,
    ...(options.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: options.requestTimeoutMs }),
  };
  return parsed.client === 'grpc' ? new EtcdKvdb(etcdOptions) : new EtcdGatewayKvdb(etcdOptions);
}
