import { connect, createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { LinkFaults } from '@pxsim/runtime';
import {
  DOMAIN_NAME_RULE,
  OBJECT_NAME_RULE,
  API_ERRORS,
  PARAM_LENGTH_MAX,
  URL_LENGTH_MAX,
  agentEventMessageSchema,
  agentStatusSchema,
  apiErrorSchema,
  buildApi,
  buildHealthApi,
  clusterDomainActionSchema,
  clusterDomainInspectSchema,
  clusterDomainUpdateListSchema,
  clusterDomainUpdateSchema,
  clusterDomainsEnumerateSchema,
  faultSummarySchema,
  nodeHealthSchema,
  nodeLivenessSchema,
  startNode,
  writeAckSchema,
  type ApiErrorCode,
} from '@pxsim/node-agent';
import { ADMIN_TOKEN, VirtualCluster } from './virtual-cluster.js';

const ADMIN = { authorization: `Bearer ${ADMIN_TOKEN}` };
const IP = '127.0.1.1';

/** Asserts the one error shape, the code and the HTTP status the table gives it; returns the message. */
function expectError(response: { statusCode: number; json: () => unknown }, code: ApiErrorCode): string {
  const body = apiErrorSchema.parse(response.json());
  expect(body.error.code).toBe(code);
  expect(response.statusCode).toBe(API_ERRORS[code].statusCode);
  return body.error.message;
}

describe('the REST API, through inject()', () => {
  let cluster: VirtualCluster;
  let extra: FastifyInstance | undefined;
  afterEach(async () => {
    await extra?.close();
    extra = undefined;
    await cluster.stopAll();
  });

  const oneNode = async (): Promise<FastifyInstance> => {
    cluster = new VirtualCluster();
    await cluster.start([IP]);
    await cluster.advance(5000); // a lone node of a fresh domain serves after the domain-map wait (3 s, fast timing)
    expect(cluster.statuses()).toEqual({ [IP]: 'Online' });
    return cluster.node(IP).api;
  };

  it("answers fastify's own errors in the one shape, with a code from the table", async () => {
    const api = await oneNode();
    const json = { 'content-type': 'application/json' };
    interface Case {
      method: 'GET' | 'POST' | 'DELETE';
      url: string;
      headers?: Record<string, string>;
      payload?: string | object;
    }
    const cases: Array<[Case, ApiErrorCode]> = [
      [{ method: 'GET', url: '/no/such/route' }, 'NOT_FOUND'],
      [{ method: 'DELETE', url: '/v1/cluster' }, 'NOT_FOUND'],
      [{ method: 'GET', url: '/v1/clusterdomains/inspect/%zz' }, 'BAD_URL'],
      [{ method: 'GET', url: `/v1/clusterdomains/inspect/${'a'.repeat(PARAM_LENGTH_MAX + 1)}` }, 'URI_TOO_LONG'],
      [{ method: 'GET', url: `/status?pad=${'a'.repeat(URL_LENGTH_MAX)}` }, 'URI_TOO_LONG'],
      [{ method: 'GET', url: '/v1/clusterdomains/inspect/bad%20name' }, 'INVALID_REQUEST'],
      [{ method: 'POST', url: '/v1/io/write', headers: json, payload: '{' }, 'INVALID_JSON'],
      [{ method: 'POST', url: '/v1/io/write', headers: json, payload: '{"__proto__":{"bytes":1}}' }, 'INVALID_JSON'],
      [
        { method: 'POST', url: '/v1/io/write', headers: json, payload: '{"constructor":{"prototype":{"a":1}}}' },
        'INVALID_JSON',
      ],
      [{ method: 'POST', url: '/v1/io/write', headers: json, payload: '' }, 'INVALID_REQUEST'],
      [{ method: 'POST', url: '/v1/io/write', payload: { bytes: 1, extra: true } }, 'INVALID_REQUEST'],
      [{ method: 'POST', url: '/v1/io/write', payload: { bytes: 'x'.repeat(20_000) } }, 'PAYLOAD_TOO_LARGE'],
      [
        { method: 'POST', url: '/v1/io/write', headers: { 'content-type': 'application/xml' }, payload: '<a/>' },
        'UNSUPPORTED_MEDIA_TYPE',
      ],
    ];
    for (const [request, code] of cases) {
      const response = await api.inject(request);
      expect({ url: request.url.slice(0, 60), code: apiErrorSchema.parse(response.json()).error.code }).toEqual({
        url: request.url.slice(0, 60),
        code,
      });
      expectError(response, code);
    }
    const proto = await api.inject({
      method: 'POST',
      url: '/v1/io/write',
      headers: json,
      payload: '{"__proto__":{"bytes":1}}',
    });
    expect(expectError(proto, 'INVALID_JSON')).toContain('__proto__');
    const tooLong = await api.inject({ method: 'GET', url: `/status?pad=${'a'.repeat(URL_LENGTH_MAX)}` });
    expect(expectError(tooLong, 'URI_TOO_LONG')).toContain(`at most ${URL_LENGTH_MAX}`);
  });

  it('guards the admin routes with the token rule and names unknown domains', async () => {
    const api = await oneNode();
    const url = '/v1/clusterdomains/deactivate/us-east-1a';
    expectError(await api.inject({ method: 'POST', url }), 'UNAUTHORIZED');
    expectError(await api.inject({ method: 'POST', url, headers: { authorization: 'Bearer wrong' } }), 'FORBIDDEN');
    const unknown = await api.inject({ method: 'GET', url: '/v1/clusterdomains/inspect/eu-west-1' });
    expect(expectError(unknown, 'DOMAIN_NOT_FOUND')).toBe(
      'unknown cluster domain "eu-west-1"; known domains: us-east-1a',
    );
    expect(apiErrorSchema.parse(unknown.json()).error.known).toEqual(['us-east-1a']);
    const activateUnknown = await api.inject({
      method: 'POST',
      url: '/v1/clusterdomains/activate/eu-west-1',
      headers: ADMIN,
    });
    expectError(activateUnknown, 'DOMAIN_NOT_FOUND');
    extra = await buildApi(cluster.node(IP).agent, { adminToken: undefined });
    expectError(await extra.inject({ method: 'POST', url, headers: ADMIN }), 'ADMIN_DISABLED');
    expectError(await extra.inject({ method: 'GET', url: '/v1/debug/faults', headers: ADMIN }), 'NOT_FOUND');
  });

  it("serves openstorage's cluster-domain gateway routes with its JSON names", async () => {
    cluster = new VirtualCluster();
    await cluster.start(['127.0.1.1', '127.0.2.1']);
    await cluster.advance(3000);
    const api = cluster.node(IP).api;
    const list = await api.inject({ method: 'GET', url: '/v1/clusterdomains' });
    expect(clusterDomainsEnumerateSchema.parse(list.json())).toEqual({
      cluster_domain_names: ['us-east-1a', 'us-east-1b'],
    });
    const inspect = async (name: string): Promise<unknown> =>
      clusterDomainInspectSchema.parse(
        (await api.inject({ method: 'GET', url: `/v1/clusterdomains/inspect/${name}` })).json(),
      );
    expect(await inspect('us-east-1b')).toEqual({ cluster_domain_name: 'us-east-1b', is_active: true });
    // No body, as the gateway's route has none; an empty body labelled JSON is accepted too.
    const deactivate = await api.inject({
      method: 'POST',
      url: '/v1/clusterdomains/deactivate/us-east-1b',
      headers: ADMIN,
    });
    expect(deactivate.statusCode).toBe(200);
    expect(clusterDomainActionSchema.parse(deactivate.json())).toEqual({});
    await cluster.advance(500);
    expect(await inspect('us-east-1b')).toEqual({ cluster_domain_name: 'us-east-1b', is_active: false });
    const activate = await api.inject({
      method: 'POST',
      url: '/v1/clusterdomains/activate/us-east-1b',
      headers: { ...ADMIN, 'content-type': 'application/json' },
      payload: '',
    });
    expect(activate.statusCode).toBe(200);
    expect(clusterDomainActionSchema.parse(activate.json())).toEqual({});
    await cluster.advance(500);
    expect(await inspect('us-east-1b')).toEqual({ cluster_domain_name: 'us-east-1b', is_active: true });
  });

  it('removes an empty cluster domain on DELETE /v1/clusterdomains/{name}, refusing unknown, non-empty and last Active ones', async () => {
    cluster = new VirtualCluster();
    await cluster.start(['127.0.1.1', '127.0.2.1']);
    await cluster.advance(3000);
    const api = cluster.node(IP).api;
    // What a mistyped --cluster-domain leaves behind: an Active domain with no nodes (and a claim naming it).
    const raw = cluster.rawKvdb();
    await raw.put(
      'cluster/domains/us-east-1x',
      JSON.stringify({ name: 'us-east-1x', state: 'Active', updatedAtMs: 1 }),
    );
    const claimKey = 'cluster/claims/us-east-1a|us-east-1x';
    await raw.put(claimKey, JSON.stringify({ domains: ['us-east-1a', 'us-east-1x'], winner: 'us-east-1a' }));
    const remove = async (name: string, headers: Record<string, string> = ADMIN) =>
      api.inject({ method: 'DELETE', url: `/v1/clusterdomains/${name}`, headers });
    const action = async (verb: 'activate' | 'deactivate', name: string) =>
      expect(
        (await api.inject({ method: 'POST', url: `/v1/clusterdomains/${verb}/${name}`, headers: ADMIN })).statusCode,
      ).toBe(200);
    const domainKeys = async () => (await raw.range('cluster/domains/')).kvs.map((kv) => `${kv.key}@${kv.modRevision}`);
    const before = await domainKeys();

    expectError(await remove('us-east-1x', {}), 'UNAUTHORIZED');
    expectError(await remove('us-east-1x', { authorization: 'Bearer wrong' }), 'FORBIDDEN');
    expect(expectError(await remove('eu-west-1'), 'DOMAIN_NOT_FOUND')).toBe(
      'unknown cluster domain "eu-west-1"; known domains: us-east-1a, us-east-1b, us-east-1x',
    );
    expectError(await remove('us-east-1x..'), 'INVALID_REQUEST');
    const nodeB = cluster.node('127.0.2.1').agent.nodeId;
    expect(expectError(await remove('us-east-1b'), 'DOMAIN_NOT_EMPTY')).toBe(
      `cluster domain "us-east-1b" still has 1 node (${nodeB}); only a domain with no nodes can be removed`,
    );
    expect(await domainKeys()).toEqual(before);

    // With both data domains deactivated, the empty one is the last Active domain.
    await action('deactivate', 'us-east-1a');
    await action('deactivate', 'us-east-1b');
    expect(expectError(await remove('us-east-1x'), 'LAST_ACTIVE_DOMAIN')).toBe(
      'cluster domain "us-east-1x" is the last Active domain; activate another domain before removing it',
    );
    expect((await raw.get('cluster/domains/us-east-1x')).kv).toBeDefined();

    await action('activate', 'us-east-1a');
    const removed = await remove('us-east-1x');
    expect(removed.statusCode).toBe(200);
    expect(clusterDomainActionSchema.parse(removed.json())).toEqual({});
    expect((await raw.range('cluster/domains/us-east-1x')).kvs).toEqual([]);
    expect((await raw.range(claimKey)).kvs).toEqual([]);
    await cluster.advance(1000);
    const list = await api.inject({ method: 'GET', url: '/v1/clusterdomains' });
    expect(clusterDomainsEnumerateSchema.parse(list.json())).toEqual({
      cluster_domain_names: ['us-east-1a', 'us-east-1b'],
    });
    expectError(await remove('us-east-1x'), 'DOMAIN_NOT_FOUND');
  });

  it('answers bodies that parse with the exported response schemas', async () => {
    const api = await oneNode();
    const get = async (url: string, headers = {}): Promise<unknown> =>
      (await api.inject({ method: 'GET', url, headers })).json();
    expect(agentStatusSchema.parse(await get('/v1/cluster')).node.ip).toBe(IP);
    expect(nodeLivenessSchema.parse(await get('/status')).phase).toBe('running');
    expect(nodeHealthSchema.parse(await get('/health'))).toEqual({ ready: true, status: 'Online', reason: '' });
    const created = await api.inject({
      method: 'POST',
      url: '/v1/stork/clusterdomainupdates?mode=create',
      headers: ADMIN,
      payload: { name: 'activate-a', clusterDomain: 'us-east-1a', active: true },
    });
    expect(created.statusCode).toBe(201);
    expect(clusterDomainUpdateSchema.parse(created.json()).status).toBe('Successful');
    const again = await api.inject({
      method: 'POST',
      url: '/v1/stork/clusterdomainupdates?mode=create',
      headers: ADMIN,
      payload: { name: 'activate-a', clusterDomain: 'us-east-1a', active: true },
    });
    expectError(again, 'ALREADY_EXISTS');
    const list = clusterDomainUpdateListSchema.parse(await get('/v1/stork/clusterdomainupdates'));
    expect(list.items.map((item) => item.name)).toEqual(['activate-a']);
    const write = await api.inject({ method: 'POST', url: '/v1/io/write', payload: { bytes: 4096 } });
    expect(writeAckSchema.parse(write.json())).toEqual({ acknowledged: true, usedBytes: 4096 });

    extra = await buildApi(cluster.node(IP).agent, { adminToken: ADMIN_TOKEN, faults: new LinkFaults() });
    const injected = await extra.inject({
      method: 'POST',
      url: '/v1/debug/faults',
      headers: ADMIN,
      payload: { kind: 'latency', ms: 20, jitterMs: 5, to: ['127.0.2.1'] },
    });
    expect(faultSummarySchema.parse(injected.json()).latency).toEqual([{ ms: 20, jitterMs: 5, to: ['127.0.2.1'] }]);
    const refused = await extra.inject({
      method: 'POST',
      url: '/v1/debug/faults',
      headers: ADMIN,
      payload: { kind: 'latency', ms: 5000, jitterMs: 0 },
    });
    expectError(refused, 'BAD_FAULT');
    expect(
      faultSummarySchema.parse(
        await (await extra.inject({ method: 'GET', url: '/v1/debug/faults', headers: ADMIN })).json(),
      ).latency,
    ).toHaveLength(1);
  });

  it('refuses names that break their rule, naming the rule, and writes nothing to the kvdb', async () => {
    cluster = new VirtualCluster();
    await cluster.start([IP]);
    const api = cluster.node(IP).api;
    const create = async (payload: object) =>
      api.inject({ method: 'POST', url: '/v1/stork/clusterdomainupdates', headers: ADMIN, payload });
    for (const domain of ['..', '...', '_', 'a.b'])
      expect(
        expectError(await create({ name: 'activate-x', clusterDomain: domain, active: true }), 'INVALID_REQUEST'),
      ).toBe(`body/clusterDomain is not allowed as a cluster domain: use ${DOMAIN_NAME_RULE.rule}`);
    expect(
      expectError(await create({ name: 'a..b', clusterDomain: 'us-east-1a', active: true }), 'INVALID_REQUEST'),
    ).toBe(`body/name is not allowed as an object name: use ${OBJECT_NAME_RULE.rule}`);
    const inspect = await api.inject({ method: 'GET', url: '/v1/clusterdomains/inspect/...' });
    expect(inspect.statusCode).toBe(400);
    const list = clusterDomainUpdateListSchema.parse(
      (await api.inject({ method: 'GET', url: '/v1/stork/clusterdomainupdates' })).json(),
    );
    expect(list.items).toEqual([]);
  });

  it('takes the one fault vocabulary on /v1/debug/faults: its sending side applied, the rest refused by kind', async () => {
    cluster = new VirtualCluster();
    await cluster.start([IP]);
    const faults = new LinkFaults();
    extra = await buildApi(cluster.node(IP).agent, { adminToken: ADMIN_TOKEN, faults });
    const app = extra;
    const post = async (payload: object) =>
      app.inject({ method: 'POST', url: '/v1/debug/faults', headers: ADMIN, payload });
    const summary = async (payload: object) => faultSummarySchema.parse((await post(payload)).json());
    expect((await summary({ kind: 'cut', from: [IP], to: ['127.0.2.1'] })).cuts).toEqual([`${IP}>127.0.2.1`]);
    expect((await summary({ kind: 'loss', percent: 5, to: ['*'] })).loss).toEqual([{ percent: 5, to: ['*'] }]);
    expect((await summary({ kind: 'kvdb-cut', nodes: ['all'] })).kvdbCut).toEqual([IP]);
    expect((await summary({ kind: 'kvdb-heal', nodes: [IP] })).kvdbCut).toEqual([]);
    await summary({ kind: 'duplicate', percent: 20 });
    expect(faults.duplicatePercent).toBe(20);
    expect(await summary({ kind: 'heal' })).toEqual({ cuts: [], kvdbCut: [], latency: [], loss: [] });
    expect(faults.duplicatePercent).toBe(0);
    for (const kind of ['crash', 'restart', 'pause', 'kvdb-down']) {
      const body = kind === 'kvdb-down' ? { kind } : { kind, nodes: [IP] };
      expect(expectError(await post(body), 'BAD_FAULT')).toContain(
        `fault kind "${kind}" cannot be applied by one node`,
      );
    }
    expect(expectError(await post({ kind: 'partition', a: ['us-east-1a'], b: ['us-east-1b'] }), 'BAD_FAULT')).toContain(
      '"partition"',
    );
    expect(expectError(await post({ kind: 'activate', domain: 'us-east-1a' }), 'BAD_FAULT')).toContain('"activate"');
    expect(expectError(await post({ kind: 'cut', from: ['127.0.2.1'], to: [IP] }), 'BAD_FAULT')).toContain(
      'is not this node',
    );
    expect(expectError(await post({ kind: 'cut', from: [IP], to: ['us-east-1b'] }), 'BAD_FAULT')).toContain(
      'is not a peer IP',
    );
    expect(expectError(await post({ op: 'cut', to: ['127.0.2.1'] }), 'BAD_FAULT')).toContain('kinds:');
    expect(expectError(await post({ kind: 'explode' }), 'BAD_FAULT')).toContain('fault.kind');
    expect(faults.summary()).toEqual({ cuts: [], kvdbCut: [], latency: [], loss: [] });
  });

  it('streams events that parse with agentEventMessageSchema', async () => {
    cluster = new VirtualCluster();
    await cluster.start([IP]);
    const api = cluster.node(IP).api;
    await api.ready();
    const socket = await api.injectWS('/v1/events');
    const messages: unknown[] = [];
    socket.on('message', (data: Buffer) => messages.push(JSON.parse(data.toString())));
    await cluster.advance(5000);
    socket.terminate();
    const parsed = messages.map((message) => agentEventMessageSchema.parse(message));
    expect(parsed[0]?.type).toBe('hello');
    expect(parsed.some((event) => event.type === 'node-status' && event.to === 'Online')).toBe(true);
  });

  it("answers /health on the readiness app (port 9015's) as on the REST port, and nothing else", async () => {
    const api = await oneNode();
    extra = buildHealthApi(cluster.node(IP).agent);
    const [fromReadiness, fromRest] = await Promise.all([
      extra.inject({ method: 'GET', url: '/health' }),
      api.inject({ method: 'GET', url: '/health' }),
    ]);
    expect(fromReadiness.statusCode).toBe(200);
    expect(fromReadiness.json()).toEqual(fromRest.json());
    expectError(await extra.inject({ method: 'GET', url: '/v1/cluster' }), 'NOT_FOUND');
  });
});

describe('the REST API on a socket (127.0.0.1, port chosen by the system)', () => {
  let cluster: VirtualCluster | undefined;
  afterEach(async () => {
    await cluster?.stopAll();
    cluster = undefined;
  });

  /** Sends raw bytes and returns everything the server wrote before closing. */
  const raw = async (port: number, bytes: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port });
      let answer = '';
      socket.on('data', (chunk) => (answer += chunk.toString()));
      socket.on('close', () => resolve(answer));
      socket.on('error', reject);
      socket.end(bytes);
    });
  const bodyOf = (answer: string): unknown => JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));

  it("answers errors found by Node's HTTP parser in the one shape too", async () => {
    cluster = new VirtualCluster();
    await cluster.start([IP]);
    const api = cluster.node(IP).api;
    await api.listen({ host: '127.0.0.1', port: 0 });
    const address = api.server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    const garbage = await raw(address.port, 'NOT HTTP AT ALL\r\n\r\n');
    expect(garbage).toMatch(/^HTTP\/1\.1 400 /);
    expect(apiErrorSchema.parse(bodyOf(garbage)).error.code).toBe('BAD_REQUEST');
    const headers = await raw(address.port, `GET /status HTTP/1.1\r\nHost: x\r\nX-Pad: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(headers).toMatch(/^HTTP\/1\.1 431 /);
    expect(apiErrorSchema.parse(bodyOf(headers)).error.code).toBe('HEADERS_TOO_LARGE');
  });

  it('opens the REST port and the readiness port 9015 on the node IP; a taken 9015 fails the start, naming it', async () => {
    cluster = new VirtualCluster();
    const ip = '127.0.5.1';
    const node = await startNode(cluster.config(ip, 'us-east-1a'), cluster.runtime(ip), { listenApi: true });
    try {
      const readiness = await fetch(`http://${ip}:9015/health`);
      expect(nodeHealthSchema.parse(await readiness.json()).status).toBe(node.agent.status().node.status);
      const elsewhere = await fetch(`http://${ip}:9015/v1/cluster`);
      expect(apiErrorSchema.parse(await elsewhere.json()).error.code).toBe('NOT_FOUND');
      expect(agentStatusSchema.parse(await (await fetch(`http://${ip}:9001/v1/cluster`)).json()).node.ip).toBe(ip);
    } finally {
      await node.stop();
    }

    const blocked = '127.0.5.2';
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(9015, blocked, resolve));
    try {
      await expect(
        startNode(cluster.config(blocked, 'us-east-1a'), cluster.runtime(blocked), { listenApi: true }),
      ).rejects.toThrow(`cannot listen on ${blocked}:9015 (readiness, Portworx's /health port): listen EADDRINUSE`);
      // The REST port it had opened was closed again.
      await expect(fetch(`http://${blocked}:9001/status`)).rejects.toThrow();
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
