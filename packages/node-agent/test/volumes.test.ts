import { afterEach, describe, expect, it } from 'vitest';
import type { OpResult } from '@pxsim/storage';
import type { NodeAgent } from '@pxsim/node-agent';
import { ADMIN_TOKEN, SEED_TOPOLOGY, VirtualCluster } from './virtual-cluster.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Runs the clock until `start`'s callback answers (bounded: 60 s of virtual time). */
async function answer(cluster: VirtualCluster, start: (done: (result: OpResult) => void) => void): Promise<OpResult> {
  let result: OpResult | undefined;
  start((value) => (result = value));
  for (let waited = 0; result === undefined && waited < 60_000; waited += 50) await cluster.advance(50);
  if (result === undefined) throw new Error('no answer within 60 s of virtual time');
  return result;
}

async function until(cluster: VirtualCluster, what: string, check: () => boolean, withinMs = 60_000): Promise<void> {
  for (let waited = 0; !check(); waited += 100) {
    if (waited > withinMs) throw new Error(`${what}: not within ${withinMs} ms; ${JSON.stringify(cluster.statuses())}`);
    await cluster.advance(100);
  }
}

const agentOf = (cluster: VirtualCluster, ip: string): NodeAgent => cluster.node(ip).agent;
const domainOfId = (cluster: VirtualCluster, id: string): string =>
  SEED_TOPOLOGY.find((node) => cluster.nodes.get(node.ip)?.agent.nodeId === id)?.domain ?? '?';
const ipOfId = (cluster: VirtualCluster, id: string): string =>
  [...cluster.nodes].find(([, node]) => node.agent.nodeId === id)?.[0] ?? '?';

