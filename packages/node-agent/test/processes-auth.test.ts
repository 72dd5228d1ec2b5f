import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { EtcdProcess, findEtcdBinary } from '@pxsim/kvdb-client/etcd-process';
import { clusterTagOf, encodeFrame, frameKey, newFrameSecret } from '@pxsim/node-agent';
import { CHANGE_WITHIN_MS, STARTUP_WITHIN_MS, getJson, spawnNode, until, type NodeProcess } from './processes.js';

const etcdAvailable = findEtcdBinary() !== undefined;
if (!etcdAvailable && process.env['CI'] === 'true') throw new Error('CI=true but no etcd binary on PATH');

/** Addresses of this file alone (processes.test.ts uses 127.0.1.x and 127.0.2.x). */
const IPS = ['127.0.5.1', '127.0.5.2', '127.0.5.3'];
const HEARTBEAT_PORT = 9002;
const FORGE_EVERY_MS = 50;

interface ClusterView {
  node: { id: string; status: string };
  nodes: Array<{ id: string; status: string }>;
  quorum: { up: number };
  counters: { framesDropped: number; framesUnauthenticated: number };
}

/** Opens a raw WebSocket to a node's heartbeat port, as any process on the network can. */
async function connect(ip: string): Promise<WebSocket> {
  const socket = new WebSocket(`ws://${ip}:${HEARTBEAT_PORT}/heartbeat`);
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  return socket;
}

describe.skipIf(!etcdAvailable)('real px-node processes and a forger on the heartbeat port', () => {
  let etcd: EtcdProcess;
  let root: string;
  const running = new Map<string, NodeProcess>();
  const sockets: WebSocket[] = [];

  beforeAll(async () => {
    etcd = await EtcdProcess.start();
    root = mkdtempSync(join(tmpdir(), 'pxsim-auth-'));
  });

  afterAll(async () => {
    for (const socket of sockets) socket.terminate();
    for (const node of running.values()) node.child.kill('SIGKILL');
    await Promise.all([...running.values()].map((node) => node.exited));
    await etcd.stop();
    rmSync(root, { recursive: true, force: true });
  });

  const view = async (ip: string): Promise<ClusterView> =>
    (await getJson(`http://${ip}:9001/v1/cluster`)) as ClusterView;

  it(
    'forged frames (the victim node ID, no or a wrong tag) are dropped and counted and do not keep a killed node Online',
    async () => {
      for (const ip of IPS) {
        const args = ['-c', 'px-auth-cluster', '-k', etcd.kvdbEndpoint, '--cluster-domain', 'us-east-1a'];
        args.push('--ip', ip, '--data-dir', join(root, ip), '--timing', 'fast');
        running.set(ip, spawnNode(args, ip));
      }
      const [victimIp, ...survivors] = IPS as [string, ...string[]];
      await until('all three Online', STARTUP_WITHIN_MS, async () =>
        (await Promise.all(IPS.map(async (ip) => (await view(ip)).node.status))).every((s) => s === 'Online'),
      );
      const victimId = (await view(victimIp)).node.id;
      expect(JSON.stringify(await view(victimIp))).not.toMatch(/heartbeatSecret/);

      for (const ip of survivors) sockets.push(await connect(ip));
      const wrongKey = frameKey(newFrameSecret());
      let sequence = 1_000_000;
      const forge = (): void => {
        sequence += 1;
        const fields = { v: 2, clusterTag: clusterTagOf('px-auth-cluster'), nodeId: victimId, generation: 99 } as const;
        const tagged = encodeFrame({ ...fields, sequence, sentAtMs: Date.now(), state: 'UP' }, wrongKey);
        const untagged = tagged.subarray(0, tagged.length - 16);
        for (const socket of sockets) {
          socket.send(tagged);
          socket.send(Buffer.concat([untagged, Buffer.alloc(16)]));
          socket.send(Buffer.from([0xc1, 0xff, 0x00])); // malformed
        }
      };
      const before = await view(survivors[0] as string);
      forge();
      const forger = setInterval(forge, FORGE_EVERY_MS);
      try {
        running.get(victimIp)?.child.kill('SIGKILL');
        await running.get(victimIp)?.exited;
        running.delete(victimIp);
        // With the forger running all along, the victim must still go Offline on every survivor.
        await until('the killed node Offline on every survivor', CHANGE_WITHIN_MS, async () =>
          (await Promise.all(survivors.map(view))).every(
            (seen) => seen.nodes.find((node) => node.id === victimId)?.status === 'Offline' && seen.quorum.up === 2,
          ),
        );
      } finally {
        clearInterval(forger);
      }
      const after = await view(survivors[0] as string);
      expect(after.node.status).toBe('Online');
      expect(after.counters.framesUnauthenticated - before.counters.framesUnauthenticated).toBeGreaterThanOrEqual(2);
      expect(after.counters.framesDropped - before.counters.framesDropped).toBeGreaterThanOrEqual(1);
    },
    STARTUP_WITHIN_MS + CHANGE_WITHIN_MS + 60_000,
  );
});
