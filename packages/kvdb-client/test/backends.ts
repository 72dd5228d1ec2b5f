import { afterAll, beforeAll } from 'vitest';
import { EtcdGatewayKvdb, EtcdKvdb, MemKvdb, MemStore, type EtcdClientKind, type Kvdb } from '@pxsim/kvdb-client';
import { ManualClock } from '@pxsim/runtime';
import { EtcdProcess, findEtcdBinary } from '@pxsim/kvdb-client/etcd-process';

/** What the conformance suite needs from a backend: clients, and a way to let time pass. */
export interface BackendHarness {
  readonly name: 'mem' | 'etcd';
  open(namespace: string): Kvdb;
  /** Lets at least `ms` of the store's time pass (virtual for mem, real for etcd). */
  advance(ms: number): Promise<void>;
  /** Waits (in the backend's time) until `check` holds; fails after `withinMs`. */
  eventually(check: () => Promise<boolean> | boolean, withinMs: number): Promise<void>;
}

export async function flushMicrotasks(): Promise<void> {
  for (let round = 0; round < 5; round++) await new Promise((resolve) => setImmediate(resolve));
}

export function memHarness(): BackendHarness {
  const clock = new ManualClock(1_000_000);
  const store = new MemStore({ clock });
  const harness: BackendHarness = {
    name: 'mem',
    open: (namespace) => new MemKvdb({ store, namespace }),
    async advance(ms) {
      for (let done = 0; done < ms; done += 50) {
        clock.advance(Math.min(50, ms - done));
        await flushMicrotasks();
      }
      await flushMicrotasks();
    },
    async eventually(check, withinMs) {
      for (let waited = 0; waited <= withinMs; waited += 50) {
        if (await check()) return;
        await harness.advance(50);
      }
      throw new Error(`condition not met within ${withinMs} ms of virtual time`);
    },
  };
  return harness;
}

/** In CI a missing etcd is a failure; on a developer machine without it, etcd suites are skipped. */
export const etcdAvailable = findEtcdBinary() !== undefined;
if (!etcdAvailable && process.env['CI'] === 'true') {
  throw new Error('CI=true but no etcd binary on PATH: install etcd-server (.ci/run does)');
}

/** An etcd client of the given kind: the JSON gateway one (default) or the etcd3/gRPC one. */
export function etcdClient(
  client: EtcdClientKind,
  options: { hosts: string[]; namespace: string; requestTimeoutMs?: number },
): Kvdb {
  return client === 'grpc' ? new EtcdKvdb(options) : new EtcdGatewayKvdb(options);
}

export const ETCD_CLIENTS: EtcdClientKind[] = ['gateway', 'grpc'];

/** Starts a throwaway etcd for the calling test file (or describe block); stopped after it. */
export function etcdHarness(client: EtcdClientKind = 'gateway'): BackendHarness & { etcd: () => EtcdProcess } {
  let etcd: EtcdProcess | undefined;
  const clients: Kvdb[] = [];
  beforeAll(async () => {
    if (etcdAvailable) etcd = await EtcdProcess.start();
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await etcd?.stop();
  });
  const harness = {
    name: 'etcd' as const,
    etcd: () => {
      if (etcd === undefined) throw new Error('etcd not started');
      return etcd;
    },
    open(namespace: string): Kvdb {
      const opened = etcdClient(client, { hosts: [harness.etcd().endpoint], namespace, requestTimeoutMs: 3000 });
      clients.push(opened);
      return opened;
    },
    async advance(ms: number) {
      await new Promise((resolve) => setTimeout(resolve, ms));
    },
    async eventually(check: () => Promise<boolean> | boolean, withinMs: number) {
      const deadline = Date.now() + withinMs;
      for (;;) {
        if (await check()) return;
        if (Date.now() > deadline) throw new Error(`condition not met within ${withinMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
  };
  return harness;
}

let namespaceCounter = 0;
export function uniqueNamespace(label: string): string {
  namespaceCounter += 1;
  return `test/${label}/${process.pid}-${namespaceCounter}/`;
}
