import { describe, expect, it } from 'vitest';
import { MemKvdb, MemStore } from '@pxsim/kvdb-client';
import { ManualClock } from '@pxsim/runtime';

describe('MemKvdb: whole-prefix reads at an unchanged revision', () => {
  it('answer again from the last read, as separate arrays of frozen entries, and see every change', async () => {
    const clock = new ManualClock();
    const store = new MemStore({ clock });
    const kvdb = new MemKvdb({ store, namespace: 'ns/' });
    const other = new MemKvdb({ store, namespace: 'ns/' });
    await kvdb.put('c/a', '1');
    await kvdb.put('c/b', '2');

    const first = await kvdb.range('c/');
    const second = await kvdb.range('c/');
    expect(second).toEqual(first);
    expect(second.kvs).not.toBe(first.kvs); // a caller may sort or push into its own array
    expect(Object.isFrozen(second.kvs[0])).toBe(true);
    first.kvs.pop();
    expect((await kvdb.range('c/')).kvs.map((kv) => kv.key)).toEqual(['c/a', 'c/b']);

    // A write through another client moves the revision: the next read sees it.
    await other.put('c/b', '3');
    const afterWrite = await kvdb.range('c/');
    expect(afterWrite.revision).toBe(first.revision + 1);
    expect(afterWrite.kvs.map((kv) => kv.value)).toEqual(['1', '3']);

    // A lease expiring deletes its key (a new revision) without any client writing.
    const lease = await other.grantLease(1000, { autoKeepAlive: false });
    await other.put('c/leased', 'x', { leaseId: lease.id });
    expect((await kvdb.range('c/')).kvs).toHaveLength(3);
    clock.advance(1500);
    const afterExpiry = await kvdb.range('c/');
    expect(afterExpiry.kvs.map((kv) => kv.key)).toEqual(['c/a', 'c/b']);

    // Limited and keys-only reads are answered from the store, not from the whole-prefix answer.
    expect(await kvdb.range('c/', { limit: 1 })).toMatchObject({ more: true, kvs: [{ key: 'c/a' }] });
    expect((await kvdb.range('c/', { keysOnly: true })).kvs.map((kv) => kv.value)).toEqual(['', '']);
    expect((await kvdb.range('c/')).kvs.map((kv) => kv.value)).toEqual(['1', '3']);
    await lease.revoke().catch(() => undefined);
  });
});
