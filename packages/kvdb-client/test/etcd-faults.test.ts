import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KvdbError, type WatchBatch } from '@pxsim/kvdb-client';
import { EtcdProcess } from '@pxsim/kvdb-client/etcd-process';
import { ETCD_CLIENTS, etcdAvailable, etcdClient } from './backends.js';

const REQUEST_TIMEOUT_MS = 1000;
/** No call may take longer than its deadline plus this much slack after etcd dies. */
const FAILURE_BOUND_MS = REQUEST_TIMEOUT_MS + 2000;

async function outcome(promise: Promise<unknown>): Promise<{ kind: string; elapsedMs: number }> {
  const started = Date.now();
  try {
    await promise;
    return { kind: 'ok', elapsedMs: Date.now() - started };
  } catch (error) {
    return {
      kind: error instanceof KvdbError ? error.kind : `untyped ${String(error)}`,
      elapsedMs: Date.now() - started,
    };
  }
}

async function until(check: () => Promise<boolean> | boolean, withinMs: number, what: string): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${what}: not within ${withinMs} ms`);
}

describe.skipIf(!etcdAvailable).each(ETCD_CLIENTS)('the %s etcd client when etcd dies and comes back', (kind) => {
  let etcd: EtcdProcess;
  beforeAll(async () => {
    etcd = await EtcdProcess.start();
  });
  afterAll(async () => {
    await etcd.stop();
  });

  it('fails in-flight and new calls as Unavailable or Indeterminate within a bound, then recovers, and the watch resumes without loss or repeats', async () => {
    const client = etcdClient(kind, {
      hosts: [etcd.endpoint],
      namespace: 'faults/',
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
    });
    const batches: WatchBatch[] = [];
    const watchErrors: KvdbError[] = [];
    const watch = client.watch('w/', {
      fromRevision: (await client.currentRevision()) + 1,
      onBatch: (batch) => {
        batches.push(batch);
      },
      onError: (error) => watchErrors.push(error),
    });
    const written: number[] = [];
    for (let index = 0; index < 3; index++) written.push((await client.put(`w/${index}`, 'before')).revision);
    await until(() => batches.length === 3, 5000, 'watch sees the first writes');

    // Writes in flight while the server is killed: each ends, typed, within the bound.
    const inFlight = Array.from({ length: 20 }, (_, index) => outcome(client.put(`x/${index}`, 'racing')));
    await etcd.kill();
    const afterKill = await Promise.all([
      ...inFlight,
      outcome(client.put('x/after', 'v')),
      outcome(client.txn({ compare: [], success: [{ type: 'put', key: 'x/t', value: 'v' }] })),
      outcome(client.get('w/0')),
      outcome(client.range('w/')),
    ]);
    for (const result of afterKill) {
      expect(['ok', 'Unavailable', 'Indeterminate']).toContain(result.kind);
      expect(result.elapsedMs).toBeLessThan(FAILURE_BOUND_MS);
    }
    const reads = afterKill.slice(-2);
    expect(reads.map((result) => result.kind)).toEqual(['Unavailable', 'Unavailable']);

    await etcd.restart();
    // A second client writes while the first one's watch stream is still reconnecting: the watch must pick these
    // revisions up from history.
    const writer = etcdClient(kind, {
      hosts: [etcd.endpoint],
      namespace: 'faults/',
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
    });
    await until(
      async () => (await outcome(writer.currentRevision())).kind === 'ok',
      10_000,
      'a new client reaches the restarted etcd',
    );
    for (let index = 3; index < 6; index++) written.push((await writer.put(`w/${index}`, 'after')).revision);
    await until(async () => (await outcome(client.get('w/5'))).kind === 'ok', 10_000, 'the old client recovers');
    written.push((await client.put('w/6', 'recovered')).revision);
    await until(() => batches.length >= 7, 10_000, 'the watch resumes');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(batches.map((batch) => batch.revision)).toEqual(written);
    expect(batches.flatMap((batch) => batch.events.map((event) => event.kv.key))).toEqual([
      'w/0',
      'w/1',
      'w/2',
      'w/3',
      'w/4',
      'w/5',
      'w/6',
    ]);
    expect(watchErrors).toEqual([]);
    watch.cancel();
    await writer.close();
    await client.close();
  });

  it('a client started while etcd is down answers Unavailable within the bound instead of hanging', async () => {
    await etcd.kill();
    const client = etcdClient(kind, {
      hosts: [etcd.endpoint],
      namespace: 'down/',
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
    });
    const results = await Promise.all([
      outcome(client.get('a')),
      outcome(client.put('a', 'b')),
      outcome(client.grantLease(2000)),
    ]);
    for (const result of results) {
      expect(result.kind).toBe('Unavailable');
      expect(result.elapsedMs).toBeLessThan(FAILURE_BOUND_MS);
    }
    await client.close();
    await etcd.restart();
  });
});
