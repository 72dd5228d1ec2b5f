import { checkLinearizable, type BlockOp } from '@pxsim/checkers';
import { seededRandom } from '@pxsim/runtime';
import { Simulation } from '@pxsim/sim-harness';
import type { Figure } from './figures.js';
import { resyncFigures } from './resync.js';

const OPS = 10_000;
const BLOCKS = 100;
const CONCURRENT_SHARE = 0.1;
const STEP_MS = 10;
const REPEATS = 5;

/**
 * A history of a real register per block: op i takes effect at i × STEP_MS, inside its [invoke, complete]; 90 % of ops
 * run within ±4 ms of that instant (alone), 10 % stretch up to 6 steps either side (overlapping their neighbours on any
 * block); half the ops are writes (unique values), 1 % of writes end with outcome unknown. Seeded: the same each run.
 */
export function generateHistory(seed: number, ops = OPS, blocks = BLOCKS): BlockOp[] {
  const random = seededRandom(seed);
  const registers = new Map<number, string>();
  const history: BlockOp[] = [];
  for (let i = 0; i < ops; i++) {
    const atMs = 1_000 + i * STEP_MS;
    const wide = random() < CONCURRENT_SHARE;
    const spreadMs = wide ? 6 * STEP_MS : 4;
    const invokeMs = atMs - Math.floor(random() * spreadMs);
    const completeMs = atMs + Math.floor(random() * spreadMs);
    const block = Math.floor(random() * blocks);
    const base = { id: i, client: `c${i % 8}`, volume: 'bench', block, invokeMs };
    if (random() < 0.5) {
      history.push({ ...base, kind: 'read', value: registers.get(block) ?? '', completeMs, outcome: 'ok' });
      continue;
    }
    const value = `v${i}`;
    registers.set(block, value);
    if (random() < 0.01) history.push({ ...base, kind: 'write', value, outcome: 'unknown' });
    else history.push({ ...base, kind: 'write', value, completeMs, outcome: 'ok' });
  }
  return history;
}

/**
 * Six nodes in virtual time for 600 simulated seconds, with the volume workload and without it: acknowledged writes per
 * simulated second, and the cost of the I/O as a ratio of CPU time measured in the same run.
 */
async function virtualFigures(): Promise<Figure[]> {
  const cpuMs = async (volumeIo: boolean): Promise<{ cpuMs: number; writes: number }> => {
    const sim = new Simulation({ seed: 7, ...(volumeIo ? { volumeIo: { opIntervalMs: 20 } } : { volumeIo: false }) });
    sim.start(sim.group('all'));
    await sim.run(30_000);
    const okBefore = sim.volumeIo?.ops.filter((op) => op.kind === 'write' && op.outcome === 'ok').length ?? 0;
    const before = process.cpuUsage();
    await sim.run(600_000);
    const used = process.cpuUsage(before);
    const ok = sim.volumeIo?.ops.filter((op) => op.kind === 'write' && op.outcome === 'ok').length ?? 0;
    await sim.dispose();
    return { cpuMs: (used.user + used.system) / 1000, writes: ok - okBefore };
  };
  const without = await cpuMs(false);
  const withIo = await cpuMs(true);
  return [
    {
      name: 'volume.writes_per_s_virtual',
      value: withIo.writes / 600,
      unit: 'writes/s',
      note: 'acknowledged repl-2 writes per simulated second, six nodes, 4 sequential clients, an operation every 20 ms',
    },
    {
      name: 'volume.sim_cpu_ratio_io_vs_none',
      value: withIo.cpuMs / without.cpuMs,
      unit: 'x',
      note: `CPU per 600 simulated s with that workload ${withIo.cpuMs.toFixed(0)} ms, without I/O ${without.cpuMs.toFixed(0)} ms (same run, this machine)`,
    },
  ];
}

/** `lin.check_ops_per_s`: checkLinearizable over a 10,000-op history of 100 blocks (best of REPEATS runs). */
export async function volumeFigures(): Promise<Figure[]> {
  return [...(await linFigures()), ...(await virtualFigures()), ...(await resyncFigures())];
}

function linFigures(): Promise<Figure[]> {
  const history = generateHistory(12);
  const concurrent = history.filter((op) => (op.completeMs ?? Number.POSITIVE_INFINITY) - op.invokeMs > 8).length;
  let bestMs = Number.POSITIVE_INFINITY;
  for (let i = 0; i < REPEATS; i++) {
    const started = performance.now();
    const result = checkLinearizable(history);
    const wallMs = performance.now() - started;
    if (result.ok !== true) throw new Error(`the generated history must be linearizable: ${JSON.stringify(result)}`);
    bestMs = Math.min(bestMs, wallMs);
  }
  return Promise.resolve([
    {
      name: 'lin.check_ops_per_s',
      value: (history.length / bestMs) * 1000,
      unit: 'ops/s',
      note: `${history.length} ops, ${BLOCKS} blocks, ${concurrent} ops with a wide interval; ${bestMs.toFixed(1)} ms (best of ${REPEATS})`,
    },
  ]);
}
