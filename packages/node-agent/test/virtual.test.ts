import { afterEach, describe, expect, it } from 'vitest';
import { clusterTagOf, encodeFrame, frameKey, newFrameSecret } from '@pxsim/node-agent';
import { ADMIN_TOKEN, VirtualCluster } from './virtual-cluster.js';

const A = ['127.0.1.1', '127.0.1.2', '127.0.1.3'];
const B = ['127.0.2.1', '127.0.2.2', '127.0.2.3'];
const all = (status: string, ips: string[]) => Object.fromEntries(ips.map((ip) => [ip, status]));

describe('six agents in one process, on MemKvdb and a manual clock', () => {
  let cluster: VirtualCluster;
  afterEach(async () => {
    await cluster.stopAll();
  });

  it('plays the seed walkthrough: form, lose us-east-1a, deactivate, fail back', async () => {
    cluster = new VirtualCluster();
    await cluster.start();
    await cluster.advance(8000);
    expect(cluster.statuses()).toEqual(all('Online', [...A, ...B]));
    const status = cluster.node(B[0] as string).agent.status();
    expect(status.nodes).toHaveLength(6);
    expect(status.quorum).toMatchObject({ total: 6, up: 6, needed: 4 });
    expect(status.cluster.uuid).toMatch(/^[0-9a-f-]{36}$/);

    // us-east-1a's agents go away: 3 of 6 is not a quorum.
    await cluster.stop(A);
    await cluster.advance(8000);
    expect(cluster.statuses()).toEqual(all('Out of Quorum', B));
    const survivor = cluster.node(B[0] as string);
    expect(survivor.agent.status().node.reason).toBe('sees 3 of 6 active-domain members, needs 4');
    const fenced = await survivor.api.inject({ method: 'POST', url: '/v1/io/write', payload: { bytes: 4096 } });
    expect(fenced.statusCode).toBe(503);
    expect(fenced.json()).toMatchObject({ error: { code: 'FENCED' } });

    // The ClusterDomainUpdate, through the admin API.
    const deactivate = await survivor.api.inject({
      method: 'POST',
      url: '/v1/clusterdomains/deactivate/us-east-1a',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(deactivate.statusCode).toBe(200);
    expect(deactivate.json()).toEqual({});
    const inspected = await survivor.api.inject({ method: 'GET', url: '/v1/clusterdomains/inspect/us-east-1a' });
    expect(inspected.json()).toEqual({ cluster_domain_name: 'us-east-1a', is_active: false });
    await cluster.advance(6000);
    expect(cluster.statuses()).toEqual(all('Online', B));
    const write = await survivor.api.inject({ method: 'POST', url: '/v1/io/write', payload: { bytes: 4096 } });
    expect(write.json()).toEqual({ acknowledged: true, usedBytes: 4096 });

    // Failback: us-east-1a comes back inactive (Out of Quorum, saying why), then is activated.
    const idsBefore = A.map((ip) => cluster.identities.get(ip)?.nodeId);
    await cluster.start(A);
    await cluster.advance(4000);
    expect(cluster.statuses()).toEqual({ ...all('Out of Quorum', A), ...all('Online', B) });
    expect(cluster.node(A[0] as string).agent.status().node.reason).toBe('domain us-east-1a is inactive');
    expect(A.map((ip) => cluster.node(ip).agent.nodeId)).toEqual(idsBefore);
    const activate = await survivor.api.inject({
      method: 'POST',
      url: '/v1/clusterdomains/activate/us-east-1a',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(activate.statusCode).toBe(200);
    await cluster.advance(6000);
    expect(cluster.statuses()).toEqual(all('Online', [...A, ...B]));
    const domains = await survivor.api.inject({ method: 'GET', url: '/v1/clusterdomains' });
    expect(domains.json()).toEqual({ cluster_domain_names: ['us-east-1a', 'us-east-1b'] });
    const view = await survivor.api.inject({ method: 'GET', url: '/v1/cluster' });
    expect(view.json()).toMatchObject({
      cluster: { id: 'px-dr-cluster' },
      node: { domain: 'us-east-1b' },
      domains: [
        { name: 'us-east-1a', state: 'Active', nodes: 3 },
        { name: 'us-east-1b', state: 'Active', nodes: 3 },
      ],
    });
  });

  it('guards the admin endpoints: 401 without a token, 403 with a wrong one, 404 naming the known domains', async () => {
    cluster = new VirtualCluster();
    await cluster.start(['127.0.1.1']);
    await cluster.advance(1000);
    const api = cluster.node('127.0.1.1').api;
    const url = '/v1/clusterdomains/deactivate/us-east-1a';
    expect((await api.inject({ method: 'POST', url })).statusCode).toBe(401);
    expect(
      (await api.inject({ method: 'POST', url, headers: { authorization: 'Bearer wrong-token' } })).statusCode,
    ).toBe(403);
    const unknown = await api.inject({
      method: 'POST',
      url: '/v1/clusterdomains/deactivate/eu-west-1',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({
      error: {
        code: 'DOMAIN_NOT_FOUND',
        message: 'unknown cluster domain "eu-west-1"; known domains: us-east-1a',
        known: ['us-east-1a'],
      },
    });
    const badName = await api.inject({
      method: 'POST',
      url: '/v1/clusterdomains/activate/bad%20name',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(badName.statusCode).toBe(400);
  });

  it('does not let forged or replayed heartbeats keep a killed node Online; it counts them', async () => {
    cluster = new VirtualCluster();
    await cluster.start();
    await cluster.advance(8000);
    expect(cluster.statuses()).toEqual(all('Online', [...A, ...B]));
    const victim = cluster.node(A[0] as string).agent;
    const victimId = victim.nodeId;
    const entry = await cluster.rawKvdb().get(`cluster/nodes/${victimId}`);
    const generation = (JSON.parse(entry.kv?.value ?? '{}') as { genNumber?: number }).genNumber ?? -1;
    const info = await cluster.rawKvdb().get('cluster/info');
    const secret = (JSON.parse(info.kv?.value ?? '{}') as { heartbeatSecret?: string }).heartbeatSecret ?? '';
    expect(secret).toHaveLength(43);
    // The cluster's key never shows on the API.
    const view = await cluster.node(B[0] as string).api.inject({ method: 'GET', url: '/v1/cluster' });
    expect(view.body).not.toContain(secret);
    // A genuine frame of the victim's, captured before it dies (its sequence is long past by now).
    const fields = {
      v: 2,
      clusterTag: clusterTagOf('px-dr-cluster'),
      nodeId: victimId,
      generation,
      sentAtMs: 0,
    } as const;
    const captured = encodeFrame({ ...fields, sequence: 1, state: 'UP' }, frameKey(secret));
    await cluster.stop([A[0] as string]);
    const attacker = cluster.network.transport('127.0.9.9');
    const wrongKey = frameKey(newFrameSecret());
    const before = cluster.node(B[0] as string).agent.status().counters;
    for (let round = 0; round < 40; round++) {
      const forged = encodeFrame({ ...fields, sequence: 10_000 + round, sentAtMs: round, state: 'UP' }, wrongKey);
      for (const ip of [...A.slice(1), ...B]) {
        attacker.send({ ip, port: victim.config.heartbeatPort }, forged);
        attacker.send({ ip, port: victim.config.heartbeatPort }, captured);
      }
      await cluster.advance(250);
    }
    const statuses = cluster.statuses();
    for (const ip of [...A.slice(1), ...B]) {
      const seen = cluster.node(ip).agent.status();
      expect(seen.nodes.find((node) => node.id === victimId)?.status, ip).toBe('Offline');
      expect(seen.quorum.up, ip).toBe(5);
    }
    expect(statuses).toEqual(all('Online', [...A.slice(1), ...B]));
    const after = cluster.node(B[0] as string).agent.status().counters;
    expect(after.framesUnauthenticated - before.framesUnauthenticated).toBe(80);
  });

  it('drops frames of another cluster, garbage and oversized frames, and rejects bad request bodies, without crashing', async () => {
    cluster = new VirtualCluster();
    await cluster.start(['127.0.1.1', '127.0.1.2']);
    await cluster.advance(2000);
    const target = cluster.node('127.0.1.1');
    const before = target.agent.status().counters;
    const attacker = cluster.network.transport('127.0.9.9');
    const to = { ip: '127.0.1.1', port: 9002 };
    attacker.send(
      to,
      encodeFrame(
        {
          v: 2,
          clusterTag: clusterTagOf('other-cluster'),
          nodeId: 'x',
          generation: 1,
          sequence: 1,
          sentAtMs: 1,
          state: 'UP',
        },
        frameKey(newFrameSecret()),
      ),
    );
    attacker.send(to, new Uint8Array([0xc1, 0xff, 0x00, 0x13]));
    attacker.send(to, new Uint8Array(4096).fill(0x91));
    attacker.send(
      to,
      encodeFrame(
        {
          v: 2,
          clusterTag: clusterTagOf('px-dr-cluster'),
          nodeId: 'x',
          generation: 1,
          sequence: 1,
          sentAtMs: 1,
          state: 'DOWN' as 'UP',
        },
        frameKey(newFrameSecret()),
      ),
    );
    await cluster.advance(100);
    const after = target.agent.status().counters;
    expect(after.framesFromOtherClusters - before.framesFromOtherClusters).toBe(1);
    expect(after.framesDropped - before.framesDropped).toBe(3);
    expect(target.agent.status().phase).toBe('running');
    for (const payload of [{}, { bytes: -1 }, { bytes: 'many' }, { bytes: 1, extra: true }]) {
      const response = await target.api.inject({ method: 'POST', url: '/v1/io/write', payload });
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      expect(response.json()).toMatchObject({ error: { code: 'INVALID_REQUEST' } });
    }
    const notJson = await target.api.inject({
      method: 'POST',
      url: '/v1/io/write',
      payload: '{',
      headers: { 'content-type': 'application/json' },
    });
    expect(notJson.statusCode).toBe(400);
  });

  it('drops and counts malformed replication frames on the replication port, and keeps serving', async () => {
    cluster = new VirtualCluster();
    await cluster.start(['127.0.1.1', '127.0.1.2']);
    await cluster.advance(2000);
    const target = cluster.node('127.0.1.1');
    const before = target.agent.volumes.counters.framesDropped;
    const attacker = cluster.network.transport('127.0.9.9');
    const to = { ip: '127.0.1.1', port: 9003 };
    attacker.send(to, new Uint8Array([0xc1, 0xff, 0x00, 0x13])); // not msgpack
    attacker.send(to, new Uint8Array(70_000).fill(0x91)); // over the 64 KiB bound
    attacker.send(to, new Uint8Array(0)); // empty
    await cluster.advance(100);
    expect(target.agent.volumes.counters.framesDropped - before).toBe(3);
    expect(target.agent.status().phase).toBe('running');
  });

  it('streams every state change on the /v1/events WebSocket', async () => {
    cluster = new VirtualCluster();
    await cluster.start(['127.0.1.1', '127.0.1.2', '127.0.1.3']);
    const api = cluster.node('127.0.1.1').api;
    await api.ready();
    const socket = await api.injectWS('/v1/events');
    const events: Array<{ type: string; [key: string]: unknown }> = [];
    socket.on('message', (data: Buffer) => events.push(JSON.parse(data.toString()) as { type: string }));
    await cluster.advance(5000);
    await cluster.stop(['127.0.1.3']);
    await cluster.advance(5000);
    socket.terminate();
    expect(events.filter((event) => event.type === 'hello')).toHaveLength(1);
    const own = cluster.identities.get('127.0.1.1')?.nodeId;
    const gone = cluster.identities.get('127.0.1.3')?.nodeId;
    const transitions = events
      .filter((event) => event.type === 'node-status' && (event['nodeId'] === own || event['nodeId'] === gone))
      .map(
        (event) => `${event['nodeId'] === own ? 'self' : 'peer'} ${String(event['from'])} -> ${String(event['to'])}`,
      );
    expect(transitions).toContain('self Out of Quorum -> Online');
    expect(transitions).toContain('peer Online -> Offline');
    expect(events.some((event) => event.type === 'phase' && event['phase'] === 'running')).toBe(true);
  });

  it('refuses a data dir that belongs to another cluster', async () => {
    cluster = new VirtualCluster();
    cluster.identities.set('127.0.1.1', { nodeId: 'c665fe35-57d9-4302-b6f7-a978f17cd020', clusterId: 'other-cluster' });
    await expect(cluster.start(['127.0.1.1'])).rejects.toThrow(
      'data dir /virtual/127.0.1.1 belongs to node c665fe35-57d9-4302-b6f7-a978f17cd020 of cluster other-cluster; it cannot join cluster px-dr-cluster',
    );
  });

  it('rejects malformed kvdb values with a message naming the key, and keeps running', async () => {
    cluster = new VirtualCluster();
    await cluster.start(['127.0.1.1', '127.0.1.2', '127.0.1.3']);
    await cluster.advance(5000);
    const kvdb = cluster.memStores.get('virtual');
    expect(kvdb).toBeDefined();
    const { MemKvdb } = await import('@pxsim/kvdb-client');
    const raw = new MemKvdb({ store: kvdb as never, namespace: 'pxsim/px-dr-cluster/' });
    await raw.put('cluster/nodes/bogus', '{not json');
    await raw.put('cluster/domains/broken', JSON.stringify({ name: 'broken', state: 'Sideways', updatedAtMs: 0 }));
    await cluster.advance(2000);
    expect(cluster.logs.some((line) => line.includes('rejected kvdb value cluster/nodes/bogus: not JSON'))).toBe(true);
    expect(cluster.logs.some((line) => line.includes('rejected kvdb value cluster/domains/broken: state'))).toBe(true);
    expect(cluster.statuses()).toEqual(all('Online', ['127.0.1.1', '127.0.1.2', '127.0.1.3']));
  });
});
