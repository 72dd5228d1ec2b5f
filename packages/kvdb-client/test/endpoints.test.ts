import { describe, expect, it } from 'vitest';
import { createKvdb, KvdbError, type MemStore, parseKvdbEndpoints } from '@pxsim/kvdb-client';
import { ManualClock } from '@pxsim/runtime';

describe('parseKvdbEndpoints (Portworx -k values)', () => {
  it.each([
    ['mem://', { backend: 'mem', storeName: '' }],
    ['mem://cluster-a', { backend: 'mem', storeName: 'cluster-a' }],
    ['etcd:http://100.26.199.167:2379', { backend: 'etcd', hosts: ['100.26.199.167:2379'], client: 'gateway' }],
    [
      'etcd:http://127.0.0.1:2379,etcd:http://127.0.0.2:2379',
      { backend: 'etcd', hosts: ['127.0.0.1:2379', '127.0.0.2:2379'], client: 'gateway' },
    ],
    ['etcd:http://a:1,http://b:2', { backend: 'etcd', hosts: ['a:1', 'b:2'], client: 'gateway' }],
    [
      'etcd+grpc:http://127.0.0.1:2379,etcd+grpc:http://[::1]:2379',
      { backend: 'etcd', hosts: ['127.0.0.1:2379', '[::1]:2379'], client: 'grpc' },
    ],
  ])('accepts %s', (value, expected) => {
    expect(parseKvdbEndpoints(value)).toEqual(expected);
  });

  it.each([
    ['', 'empty'],
    ['consul:http://127.0.0.1:8500', 'consul:http://127.0.0.1:8500'],
    ['etcd:127.0.0.1:2379', 'etcd:127.0.0.1:2379'],
    ['etcd:http://127.0.0.1:99999', '127.0.0.1:99999'],
    ['etcd:http://127.0.0.1:2379,', 'empty entry'],
    ['etcd:https://127.0.0.1:2379', 'TLS'],
    ['etcd+grpc:http://127.0.0.1:2379,etcd:http://127.0.0.2:2379', 'etcd:http://127.0.0.2:2379'],
    ['mem://bad name', 'mem://bad name'],
  ])('rejects %j with InvalidArgument naming the problem', (value, mentioned) => {
    let caught: unknown;
    try {
      parseKvdbEndpoints(value);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(KvdbError);
    expect((caught as KvdbError).kind).toBe('InvalidArgument');
    expect((caught as KvdbError).message).toContain(mentioned);
  });

  it('createKvdb shares one named mem store between clients and keeps their namespaces apart', async () => {
    const memStores = new Map<string, MemStore>();
    const clock = new ManualClock();
    const first = createKvdb('mem://shared', { namespace: 'one/', clock, memStores });
    const second = createKvdb('mem://shared', { namespace: 'one/', clock, memStores });
    const other = createKvdb('mem://shared', { namespace: 'two/', clock, memStores });
    await first.put('k', 'v');
    expect((await second.get('k')).kv.value).toBe('v');
    await expect(other.get('k')).rejects.toMatchObject({ kind: 'NotFound' });
    expect(memStores.size).toBe(1);
  });
});

describe('ManualClock', () => {
  it('fires timers in deadline order, ties in creation order, only when advanced past them', () => {
    const clock = new ManualClock(100);
    const fired: string[] = [];
    clock.setTimer(20, () => fired.push('b'));
    clock.setTimer(10, () => fired.push('a'));
    clock.setTimer(20, () => fired.push('c'));
    const cancelled = clock.setTimer(15, () => fired.push('never'));
    cancelled.cancel();
    clock.advance(15);
    expect(fired).toEqual(['a']);
    clock.advance(5);
    expect(fired).toEqual(['a', 'b', 'c']);
    expect(clock.nowMs()).toBe(120);
    expect(() => clock.advance(-1)).toThrow(RangeError);
  });
});
