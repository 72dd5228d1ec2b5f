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
/** Loopback addresses of the bench's own (127.5.x.x): apart from the tests' (127.0, 127.1, 127.2), which may run meanwhile. */
const NODES = topology(['us-east-1a', 'us-east-1b'], 3, false, '127.5');
/** Longest wait for any one measurement; a figure that hits it is reported as the bound. */
const WAIT_MAX_MS = 60_000;
const HELP_RUNS = 5;
/** Single-node starts per kvdb client, alternated (gateway, gRPC, mem, gateway, …) so that load hits each alike. */
const LISTEN_RUNS = 5;
/** How long the six nodes run once all are Online before their memory is read (their CPU is summed meanwhile). */
const STEADY_MS = 4000;
/** Kernel clock ticks per second for /proc/PID/stat CPU times (USER_HZ, 100 on Linux). */
const TICKS_PER_S = 100;

/** One line of a /proc file in kB, as MiB (0 when the process or the line is gone). */
function procMb(path: string, pattern: RegExp): number {
  try {
    const match = pattern.exec(readFileSync(path, 'utf8'));
    return match === null ? 0 : Number(match[1]) / 1024;
  } catch {
    return 0;
  }
}

interface Memory {
  rssMb: number;
  /** Resident and anonymous (heap, stacks): the process's own, not shared with other processes. */
  anonMb: number;
  /** Proportional set size: each shared page (node's own code, mostly) divided among the processes mapping it. */
  pssMb: number;
}

function memoryOf(pid: number): Memory {
  return {
    rssMb: procMb(`/proc/${pid}/status`, /VmRSS:\s+(\d+) kB/),
    anonMb: procMb(`/proc/${pid}/status`, /RssAnon:\s+(\d+) kB/),
    pssMb: procMb(`/proc/${pid}/smaps_rollup`, /^Pss:\s+(\d+) kB/m),
  };
}

