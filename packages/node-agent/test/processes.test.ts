import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdProcess, findEtcdBinary, freeLoopbackPort } from '@pxsim/kvdb-client/etcd-process';
import { z } from 'zod';
import { apiErrorSchema, nodeHealthSchema } from '@pxsim/node-agent';
import { CHANGE_WITHIN_MS, STARTUP_WITHIN_MS, getJson, spawnNode, until, type NodeProcess } from './processes.js';

const etcdAvailable = findEtcdBinary() !== undefined;
if (!etcdAvailable && process.env['CI'] === 'true') throw new Error('CI=true but no etcd binary on PATH');

const A = ['127.0.1.1', '127.0.1.2', '127.0.1.3'];
const B = ['127.0.2.1', '127.0.2.2', '127.0.2.3'];
const TOKEN = 'process-test-admin-token';

interface ClusterView {
  phase: string;
  node: { id: string; status: string; reason: string };
  nodes: Array<{ id: string; status: string }>;
}

describe.skipIf(!etcdAvailable)('six real px-node processes against a real etcd', () => {
  let etcd: EtcdProcess;
  let root: string;
  let tokenFile: string;
  const running = new Map<string, NodeProcess>();

  beforeAll(async () => {
    etcd = await EtcdProcess.start();
    root = mkdtempSync(join(tmpdir(), 'pxsim-nodes-'));
    tokenFile = join(root, 'admin-token');
    writeFileSync(tokenFile, `${TOKEN}\n`);
  });

  afterAll(async () => {
    for (const node of running.values()) node.child.kill('SIGKILL');
    await Promise.all([...running.values()].map((node) => node.exited));
    await etcd.stop();
    rmSync(root, { recursive: true, force: true });
  });

  const start = (ip: string, domain: string, extra: string[] = [], kvdb = etcd.kvdbEndpoint): NodeProcess => {
    const node = spawnNode(
      [
        '-c',
        'px-dr-cluster',
        '-k',
        kvdb,
        '--cluster-domain',
        domain,
        '--ip',
        ip,
        '--data-dir',
        join(root, ip),
        '--timing',
        'fast',
        '--admin-token-file',
        tokenFile,
        ...extra,
      ],
      ip,
    );
    running.set(ip, node);
    return node;
  };
  const view = async (ip: string): Promise<ClusterView> =>
    (await getJson(`http://${ip}:9001/v1/cluster`)) as ClusterView;
  const statusOf = async (ip: string): Promise<string> => (await view(ip)).node.status;
  const allAre = async (ips: string[], status: string): Promise<boolean> =>
    (await Promise.all(ips.map(statusOf))).every((value) => value === status);
  const kill = async (ips: string[]): Promise<void> => {
    for (const ip of ips) running.get(ip)?.child.kill('SIGKILL');
    await Promise.all(ips.map(async (ip) => running.get(ip)?.exited));
    for (const ip of ips) running.delete(ip);
  };
  const admin = async (action: 'activate' | 'deactivate', domain: string): Promise<Response> =>
    fetch(`http://${B[0]}:9001/v1/clusterdomains/${action}/${domain}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
    });

  it(
    'form one cluster, lose us-east-1a, deactivate it, restart and activate it: the seed walkthrough',
    async () => {
      for (const ip of A) start(ip, 'us-east-1a');
      for (const ip of B) start(ip, 'us-east-1b');
      await until('all six Online', STARTUP_WITHIN_MS, async () => allAre([...A, ...B], 'Online'));
      const formed = await view(A[0] as string);
      expect(formed.nodes).toHaveLength(6);
      const idsBefore = await Promise.all(A.map(async (ip) => (await view(ip)).node.id));

      await kill(A);
      await until('survivors Out of Quorum', CHANGE_WITHIN_MS, async () => allAre(B, 'Out of Quorum'));
      expect((await view(B[0] as string)).node.reason).toBe('sees 3 of 6 active-domain members, needs 4');

      const deactivated = await admin('deactivate', 'us-east-1a');
      expect(deactivated.status).toBe(200);
      await until('survivors Online after deactivation', CHANGE_WITHIN_MS, async () => allAre(B, 'Online'));

      for (const ip of A) start(ip, 'us-east-1a');
      await until('us-east-1a back, Out of Quorum as inactive', STARTUP_WITHIN_MS, async () =>
        allAre(A, 'Out of Quorum'),
      );
      expect((await view(A[0] as string)).node.reason).toBe('domain us-east-1a is inactive');
      expect(await Promise.all(A.map(async (ip) => (await view(ip)).node.id))).toEqual(idsBefore);

      expect((await admin('activate', 'us-east-1a')).status).toBe(200);
      await until('all six Online again', CHANGE_WITHIN_MS, async () => allAre([...A, ...B], 'Online'));
    },
    2 * STARTUP_WITHIN_MS + 3 * CHANGE_WITHIN_MS + 60_000,
  );

  it('SIGTERM stops a node cleanly and keeps its registration; a second agent with the same node ID is refused', async () => {
    const ip = A[0] as string;
    const original = running.get(ip);
    expect(original).toBeDefined();
    const nodeId = (JSON.parse(readFileSync(join(root, ip, 'node.json'), 'utf8')) as { nodeId: string }).nodeId;
    // Same data dir (same node ID) on another address while the first is alive.
    const twin = spawnNode(
      [
        '-c',
        'px-dr-cluster',
        '-k',
        etcd.kvdbEndpoint,
        '--cluster-domain',
        'us-east-1a',
        '--ip',
        '127.0.1.9',
        '--data-dir',
        join(root, ip),
        '--timing',
        'fast',
      ],
      '127.0.1.9',
    );
    expect(await twin.exited).toBe(1);
    expect(twin.output()).toContain(`node ID ${nodeId} is already live`);

    original?.child.kill('SIGTERM');
    expect(await original?.exited).toBe(0);
    running.delete(ip);
    const survivorView = await view(B[0] as string);
    expect(survivorView.nodes.map((node) => node.id)).toContain(nodeId);
  });

  it(
    'waits for the kvdb instead of crashing, reporting it on /status',
    async () => {
      const deadPort = await freeLoopbackPort();
      const node = start('127.0.3.1', 'us-east-1c', [], `etcd:http://127.0.0.1:${deadPort}`);
      await until('/status answers', STARTUP_WITHIN_MS, async () => {
        const status = (await getJson('http://127.0.3.1:9001/status')) as { phase: string; reason: string };
        return status.phase === 'waiting for kvdb' && status.reason.startsWith('waiting for kvdb');
      });
      const health = await fetch('http://127.0.3.1:9001/health');
      expect(health.status).toBe(503);
      // Portworx's readiness port answers the same, on the node's own address.
      const readiness = await fetch('http://127.0.3.1:9015/health');
      expect(readiness.status).toBe(503);
      expect(nodeHealthSchema.parse(await readiness.json())).toMatchObject({ ready: false, status: 'Initializing' });
      const elsewhere = await fetch('http://127.0.3.1:9015/status');
      expect(apiErrorSchema.parse(await elsewhere.json()).error.code).toBe('NOT_FOUND');
      node.child.kill('SIGTERM');
      expect(await node.exited).toBe(0);
      running.delete('127.0.3.1');
      // Logs: one JSON object per line on stderr, each with its level.
      const logLine = z.object({
        level: z.enum(['debug', 'info', 'warn', 'error']),
        time: z.string(),
        msg: z.string(),
      });
      const lines = node
        .stderr()
        .trim()
        .split('\n')
        .map((line) => logLine.parse(JSON.parse(line)));
      expect(lines.find((line) => line.msg.startsWith('px-node '))?.level).toBe('info');
      expect(lines.at(-1)).toMatchObject({ level: 'info', msg: 'SIGTERM: stopping (the registration stays)' });
    },
    STARTUP_WITHIN_MS + 60_000,
  );

  it('exits with code 2 and one line naming a bad value', async () => {
    const node = spawnNode(
      [
        '-c',
        'px-dr-cluster',
        '-k',
        'etcd:http://127.0.0.1:2379',
        '--cluster-domain',
        'a',
        '--data-dir',
        root,
        '--api-port',
        '8080',
      ],
      '127.0.0.1',
    );
    expect(await node.exited).toBe(2);
    expect(node.output().trim()).toBe(
      'px-node: --api-port 8080 is outside 9001–9020 (the ports a metro cluster opens between domains)',
    );
    const badKvdb = spawnNode(
      ['-c', 'px-dr-cluster', '-k', 'consul:http://x:1', '--cluster-domain', 'a', '--data-dir', root],
      '127.0.0.1',
    );
    expect(await badKvdb.exited).toBe(2);
    expect(badKvdb.output()).toContain('consul:http://x:1');
  });

  it('-V/--version prints the tool version from package.json, --help every flag; both exit 0', async () => {
    const pkg = z
      .object({ version: z.string() })
      .parse(JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')));
    for (const flag of ['-V', '--version']) {
      const node = spawnNode([flag], '127.0.0.1');
      expect(await node.exited).toBe(0);
      expect(node.output()).toBe(`px-node ${pkg.version}\n`);
    }
    const help = spawnNode(['--help'], '127.0.0.1');
    expect(await help.exited).toBe(0);
    expect(help.output()).toContain('--px-version V');
    expect(help.output()).toContain('--log-level LEVEL');
    const badLevel = spawnNode(['--log-level', 'loud'], '127.0.0.1');
    expect(await badLevel.exited).toBe(2);
    expect(badLevel.output()).toBe('px-node: --log-level loud is not allowed: use debug, info, warn, error, silent\n');
  });
});
