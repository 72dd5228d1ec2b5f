import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EtcdProcess } from '@pxsim/kvdb-client/etcd-process';
import { encodeFrame } from '@pxsim/node-agent';
import { topology } from '@pxsim/sim-harness';
import type { Figure } from './figures.js';

const PX_NODE = join(import.meta.dirname, '..', 'packages', 'node-agent', 'bin', 'px-node');
const NODES = topology(['us-east-1a', 'us-east-1b'], 3, false);

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return match === null ? 0 : Number(match[1]) / 1024;
}

async function online(ip: string): Promise<boolean> {
  try {
    const response = await fetch(`http://${ip}:9001/v1/cluster`, { signal: AbortSignal.timeout(500) });
    const body = (await response.json()) as { node?: { status?: string }; nodes?: unknown[] };
    return body.node?.status === 'Online' && body.nodes?.length === NODES.length;
  } catch {
    return false;
  }
}

export async function agentFigures(): Promise<Figure[]> {
  const frameBytes = encodeFrame({
    v: 1,
    clusterId: 'px-dr-cluster',
    nodeId: '04de0858-4081-47c3-a2ab-f0835b788738',
    generation: 3,
    sequence: 123_456,
    sentAtMs: 1_763_700_000_000,
    state: 'UP',
  }).length;
  const etcd = await EtcdProcess.start();
  const root = mkdtempSync(join(tmpdir(), 'pxsim-bench-'));
  const children: ChildProcess[] = [];
  try {
    const started = performance.now();
    for (const node of NODES) {
      children.push(
        spawn(
          PX_NODE,
          [
            '-c',
            'px-dr-cluster',
            '-k',
            etcd.kvdbEndpoint,
            '--cluster-domain',
            node.domain,
            '--ip',
            node.ip,
            '--data-dir',
            join(root, node.ip),
            '--timing',
            'fast',
          ],
          { stdio: 'ignore' },
        ),
      );
    }
    const deadline = started + 60_000;
    while (performance.now() < deadline) {
      const states = await Promise.all(NODES.map(async (node) => online(node.ip)));
      if (states.every(Boolean)) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const startToOnlineMs = performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const rss = children.reduce((sum, child) => sum + (child.pid === undefined ? 0 : rssMb(child.pid)), 0);
    return [
      {
        name: 'agent.heartbeat_frame_bytes',
        value: frameBytes,
        unit: 'bytes',
        note: 'msgpack 7-field array, UUID node ID',
      },
      {
        name: 'agent.start_to_all_online_ms',
        value: startToOnlineMs,
        unit: 'ms',
        note: 'six px-node processes, real etcd, fast profile (includes tsx start-up and the 3 s activation hold)',
      },
      { name: 'agent.rss_mb_six_nodes', value: rss, unit: 'MiB', note: 'sum of the six processes' },
    ];
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(
      children.map(
        async (child) =>
          new Promise((resolve) => (child.exitCode === null ? child.once('exit', resolve) : resolve(null))),
      ),
    );
    await etcd.stop();
    rmSync(root, { recursive: true, force: true });
  }
}
