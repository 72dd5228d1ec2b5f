import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  KvdbError,
  MemKvdb,
  type Compare,
  type Kvdb,
  type Lease,
  type TxnOp,
  type WatchBatch,
} from '@pxsim/kvdb-client';
import { ManualClock } from '@pxsim/runtime';
import { EtcdProcess } from '@pxsim/kvdb-client/etcd-process';
import { ETCD_CLIENTS, etcdAvailable, etcdClient, flushMicrotasks } from './backends.js';

const KEYS = ['a', 'b', 'd/x', 'd/y', 'e'] as const; // never 'sync': the run's sentinel key
const VALUES = ['', 'v1', 'v2', 'zz'] as const;
const key = fc.constantFrom(...KEYS);
const value = fc.constantFrom(...VALUES);
/** How a guard's revision is chosen: the key's real mod revision, an older one, or none. */
const guard = fc.constantFrom('none', 'current', 'stale');

const compare: fc.Arbitrary<Compare> = fc.oneof(
  fc.record({ key, target: fc.constant('value' as const), op: fc.constantFrom('==', '!=', '<', '>'), value }),
  fc.record({
    key,
    target: fc.constantFrom('modRevision' as const, 'createRevision' as const, 'version' as const),
    op: fc.constantFrom('==', '!=', '<', '>'),
    value: fc.nat({ max: 3 }),
  }),
);
const txnOp: fc.Arbitrary<TxnOp> = fc.oneof(
  fc.record({ type: fc.constant('put' as const), key, value }),
  fc.record({ type: fc.constant('delete' as const), key }),
  fc.record({ type: fc.constant('get' as const), key }),
);

type Command =
  | { op: 'get'; key: string }
  | { op: 'put'; key: string; value: string; lease: number | null }
  | { op: 'create'; key: string; value: string }
  | { op: 'update'; key: string; value: string; guard: string }
  | { op: 'delete'; key: string; guard: string }
  | { op: 'range'; prefix: string; limit: number; keysOnly: boolean }
  | { op: 'txn'; compare: Compare[]; success: TxnOp[]; failure: TxnOp[] }
  | { op: 'grant' }
  | { op: 'revoke'; lease: number }
  | { op: 'compact'; back: number };

const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ op: fc.constant('get' as const), key }),
  fc.record({ op: fc.constant('put' as const), key, value, lease: fc.option(fc.nat({ max: 2 })) }),
  fc.record({ op: fc.constant('create' as const), key, value }),
  fc.record({ op: fc.constant('update' as const), key, value, guard }),
  fc.record({ op: fc.constant('delete' as const), key, guard }),
  fc.record({
    op: fc.constant('range' as const),
    prefix: fc.constantFrom('', 'd/', 'a', 'x'),
    limit: fc.nat({ max: 3 }),
    keysOnly: fc.boolean(),
  }),
  fc.record({
    op: fc.constant('txn' as const),
    compare: fc.array(compare, { maxLength: 2 }),
    success: fc.array(txnOp, { maxLength: 3 }),
    failure: fc.array(txnOp, { maxLength: 2 }),
  }),
  fc.record({ op: fc.constant('grant' as const) }),
  fc.record({ op: fc.constant('revoke' as const), lease: fc.nat({ max: 2 }) }),
  fc.record({ op: fc.constant('compact' as const), back: fc.nat({ max: 3 }) }),
);

const REVISION_FIELDS = new Set(['revision', 'createRevision', 'modRevision']);

/** Revisions relative to the run's first one, lease ids as their grant order: what must match across backends. */
function normalise(value: unknown, base: number, leases: string[]): unknown {
  if (Array.isArray(value)) return value.map((item) => normalise(item, base, leases));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [field, item] of Object.entries(value)) {
    if (REVISION_FIELDS.has(field) && typeof item === 'number' && item > 0) out[field] = item - base;
    else if (field === 'leaseId' && typeof item === 'string') out[field] = `lease#${leases.indexOf(item)}`;
    else out[field] = normalise(item, base, leases);
  }
  return out;
}

