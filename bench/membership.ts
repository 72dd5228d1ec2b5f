import { VirtualNet, metroConfig } from '@pxsim/membership';
import type { Figure } from './figures.js';

const SIMULATED_MS = 600_000;

interface Run {
  cpuMs: number;
  simulatedMs: number;
  messages: number;
  bytes: number;
  n: number;
}

/**
 * `n` members (metro profile, one-way latency 0–500 ms, no loss) started converged, one crashed after a minute,
 * run for `simulatedMs` in the package's virtual-time network; CPU (user + system) of the run after `warmUpMs` of
 * simulated time untimed.
 */
function run(n: number, simulatedMs: number, measureBytes: boolean, warmUpMs = 20_000): Run {
  const names = Array.from({ length: n }, (_, index) => `n${index}`);
  const net = new VirtualNet({ seed: 1, names, config: metroConfig(), trace: false, measureBytes });
  net.runUntil(warmUpMs);
  const before = { messages: net.sent.messages, bytes: net.sent.bytes, cpu: process.cpuUsage() };
  net.runUntil(warmUpMs + 40_000);
  net.crash('n0');
  net.runUntil(warmUpMs + simulatedMs);
  const cpu = process.cpuUsage(before.cpu);
  return {
    cpuMs: (cpu.user + cpu.system) / 1000,
    simulatedMs,
    messages: net.sent.messages - before.messages,
    bytes: net.sent.bytes - before.bytes,
    n,
  };
}

export async function membershipFigures(): Promise<Figure[]> {
  run(100, 60_000, false); // JIT warm-up, not measured
  // The least CPU of a few identical runs (same seed, same work): the one least disturbed by the rest of the machine.
  const least = (runs: Run[]): Run => runs.reduce((best, next) => (next.cpuMs < best.cpuMs ? next : best));
  const hundred = least([1, 2, 3].map(() => run(100, SIMULATED_MS, false)));
  const thousand = least([1, 2].map(() => run(1000, SIMULATED_MS, false)));
  const wire = run(1000, SIMULATED_MS, true);
  const cpuPerSimulatedS = (measured: Run): number => measured.cpuMs / (measured.simulatedMs / 1000);
  const perNodePerS = (value: number, measured: Run): number => value / measured.n / (measured.simulatedMs / 1000);
  return [
    {
      name: 'membership.speedup_x_1000_nodes',
      value: thousand.simulatedMs / thousand.cpuMs,
      unit: 'x',
      note: `simulated s per CPU s: 1,000 members, metro profile, 0–500 ms latency, 600 simulated s with one crash, least of 2 runs (${(thousand.cpuMs / 1000).toFixed(1)} CPU s)`,
    },
    {
      name: 'membership.cost_ratio_1000_vs_100',
      value: cpuPerSimulatedS(thousand) / cpuPerSimulatedS(hundred),
      unit: 'x',
      note: `CPU per simulated s, 1,000 vs 100 members in one process, least of 2 and of 3 runs (10 = linear in n; same messages per member, the rest is the 1,000² member records' GC and cache misses, and push/pull's O(n) states; ${cpuPerSimulatedS(hundred).toFixed(2)} vs ${cpuPerSimulatedS(thousand).toFixed(2)} ms)`,
    },
    {
      name: 'membership.msgs_per_node_per_s',
      value: perNodePerS(wire.messages, wire),
      unit: 'msgs/s',
      note: `1,000 members (100 members: ${perNodePerS(hundred.messages, hundred).toFixed(3)}); probe interval 4 s: 2 per interval is ping + ack`,
    },
    {
      name: 'membership.bytes_per_node_per_s',
      value: perNodePerS(wire.bytes, wire),
      unit: 'B/s',
      note: 'encoded msgpack sizes, 1,000 members, push/pull full-state exchanges included',
    },
  ];
}
