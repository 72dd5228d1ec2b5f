import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { KvdbError, MemKvdb, MemStore, type KeyValue, type Kvdb, type WatchOptions } from '@pxsim/kvdb-client';
import { LinkFaults, ManualClock, seededRandom } from '@pxsim/runtime';
import { ClusterReader, faultyKvdb, type ClusterRead } from '@pxsim/node-agent';
import { VirtualCluster } from './virtual-cluster.js';

const PREFIX = 'cluster/';

async function settle(): Promise<void> {
  for (let round = 0; round < 6; round++) await new Promise((resolve) => setImmediate(resolve));
}

/** A reader on `kvdb`, recording what it delivers (`reads`, with the time each was delivered) and its failures. */
function readerOn(kvdb: Kvdb, clock: ManualClock) {
  const reads: Array<ClusterRead & { atMs: number }> = [];
  const failures: string[] = [];
  const reader = new ClusterReader({
    kvdb,
    clock,
    prefix: PREFIX,
    running: () => true,
    onRead: (read) => reads.push({ ...read, atMs: clock.nowMs() }),
    onReadFailed: (error) => failures.push(error),
    log: () => undefined,
  });
  return { reader, reads, failures, last: () => reads.at(-1) };
}

/** What a full range of the prefix gives now, as plain values. */
function plain(kvs: readonly KeyValue[]): KeyValue[] {
  return kvs.map((kv) => ({ ...kv }));
}

/** A store holding `cluster/info`, a client that bypasses the reader, and the reader's client (its watch replaced). */
async function storeWithInfo(watch?: (inner: MemKvdb) => Kvdb['watch']) {
  const clock = new ManualClock(1_000_000);
  const store = new MemStore({ clock });
  const raw = new MemKvdb({ store });
  await raw.put(`${PREFIX}info`, 'cluster');
  const inner = new MemKvdb({ store });
  const kvdb: Kvdb = watch === undefined ? inner : Object.assign(Object.create(inner) as Kvdb, { watch: watch(inner) });
  return { clock, store, raw, kvdb };
}

type Op =
  | { type: 'put'; key: number; value: number }
  | { type: 'delete'; key: number }
  | { type: 'swap'; put: number; remove: number }
  | { type: 'other'; key: number }
  | { type: 'request' }
  | { type: 'advance'; ms: number };

const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ type: fc.constant('put' as const), key: fc.nat(5), value: fc.nat(3) }),
  fc.record({ type: fc.constant('delete' as const), key: fc.nat(5) }),
  fc.record({ type: fc.constant('swap' as const), put: fc.nat(5), remove: fc.nat(5) }),
  fc.record({ type: fc.constant('other' as const), key: fc.nat(2) }),
  fc.constant({ type: 'request' as const }),
  fc.record({ type: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 30 }) }),
);

/** One state of the prefix: from the revision that made it, committed at `atMs`, until the next one. */
interface State {
  revision: number;
  atMs: number;
  kvs: KeyValue[];
}

async function applyOp(raw: MemKvdb, op: Op): Promise<void> {
  const key = (index: number): string => `${PREFIX}nodes/n${index}`;
  if (op.type === 'put') await raw.put(key(op.key), `v${op.value}`);
  else if (op.type === 'other') await raw.put(`volumes/v${op.key}`, 'x');
  else if (op.type === 'delete') await raw.delete(key(op.key)).catch(() => undefined);
  else if (op.type === 'swap') {
    await raw.txn({
      compare: [],
      success:
        op.put === op.remove
          ? [{ type: 'put', key: key(op.put), value: 'swapped' }]
          : [
              { type: 'put', key: key(op.put), value: 'swapped' },
              { type: 'delete', key: key(op.remove) },
            ],
    });
  }
}

