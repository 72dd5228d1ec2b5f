import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { Scheduler } from '@pxsim/runtime';
import { Simulation } from '@pxsim/sim-harness';
import {
  clusterTagOf,
  decodeFrame,
  encodeFrame,
  frameKey,
  newFrameSecret,
  type HeartbeatFrame,
} from '@pxsim/node-agent';
import type { Figure } from './figures.js';

/**
 * Virtual ms per wall ms for a formed cluster left running (heartbeats, reads, client writes), measured after
 * `warmUpMs` of simulated time untimed (the JIT's warm-up: the first few hundred wall ms run several times slower);
 * `coldSpeedup` is that warm-up's own rate.
 */
async function speedup(
  domains: string[],
  nodesPerDomain: number,
  virtualMs: number,
  warmUpMs = 0,
  rangeAnswerCache = true,
  volumeIo = true,
): Promise<{
  speedup: number;
  coldSpeedup: number;
  events: number;
  instants: number;
  wallMs: number;
  rangeHitShare: number;
  frames: { encoded: number; decoded: number };
  /** Per node per simulated second: kvdb requests (ranges, transactions, keep-alives), keys read, heartbeat bytes. */
  perNodePerS: { kvdbOps: number; keysRead: number; heartbeatBytes: number };
}> {
  const sim = new Simulation({
    seed: 7,
    domains,
    nodesPerDomain,
    rangeAnswerCache,
    ...(volumeIo ? {} : { volumeIo: false as const }),
  });
  sim.start(sim.group('all'));
  await sim.run(10_000);
  const warmUpStarted = performance.now();
  if (warmUpMs > 0) await sim.run(warmUpMs);
  const coldSpeedup = warmUpMs / (performance.now() - warmUpStarted);
  const eventsBefore = sim.scheduler.eventsRun;
  const { hits: hitsBefore, misses: missesBefore } = sim.store.rangeAnswerStats;
  const instantsBefore = sim.scheduler.instantsRun;
  const framesBefore = framesDecoded(sim);
  const opsBefore = { ...sim.store.opStats };
  const bytesBefore = sim.heartbeatBytesSent;
  const started = performance.now();
  await sim.run(virtualMs);
  const wallMs = performance.now() - started;
  const ops = sim.store.opStats;
  const nodeSeconds = (sim.group('all').length * virtualMs) / 1000;
  const result = {
    perNodePerS: {
      kvdbOps:
        (ops.ranges + ops.txns + ops.keepAlives - opsBefore.ranges - opsBefore.txns - opsBefore.keepAlives) /
        nodeSeconds,
      keysRead: (ops.keysRead - opsBefore.keysRead) / nodeSeconds,
      heartbeatBytes: (sim.heartbeatBytesSent - bytesBefore) / nodeSeconds,
    },
    speedup: virtualMs / wallMs,
    coldSpeedup,
    events: sim.scheduler.eventsRun - eventsBefore,
    instants: sim.scheduler.instantsRun - instantsBefore,
    wallMs,
    frames: {
      // Every node sends one frame per heartbeat interval (all six run throughout: no faults here).
      encoded: Math.round(
        (virtualMs / (sim.agent(sim.group('all')[0] ?? '')?.timing.heartbeatIntervalMs ?? 1)) * sim.group('all').length,
      ),
      decoded: framesDecoded(sim) - framesBefore,
    },
    rangeHitShare:
      (sim.store.rangeAnswerStats.hits - hitsBefore) /
      Math.max(1, sim.store.rangeAnswerStats.hits - hitsBefore + sim.store.rangeAnswerStats.misses - missesBefore),
  };
  await sim.dispose();
  return result;
}

/** Frames the agents decoded so far, whatever became of them (accepted, dropped, of another cluster, forged). */
function framesDecoded(sim: Simulation): number {
  let total = 0;
  for (const ip of sim.group('all')) {
    const counters = sim.agent(ip)?.status().counters;
    if (counters !== undefined)
      total +=
        counters.framesReceived +
        counters.framesDropped +
        counters.framesFromOtherClusters +
        counters.framesUnauthenticated;
  }
  return total;
}

/** The scheduler alone: the same number of events over the same number of instants, each callback empty. */
async function bareScheduler(events: number, instants: number): Promise<number> {
  const scheduler = new Scheduler();
  const perInstant = Math.max(1, Math.round(events / instants));
  for (let instant = 0; instant < instants; instant++) {
    for (let index = 0; index < perInstant; index++) scheduler.setTimer(instant, () => undefined);
  }
  const started = performance.now();
  await scheduler.runUntil(instants);
  return scheduler.eventsRun / ((performance.now() - started) / 1000);
}

/**
 * Random fault schedules whose run steps add up to `virtualMs`, against the six-node cluster in safe mode, in one
 * worker thread per core (as a long property run would use the machine).
 */