/** User + system CPU time a process has used so far, in ms (10 ms resolution; 0 when the process is gone). */
function cpuMsOf(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${String(pid)}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_S;
  } catch {
    return 0;
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
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

/** How far one node is: not answering, answering, joined (phase running), Online seeing all six. */
type Stage = 'silent' | 'answering' | 'joined' | 'online';

async function stageOf(ip: string): Promise<Stage> {
  try {
    const response = await fetch(`http://${ip}:9001/v1/cluster`, { signal: AbortSignal.timeout(500) });
    const body = (await response.json()) as { phase?: string; node?: { status?: string }; nodes?: unknown[] };
    if (body.node?.status === 'Online' && body.nodes?.length === NODES.length) return 'online';
    return body.phase === 'running' ? 'joined' : 'answering';
  } catch {
    return 'silent';
  }
}

const STAGE_ORDER: Stage[] = ['silent', 'answering', 'joined', 'online'];

/**
 * Polls the six nodes every `everyMs` until all are Online or WAIT_MAX_MS pass; returns, for each stage, the ms from
 * `startedMs` until every node had reached it (WAIT_MAX_MS when never).
 */
async function stagesOfAll(startedMs: number, everyMs: number): Promise<Record<Stage, number>> {
  const reached: Record<Stage, number> = {
    silent: 0,
    answering: WAIT_MAX_MS,
    joined: WAIT_MAX_MS,
    online: WAIT_MAX_MS,
  };
  while (performance.now() - startedMs < WAIT_MAX_MS) {
    const stages = await Promise.all(NODES.map(async (node) => stageOf(node.ip)));
    const least = Math.min(...stages.map((stage) => STAGE_ORDER.indexOf(stage)));
    const nowMs = performance.now() - startedMs;
    for (const stage of STAGE_ORDER.slice(1, least + 1)) reached[stage] = Math.min(reached[stage], nowMs);
    if (least === STAGE_ORDER.length - 1) break;
    await sleep(everyMs);
  }
  return reached;
}

/** Polls `check` every `everyMs` until it holds or WAIT_MAX_MS pass; returns the ms it took. */
async function timeUntil(startedMs: number, check: () => Promise<boolean>, everyMs: number): Promise<number> {
  while (performance.now() - startedMs < WAIT_MAX_MS) {
    if (await check()) break;
    await sleep(everyMs);
  }
  return performance.now() - startedMs;
}

function spawnNode(clusterId: string, kvdb: string, root: string, node: { domain: string; ip: string }): ChildProcess {
  const args = ['-c', clusterId, '-k', kvdb, '--cluster-domain', node.domain, '--ip', node.ip];
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

interface ListenFigures {
  ms: number;
  /** CPU time the process had used when its REST API first answered. */
  cpuMs: number;
}

/** One px-node on `kvdb`, spawn to its REST API answering, and the CPU it used until then. */
async function startToListen(clusterId: string, kvdb: string, root: string): Promise<ListenFigures> {
  const first = NODES[0];
  if (first === undefined) throw new Error('no nodes in the topology');
  const startedMs = performance.now();
  const child = spawnNode(clusterId, kvdb, root, first);
  const ms = await timeUntil(startedMs, async () => answers(first.ip), 5);
  const cpuMs = cpuMsOf(child.pid);
  await stopAll([child]);
  return { ms, cpuMs };
}

/** LISTEN_RUNS single-node starts per client, alternated; the median of each. */
async function listenFigures(etcdEndpoint: string, root: string): Promise<Record<string, ListenFigures>> {
  const kvdbs: Record<string, string> = {
    gateway: etcdEndpoint,
    grpc: etcdEndpoint.replace(/^etcd:/, 'etcd+grpc:'),
    mem: 'mem://bench',
  };
  const runs: Record<string, ListenFigures[]> = { gateway: [], grpc: [], mem: [] };
  for (let run = 0; run < LISTEN_RUNS; run++) {
    for (const [name, kvdb] of Object.entries(kvdbs)) {
      runs[name]?.push(await startToListen(`px-bench-${name}-${run}`, kvdb, join(root, `lone-${name}-${run}`)));
    }
  }
  const result: Record<string, ListenFigures> = {};
  for (const [name, list] of Object.entries(runs)) {
    result[name] = { ms: median(list.map((one) => one.ms)), cpuMs: median(list.map((one) => one.cpuMs)) };
  }
  return result;
}

function listenLines(listen: Record<string, ListenFigures>): Figure[] {
  const of = (name: string): ListenFigures => listen[name] ?? { ms: 0, cpuMs: 0 };
  const runs = `median of ${LISTEN_RUNS}, alternated with the others`;
  return [
    {
      name: 'agent.start_to_listen_ms',
      value: of('gateway').ms,
      unit: 'ms',
      note: `one px-node on etcd (JSON gateway client), spawn to REST answering, ${runs}; target ≤ 300`,
    },
    {
      name: 'agent.start_to_listen_cpu_ms',
      value: of('gateway').cpuMs,
      unit: 'ms',
      note: 'CPU (user + system) that node had used when its REST API first answered: the part load does not add',
    },
    {
      name: 'agent.start_to_listen_grpc_ms',
      value: of('grpc').ms,
      unit: 'ms',
      note: `the same with the etcd3/gRPC client (-k etcd+grpc:…; CPU ${of('grpc').cpuMs.toFixed(0)} ms)`,
    },
    {
      name: 'agent.start_to_listen_mem_ms',
      value: of('mem').ms,
      unit: 'ms',
      note: `the same on the embedded kvdb (mem://; CPU ${of('mem').cpuMs.toFixed(0)} ms)`,
    },
  ];
}

/** Single-node starts; then the six-node cluster, spawn to all Online, and its RSS. */
async function processFigures(etcdEndpoint: string, root: string): Promise<Figure[]> {
  const listen = await listenFigures(etcdEndpoint, root);
  const children: ChildProcess[] = [];
  try {
    const startedMs = performance.now();
    for (const node of NODES) children.push(spawnNode('px-dr-cluster', etcdEndpoint, join(root, 'six'), node));
    const stages = await stagesOfAll(startedMs, 50);
    const cpuBeforeMs = children.reduce((total, child) => total + cpuMsOf(child.pid), 0);
    await sleep(STEADY_MS);
    const cpuSteadyMs = children.reduce((total, child) => total + cpuMsOf(child.pid), 0) - cpuBeforeMs;
    const memory = children.map((child) => (child.pid === undefined ? memoryOf(-1) : memoryOf(child.pid)));
    const sum = (field: keyof Memory): number => memory.reduce((total, one) => total + one[field], 0);
    const holdMs = FAST_TIMING.snapshotFreshnessMs;
    return [
      ...listenLines(listen),
      {
        name: 'agent.start_to_all_listen_ms',
        value: stages.answering,
        unit: 'ms',
        note: 'six px-node processes spawned at once, spawn to all six REST APIs answering',
      },
      {
        name: 'agent.start_to_all_joined_ms',
        value: stages.joined,
        unit: 'ms',
        note: 'spawn to all six registered in etcd (phase running); Online follows after the activation hold',
      },
      {
        name: 'agent.start_to_all_online_ms',
        value: stages.online,
        unit: 'ms',
        note: `six px-node processes, real etcd, fast profile; target ≤ activation hold ${holdMs} + 1000`,
      },
      {
        name: 'agent.cpu_ms_per_s_six_nodes',
        value: (cpuSteadyMs * 1000) / STEADY_MS,
        unit: 'ms/s',
        note: `CPU of the six processes together per second of running, over the ${STEADY_MS} ms after all Online`,
      },
      {
        name: 'agent.rss_mb_six_nodes',
        value: sum('rssMb'),
        unit: 'MiB',
        note: `sum of the six processes' RSS, ${STEADY_MS} ms after all Online (of which anonymous ${sum('anonMb').toFixed(0)} MiB; the rest is node's own code, shared); target ≤ 300`,
      },
      {
        name: 'agent.pss_mb_six_nodes',
        value: sum('pssMb'),
        unit: 'MiB',
        note: "sum of the six processes' PSS (shared pages divided among the processes mapping them, other node processes on the machine included), same moment",
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