describe('ClusterReader: a mirror of the prefix kept by watch, confirmed by one-key reads', () => {
  it('delivers what a full range sent at the read time would have: random puts, deletes and delays', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArbitrary, { minLength: 1, maxLength: 40 }), fc.integer(), async (ops, seed) => {
        const clock = new ManualClock(1_000_000);
        const store = new MemStore({ clock });
        const raw = new MemKvdb({ store });
        const random = seededRandom(seed);
        // Requests and answers each take 0–20 ms: reads race the writes, as they do against a real etcd.
        const kvdb = faultyKvdb(new MemKvdb({ store }), '10.0.0.1', new LinkFaults(), clock, {
          delayMs: () => Math.floor(random() * 21),
        });
        const { reader, reads, failures } = readerOn(kvdb, clock);
        await raw.put(`${PREFIX}info`, 'cluster');
        const states: State[] = [];
        const record = (): void => {
          const kvs = plain(store.range(PREFIX, {}).kvs);
          const previous = states.at(-1);
          if (previous === undefined || JSON.stringify(previous.kvs) !== JSON.stringify(kvs)) {
            states.push({ revision: store.currentRevision, atMs: clock.nowMs(), kvs });
          }
        };
        record();
        reader.request();
        reader.startWatching();
        for (const op of ops) {
          if (op.type === 'request') reader.request();
          else if (op.type === 'advance') clock.advance(op.ms);
          else await applyOp(raw, op);
          record();
          await settle();
        }
        for (let round = 0; round < 3; round++) {
          clock.advance(50);
          await settle();
        }
        reader.request();
        for (let round = 0; round < 3; round++) {
          clock.advance(50);
          await settle();
        }
        expect(failures).toEqual([]);
        let revision = 0;
        for (const read of reads) {
          expect(read.revision).toBeGreaterThanOrEqual(revision);
          revision = read.revision;
          // The prefix as of the read's revision (the last one that changed it, or a later one)...
          const kvs = plain(read.kvs);
          expect(kvs).toEqual(states.findLast((state) => state.revision <= read.revision)?.kvs);
          // ...and the prefix at some moment between sending the read and delivering it.
          const held = states.some(
            (state, index) =>
              JSON.stringify(state.kvs) === JSON.stringify(kvs) &&
              state.atMs <= read.atMs &&
              (states[index + 1]?.atMs ?? Infinity) >= read.readStartMs,
          );
          expect(held, `read sent at ${read.readStartMs} delivered at ${read.atMs}`).toBe(true);
        }
        expect(plain(reads.at(-1)?.kvs ?? [])).toEqual(plain((await raw.range(PREFIX)).kvs));
        reader.stop();
      }),
      { numRuns: 150 },
    );
  });

  it('reads one key per refresh in steady state, and hands the core the same array while nothing changes', async () => {
    const clock = new ManualClock(1_000_000);
    const store = new MemStore({ clock });
    const raw = new MemKvdb({ store });
    for (let index = 0; index < 50; index++) await raw.put(`${PREFIX}nodes/n${index}`, 'entry');
    const { reader, reads, last } = readerOn(new MemKvdb({ store }), clock);
    reader.request();
    reader.startWatching();
    await settle();
    expect(last()?.kvs).toHaveLength(50);
    const before = { ...store.opStats };
    for (let refresh = 0; refresh < 100; refresh++) {
      reader.request();
      await settle();
    }
    expect(store.opStats.ranges - before.ranges).toBe(100);
    expect(store.opStats.keysRead - before.keysRead).toBe(100);
    expect(new Set(reads.slice(1).map((read) => read.kvs)).size).toBe(1);
    await raw.put(`${PREFIX}nodes/n7`, 'changed');
    await raw.delete(`${PREFIX}nodes/n8`);
    await settle();
    // Each change is one confirmation of one key; nothing is read whole again.
    expect(store.opStats.keysRead - before.keysRead).toBeLessThanOrEqual(104);
    expect(reader.stats.fullReads).toBe(1);
    expect(plain(last()?.kvs ?? [])).toEqual(plain((await raw.range(PREFIX)).kvs));
    reader.stop();
  });

  it('falls back to a full read when the confirmation does not match the mirror (a watch that fell silent)', async () => {
    const { clock, raw, kvdb } = await storeWithInfo(() => () => ({ lastRevision: 0, cancel: () => undefined }));
    const { reader, last } = readerOn(kvdb, clock);
    reader.request();
    reader.startWatching();
    await settle();
    await raw.put(`${PREFIX}nodes/n1`, 'new');
    reader.request();
    await settle();
    expect(reader.stats.mismatches).toBe(1);
    expect(reader.stats.fullReads).toBe(2);
    expect(last()?.kvs.map((kv) => kv.key)).toEqual([`${PREFIX}info`, `${PREFIX}nodes/n1`]);
    reader.request();
    await settle();
    expect(reader.stats.fullReads).toBe(2);
    reader.stop();
  });

  it('rebuilds the mirror with a full read after a watch error, and watches again from its revision', async () => {
    const watches: WatchOptions[] = [];
    const { clock, raw, kvdb } = await storeWithInfo((inner) => (prefix: string, options: WatchOptions) => {
      watches.push(options);
      return inner.watch(prefix, options);
    });
    const { reader, last } = readerOn(kvdb, clock);
    reader.request();
    reader.startWatching();
    await settle();
    expect(watches.map((options) => options.fromRevision)).toEqual([(last()?.revision ?? 0) + 1]);
    watches[0]?.onError(new KvdbError('Compacted', 'compacted away (test)', { revision: 9 }));
    await raw.put(`${PREFIX}nodes/n1`, 'written while the watch was down');
    reader.request();
    await settle();
    expect(reader.stats.watchErrors).toBe(1);
    expect(reader.stats.fullReads).toBe(2);
    const rebuiltAt = last()?.revision ?? 0;
    expect(watches.map((options) => options.fromRevision)).toEqual([watches[0]?.fromRevision, rebuiltAt + 1]);
    await raw.put(`${PREFIX}nodes/n2`, 'after');
    await settle();
    expect(plain(last()?.kvs ?? [])).toEqual(plain((await raw.range(PREFIX)).kvs));
    expect(reader.stats.fullReads).toBe(2);
    reader.stop();
  });

  it('reports a failed read, and confirms again once the kvdb answers', async () => {
    const { clock, kvdb: inner } = await storeWithInfo();
    const faults = new LinkFaults();
    const kvdb = faultyKvdb(inner, '10.0.0.1', faults, clock, { timeoutMs: 100 });
    const { reader, reads, failures } = readerOn(kvdb, clock);
    reader.request();
    reader.startWatching();
    await settle();
    faults.cutKvdb(['10.0.0.1']);
    reader.request();
    clock.advance(100);
    await settle();
    expect(failures).toHaveLength(1);
    faults.healKvdb(['10.0.0.1']);
    reader.request();
    await settle();
    expect(reads).toHaveLength(2);
    expect(reader.stats.fullReads).toBe(1);
    reader.stop();
  });
});

describe('six agents reading cluster/ through their mirrors (MemKvdb, manual clock)', () => {
  let cluster: VirtualCluster;
  afterEach(async () => {
    await cluster.stopAll();
  });

  it('read at most one key per kvdb range once formed', async () => {
    cluster = new VirtualCluster();
    await cluster.start();
    await cluster.advance(8000);
    const store = cluster.memStores.get('virtual') as MemStore;
    const before = { ...store.opStats };
    await cluster.advance(10_000);
    const ranges = store.opStats.ranges - before.ranges;
    expect(ranges).toBeGreaterThan(6 * 10);
    expect(store.opStats.keysRead - before.keysRead).toBeLessThanOrEqual(ranges);
    expect(Object.values(cluster.statuses())).toEqual(Array(6).fill('Online'));
  });
});