async function schedulesPerMinute(
  countPerWorker: number,
  virtualMs: number,
  workers = Math.max(1, availableParallelism()),
): Promise<{ perMinute: number; withStartup: number; workers: number }> {
  const started = performance.now();
  const done = await Promise.all(
    Array.from({ length: workers }, async (_, index) => {
      const worker = new Worker(new URL('./sim-schedules-worker.mjs', import.meta.url), {
        workerData: { count: countPerWorker, virtualMs, seed: 11 + index },
        // The worker runs TypeScript too, resolving workspace packages to their sources.
        execArgv: ['--conditions=@pxsim/source'],
      });
      return new Promise<{ count: number; wallMs: number }>((resolve, reject) => {
        worker.once('message', (message: { count: number; wallMs: number }) => resolve(message));
        worker.once('error', reject);
      });
    }),
  );
  const total = done.reduce((sum, result) => sum + result.count, 0);
  // Steady-state throughput: from each worker's first timed schedule to its last (its start-up compiles the sources,
  // and its warm-up schedules let the JIT settle).
  const slowestMs = Math.max(...done.map((result) => result.wallMs));
  const withStartupMs = performance.now() - started;
  return { perMinute: total / (slowestMs / 60_000), withStartup: total / (withStartupMs / 60_000), workers };
}

/**
 * The heartbeat frame's own costs, µs per call: encoding (msgpack + HMAC tag), decoding an array seen before (the
 * decode cache: what every peer after the first pays in the simulator) and decoding a fresh array (msgpackr + tag
 * check: what a real agent pays per frame, and what a simulated peer would pay without the cache).
 */
function frameCosts(): { encodeUs: number; cachedDecodeUs: number; freshDecodeUs: number } {
  const key = frameKey(newFrameSecret());
  const frame = (sequence: number): HeartbeatFrame => ({
    v: 2,
    clusterTag: clusterTagOf('px-dr-cluster'),
    nodeId: '04de0858-4081-47c3-a2ab-f0835b788738',
    generation: 3,
    sequence,
    sentAtMs: 600_000 + sequence,
    state: 'UP',
  });
  const rounds = 50_000;
  const time = (work: (round: number) => void): number => {
    for (let round = 0; round < rounds / 10; round++) work(round); // warm-up
    const started = performance.now();
    for (let round = 0; round < rounds; round++) work(round);
    return ((performance.now() - started) * 1000) / rounds;
  };
  const encodeUs = time((round) => encodeFrame(frame(round), key));
  const sent = encodeFrame(frame(1), key);
  const copies = Array.from({ length: 64 }, () => Uint8Array.from(sent));
  const cachedDecodeUs = time(() => decodeFrame(sent, key));
  const freshDecodeUs = time((round) => decodeFrame(copies[round % copies.length] ?? sent, key));
  return { encodeUs, cachedDecodeUs, freshDecodeUs };
}

