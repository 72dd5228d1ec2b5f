import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdGatewayKvdb, KvdbError, type KvdbErrorKind } from '@pxsim/kvdb-client';

/**
 * A fake etcd gateway on loopback that answers whatever each test sets: the client must turn every bad answer into
 * a typed error naming the problem (never a crash, never a trusted misfit).
 */
interface Scripted {
  status: number;
  body: string;
}
const answers = new Map<string, Scripted>();
/** Every request the fake gateway received, in order. */
const received: Array<{ url: string; body: string }> = [];
let server: Server;
let endpoint = '';

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      received.push({ url: request.url ?? '', body });
      const scripted = answers.get(request.url ?? '') ?? { status: 404, body: 'no such path' };
      response.writeHead(scripted.status, { 'content-type': 'application/json' });
      response.end(scripted.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  endpoint = `127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function failure(promise: Promise<unknown>): Promise<{ kind: KvdbErrorKind; message: string }> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof KvdbError)) throw new Error(`expected a KvdbError, got ${String(error)}`);
  return { kind: error.kind, message: error.message };
}

function client(): EtcdGatewayKvdb {
  return new EtcdGatewayKvdb({ hosts: [endpoint], namespace: 'bad/', requestTimeoutMs: 2000 });
}

const HEADER = '{"header":{"revision":"7"}';

describe('EtcdGatewayKvdb given bad answers', () => {
  it('a read answered with malformed JSON is Unavailable, naming the problem', async () => {
    answers.set('/v3/kv/range', { status: 200, body: '{"header":' });
    const kvdb = client();
    expect(await failure(kvdb.range('a/'))).toEqual({
      kind: 'Unavailable',
      message: expect.stringContaining('malformed JSON') as string,
    });
    await kvdb.close();
  });

  it('a read answered with an unexpected shape is Unavailable, naming the field', async () => {
    const kvdb = client();
    answers.set('/v3/kv/range', { status: 200, body: '{"header":{"revision":"seven"}}' });
    expect(await failure(kvdb.currentRevision())).toMatchObject({ kind: 'Unavailable' });
    expect((await failure(kvdb.currentRevision())).message).toContain('header.revision');
    answers.set('/v3/kv/range', { status: 200, body: `${HEADER},"kvs":[{"key":"not base64!"}]}` });
    expect((await failure(kvdb.range('a/'))).message).toContain('kvs.0.key: not base64');
    await kvdb.close();
  });

  it('a write answered with a misfit is Indeterminate (it reached etcd), naming the problem', async () => {
    const kvdb = client();
    answers.set('/v3/kv/txn', { status: 200, body: `${HEADER},"succeeded":"yes"}` });
    const put = await failure(kvdb.put('k', 'v'));
    expect(put.kind).toBe('Indeterminate');
    expect(put.message).toContain('succeeded');
    answers.set('/v3/kv/txn', { status: 200, body: `${HEADER},"succeeded":true,"responses":[]}` });
    const short = await failure(kvdb.put('k', 'v'));
    expect(short).toEqual({ kind: 'Indeterminate', message: expect.stringContaining('0 results for 1') as string });
    await kvdb.close();
  });

  it('a failure status with a body that is not JSON is typed by whether the call writes', async () => {
    const kvdb = client();
    answers.set('/v3/kv/range', { status: 502, body: '<html>bad gateway</html>' });
    answers.set('/v3/kv/txn', { status: 502, body: '<html>bad gateway</html>' });
    expect(await failure(kvdb.range('a/'))).toMatchObject({ kind: 'Unavailable' });
    expect((await failure(kvdb.range('a/'))).message).toContain('HTTP 502');
    expect(await failure(kvdb.put('k', 'v'))).toMatchObject({ kind: 'Indeterminate' });
    await kvdb.close();
  });

  it('a lease grant without an ID is refused; a keep-alive answer without a TTL means the lease is gone', async () => {
    const kvdb = client();
    answers.set('/v3/lease/grant', { status: 200, body: `${HEADER},"TTL":"5"}` });
    expect((await failure(kvdb.grantLease(5000))).message).toContain('ID');
    answers.set('/v3/lease/grant', { status: 200, body: `${HEADER},"ID":"42","TTL":"5"}` });
    const lease = await kvdb.grantLease(5000, { autoKeepAlive: false });
    answers.set('/v3/lease/keepalive', { status: 200, body: '{"result":{"ID":"42"}}' });
    expect(await failure(lease.keepAlive())).toMatchObject({ kind: 'NotFound' });
    expect(lease.lost).toBe(true);
    await kvdb.close();
  });

  it('a watch stream message of an unexpected shape ends the watch with Unavailable naming it', async () => {
    const kvdb = client();
    answers.set('/v3/watch', {
      status: 200,
      body: `{"result":${HEADER},"created":true}}\n{"result":{"events":[{"kv":{"key":"YQ==","mod_revision":-3}}]}}\n`,
    });
    const errors: KvdbError[] = [];
    const batches: unknown[] = [];
    kvdb.watch('a', { onBatch: (batch) => void batches.push(batch), onError: (error) => errors.push(error) });
    for (let waited = 0; errors.length === 0 && waited < 5000; waited += 20) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(errors.map((error) => error.kind)).toEqual(['Unavailable']);
    expect(errors[0]?.message).toContain('result.events.0.kv.mod_revision');
    expect(batches).toEqual([]);
    await kvdb.close();
  });

  it('a watch stream that ends is opened again from just after the last revision delivered, without repeats', async () => {
    const kvdb = client();
    // Every stream: created at revision 4, one event at revision 5, then the stream ends (as when etcd restarts).
    answers.set('/v3/watch', {
      status: 200,
      body: `{"result":{"header":{"revision":"4"},"created":true}}\n{"result":{"events":[{"kv":{"key":"YmFkL3cvYQ==","mod_revision":"5","value":"dg=="}}]}}\n`,
    });
    const before = received.length;
    const batches: number[] = [];
    const errors: KvdbError[] = [];
    const watch = kvdb.watch('w/', {
      onBatch: (batch) => void batches.push(batch.revision),
      onError: (error) => errors.push(error),
    });
    const watchBodies = (): string[] =>
      received.slice(before).flatMap((request) => (request.url === '/v3/watch' ? [request.body] : []));
    for (let waited = 0; watchBodies().length < 3 && waited < 10_000; waited += 20) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    watch.cancel();
    const starts = watchBodies().map((body) => {
      const parsed: unknown = JSON.parse(body);
      const create =
        typeof parsed === 'object' && parsed !== null && 'create_request' in parsed ? parsed.create_request : undefined;
      return typeof create === 'object' && create !== null && 'start_revision' in create
        ? create.start_revision
        : 'none';
    });
    expect(starts.slice(0, 3)).toEqual(['none', '6', '6']);
    expect(batches).toEqual([5]);
    expect(errors).toEqual([]);
    await kvdb.close();
  });
});