async function run(kvdb: Kvdb, commands: Command[]): Promise<unknown[]> {
  const leases: Lease[] = [];
  const leaseIds: string[] = [];
  const batches: WatchBatch[] = [];
  const watchErrors: string[] = [];
  const start = await kvdb.currentRevision();
  const watch = kvdb.watch('', {
    fromRevision: start + 1,
    onBatch: (batch) => void batches.push(batch),
    onError: (error) => void watchErrors.push(error.kind),
  });
  // A sentinel write, seen by the watch, proves the watch is in sync before the commands run (etcd registers a
  // watch asynchronously; a compaction racing an unsynced watch cancels it).
  const sentinel = await kvdb.put('sync', 'sentinel');
  for (let waited = 0; waited < 3000 && batches.length === 0; waited += 5) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  batches.length = 0;
  const base = sentinel.revision;
  const leaseOf = (index: number | null) => (index === null ? undefined : (leases[index]?.id ?? '999999'));
  const revisionFor = async (name: string, how: string): Promise<number | undefined> => {
    if (how === 'none') return undefined;
    const current = await kvdb.get(name).then(
      (got) => got.kv.modRevision,
      () => base + 1,
    );
    return how === 'current' ? current : Math.max(1, current - 1);
  };
  const outcomes: unknown[] = [];
  for (const step of commands) {
    try {
      const result = await (async (): Promise<unknown> => {
        switch (step.op) {
          case 'get':
            return kvdb.get(step.key);
          case 'put': {
            const leaseId = leaseOf(step.lease);
            return kvdb.put(step.key, step.value, leaseId === undefined ? {} : { leaseId });
          }
          case 'create':
            return kvdb.create(step.key, step.value);
          case 'update': {
            const ifModRevision = await revisionFor(step.key, step.guard);
            return kvdb.update(step.key, step.value, ifModRevision === undefined ? {} : { ifModRevision });
          }
          case 'delete': {
            const ifModRevision = await revisionFor(step.key, step.guard);
            return kvdb.delete(step.key, ifModRevision === undefined ? {} : { ifModRevision });
          }
          case 'range':
            return kvdb.range(step.prefix, { limit: step.limit, keysOnly: step.keysOnly });
          case 'txn': {
            // Generated revisions are relative to the run's first revision, like the normalised results.
            const compares = step.compare.map((item): Compare =>
              item.target === 'modRevision' || item.target === 'createRevision'
                ? { ...item, value: item.value === 0 ? 0 : base + item.value }
                : item,
            );
            return kvdb.txn({ compare: compares, success: step.success, failure: step.failure });
          }
          case 'grant': {
            const lease = await kvdb.grantLease(60_000, { autoKeepAlive: false });
            leases.push(lease);
            leaseIds.push(lease.id);
            return { granted: leases.length - 1 };
          }
          case 'revoke': {
            const lease = leases[step.lease];
            if (lease === undefined) return 'no such lease';
            await lease.revoke();
            return 'revoked';
          }
          case 'compact': {
            // Never below this run's first revision: etcd's compaction state outlives a run's namespace.
            const target = (await kvdb.currentRevision()) - step.back;
            await kvdb.compact(Math.max(base + 1, target));
            return 'compacted';
          }
        }
      })();
      outcomes.push({ ok: normalise(result, base, leaseIds) });
    } catch (error) {
      if (!(error instanceof KvdbError)) throw error;
      outcomes.push({ error: error.kind });
    }
  }
  await flushMicrotasks();
  // etcd delivers watch events over the network: wait (bounded) until the last revision has arrived.
  const last = await kvdb.currentRevision();
  for (let waited = 0; waited < 3000 && (batches.at(-1)?.revision ?? base) < last; waited += 10) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  watch.cancel();
  for (const lease of leases) await lease.revoke().catch(() => undefined);
  outcomes.push({ watched: normalise(batches, base, leaseIds), watchErrors });
  return outcomes;
}

describe.skipIf(!etcdAvailable).each(ETCD_CLIENTS)(
  'MemKvdb and etcd (%s client) agree (differential property)',
  (kind) => {
    let etcd: EtcdProcess;
    beforeAll(async () => {
      etcd = await EtcdProcess.start();
    });
    afterAll(async () => {
      await etcd.stop();
    });

    it('random operation sequences give the same results, errors and watch events on both backends', async () => {
      let runNumber = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 25 }), async (commands) => {
          runNumber += 1;
          const mem = new MemKvdb({ clock: new ManualClock(), namespace: 'diff/' });
          const real = etcdClient(kind, { hosts: [etcd.endpoint], namespace: `diff/${runNumber}/` });
          try {
            const [expected, actual] = [await run(mem, commands), await run(real, commands)];
            expect(actual).toEqual(expected);
          } finally {
            await mem.close();
            await real.close();
          }
        }),
        { numRuns: 200, endOnFailure: true },
      );
    });
  },
);