export async function simFigures(): Promise<Figure[]> {
  const frames = frameCosts();
  const six = await speedup(['us-east-1a', 'us-east-1b'], 3, 1_800_000, 300_000);
  const bare = await bareScheduler(six.events, six.instants);
  const uncached = await speedup(['us-east-1a', 'us-east-1b'], 3, 1_800_000, 300_000, false);
  // The control plane alone (no volume I/O): the workload issue 10's baseline (commit 2379f22) had.
  const noIo = await speedup(['us-east-1a', 'us-east-1b'], 3, 1_800_000, 300_000, true, false);
  const bareNoIo = await bareScheduler(noIo.events, noIo.instants);
  const twelve = await speedup(['us-east-1a', 'us-east-1b'], 6, 120_000);
  const fortyEight = await speedup(['us-east-1a', 'us-east-1b'], 24, 30_000);
  const ninetySix = await speedup(['us-east-1a', 'us-east-1b'], 48, 10_000);
  const schedules = await schedulesPerMinute(40, 600_000);
  const oneWorker = await schedulesPerMinute(40, 600_000, 1);
  return [
    {
      name: 'sim.speedup_x',
      value: six.speedup,
      unit: 'x',
      note: `2 x 3 nodes, fast profile, 1,800 simulated s after 300 s of warm-up (${six.coldSpeedup.toFixed(0)}x during the warm-up)`,
    },
    {
      name: 'sim.events_per_s',
      value: six.events / (six.wallMs / 1000),
      unit: 'events/s',
      note: `${six.events} events in ${six.instants} instants`,
    },
    {
      name: 'sim.bare_scheduler_events_per_s',
      value: bare,
      unit: 'events/s',
      note: 'same events and instants, empty callbacks',
    },
    {
      name: 'sim.scheduler_share',
      value: (100 * six.events) / bare / (six.wallMs / 1000),
      unit: '%',
      note: "of the run's wall time the scheduler itself would take (events_per_s / bare_scheduler_events_per_s); the rest is agents, kvdb and network",
    },
    {
      name: 'sim.speedup_x_no_io',
      value: noIo.speedup,
      unit: 'x',
      note: `sim.speedup_x without volume I/O (volumeIo: false: heartbeats, kvdb reads, pool writes; what issue 10's baseline ran); the volume I/O costs ${(noIo.speedup / six.speedup).toFixed(1)}x`,
    },
    {
      name: 'sim.events_per_s_no_io',
      value: noIo.events / (noIo.wallMs / 1000),
      unit: 'events/s',
      note: `${noIo.events} events in ${noIo.instants} instants`,
    },
    {
      name: 'sim.scheduler_share_no_io',
      value: (100 * noIo.events) / bareNoIo / (noIo.wallMs / 1000),
      unit: '%',
      note: 'sim.scheduler_share without volume I/O (events_per_s_no_io / the bare scheduler on the same events and instants)',
    },
    {
      name: 'sim.speedup_x_no_range_cache',
      value: uncached.speedup,
      unit: 'x',
      note: `sim.speedup_x with MemStore's whole-prefix answer cache off; with it on, ${(100 * six.rangeHitShare).toFixed(0)}% of whole-prefix reads are answered from it`,
    },
    {
      name: 'sim.schedules_per_min',
      value: schedules.perMinute,
      unit: 'schedules/min',
      note: `random fault schedules of 10 simulated minutes, six nodes (+ witness in every other), safe mode, ${schedules.workers} worker(s) after 3 warm-up schedules each; ${schedules.withStartup.toFixed(0)} counting start-up and warm-up`,
    },
    {
      name: 'sim.schedules_per_min_one_worker',
      value: oneWorker.perMinute,
      unit: 'schedules/min',
      note: `the same on one worker thread (as pxsim check runs them); ${oneWorker.withStartup.toFixed(0)} counting start-up and warm-up`,
    },
    {
      name: 'sim.frame_encode_us',
      value: frames.encodeUs,
      unit: 'us',
      note: 'one heartbeat frame: msgpack + HMAC-SHA256 tag (once per node per heartbeat round)',
    },
    {
      name: 'sim.frame_decode_us_fresh',
      value: frames.freshDecodeUs,
      unit: 'us',
      note: 'decoding and checking the tag of an array not seen before (a real agent, every frame)',
    },
    {
      name: 'sim.frame_decode_us_cached',
      value: frames.cachedDecodeUs,
      unit: 'us',
      note: `the same array again (each simulated peer after the first): the decode cache saves ${(frames.freshDecodeUs / frames.cachedDecodeUs).toFixed(1)}x per frame`,
    },
    {
      name: 'sim.frame_share',
      value:
        (100 * (six.frames.encoded * frames.encodeUs + six.frames.decoded * frames.cachedDecodeUs)) / 1000 / six.wallMs,
      unit: '%',
      note: `of sim.speedup_x's wall time spent encoding (${six.frames.encoded}) and decoding (${six.frames.decoded}) frames, at the rates above; without the decode cache it would be ${((100 * (six.frames.encoded * frames.encodeUs + six.frames.decoded * frames.freshDecodeUs)) / 1000 / six.wallMs).toFixed(0)}%`,
    },
    { name: 'sim.speedup_x_12_nodes', value: twelve.speedup, unit: 'x' },
    { name: 'sim.speedup_x_48_nodes', value: fortyEight.speedup, unit: 'x' },
    { name: 'sim.speedup_x_96_nodes', value: ninetySix.speedup, unit: 'x' },
    ...perNodeFigures('6_nodes', six),
    ...perNodeFigures('96_nodes', ninetySix),
  ];
}

/**
 * What one node costs the kvdb and the network per simulated second, as the cluster grows (issue 14's lines, measured
 * at the sizes the simulator reaches today; the all-to-all heartbeats make the bytes grow with n).
 */
function perNodeFigures(
  size: string,
  run: { perNodePerS: { kvdbOps: number; keysRead: number; heartbeatBytes: number } },
): Figure[] {
  return [
    {
      name: `sim.kvdb_ops_per_node_per_s_${size}`,
      value: run.perNodePerS.kvdbOps,
      unit: 'ops/s',
      note: `ranges, transactions and lease keep-alives; ${run.perNodePerS.keysRead.toFixed(0)} keys read per node per s`,
    },
    {
      name: `sim.heartbeat_bytes_per_node_per_s_${size}`,
      value: run.perNodePerS.heartbeatBytes,
      unit: 'B/s',
      note: 'heartbeat frames sent, each destination counted (all-to-all: grows with the node count)',
    },
  ];
}
