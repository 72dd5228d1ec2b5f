import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdProcess, findEtcdBinary } from '@pxsim/kvdb-client/etcd-process';
import { apiErrorSchema, nodeLivenessSchema } from '@pxsim/node-agent';
import { CHANGE_WITHIN_MS, STARTUP_WITHIN_MS, getJson, spawnNode, until, type NodeProcess } from './processes.js';

const etcdAvailable = findEtcdBinary() !== undefined;
if (!etcdAvailable && process.env['CI'] === 'true') throw new Error('CI=true but no etcd binary on PATH');

/** Addresses of this file alone (test files run in parallel). */
const DOMAIN_IP = '127.0.8.1';
const LOSS_IP = '127.0.8.2';
const TOKEN = 'identity-test-admin-token';

describe.skipIf(!etcdAvailable)('a px-node keeps the identity its data dir records', () => {
  let etcd: EtcdProcess;
  let root: string;
  const running = new Set<NodeProcess>();

  beforeAll(async () => {
    etcd = await EtcdProcess.start();
    root = mkdtempSync(join(tmpdir(), 'pxsim-identity-'));
    writeFileSync(join(root, 'admin-token'), `${TOKEN}\n`);
  });

  afterAll(async () => {
    for (const node of running) node.child.kill('SIGKILL');
    await Promise.all([...running].map((node) => node.exited));
    await etcd.stop();
    rmSync(root, { recursive: true, force: true });
  });

  const start = (ip: string, domain: string, kvdb: string, extra: string[] = []): NodeProcess => {
    const args = ['-c', 'px-identity', '-k', kvdb, '--cluster-domain', domain, '--ip', ip, '--timing', 'fast'];
    args.push('--data-dir', join(root, ip), '--admin-token-file', join(root, 'admin-token'), ...extra);
    const node = spawnNode(args, ip);
    running.add(node);
    return node;
  };
  const liveness = async (ip: string): Promise<{ phase: string; status: string; reason: string }> =>
    nodeLivenessSchema.parse(await getJson(`http://${ip}:9001/status`));
  const online = async (ip: string): Promise<boolean> => (await liveness(ip)).status === 'Online';
  const stop = async (node: NodeProcess): Promise<void> => {
    node.child.kill('SIGTERM');
    await node.exited;
    running.delete(node);
  };
  const recorded = (ip: string): Record<string, unknown> =>
    JSON.parse(readFileSync(join(root, ip, 'node.json'), 'utf8')) as Record<string, unknown>;

  it(
    'refuses to move to another domain without --allow-domain-change, and moves (logged) with it',
    async () => {
      const first = start(DOMAIN_IP, 'us-east-1a', etcd.kvdbEndpoint);
      await until('the node Online', STARTUP_WITHIN_MS, async () => online(DOMAIN_IP));
      expect(recorded(DOMAIN_IP)).toMatchObject({ clusterDomain: 'us-east-1a' });
      await stop(first);

      const typo = start(DOMAIN_IP, 'us-east-1x', etcd.kvdbEndpoint);
      expect(await typo.exited).not.toBe(0);
      running.delete(typo);
      expect(typo.output()).toContain('refusing to move it to domain us-east-1x');
      expect(typo.output()).toContain('--allow-domain-change');
      expect(recorded(DOMAIN_IP)).toMatchObject({ clusterDomain: 'us-east-1a' });

      start(DOMAIN_IP, 'us-east-1b', etcd.kvdbEndpoint, ['--allow-domain-change']);
      await until('the moved node Online', STARTUP_WITHIN_MS, async () => online(DOMAIN_IP));
      const domains = await getJson(`http://${DOMAIN_IP}:9001/v1/clusterdomains`);
      // The typo never reached the kvdb: only the domains the node really ran in are there.
      expect(domains).toEqual({ cluster_domain_names: expect.not.arrayContaining(['us-east-1x']) as unknown });
      expect(recorded(DOMAIN_IP)).toMatchObject({ clusterDomain: 'us-east-1b' });
    },
    2 * STARTUP_WITHIN_MS + CHANGE_WITHIN_MS,
  );

  it(
    'after the kvdb lost its data, never creates a new cluster UUID unless --allow-new-cluster-uuid',
    async () => {
      const lost = await EtcdProcess.start();
      try {
        const first = start(LOSS_IP, 'us-east-1a', lost.kvdbEndpoint);
        await until('the node Online', STARTUP_WITHIN_MS, async () => online(LOSS_IP));
        await until('the cluster UUID recorded', CHANGE_WITHIN_MS, async () =>
          Promise.resolve(typeof recorded(LOSS_IP)['clusterUuid'] === 'string'),
        );
        const uuidBefore = recorded(LOSS_IP)['clusterUuid'];
        const port = lost.clientPort;
        await lost.stop(); // its data dir is removed with it
        const fresh = await EtcdProcess.start({ clientPort: port });
        try {
          // The running node notices, and its reason is current (not the connection error of the outage).
          await until('the running node says the kvdb lost its cluster', CHANGE_WITHIN_MS, async () =>
            (await liveness(LOSS_IP)).reason.includes(`the kvdb no longer holds cluster UUID ${String(uuidBefore)}`),
          );
          expect((await liveness(LOSS_IP)).status).not.toBe('Online');
          await stop(first);
          start(LOSS_IP, 'us-east-1a', fresh.kvdbEndpoint);
          await until('the node says the kvdb lost the cluster', STARTUP_WITHIN_MS, async () =>
            (await liveness(LOSS_IP)).reason.includes('the kvdb holds no record of the cluster'),
          );
          const status = await liveness(LOSS_IP);
          expect(status.status).not.toBe('Online');
          expect(status.reason).toContain(String(uuidBefore));
          expect(status.reason).toContain('--allow-new-cluster-uuid');
          const write = await fetch(`http://${LOSS_IP}:9001/v1/io/write`, {
            method: 'POST',
            headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
            body: JSON.stringify({ bytes: 4096 }),
          });
          expect(write.status).toBe(503);
          expect(apiErrorSchema.parse(await write.json()).error.code).toBe('NOT_READY');
          expect(recorded(LOSS_IP)['clusterUuid']).toBe(uuidBefore);
          for (const node of [...running].filter((candidate) => candidate.ip === LOSS_IP)) await stop(node);

          // The documented recovery: re-create the cluster and re-register, explicitly.
          start(LOSS_IP, 'us-east-1a', fresh.kvdbEndpoint, ['--allow-new-cluster-uuid']);
          await until('the node Online in the re-created cluster', STARTUP_WITHIN_MS, async () => online(LOSS_IP));
          await until('the new cluster UUID recorded', CHANGE_WITHIN_MS, async () =>
            Promise.resolve(recorded(LOSS_IP)['clusterUuid'] !== uuidBefore),
          );
        } finally {
          for (const node of [...running].filter((candidate) => candidate.ip === LOSS_IP)) await stop(node);
          await fresh.stop();
        }
      } finally {
        await lost.stop();
      }
    },
    3 * STARTUP_WITHIN_MS + 2 * CHANGE_WITHIN_MS,
  );
});