describe('volumes in the agents (six nodes, virtual time)', () => {
  let cluster: VirtualCluster | undefined;
  afterEach(async () => {
    await cluster?.stopAll();
    cluster = undefined;
  });

  it('repl 2: one replica per domain; failover keeps every acknowledged write; failback resyncs to Up', async () => {
    const c = (cluster = new VirtualCluster());
    await c.start();
    await until(c, 'all Online', () => Object.values(c.statuses()).every((status) => status === 'Online'));
    const first = agentOf(c, '127.0.1.1');
    // Placement reads the creating node's view: wait until it hears every node Online.
    await until(c, 'the first node sees all Online', () =>
      first.status().nodes.every((node) => node.status === 'Online'),
    );
    const created = await first.volumes.create({ name: 'db', sizeGiB: 1, haLevel: 2 });
    expect(created.record.createSet.map((id) => domainOfId(c, id)).sort()).toEqual(['us-east-1a', 'us-east-1b']);
    await until(c, 'every node sees the volume', () =>
      [...c.nodes.values()].every((node) => node.agent.volumes.inspect('db') !== undefined),
    );
    const [inA, inB] = ['us-east-1a', 'us-east-1b'].map((domain) =>
      ipOfId(c, created.record.createSet.find((id) => domainOfId(c, id) === domain) ?? ''),
    );
    const a = agentOf(c, inA ?? '');
    expect(await answer(c, (done) => a.volumes.attach('db', done))).toEqual({ ok: true });
    for (let block = 0; block < 8; block++) {
      const written = await answer(c, (done) => a.volumes.write('db', block, encoder.encode(`v${block}`), done));
      expect(written.ok).toBe(true);
    }
    expect(a.volumes.inspect('db')?.replicationStatus).toBe('Up');

    // Disaster: us-east-1a goes; the operator deactivates it; the application starts in us-east-1b.
    await c.stop(SEED_TOPOLOGY.filter((node) => node.domain === 'us-east-1a').map((node) => node.ip));
    await agentOf(c, '127.0.2.1').setDomainState('us-east-1a', 'Inactive');
    const b = agentOf(c, inB ?? '');
    // As an application controller does: attach, again if the survivor is still settling (its quorum flips once
    // more while it detects the lost domain's silence; an attach in progress is then fenced).
    let attached: OpResult = { ok: false, outcome: 'failed', code: 'NONE', reason: 'not tried' };
    for (let attempt = 0; attempt < 20 && !attached.ok; attempt++) {
      await until(c, 'the survivor serves', () => b.status().node.serving);
      attached = await answer(c, (done) => b.volumes.attach('db', done));
    }
    expect(attached).toEqual({ ok: true });
    for (let block = 0; block < 8; block++) {
      const read = await answer(c, (done) => b.volumes.read('db', block, done));
      expect(read.ok && decoder.decode(read.payload)).toBe(`v${block}`);
    }
    expect(b.volumes.inspect('db')?.replicationStatus).toBe('Degraded');
    const after = await answer(c, (done) => b.volumes.write('db', 0, encoder.encode('after'), done));
    expect(after.ok).toBe(true);

    // Failback: us-east-1a comes back and is activated; its replica resyncs and is added back.
    await c.start(SEED_TOPOLOGY.filter((node) => node.domain === 'us-east-1a').map((node) => node.ip));
    await agentOf(c, '127.0.2.1').setDomainState('us-east-1a', 'Active');
    await until(c, 'resynced', () => b.volumes.inspect('db')?.replicationStatus === 'Up', 90_000);
    expect(b.volumes.inspect('db')?.record.currentSet.length).toBe(2);
  }, 120_000);

  it('refuses bad requests with the reason', async () => {
    const c = (cluster = new VirtualCluster());
    await c.start();
    await until(c, 'all Online', () => Object.values(c.statuses()).every((status) => status === 'Online'));
    const agent = agentOf(c, '127.0.1.1');
    await expect(agent.volumes.create({ name: 'Bad_Name', sizeGiB: 1, haLevel: 2 })).rejects.toThrow(/volume name/);
    await expect(agent.volumes.create({ name: 'x', sizeGiB: 0, haLevel: 2 })).rejects.toThrow(/size 0/);
    await expect(agent.volumes.create({ name: 'x', sizeGiB: 1, haLevel: 4 })).rejects.toThrow(/replication factor 4/);
    await agent.volumes.create({ name: 'x', sizeGiB: 1, haLevel: 1 });
    await expect(agent.volumes.create({ name: 'x', sizeGiB: 1, haLevel: 1 })).rejects.toThrow(/exists already/);
    const missing = await answer(c, (done) => agent.volumes.write('nope', 0, new Uint8Array(1), done));
    expect(missing).toMatchObject({ ok: false, outcome: 'failed', code: 'VOLUME_NOT_FOUND' });
  }, 60_000);

  it('the REST routes: create, list, inspect, attach, write and read a block, delete; refusals in the one error shape', async () => {
    const c = (cluster = new VirtualCluster());
    await c.start();
    const api = c.node('127.0.1.1').api;
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const first = agentOf(c, '127.0.1.1');
    await until(
      c,
      'formed',
      () => first.status().node.serving && first.status().nodes.every((n) => n.status === 'Online'),
    );
    const call = async (
      method: 'GET' | 'POST' | 'PUT' | 'DELETE',
      url: string,
      payload?: object,
      headers: Record<string, string> = admin,
    ) => {
      const pending = api.inject({ method, url, headers, ...(payload === undefined ? {} : { payload }) });
      let done = false;
      void pending.then(() => (done = true));
      for (let waited = 0; !done && waited < 30_000; waited += 50) await c.advance(50);
      const response = await pending;
      return { status: response.statusCode, body: response.json<Record<string, unknown>>() };
    };
    expect((await call('POST', '/v1/volumes', { name: 'web', size: 1, repl: 1 }, {})).status).toBe(401);
    const created = await call('POST', '/v1/volumes', { name: 'web', size: 1, repl: 1, nodes: [first.nodeId] });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ locator: { name: 'web' }, spec: { ha_level: '1' }, state: 'detached' });
    await c.advance(200);
    expect((await call('GET', '/v1/volumes')).body['volumes']).toHaveLength(1);
    expect((await call('POST', '/v1/volumes/web/attach')).body).toMatchObject({
      state: 'attached',
      attached_on: first.nodeId,
    });
    const data = Buffer.from('hello').toString('base64');
    expect((await call('PUT', '/v1/volumes/web/blocks/5', { data })).body).toMatchObject({ acknowledged: true });
    expect((await call('GET', '/v1/volumes/web/blocks/5')).body).toMatchObject({ block: 5, data });
    const outside = await call('GET', '/v1/volumes/web/blocks/262144');
    expect(outside).toMatchObject({ status: 400, body: { error: { code: 'BLOCK_OUT_OF_RANGE', outcome: 'failed' } } });
    expect((await call('GET', '/v1/volumes/nope')).status).toBe(404);
    expect((await call('DELETE', '/v1/volumes/web')).body).toMatchObject({ error: { code: 'VOLUME_ATTACHED' } });
    expect((await call('POST', '/v1/volumes/web/detach')).body).toMatchObject({ state: 'detached' });
    expect((await call('DELETE', '/v1/volumes/web')).body).toEqual({ deleted: 'web' });
    const bad = await call('POST', '/v1/volumes', { name: 'x', size: 2000, repl: 1 });
    expect(bad).toMatchObject({ status: 400, body: { error: { code: 'INVALID_VOLUME' } } });
  }, 60_000);
});
