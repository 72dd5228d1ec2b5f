import type { Simulation } from './simulation.js';

/**
 * Fault steps, named as Jepsen and VOPR name their nemeses. Plain data, so that a failing schedule prints as JSON and
 * can be kept as a regression case. Node indexes wrap onto the topology's nodes; domain indexes onto its domains.
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
  | { kind: 'latency'; ms: number; jitterMs: number }
  | { kind: 'loss'; percent: number }
  | { kind: 'duplicate'; percent: number }
  | { kind: 'heal' }
  | { kind: 'deactivate'; domain: number }
  | { kind: 'activate'; domain: number }
  | { kind: 'run'; ms: number };

function dataDomains(sim: Simulation): string[] {
  return [...new Set(sim.specs.filter((spec) => !spec.storageless).map((spec) => spec.domain))];
}

/** Applies one step to the simulation (`run` advances virtual time). */
export async function applyStep(sim: Simulation, step: Step): Promise<void> {
  const ips = sim.specs.map((spec) => spec.ip);
  const ip = (index: number): string => ips[index % ips.length] as string;
  const set = (indexes: number[]): string[] => [...new Set(indexes.map(ip))];
  const rest = (chosen: string[]): string[] => ips.filter((candidate) => !chosen.includes(candidate));
  const domains = dataDomains(sim);
  const first = domains[0] ?? '';
  const second = domains[1] ?? first;
  switch (step.kind) {
    case 'domain-split': {
      // Every domain on its own; the witness goes with the first.
      const hasWitness = sim.specs.some((spec) => spec.storageless);
      const a = [...sim.group(first), ...(hasWitness ? sim.group('witness') : [])];
      sim.partition(a, rest(a), `domain split ${first}${hasWitness ? '+witness' : ''} | rest`);
      return;
    }
    case 'witness-bridge':
      sim.partition(sim.group(first), sim.group(second), `witness bridge ${first} | ${second} (the witness sees both)`);
      return;
    case 'halves': {
      const half = set(step.nodes);
      sim.partition(half, rest(half), `halves ${half.join(',')} | rest`);
      return;
    }
    case 'isolate':
      sim.partition([ip(step.node)], rest([ip(step.node)]), `isolate ${ip(step.node)}`);
      return;
    case 'bridge': {
      const bridge = ip(step.bridge);
      const half = set(step.nodes).filter((candidate) => candidate !== bridge);
      const other = rest([...half, bridge]);
      sim.partition(half, other, `bridge ${half.join(',')} | ${other.join(',')} via ${bridge}`);
      return;
    }
    case 'majorities-ring': {
      // Each node sees its neighbours on a ring, a majority, no two the same.
      for (let i = 0; i < ips.length; i++) {
        for (let j = 0; j < ips.length; j++) {
          const distance = Math.min(Math.abs(i - j), ips.length - Math.abs(i - j));
          if (distance > Math.floor(ips.length / 4) + 1) sim.faults.cut([ip(i)], [ip(j)]);
        }
      }
      sim.cut([], [], 'majorities ring');
      return;
    }
    case 'one-way':
      sim.cut(set(step.from), set(step.to), `one-way ${set(step.from).join(',')} -> ${set(step.to).join(',')}`);
      return;
    case 'kvdb-cut':
      sim.kvdbCut(set(step.nodes));
      return;
    case 'kvdb-cut-all':
      sim.kvdbCut(ips);
      return;
    case 'crash':
      sim.crash([ip(step.node)]);
      return;
    case 'restart':
      sim.restart([ip(step.node)]);
      return;
    case 'pause':
      sim.pause([ip(step.node)]);
      return;
    case 'resume':
      sim.resume([ip(step.node)]);
      return;
    case 'latency':
      sim.latency({ ms: step.ms, jitterMs: step.jitterMs });
      return;
    case 'loss':
      sim.loss(step.percent);
      return;
    case 'duplicate':
      sim.duplicate(step.percent);
      return;
    case 'heal':
      sim.heal();
      return;
    case 'deactivate':
    case 'activate':
      await sim.setDomain(domains[step.domain % domains.length] ?? first, step.kind === 'activate');
      return;
    case 'run':
      await sim.run(step.ms);
      return;
  }
}
