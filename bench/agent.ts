import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EtcdProcess } from '@pxsim/kvdb-client/etcd-process';
import { clusterTagOf, encodeFrame, FRAME_TAG_BYTES, frameKey, newFrameSecret } from '@pxsim/node-agent';
import { FAST_TIMING } from '@pxsim/quorum';
import { topology } from '@pxsim/sim-harness';
import type { Figure } from './figures.js';

/** The commands as a user runs them: compiled JavaScript from dist/ (`pnpm install` builds it). */
const PX_NODE = join(import.meta.dirname, '..', 'packages', 'node-agent', 'bin', 'px-node');
const PXCTL = join(import.meta.dirname, '..', 'packages', 'cli', 'bin', 'pxctl');
const NODES = topology(['us-east-1a', 'us-east-1b'], 3, false);
/** Longest wait for any one measurement; a figure that hits it is reported as the bound. */
const WAIT_MAX_MS = 60_000;
const HELP_RUNS = 5;

function rssMb(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? 0 : Number(match[1]) / 1024;
  } catch {
    return 0;
  }
}

async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

/** Whatever the node says, as long as its REST API answers. */
async function answers(ip: string): Promise<boolean> {
  try {
    await fetch(`http://${ip}:9001/v1/cluster`, { signal: AbortSignal.timeout(500) });
    return true;
  } catch {
    return false;
  }
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

/** Polls `check` every `everyMs` until it holds or WAIT_MAX_MS pass; returns the ms it took. */
async function timeUntil(startedMs: number, check: () => Promise<boolean>, everyMs: number): Promise<number> {
  while (performance.now() - startedMs < WAIT_MAX_MS) {
    if (await check()) break;
    await sleep(everyMs);
  }
  return performance.now() - startedMs;
}

function spawnNode(
  clusterId: string,
  etcdEndpoint: string,
  root: string,
  node: { domain: string; ip: string },
): ChildProcess {
  const args = ['-c', clusterId, '-k', etcdEndpoint, '--cluster-domain', node.domain, '--ip', node.ip];
  return spawn(PX_NODE, [...args, '--data-dir', join(root, node.ip), '--timing', 'fast'], { stdio: 'ignore' });
}

async function stopAll(children: ChildProcess[]): Promise<void> {
  for (const child of children) child.kill('SIGTERM');
  await Promise.all(
    children.map(
      async (child) =>
        new Promise((resolve) => (child.exitCode === null ? child.once('exit', resolve) : resolve(null))),
    ),
  );
}

/** `pxctl --help`, start to exit, the median of HELP_RUNS runs. */
function pxctlHelpMs(): number {
  const runs: number[] = [];
  for (let run = 0; run < HELP_RUNS; run++) {
    const startedMs = performance.now();
    spawnSync(PXCTL, ['--help'], { stdio: 'ignore', timeout: WAIT_MAX_MS });
    runs.push(performance.now() - startedMs);
  }
  runs.sort((a, b) => a - b);
  return runs[Math.floor(runs.length / 2)] ?? 0;
}

/** One px-node, spawn to its REST API answering; then the six-node cluster, spawn to all Online, and its RSS. */
async function processFigures(etcdEndpoint: string, root: string): Promise<Figure[]> {
  const first = NODES[0];
  if (first === undefined) throw new Error('no nodes in the topology');
  const listenStartedMs = performance.now();
  const lone = spawnNode('px-bench-lone', etcdEndpoint, join(root, 'lone'), first);
  const startToListenMs = await timeUntil(listenStartedMs, async () => answers(first.ip), 5);
  await stopAll([lone]);
  const children: ChildProcess[] = [];
  try {
    const startedMs = performance.now();
    for (const node of NODES) children.push(spawnNode('px-dr-cluster', etcdEndpoint, join(root, 'six'), node));
    const startToOnlineMs = await timeUntil(
      startedMs,
      async () => (await Promise.all(NODES.map(async (node) => online(node.ip)))).every(Boolean),
      50,
    );
    await sleep(2000);
    const rss = children.reduce((sum, child) => sum + (child.pid === undefined ? 0 : rssMb(child.pid)), 0);
    const holdMs = FAST_TIMING.snapshotFreshnessMs;
    return [
      {
        name: 'agent.start_to_listen_ms',
        value: startToListenMs,
        unit: 'ms',
        note: 'one px-node, spawn to REST answering; target ≤ 300',
      },
      {
        name: 'agent.start_to_all_online_ms',
        value: startToOnlineMs,
        unit: 'ms',
        note: `six px-node processes, real etcd, fast profile; target ≤ activation hold ${holdMs} + 1000`,
      },
      {
        name: 'agent.rss_mb_six_nodes',
        value: rss,
        unit: 'MiB',
        note: 'sum of the six processes, 2 s after all Online; target ≤ 300',
      },
    ];
  } finally {
    await stopAll(children);
  }
}

export async function agentFigures(): Promise<Figure[]> {
  const frameBytes = encodeFrame(
    {
      v: 2,
      clusterTag: clusterTagOf('c'.repeat(63)),
      nodeId: '04de0858-4081-47c3-a2ab-f0835b788738',
      generation: 3,
      sequence: 123_456,
      sentAtMs: 1_763_700_000_000,
      state: 'SUSPECT_NOT_IN_QUORUM',
    },
    frameKey(newFrameSecret()),
  ).length;
  const helpMs = pxctlHelpMs();
  const etcd = await EtcdProcess.start();
  const root = mkdtempSync(join(tmpdir(), 'pxsim-bench-'));
  try {
    return [
      {
        name: 'agent.heartbeat_frame_bytes',
        value: frameBytes,
        unit: 'bytes',
        note: `msgpack 7-field array (UUID node ID, 8-byte tag of a 63-character cluster ID: the size does not depend on the ID, wall-clock time) + ${FRAME_TAG_BYTES}-byte HMAC-SHA256 tag; target ≤ 96`,
      },
      {
        name: 'cli.pxctl_help_ms',
        value: helpMs,
        unit: 'ms',
        note: `pxctl --help, start to exit, median of ${HELP_RUNS}; target ≤ 300`,
      },
      ...(await processFigures(etcd.kvdbEndpoint, root)),
    ];
  } finally {
    await etcd.stop();
    rmSync(root, { recursive: true, force: true });
  }
}
