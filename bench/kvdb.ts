import { EtcdKvdb, MemKvdb, type Kvdb } from '@pxsim/kvdb-client';
import { realClock } from '@pxsim/runtime';
import { EtcdProcess } from '@pxsim/kvdb-client/etcd-process';
import type { Figure } from './figures.js';

async function putsPerSecond(kvdb: Kvdb, count: number): Promise<number> {
  const started = performance.now();
  for (let index = 0; index < count; index++) await kvdb.put(`bench/${index % 1000}`, `value-${index}`);
  return count / ((performance.now() - started) / 1000);
}

async function watchFanOut(watchers: number, writes: number): Promise<number> {
  const kvdb = new MemKvdb({ clock: realClock, namespace: 'fanout/' });
  let delivered = 0;
  const expected = watchers * writes;
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  for (let index = 0; index < watchers; index++) {
    kvdb.watch('k/', {
      maxPendingBatches: writes + 1,
      onBatch: (batch) => {
        delivered += batch.events.length;
        if (delivered === expected) finish();
      },
      onError: (error) => {
        throw error;
      },
    });
  }
  const started = performance.now();
  for (let index = 0; index < writes; index++) await kvdb.put(`k/${index % 100}`, String(index));
  await done;
  const seconds = (performance.now() - started) / 1000;
  await kvdb.close();
  return expected / seconds;
}

export async function kvdbFigures(): Promise<Figure[]> {
  const mem = new MemKvdb({ clock: realClock, namespace: 'bench/' });
  await putsPerSecond(mem, 5_000); // warm-up
  const memRate = await putsPerSecond(mem, 100_000);
  await mem.close();

  const etcd = await EtcdProcess.start();
  try {
    const client = new EtcdKvdb({ hosts: [etcd.endpoint], namespace: 'bench/' });
    await putsPerSecond(client, 200);
    const etcdRate = await putsPerSecond(client, 3_000);
    await client.close();
    return [
      { name: 'kvdb.mem_put_per_s', value: memRate, unit: 'puts/s' },
      {
        name: 'kvdb.etcd_put_per_s',
        value: etcdRate,
        unit: 'puts/s',
        note: 'one client, one put in flight, real etcd on loopback',
      },
      { name: 'kvdb.mem_vs_etcd_x', value: memRate / etcdRate, unit: 'x' },
      {
        name: 'kvdb.mem_watch_events_per_s',
        value: await watchFanOut(100, 2_000),
        unit: 'events/s',
        note: '1 writer, 100 watchers',
      },
    ];
  } finally {
    await etcd.stop();
  }
}
