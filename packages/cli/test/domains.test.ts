import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKvdb, MemKvdb, type MemStore } from '@pxsim/kvdb-client';
import { realClock } from '@pxsim/runtime';
import { memberConfig, MemoryNetwork, startNode, type RunningNode } from '@pxsim/node-agent';
import { pxctl, run, storkctl, type Io } from '../src/index.js';

/** This test's own loopback address, apart from the e2e sim (127.1.x.x) and the node-agent tests (127.0.x.x). */
const IP = '127.2.1.1';
const NODE = `${IP}:9001`;
const TOKEN = 'domains-test-token';

/**
 * `pxctl cluster domains delete` against one real agent listening on loopback (real clock, embedded kvdb shared with
 * the test, so that the test can plant what a mistyped `--cluster-domain` leaves behind: an Active domain with no
 * nodes).
 */
describe('pxctl cluster domains delete', () => {
  const stores = new Map<string, MemStore>();
  let node: RunningNode;
  let dir: string;
  let tokenFile: string;
  let raw: MemKvdb;

  const cli = async (command: 'pxctl' | 'storkctl', ...argv: string[]) => {
    let stdout = '';
    let stderr = '';
    const io: Io = { out: (text) => void (stdout += text), err: (text) => void (stderr += text) };
    const code = await run(command === 'pxctl' ? pxctl(io) : storkctl(io), argv, io);
    return { code, stdout, stderr: stderr.trim() };
  };
  const remove = async (name: string, ...extra: string[]) =>
    cli('pxctl', 'cluster', 'domains', 'delete', '--name', name, '--node', NODE, '--token-file', tokenFile, ...extra);
  const domainNames = async () =>
    (await raw.range('cluster/domains/')).kvs.map((kv) => kv.key.slice('cluster/domains/'.length));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pxsim-domains-'));
    tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, `${TOKEN}\n`);
    const config = memberConfig({
      clusterId: 'px-dr-cluster',
      kvdb: 'mem://domains-test',
      domain: 'us-east-1a',
      ip: IP,
      dataDir: join(dir, 'node'),
      schedulerNodeName: 'domains-test',
      quorumMode: 'safe',
      timingProfile: 'fast',
      adminToken: TOKEN,
      storageless: false,
    });
    const network = new MemoryNetwork(realClock);
    let identity: { nodeId: string; clusterId: string } | undefined;
    node = await startNode(
      config,
      {
        clock: realClock,
        random: Math.random,
        transport: network.transport(IP),
        replicationTransport: network.transport(IP),
        identity: { load: () => identity, save: (saved) => void (identity = saved) },
        openKvdb: (endpoints, namespace) => createKvdb(endpoints, { namespace, clock: realClock, memStores: stores }),
        log: () => undefined,
      },
      { listenApi: true },
    );
    const store = stores.get('domains-test');
    if (store === undefined) throw new Error('the agent did not open the embedded kvdb');
    raw = new MemKvdb({ store, namespace: 'pxsim/px-dr-cluster/' });
    // Wait (bounded) until the agent has registered in us-east-1a: the refusal below needs its node entry.
    for (let tries = 0; tries < 200 && (await raw.range('cluster/nodes/')).kvs.length === 0; tries++)
      await new Promise((resolve) => setTimeout(resolve, 50));
    await raw.put(
      'cluster/domains/us-east-1x',
      JSON.stringify({ name: 'us-east-1x', state: 'Active', updatedAtMs: 1 }),
    );
  });

  afterAll(async () => {
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a domain with nodes, an unknown one, a bad name and the last Active one, then removes the empty one', async () => {
    expect((await raw.range('cluster/nodes/')).kvs).toHaveLength(1);
    const withNodes = await remove('us-east-1a');
    expect(withNodes.code).toBe(1);
    expect(withNodes.stderr).toBe(
      `pxctl: http://${NODE}/v1/clusterdomains/us-east-1a: 409 DOMAIN_NOT_EMPTY cluster domain "us-east-1a" still ` +
        `has 1 node (${node.agent.nodeId}); only a domain with no nodes can be removed`,
    );
    const unknown = await remove('eu-west-1');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain(
      '404 DOMAIN_NOT_FOUND unknown cluster domain "eu-west-1"; known domains: us-east-1a, us-east-1x',
    );
    const badName = await remove('us east');
    expect(badName.code).toBe(2);
    expect(badName.stderr).toMatch(/^pxctl: --name "us east" is not allowed as a cluster domain: use /);
    const noName = await cli('pxctl', 'cluster', 'domains', 'delete');
    expect(noName.code).toBe(2);
    expect(noName.stderr).toContain("required option '--name <domain>' not specified");

    const deactivate = await cli(
      'storkctl',
      'deactivate',
      'clusterdomain',
      'us-east-1a',
      '--node',
      NODE,
      '--token-file',
      tokenFile,
    );
    expect(deactivate.code, deactivate.stderr).toBe(0);
    const last = await remove('us-east-1x');
    expect(last.code).toBe(1);
    expect(last.stderr).toContain(
      '409 LAST_ACTIVE_DOMAIN cluster domain "us-east-1x" is the last Active domain; activate another domain before removing it',
    );
    expect(await domainNames()).toEqual(['us-east-1a', 'us-east-1x']);

    const activate = await cli(
      'storkctl',
      'activate',
      'clusterdomain',
      'us-east-1a',
      '--node',
      NODE,
      '--token-file',
      tokenFile,
    );
    expect(activate.code, activate.stderr).toBe(0);
    const removed = await remove('us-east-1x');
    expect(removed).toEqual({ code: 0, stdout: 'cluster domain us-east-1x removed\n', stderr: '' });
    expect(await domainNames()).toEqual(['us-east-1a']);
  });

  it('needs the admin token', async () => {
    const wrong = join(dir, 'wrong');
    writeFileSync(wrong, 'not-the-token\n');
    const forbidden = await cli(
      'pxctl',
      'cluster',
      'domains',
      'delete',
      '--name',
      'us-east-1a',
      '--node',
      NODE,
      '--token-file',
      wrong,
    );
    expect(forbidden).toEqual({
      code: 1,
      stdout: '',
      stderr: `pxctl: http://${NODE}: forbidden: admin endpoint: wrong token`,
    });
  });
});
