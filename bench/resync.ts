import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EtcdProcess } from '@pxsim/kvdb-client/etcd-process';
import { agentStatusSchema, volumeJsonSchema, type VolumeJson } from '@pxsim/node-agent';
import { topology } from '@pxsim/sim-harness';
import type { Figure } from './figures.js';

/** The command as a user runs it: compiled JavaScript from dist/ (`pnpm install` builds it). */
const PX_NODE = join(import.meta.dirname, '..', 'packages', 'node-agent', 'bin', 'px-node');
/** The bench's own loopback addresses (127.6.x.x), apart from the tests' and the agent bench's. */
const NODES = topology(['us-east-1a', 'us-east-1b'], 3, false, '127.6');
const TOKEN = 'bench-admin-token';
/** Blocks written while the replica is down: what it must resync. */
const BLOCKS = 2000;
/** Writes in flight at once (the coordinator takes them in order; more only queue). */
const WRITERS = 16;
/** Longest wait for any one stage; a bench that hits it fails, naming the stage. */
const WAIT_MAX_MS = 120_000;
const POLL_MS = 10;

async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

async function api(ip: string, path: string, init: RequestInit = {}): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`http://${ip}:9001${path}`, {
    ...init,
    headers: {
      authorization: `Bearer ${TOKEN}`,
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    signal: AbortSignal.timeout(30_000),
  });
  const body: unknown = await response.json();
  return { status: response.status, body };
}

/** Polls `check` every POLL_MS until it holds; the time it took, ms. */
async function until(what: string, check: () => Promise<boolean>): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < WAIT_MAX_MS) {
    if (await check().catch(() => false)) return performance.now() - started;
    await sleep(POLL_MS);
  }
  throw new Error(`resync bench: ${what} not within ${WAIT_MAX_MS} ms`);
}

async function inspect(ip: string, volume: string): Promise<VolumeJson | undefined> {
  const parsed = volumeJsonSchema.safeParse((await api(ip, `/v1/volumes/${volume}`)).body);
  return parsed.success ? parsed.data : undefined;
}

function spawnNode(root: string, kvdb: string, node: { domain: string; ip: string }): ChildProcess {
  const args = ['-c', 'px-dr-cluster', '-k', kvdb, '--cluster-domain', node.domain, '--ip', node.ip];
  return spawn(PX_NODE, [...args, '--data-dir', join(root, node.ip), '--timing', 'fast'], {
    stdio: 'ignore',
    env: { ...process.env, PX_ADMIN_TOKEN: TOKEN },
  });
}

async function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise((resolve) => child.once('exit', resolve));
}

/** Writes blocks 0 … BLOCKS − 1 through `ip`, WRITERS at a time; every one must be acknowledged. */
async function writeAll(ip: string, volume: string): Promise<void> {
  let next = 0;
  const writer = async (): Promise<void> => {
    for (let block = next++; block < BLOCKS; block = next++) {
      const data = Buffer.alloc(4096, block % 251).toString('base64');
      const { status, body } = await api(ip, `/v1/volumes/${volume}/blocks/${block}`, {
        method: 'PUT',
        body: JSON.stringify({ data }),
      });
      if (status !== 200) throw new Error(`resync bench: write of block ${block}: ${status} ${JSON.stringify(body)}`);
    }
  };
  await Promise.all(Array.from({ length: WRITERS }, writer));
}

/**
 * `volume.resync_blocks_per_s` in real mode: six px-node processes around a real etcd, a repl-2 volume attached on its
 * us-east-1a replica; its us-east-1b replica's process is killed, BLOCKS blocks of 4 KiB are written (acknowledged
 * once the silent replica is removed from the current set), the process is started again with its data dir, and the
 * coordinator resyncs it: blocks per second from the resync's start (replica state `resync` in the coordinator's
 * inspect) to the replica back in the current set (replication status `Up`).
 */
