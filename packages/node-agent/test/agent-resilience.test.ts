import { afterEach, describe, expect, it } from 'vitest';
import { aliveTtlMs } from '@pxsim/node-agent';
import { VirtualCluster } from './virtual-cluster.js';

const A = ['127.0.1.1', '127.0.1.2', '127.0.1.3'];
const NODE_ID = '5b0c2c7e-3f54-4e0e-9b7a-0d6c1e2f3a4b';

describe('the agent shell against bad kvdb values and a lost alive record (MemKvdb, manual clock)', () => {
  let cluster: VirtualCluster;
  afterEach(async () => {
    await cluster.stopAll();
  });

  it('joins although its node entry is not JSON: reports the value, counts it, and rewrites the entry', async () => {
    cluster = new VirtualCluster();
    cluster.identities.set(A[0] as string, { nodeId: NODE_ID, clusterId: 'px-dr-cluster' });
    const raw = cluster.rawKvdb();
    await raw.put(`cluster/nodes/${NODE_ID}`, '{"id": "truncated');
    await cluster.start(A);
    await cluster.advance(6000);
    const agent = cluster.node(A[0] as string).agent;
    expect(agent.status().phase).toBe('running');
    expect(cluster.statuses()).toEqual(Object.fromEntries(A.map((ip) => [ip, 'Online'])));
    const rewritten = await raw.get(`cluster/nodes/${NODE_ID}`);
    expect(JSON.parse(rewritten.kv.value)).toMatchObject({ id: NODE_ID, genNumber: 1, mgmtIp: A[0] });
    expect(
      cluster.logs.filter((line) =>
        line.includes(`${A[0]} warn rejected kvdb value cluster/nodes/${NODE_ID}: not JSON`),
      ),
    ).toHaveLength(1);
    expect(cluster.logs.some((line) => line.includes('rewriting it'))).toBe(true);
    expect(agent.status().counters.kvdbValuesRejected).toBe(1);
  });

  it('lists the good ClusterDomainUpdates when one record is not JSON, and counts the bad one once', async () => {
    cluster = new VirtualCluster();
    await cluster.start(A);
    await cluster.advance(5000);
    const agent = cluster.node(A[0] as string).agent;
    const before = agent.status().counters.kvdbValuesRejected;
    await cluster.rawKvdb().put('stork/clusterdomainupdates/broken', 'not json at all');
    const good = await agent.applyClusterDomainUpdate(
      { name: 'activate-a', clusterDomain: 'us-east-1a', active: true },
      'create',
    );
    expect(good.status).toBe('Successful');
    expect(await agent.listClusterDomainUpdates()).toEqual([good]);
    expect(await agent.listClusterDomainUpdates()).toEqual([good]);
    expect(agent.status().counters.kvdbValuesRejected).toBe(before + 1);
    const logged = cluster.logs.filter((line) =>
      line.includes('rejected kvdb value stork/clusterdomainupdates/broken: not JSON'),
    );
    expect(logged).toHaveLength(1);
    expect(logged[0]).toContain('left out of the list');
    const response = await cluster
      .node(A[0] as string)
      .api.inject({ method: 'GET', url: '/v1/stork/clusterdomainupdates' });
    expect(response.statusCode).toBe(200); // once a 503: one bad record broke the whole list
    expect(response.json()).toEqual({ items: [good] });
  });

  it('claims its alive record again after losing its lease, retrying with a bounded backoff, saying so meanwhile', async () => {
    cluster = new VirtualCluster();
    await cluster.start(A);
    await cluster.advance(5000);
    const ip = A[0] as string;
    const agent = cluster.node(ip).agent;
    const aliveKey = `alive/${agent.nodeId}`;
    const raw = cluster.rawKvdb();
    expect((await raw.get(aliveKey)).kv.value).toContain(ip);
    const reasons: string[] = [];
    agent.subscribe((event) => {
      if (event.type === 'phase') reasons.push(event.reason);
    });

    // Cut off from the kvdb for longer than the lease's TTL: the lease is lost and the record expires.
    cluster.faults.cutKvdb([ip]);
    await cluster.advance(aliveTtlMs(agent.timing) + 9000);
    await expect(raw.get(aliveKey)).rejects.toThrow();
    expect(cluster.logs.some((line) => line.includes(`${ip} warn alive lease lost`))).toBe(true);
    const attempts = cluster.logs.filter((line) => line.includes(`${ip} warn re-claiming the alive record failed`));
    expect(attempts.length).toBeGreaterThanOrEqual(3);
    expect(agent.status().phase).toBe('running');
    expect(agent.status().phaseReason).toMatch(/^no alive record since \d+ ms \(lease lost: .*\); attempt \d+ failed/);
    // The backoff doubles from 200 ms and stays at most 5000 ms.
    const delaysMs = reasons.flatMap((reason) => {
      const match = /retrying in (\d+) ms$/.exec(reason);
      return match === null ? [] : [Number(match[1])];
    });
    expect(delaysMs).toEqual([200, 400, 800, 1600, 3200, 5000, 5000, 5000].slice(0, delaysMs.length));
    expect(delaysMs.length).toBe(attempts.length);

    // Back in touch: the record is claimed again, and the reason clears.
    cluster.faults.heal();
    await cluster.advance(8000);
    expect((await raw.get(aliveKey)).kv.value).toContain(ip);
    expect(agent.status().phaseReason).toBe('');
    expect(cluster.logs.some((line) => line.includes(`${ip} info alive record claimed again after`))).toBe(true);
    expect(cluster.statuses()[ip]).toBe('Online');
  });
});
