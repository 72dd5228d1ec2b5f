import { describe, expect, it } from 'vitest';
import { MemKvdb, MemStore } from '@pxsim/kvdb-client';
import { ManualClock, seededRandom } from '@pxsim/runtime';
import { KubeError, NAMESPACES, NODES, ObjectStore, type KubeObject } from '../src/index.js';

function setup() {
  const clock = new ManualClock(Date.parse('2026-11-22T10:00:00Z'));
  const mem = new MemStore({ clock });
  const kvdb = new MemKvdb({ store: mem, namespace: 'pxsim-kube/c/us-east-1a/' });
  return { clock, kvdb, store: new ObjectStore(kvdb, { clock, random: seededRandom(1) }) };
}

const namespace = (name: string, labels: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels },
});
const ref = (name: string) => ({ type: NAMESPACES, namespace: undefined, name });

async function failure(promise: Promise<unknown>): Promise<KubeError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof KubeError) return error;
    throw error;
  }
  throw new Error('expected a KubeError');
}

describe('ObjectStore: Kubernetes objects in the kvdb', () => {
  it('create sets uid, creationTimestamp and resourceVersion (the key revision); a taken name is AlreadyExists', async () => {
    const { store } = setup();
    const created = await store.create(ref('demo'), namespace('demo'));
    expect(created.metadata.uid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(created.metadata.creationTimestamp).toBe('2026-11-22T10:00:00Z');
    expect(await store.get(ref('demo'))).toEqual(created);
    const again = await failure(store.create(ref('demo'), namespace('demo')));
    expect([again.code, again.reason, again.message]).toEqual([
      409,
      'AlreadyExists',
      'namespaces "demo" already exists',
    ]);
  });

  it('update is compare-and-set on resourceVersion (Conflict when stale) and keeps uid and creation time', async () => {
    const { store, clock } = setup();
    const created = await store.create(ref('demo'), namespace('demo'));
    clock.advance(5000);
    const version = created.metadata.resourceVersion ?? '';
    const updated = await store.update(ref('demo'), namespace('demo', { team: 'dr' }), version);
    expect(updated.metadata.labels).toEqual({ team: 'dr' });
    expect(updated.metadata.uid).toBe(created.metadata.uid);
    expect(updated.metadata.creationTimestamp).toBe(created.metadata.creationTimestamp);
    expect(Number(updated.metadata.resourceVersion)).toBeGreaterThan(Number(version));
    const stale = await failure(store.update(ref('demo'), namespace('demo', { team: 'x' }), version));
    expect(stale.reason).toBe('Conflict');
    expect(stale.message).toContain('the object has been modified');
  });

  it('list answers the objects of one type at one revision; delete answers the object; NotFound after', async () => {
    const { store } = setup();
    await store.create(ref('a'), namespace('a'));
    await store.create(ref('b'), namespace('b'));
    const node = await store.create(
      { type: NODES, namespace: undefined, name: 'n1' },
      { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } },
    );
    const list = await store.list(NAMESPACES, undefined);
    expect(list.items.map((item) => item.metadata.name)).toEqual(['a', 'b']);
    expect(String(list.revision)).toBe(node.metadata.resourceVersion); // the last write, to another type
    expect((await store.delete(ref('a'))).metadata.name).toBe('a');
    const gone = await failure(store.get(ref('a')));
    expect([gone.code, gone.message]).toEqual([404, 'namespaces "a" not found']);
  });

  it('a malformed stored value is reported with its key, never served', async () => {
    const { store, kvdb } = setup();
    await kvdb.put('core/namespaces/_/broken', '{not json');
    await kvdb.put(
      'core/namespaces/_/node',
      JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node' } }),
    );
    expect((await failure(store.get(ref('broken')))).message).toBe(
      'stored value at core/namespaces/_/broken is not JSON',
    );
    expect((await failure(store.get(ref('node')))).message).toContain('is not a Namespace: kind Node');
    expect((await failure(store.list(NAMESPACES, undefined))).reason).toBe('InternalError');
  });

  it('watch: ADDED, MODIFIED and DELETED in order from a revision', async () => {
    const { store } = setup();
    const first = await store.create(ref('a'), namespace('a'));
    const events: string[] = [];
    const cancel = store.watch(
      NAMESPACES,
      undefined,
      Number(first.metadata.resourceVersion),
      (event) =>
        events.push(`${event.type} ${event.object.metadata.name} ${event.object.metadata.resourceVersion ?? ''}`),
      () => events.push('end'),
    );
    const updated = await store.update(ref('a'), namespace('a', { x: '1' }), first.metadata.resourceVersion ?? '');
    await store.delete(ref('a'));
    for (let turn = 0; turn < 20 && events.length < 3; turn++) await new Promise((resolve) => setTimeout(resolve, 5));
    cancel();
    expect(events).toEqual([
      `ADDED a ${first.metadata.resourceVersion ?? ''}`,
      `MODIFIED a ${updated.metadata.resourceVersion ?? ''}`,
      'DELETED a 4',
    ]);
  });
});
