import { describe, expect, it } from 'vitest';
import { KvdbError, type Kvdb, type KvdbErrorKind, type WatchBatch } from '@pxsim/kvdb-client';
import {
  ETCD_CLIENTS,
  etcdAvailable,
  etcdHarness,
  memHarness,
  uniqueNamespace,
  type BackendHarness,
} from './backends.js';

async function expectKind(promise: Promise<unknown>, kind: KvdbErrorKind): Promise<KvdbError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error, `expected a ${kind} error`).toBeInstanceOf(KvdbError);
  expect((error as KvdbError).kind).toBe(kind);
  return error as KvdbError;
}

function collect(kvdb: Kvdb, prefix: string, fromRevision?: number) {
  const batches: WatchBatch[] = [];
  const errors: KvdbError[] = [];
  const watch = kvdb.watch(prefix, {
    ...(fromRevision === undefined ? {} : { fromRevision }),
    onBatch: (batch) => {
      batches.push(batch);
    },
    onError: (error) => {
      errors.push(error);
    },
  });
  return { batches, errors, watch, events: () => batches.flatMap((batch) => batch.events) };
}

/** The same assertions for every backend: the contract of `Kvdb`. */
function conformance(harness: BackendHarness): void {
  const open = (label: string) => harness.open(uniqueNamespace(label));

  describe('single keys', () => {
    it('get of a missing key is NotFound; put then get returns the value and MVCC metadata', async () => {
      const kvdb = open('get');
      await expectKind(kvdb.get('missing'), 'NotFound');
      const put = await kvdb.put('a', 'one');
      expect(put.prev).toBeUndefined();
      const got = await kvdb.get('a');
      expect(got.kv).toMatchObject({
        key: 'a',
        value: 'one',
        createRevision: put.revision,
        modRevision: put.revision,
        version: 1,
      });
      expect(got.revision).toBeGreaterThanOrEqual(put.revision);
    });

    it('put over a key bumps version and mod revision, keeps create revision, returns the previous value', async () => {
      const kvdb = open('put');
      const first = await kvdb.put('a', 'one');
      const second = await kvdb.put('a', 'two');
      expect(second.revision).toBeGreaterThan(first.revision);
      expect(second.prev).toMatchObject({ value: 'one', version: 1, modRevision: first.revision });
      const got = await kvdb.get('a');
      expect(got.kv).toMatchObject({
        value: 'two',
        version: 2,
        createRevision: first.revision,
        modRevision: second.revision,
      });
    });

    it('create fails with Exists when the key is present', async () => {
      const kvdb = open('create');
      const created = await kvdb.create('a', 'one');
      expect(created.kv).toMatchObject({ key: 'a', value: 'one', version: 1, createRevision: created.revision });
      const error = await expectKind(kvdb.create('a', 'again'), 'Exists');
      expect(error.key).toBe('a');
      expect((await kvdb.get('a')).kv.value).toBe('one');
    });

    it('update is NotFound on a missing key and Modified on a stale mod revision', async () => {
      const kvdb = open('update');
      await expectKind(kvdb.update('a', 'x'), 'NotFound');
      await expectKind(kvdb.update('a', 'x', { ifModRevision: 5 }), 'NotFound');
      const put = await kvdb.put('a', 'one');
      const updated = await kvdb.update('a', 'two', { ifModRevision: put.revision });
      expect(updated.prev?.value).toBe('one');
      const stale = await expectKind(kvdb.update('a', 'three', { ifModRevision: put.revision }), 'Modified');
      expect(stale.revision).toBe(updated.revision);
      expect((await kvdb.get('a')).kv.value).toBe('two');
      await kvdb.update('a', 'four');
      expect((await kvdb.get('a')).kv).toMatchObject({ value: 'four', version: 3 });
    });

    it('delete is NotFound when missing, Modified when guarded by a stale revision, and returns the previous value', async () => {
      const kvdb = open('delete');
      await expectKind(kvdb.delete('a'), 'NotFound');
      const put = await kvdb.put('a', 'one');
      await kvdb.put('a', 'two');
      await expectKind(kvdb.delete('a', { ifModRevision: put.revision }), 'Modified');
      const current = await kvdb.get('a');
      const deleted = await kvdb.delete('a', { ifModRevision: current.kv.modRevision });
      expect(deleted.prev).toMatchObject({ key: 'a', value: 'two', version: 2 });
      await expectKind(kvdb.get('a'), 'NotFound');
      const again = await kvdb.put('a', 'three');
      expect((await kvdb.get('a')).kv).toMatchObject({ version: 1, createRevision: again.revision });
    });

    it('rejects malformed requests with InvalidArgument before sending anything', async () => {
      const kvdb = open('invalid');
      const before = await kvdb.currentRevision();
      await expectKind(kvdb.put('', 'x'), 'InvalidArgument');
      await expectKind(kvdb.get(''), 'InvalidArgument');
      await expectKind(kvdb.put('k', 'x'.repeat(1024 * 1024 + 1)), 'InvalidArgument');
      await expectKind(kvdb.update('k', 'x', { ifModRevision: 0 }), 'InvalidArgument');
      await expectKind(kvdb.range('p', { limit: -1 }), 'InvalidArgument');
      await expectKind(kvdb.grantLease(0), 'InvalidArgument');
      await expectKind(kvdb.put('k', 'x', { leaseId: 'not-a-lease' }), 'InvalidArgument');
      await expectKind(kvdb.compact(0), 'InvalidArgument');
      expect(() => kvdb.watch('p', { fromRevision: -3, onBatch: () => undefined, onError: () => undefined })).toThrow(
        KvdbError,
      );
      expect(await kvdb.currentRevision()).toBe(before);
    });
  });

  describe('range', () => {
    it('returns keys under a prefix in key order, with limit, more and keys-only', async () => {
      const kvdb = open('range');
      for (const key of ['p/c', 'p/a', 'q/z', 'p/b', 'p']) await kvdb.put(key, `v-${key}`);
      const all = await kvdb.range('p/');
      expect(all.kvs.map((kv) => kv.key)).toEqual(['p/a', 'p/b', 'p/c']);
      expect(all.more).toBe(false);
      const limited = await kvdb.range('p/', { limit: 2 });
      expect(limited.kvs.map((kv) => kv.key)).toEqual(['p/a', 'p/b']);
      expect(limited.more).toBe(true);
      const keysOnly = await kvdb.range('p/', { keysOnly: true });
      expect(keysOnly.kvs.map((kv) => kv.value)).toEqual(['', '', '']);
      expect(keysOnly.kvs[0]?.version).toBe(1);
      expect((await kvdb.range('')).kvs).toHaveLength(5);
    });

    it('prefixVersion counts the keys under a prefix and names their newest mod revision', async () => {
      const kvdb = open('prefix-version');
      const empty = await kvdb.prefixVersion('p/');
      expect(empty).toEqual({ revision: empty.revision, count: 0, newestModRevision: 0 });
      const first = await kvdb.put('p/b', 'one');
      await kvdb.put('p/a', 'two');
      const outside = await kvdb.put('q/a', 'outside');
      const afterPuts = await kvdb.prefixVersion('p/');
      expect(afterPuts.count).toBe(2);
      expect(afterPuts.newestModRevision).toBe(outside.revision - 1);
      expect(afterPuts.revision).toBe(outside.revision);
      const rewrite = await kvdb.put('p/b', 'three');
      expect(await kvdb.prefixVersion('p/')).toMatchObject({ count: 2, newestModRevision: rewrite.revision });
      expect((await kvdb.prefixVersion('p/b')).newestModRevision).toBe(rewrite.revision);
      expect(rewrite.revision).toBeGreaterThan(first.revision);
    });

    it('prefixVersion after deletes: the count drops, and an older newest revision is never reported', async () => {
      const kvdb = open('prefix-version-delete');
      const kept = await kvdb.put('p/a', 'kept');
      const gone = await kvdb.put('p/b', 'gone');
      const deleted = await kvdb.delete('p/b');
      const afterDelete = await kvdb.prefixVersion('p/');
      expect(afterDelete.count).toBe(1);
      expect(afterDelete.revision).toBe(deleted.revision);
      // etcd names the newest remaining key; a backend may stay at the deleted one's (only conservative).
      expect([kept.revision, gone.revision]).toContain(afterDelete.newestModRevision);
      await kvdb.delete('p/a');
      expect((await kvdb.prefixVersion('p/')).count).toBe(0);
    });

    it('prefixVersion counts every key, not only the one it reads', async () => {
      const kvdb = open('prefix-version-count');
      for (let index = 0; index < 12; index++) await kvdb.put(`p/${String(index).padStart(2, '0')}`, 'v');
      const last = await kvdb.put('p/05', 'rewritten');
      const answer = await kvdb.prefixVersion('p/');
      expect(answer).toEqual({ revision: last.revision, count: 12, newestModRevision: last.revision });
      expect((await kvdb.prefixVersion('')).count).toBe(12);
    });

    it('keeps namespaces apart', async () => {
      const first = open('ns-a');
      const second = open('ns-b');
      await first.put('shared', 'from-a');
      await expectKind(second.get('shared'), 'NotFound');
      expect((await second.range('')).kvs).toHaveLength(0);
    });
  });

  describe('transactions', () => {
    it('applies the success branch atomically in one revision when every compare holds', async () => {
      const kvdb = open('txn');
      const put = await kvdb.put('a', 'one');
      const result = await kvdb.txn({
        compare: [
          { key: 'a', target: 'value', op: '==', value: 'one' },
          { key: 'a', target: 'modRevision', op: '==', value: put.revision },
          { key: 'a', target: 'createRevision', op: '==', value: put.revision },
          { key: 'a', target: 'version', op: '==', value: 1 },
          { key: 'missing', target: 'version', op: '==', value: 0 },
        ],
        success: [
          { type: 'put', key: 'a', value: 'two' },
          { type: 'put', key: 'b', value: 'new' },
          { type: 'get', key: 'c' },
        ],
        failure: [{ type: 'put', key: 'failed', value: 'x' }],
      });
      expect(result.succeeded).toBe(true);
      expect(result.revision).toBe(put.revision + 1);
      expect(result.results[0]).toMatchObject({ type: 'put', prev: { value: 'one' } });
      expect(result.results[2]).toEqual({ type: 'get' });
      expect((await kvdb.get('a')).kv.modRevision).toBe(result.revision);
      expect((await kvdb.get('b')).kv.modRevision).toBe(result.revision);
      await expectKind(kvdb.get('failed'), 'NotFound');
    });

    it('runs the failure branch when a compare fails, and a failed guard with no writes does not bump the revision', async () => {
      const kvdb = open('txn-fail');
      await kvdb.put('a', 'one');
      const result = await kvdb.txn({
        compare: [{ key: 'a', target: 'value', op: '==', value: 'other' }],
        success: [{ type: 'put', key: 'a', value: 'two' }],
        failure: [{ type: 'get', key: 'a' }],
      });
      expect(result.succeeded).toBe(false);
      expect(result.results[0]).toMatchObject({ type: 'get', kv: { value: 'one' } });
      expect(await kvdb.currentRevision()).toBe(result.revision);
      const orderings = await kvdb.txn({
        compare: [
          { key: 'a', target: 'value', op: '>', value: 'a' },
          { key: 'a', target: 'value', op: '<', value: 'p' },
          { key: 'a', target: 'version', op: '!=', value: 7 },
          { key: 'missing', target: 'value', op: '!=', value: 'x' },
        ],
        success: [],
      });
      // A compare on the value of a missing key never holds.
      expect(orderings.succeeded).toBe(false);
    });

    it('rejects a transaction that writes one key twice, and one with an unknown lease, applying nothing', async () => {
      const kvdb = open('txn-bad');
      const before = await kvdb.currentRevision();
      await expectKind(
        kvdb.txn({
          compare: [],
          success: [
            { type: 'put', key: 'a', value: '1' },
            { type: 'delete', key: 'a' },
          ],
        }),
        'InvalidArgument',
      );
      await expectKind(
        kvdb.txn({
          compare: [],
          success: [
            { type: 'put', key: 'b', value: '1' },
            { type: 'put', key: 'c', value: '1', leaseId: '987654321' },
          ],
        }),
        'NotFound',
      );
      await expectKind(kvdb.get('b'), 'NotFound');
      expect(await kvdb.currentRevision()).toBe(before);
    });
  });

  describe('watch', () => {
    it('delivers ordered, per-revision batches with previous values', async () => {
      const kvdb = open('watch');
      const seen = collect(kvdb, 'w/');
      await harness.advance(200);
      const first = await kvdb.put('w/a', '1');
      await kvdb.put('other', 'ignored');
      const both = await kvdb.txn({
        compare: [],
        success: [
          { type: 'put', key: 'w/a', value: '2' },
          { type: 'put', key: 'w/b', value: '1' },
        ],
      });
      const deleted = await kvdb.delete('w/a');
      await harness.eventually(() => seen.batches.length >= 3, 5000);
      expect(seen.batches.map((batch) => batch.revision)).toEqual([first.revision, both.revision, deleted.revision]);
      expect(
        seen.batches[1]?.events.map((event) => [event.type, event.kv.key, event.kv.value, event.prev?.value]),
      ).toEqual([
        ['put', 'w/a', '2', '1'],
        ['put', 'w/b', '1', undefined],
      ]);
      expect(seen.batches[2]?.events[0]).toMatchObject({
        type: 'delete',
        kv: { key: 'w/a', value: '', modRevision: deleted.revision },
        prev: { value: '2', version: 2 },
      });
      expect(seen.watch.lastRevision).toBe(deleted.revision);
      seen.watch.cancel();
      expect(seen.errors).toEqual([]);
    });

    it('replays from a past revision and resumes from lastRevision + 1 without loss or repeats', async () => {
      const kvdb = open('watch-resume');
      const revisions: number[] = [];
      for (let index = 0; index < 5; index++) revisions.push((await kvdb.put(`r/${index}`, String(index))).revision);
      const first = collect(kvdb, 'r/', revisions[0]);
      await harness.eventually(() => first.batches.length === 5, 5000);
      first.watch.cancel();
      const resumeFrom = (first.batches[2]?.revision ?? 0) + 1;
      const second = collect(kvdb, 'r/', resumeFrom);
      const later = await kvdb.put('r/5', '5');
      await harness.eventually(() => second.batches.length === 3, 5000);
      expect(second.batches.map((batch) => batch.revision)).toEqual([revisions[3], revisions[4], later.revision]);
      second.watch.cancel();
    });

    it('reports a compacted start revision as Compacted, not silence', async () => {
      const kvdb = open('watch-compact');
      const old = await kvdb.put('c/a', '1');
      await kvdb.put('c/a', '2');
      const latest = await kvdb.put('c/a', '3');
      await kvdb.compact(latest.revision);
      await expectKind(kvdb.compact(old.revision), 'Compacted');
      const watched = collect(kvdb, 'c/', old.revision);
      await harness.eventually(() => watched.errors.length === 1, 5000);
      expect(watched.errors[0]?.kind).toBe('Compacted');
      expect(watched.batches).toEqual([]);
      const fromLatest = collect(kvdb, 'c/', latest.revision);
      await harness.eventually(() => fromLatest.batches.length === 1, 5000);
      fromLatest.watch.cancel();
    });

    it('tells a consumer that fell behind its bounded queue (Lagged), with where to resume', async () => {
      const kvdb = open('watch-lag');
      let release: () => void = () => undefined;
      const blocked = new Promise<void>((resolve) => {
        release = resolve;
      });
      const delivered: number[] = [];
      const errors: KvdbError[] = [];
      const start = (await kvdb.currentRevision()) + 1;
      kvdb.watch('l/', {
        fromRevision: start,
        maxPendingBatches: 2,
        onBatch: async (batch) => {
          delivered.push(batch.revision);
          await blocked;
        },
        onError: (error) => errors.push(error),
      });
      for (let index = 0; index < 6; index++) await kvdb.put(`l/${index}`, 'x');
      await harness.eventually(() => errors.length === 1, 5000);
      release();
      expect(errors[0]?.kind).toBe('Lagged');
      // etcd may hand over several revisions at once, before the consumer saw the first: resume is always the first
      // revision the consumer did not get.
      expect(delivered.length).toBeLessThanOrEqual(1);
      expect(errors[0]?.revision).toBe(start + delivered.length);
    });
  });

  describe('leases', () => {
    it('attaches keys to a lease; expiry deletes them, emits watch deletes, and the holder learns it lost the lease', async () => {
      const kvdb = open('lease-expire');
      const lease = await kvdb.grantLease(1000, { autoKeepAlive: false });
      expect(lease.ttlMs).toBeGreaterThanOrEqual(1000);
      const lostReasons: KvdbError[] = [];
      lease.onLost((reason) => lostReasons.push(reason));
      await kvdb.put('e/a', '1', { leaseId: lease.id });
      await kvdb.put('e/b', '2', { leaseId: lease.id });
      expect((await kvdb.get('e/a')).kv.leaseId).toBe(lease.id);
      const seen = collect(kvdb, 'e/', (await kvdb.currentRevision()) + 1);
      await harness.eventually(async () => (await kvdb.range('e/')).kvs.length === 0, lease.ttlMs + 4000);
      await harness.eventually(() => seen.events().length === 2, 5000);
      expect(seen.batches).toHaveLength(1);
      expect(seen.events().map((event) => [event.type, event.kv.key, event.prev?.value])).toEqual([
        ['delete', 'e/a', '1'],
        ['delete', 'e/b', '2'],
      ]);
      await expectKind(lease.keepAlive(), 'NotFound');
      expect(lease.lost).toBe(true);
      expect(lostReasons.map((reason) => reason.kind)).toEqual(['NotFound']);
      await expectKind(kvdb.put('e/c', '3', { leaseId: lease.id }), 'NotFound');
      seen.watch.cancel();
    });

    it('keeps a lease alive past its TTL with keep-alives, and revoke deletes its keys', async () => {
      const kvdb = open('lease-keep');
      const lease = await kvdb.grantLease(1000);
      await kvdb.put('k/a', '1', { leaseId: lease.id });
      await harness.advance(lease.ttlMs * 2 + 500);
      expect((await kvdb.get('k/a')).kv.value).toBe('1');
      expect(lease.lost).toBe(false);
      await lease.revoke();
      await expectKind(kvdb.get('k/a'), 'NotFound');
      expect(lease.lost).toBe(false);
    });
  });

  describe('client lifecycle', () => {
    it('fails every call with Closed after close', async () => {
      const kvdb = open('closed');
      await kvdb.close();
      await expectKind(kvdb.get('a'), 'Closed');
      await expectKind(kvdb.put('a', '1'), 'Closed');
    });
  });
}

describe('kvdb conformance: MemKvdb', () => {
  conformance(memHarness());
});

describe.skipIf(!etcdAvailable).each(ETCD_CLIENTS)('kvdb conformance: real etcd, %s client', (client) => {
  conformance(etcdHarness(client));
});
