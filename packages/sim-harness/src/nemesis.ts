import type { Fault } from '@pxsim/runtime';
import type { NodeSpec } from './cluster.js';
import type { Simulation } from './simulation.js';

/**
 * Fault steps, named as Jepsen and VOPR name their nemeses. Plain data, so that a failing schedule prints as JSON and
 * can be kept as a regression case. Node indexes wrap onto the topology's nodes; domain indexes onto its domains.
 * Each step resolves to faults of the one vocabulary (`@pxsim/runtime`), or to time passing (`run`).
 */
export type Step =
  | { kind: 'domain-split' }
  | { kind: 'witness-bridge' }
  | { kind: 'halves'; nodes: number[] }
  | { kind: 'isolate'; node: number }
  | { kind: 'bridge'; nodes: number[]; bridge: number }
  | { kind: 'majorities-ring' }
  | { kind: 'one-way'; from: number[]; to: number[] }
  | { kind: 'kvdb-cut'; nodes: number[] }
  | { kind: 'kvdb-cut-all' }
  | { kind: 'crash'; node: number }
  | { kind: 'restart'; node: number }
  | { kind: 'pause'; node: number }
  | { kind: 'resume'; node: number }
  | { kind: 'latency'; ms: number; jitterMs: number; oneWay?: boolean }
  | { kind: 'loss'; percent: number }
  | { kind: 'duplicate'; percent: number }
  | { kind: 'heal' }
  | { kind: 'deactivate'; domain: number }
  | { kind: 'activate'; domain: number }
  | { kind: 'run'; ms: number };

/** What a step does: faults of the vocabulary (with the nemesis's name for them), or time passing. */
export type ResolvedStep = { faults: Fault[]; label?: string } | { runMs: number };

function dataDomains(specs: readonly NodeSpec[]): string[] {
  return [...new Set(specs.filter((spec) => !spec.storageless).map((spec) => spec.domain))];
}

/** Each node sees its neighbours on a ring, a majority, no two the same: the one-way cuts that make it. */
function majoritiesRing(ips: readonly string[]): Fault[] {
  const faults: Fault[] = [];
  for (let i = 0; i < ips.length; i++) {
    for (let j = 0; j < ips.length; j++) {
      const distance = Math.min(Math.abs(i - j), ips.length - Math.abs(i - j));
      if (distance > Math.floor(ips.length / 4) + 1)
        faults.push({ kind: 'cut', from: [ips[i] as string], to: [ips[j] as string] });
    }
  }
  return faults;
}

/** The partitions among the steps: which node IPs end up on each side, and the nemesis's name for it. */
function resolvePartition(specs: readonly NodeSpec[], step: Step): ResolvedStep | undefined {
  const ips = specs.map((spec) => spec.ip);
  const ip = (index: number): string => ips[index % ips.length] as string;
  const set = (indexes: number[]): string[] => [...new Set(indexes.map(ip))];
  const rest = (chosen: string[]): string[] => ips.filter((candidate) => !chosen.includes(candidate));
  const inDomain = (domain: string): string[] => specs.filter((spec) => spec.domain === domain).map((spec) => spec.ip);
  const [first = '', second = first] = dataDomains(specs);
  const partition = (a: string[], b: string[], label: string): ResolvedStep => ({
    faults: [{ kind: 'partition', a, b }],
    label,
  });
  switch (step.kind) {
    case 'domain-split': {
      // Every domain on its own; the witness goes with the first.
      const hasWitness = specs.some((spec) => spec.storageless);
      const a = [...inDomain(first), ...(hasWitness ? inDomain('witness') : [])];
      return partition(a, rest(a), `domain split ${first}${hasWitness ? '+witness' : ''} | rest`);
    }
    case 'witness-bridge':
      return partition(
        inDomain(first),
        inDomain(second),
        `witness bridge ${first} | ${second} (the witness sees both)`,
      );
    case 'halves': {
      const half = set(step.nodes);
      return partition(half, rest(half), `halves ${half.join(',')} | rest`);
    }
    case 'isolate':
      return partition([ip(step.node)], rest([ip(step.node)]), `isolate ${ip(step.node)}`);
    case 'bridge': {
      const bridge = ip(step.bridge);
      const half = set(step.nodes).filter((candidate) => candidate !== bridge);
      const other = rest([...half, bridge]);
      return partition(half, other, `bridge ${half.join(',')} | ${other.join(',')} via ${bridge}`);
    }
    case 'majorities-ring':
      return { faults: majoritiesRing(ips), label: 'majorities ring' };
    case 'one-way': {
      const [from, to] = [set(step.from), set(step.to)];
      return { faults: [{ kind: 'cut', from, to }], label: `one-way ${from.join(',')} -> ${to.join(',')}` };
    }
    default:
      return undefined;
  }
}

/** Resolves a step against a topology: node and domain indexes become IPs and domain names. */
export function resolveStep(specs: readonly NodeSpec[], step: Step): ResolvedStep {
  const partition = resolvePartition(specs, step);
  if (partition !== undefined) return partition;
  const ips = specs.map((spec) => spec.ip);
  const ip = (index: number): string[] => [ips[index % ips.length] as string];
  const domains = dataDomains(specs);
  switch (step.kind) {
    case 'kvdb-cut':
      return { faults: [{ kind: 'kvdb-cut', nodes: [...new Set(step.nodes.map((index) => ip(index)[0] as string))] }] };
    case 'kvdb-cut-all':
      return { faults: [{ kind: 'kvdb-cut', nodes: ips }] };
    case 'crash':
    case 'restart':
    case 'pause':
    case 'resume':
      return { faults: [{ kind: step.kind, nodes: ip(step.node) }] };
    case 'latency': {
      // oneWay: only frames from the first data domain to the second are delayed.
      const inDomain = (domain: string | undefined): string[] =>
        specs.filter((spec) => spec.domain === domain).map((spec) => spec.ip);
      const direction = step.oneWay === true ? { from: inDomain(domains[0]), to: inDomain(domains[1]) } : {};
      return { faults: [{ kind: 'latency', ms: step.ms, jitterMs: step.jitterMs, ...direction }] };
    }
    case 'loss':
    case 'duplicate':
      return { faults: [{ kind: step.kind, percent: step.percent }] };
    case 'heal':
      return { faults: [{ kind: 'heal' }] };
    case 'deactivate':
    case 'activate':
      return { faults: [{ kind: step.kind, domain: domains[step.domain % domains.length] ?? domains[0] ?? '' }] };
    case 'run':
      return { runMs: step.ms };
    default:
      throw new RangeError(`unknown nemesis step ${JSON.stringify(step)}`);
  }
}

/** Applies one step to the simulation (`run` advances virtual time). */
export async function applyStep(sim: Simulation, step: Step): Promise<void> {
  const resolved = resolveStep(sim.specs, step);
  if ('runMs' in resolved) await sim.run(resolved.runMs);
  else await sim.apply(resolved.faults, resolved.label);
}