export async function resyncFigures(): Promise<Figure[]> {
  const etcd = await EtcdProcess.start();
  const root = mkdtempSync(join(tmpdir(), 'pxsim-resync-'));
  const children = new Map<string, ChildProcess>();
  try {
    for (const node of NODES) children.set(node.ip, spawnNode(root, etcd.kvdbEndpoint, node));
    await until('six nodes Online', async () => {
      const states = await Promise.all(
        NODES.map(async (node) => agentStatusSchema.safeParse((await api(node.ip, '/v1/cluster')).body)),
      );
      return states.every((state) => state.success && state.data.node.status === 'Online');
    });
    const first = NODES[0]?.ip ?? '';
    // Placed once the first node's view shows a node of each domain Online (a create refused before is tried again).
    let created: unknown;
    await until('the volume created', async () => {
      const answer = await api(first, '/v1/volumes', {
        method: 'POST',
        body: JSON.stringify({ name: 'resync-bench', size: 1, repl: 2 }),
      });
      created = answer.body;
      return answer.status === 201 || answer.status === 200;
    });
    const volume = volumeJsonSchema.parse(created);
    const status = agentStatusSchema.parse((await api(first, '/v1/cluster')).body);
    const replicaOf = (domain: string) =>
      status.nodes.find((node) => volume.replica_sets[0]?.nodes.includes(node.id) && node.domain === domain);
    const coordinator = replicaOf('us-east-1a');
    const replica = replicaOf('us-east-1b');
    if (coordinator === undefined || replica === undefined)
      throw new Error(
        `resync bench: the volume's replicas are not one per domain: ${JSON.stringify(volume.replica_sets)}`,
      );
    let attach: unknown;
    await until(`the volume attached on ${coordinator.ip}`, async () => {
      const answer = await api(coordinator.ip, '/v1/volumes/resync-bench/attach', { method: 'POST' });
      attach = answer.body;
      return answer.status === 200;
    }).catch((error: unknown) => {
      throw new Error(`${error instanceof Error ? error.message : String(error)}: ${JSON.stringify(attach)}`);
    });
    const victim = children.get(replica.ip);
    victim?.kill('SIGKILL');
    if (victim !== undefined) await exited(victim);
    process.stderr.write(`resync bench: ${replica.ip} killed; writing ${BLOCKS} blocks through ${coordinator.ip}…\n`);
    await writeAll(coordinator.ip, 'resync-bench');
    const node = NODES.find((candidate) => candidate.ip === replica.ip);
    if (node === undefined) throw new Error('resync bench: no such node');
    process.stderr.write(`resync bench: starting ${replica.ip} again; waiting for its resync…\n`);
    const restartedMs = performance.now();
    children.set(replica.ip, spawnNode(root, etcd.kvdbEndpoint, node));
    const stateOf = async (): Promise<string | undefined> =>
      (await inspect(coordinator.ip, 'resync-bench'))?.replicas?.find((entry) => entry.node === replica.id)?.state;
    await until('the resync to start', async () => (await stateOf()) === 'resync');
    const resyncStartedMs = performance.now();
    await until('the replica back in the current set', async () => {
      const now = await inspect(coordinator.ip, 'resync-bench');
      return now?.replication_status === 'Up';
    });
    const doneMs = performance.now();
    const resyncS = (doneMs - resyncStartedMs) / 1000;
    return [
      {
        name: 'volume.resync_blocks_per_s',
        value: BLOCKS / resyncS,
        unit: 'blocks/s',
        note:
          `${BLOCKS} blocks of 4 KiB missed by a killed replica, resynced over the replication port in ` +
          `${resyncS.toFixed(2)} s (px-node processes, real etcd, fast profile; ±${POLL_MS} ms polling)`,
      },
      {
        name: 'volume.restart_to_in_sync_s',
        value: (doneMs - restartedMs) / 1000,
        unit: 's',
        note: 'the replica process started again → back in the current set (join, quorum, resync)',
      },
    ];
  } finally {
    for (const child of children.values()) child.kill('SIGKILL');
    await Promise.all([...children.values()].map(exited));
    await etcd.stop();
    rmSync(root, { recursive: true, force: true });
  }
}
