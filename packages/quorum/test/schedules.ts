import fc from 'fast-check';
import type { Fault } from '@pxsim/runtime';
import type { EngineNetwork } from './network.js';

/** Fault schedule steps for the property tests, named after Jepsen's and VOPR's nemeses. */
export type Step =
  | { kind: 'domain-split' }
  | { kind: 'witness-bridge' }
  | { kind: 'halves'; picks: number[] }
  | { kind: 'isolate'; node: number }
  | { kind: 'bridge'; picks: number[]; bridge: number }
  | { kind: 'majorities-ring' }
  | { kind: 'one-way'; from: number[]; to: number[] }
  | { kind: 'heal' }
  | { kind: 'kvdb-cut'; picks: number[] }
  | { kind: 'kvdb-heal' }
  | { kind: 'deactivate'; domain: number }
  | { kind: 'activate'; domain: number }
  | { kind: 'crash'; node: number }
  | { kind: 'restart'; node: number }
  | { kind: 'latency'; maxMs: number }
  | { kind: 'hide-members'; on: number[]; members: number[] }
  | { kind: 'run'; ms: number };

const picks = fc.uniqueArray(fc.nat({ max: 6 }), { minLength: 1, maxLength: 4 });

export const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  { weight: 2, arbitrary: fc.constant<Step>({ kind: 'domain-split' }) },
  { weight: 2, arbitrary: fc.constant<Step>({ kind: 'witness-bridge' }) },
  fc.record({ kind: fc.constant('halves' as const), picks }),
  fc.record({ kind: fc.constant('isolate' as const), node: fc.nat({ max: 6 }) }),
  fc.record({ kind: fc.constant('bridge' as const), picks, bridge: fc.nat({ max: 6 }) }),
  fc.constant<Step>({ kind: 'majorities-ring' }),
  fc.record({ kind: fc.constant('one-way' as const), from: picks, to: picks }),
  { weight: 2, arbitrary: fc.constant<Step>({ kind: 'heal' }) },
  fc.record({ kind: fc.constant('kvdb-cut' as const), picks }),
  fc.constant<Step>({ kind: 'kvdb-heal' }),
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('deactivate' as const), domain: fc.nat({ max: 1 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('activate' as const), domain: fc.nat({ max: 1 }) }) },
  fc.record({ kind: fc.constant('crash' as const), node: fc.nat({ max: 6 }) }),
  fc.record({ kind: fc.constant('restart' as const), node: fc.nat({ max: 6 }) }),
  fc.record({ kind: fc.constant('latency' as const), maxMs: fc.integer({ min: 1, max: 500 }) }),
  fc.record({ kind: fc.constant('hide-members' as const), on: picks, members: picks }),
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('run' as const), ms: fc.integer({ min: 100, max: 20_000 }) }) },
);

export const scheduleArbitrary = fc.record({
  seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
  witness: fc.boolean(),
  steps: fc.array(stepArbitrary, { minLength: 1, maxLength: 12 }),
});
export type Schedule = { seed: number; witness: boolean; steps: Step[] };

export const DOMAINS = ['us-east-1a', 'us-east-1b'] as const;

/** One step resolved: faults of the one vocabulary (`@pxsim/runtime`), or time passing. */
export type ResolvedStep = { faults: Fault[] } | { runMs: number };

/** The partitions among the steps, as faults between node IDs. */
function partitionFaults(ids: readonly string[], step: Step, hasWitness: boolean): Fault[] | undefined {
  const id = (index: number): string => ids[index % ids.length] as string;
  const set = (indexes: number[]): string[] => [...new Set(indexes.map(id))];
  const rest = (chosen: string[]): string[] => ids.filter((candidate) => !chosen.includes(candidate));
  const both = (a: string[], b: string[]): Fault[] => [{ kind: 'partition', a, b }];
  switch (step.kind) {
    case 'domain-split': {
      const witness: Fault[] = [
        { kind: 'cut', from: ['w1'], to: ['us-east-1a'] },
        { kind: 'cut', from: ['us-east-1a'], to: ['w1'] },
      ];
      return [...both(['us-east-1a'], ['us-east-1b']), ...(hasWitness ? witness : [])];
    }
    case 'witness-bridge':
      return both(['us-east-1a'], ['us-east-1b']);
    case 'halves':
      return both(set(step.picks), rest(set(step.picks)));
    case 'isolate':
      return both([id(step.node)], rest([id(step.node)]));
    case 'bridge': {
      const bridge = id(step.bridge);
      const half = set(step.picks).filter((candidate) => candidate !== bridge);
      return both(half, rest([...half, bridge]));
    }
    case 'majorities-ring': {
      // Each node sees its neighbours on a ring (a majority for 5–7 nodes), no two the same view.
      const faults: Fault[] = [];
      for (let i = 0; i < ids.length; i++) {
        for (let j = 0; j < ids.length; j++) {
          const distance = Math.min(Math.abs(i - j), ids.length - Math.abs(i - j));
          if (distance > Math.floor(ids.length / 4) + 1) faults.push({ kind: 'cut', from: [id(i)], to: [id(j)] });
        }
      }
      return faults;
    }
    case 'one-way':
      return [{ kind: 'cut', from: set(step.from), to: set(step.to) }];
    default:
      return undefined;
  }
}

/** Resolves a step against the network's node IDs (indexes wrap onto them). */
export function resolveStep(ids: readonly string[], step: Step, hasWitness: boolean): ResolvedStep {
  const partition = partitionFaults(ids, step, hasWitness);
  if (partition !== undefined) return { faults: partition };
  const id = (index: number): string => ids[index % ids.length] as string;
  const set = (indexes: number[]): string[] => [...new Set(indexes.map(id))];
  switch (step.kind) {
    case 'heal':
      return { faults: [{ kind: 'heal' }] };
    case 'kvdb-cut':
      return { faults: [{ kind: 'kvdb-cut', nodes: set(step.picks) }] };
    case 'kvdb-heal':
      return { faults: [{ kind: 'kvdb-heal', nodes: [...ids] }] };
    case 'deactivate':
    case 'activate':
      return { faults: [{ kind: step.kind, domain: DOMAINS[step.domain % 2] as string }] };
    case 'crash':
      return { faults: [{ kind: 'crash', nodes: [id(step.node)] }] };
    case 'restart':
      // Boots the node if it is down (a running node is left alone), as this step always has.
      return { faults: [{ kind: 'start', nodes: [id(step.node)] }] };
    case 'latency':
      return { faults: [{ kind: 'latency', ms: 0, jitterMs: step.maxMs }] };
    case 'hide-members':
      return { faults: [{ kind: 'hide-members', on: set(step.on), members: set(step.members) }] };
    case 'run':
      return { runMs: step.ms };
    default:
      throw new RangeError(`unknown step ${JSON.stringify(step)}`);
  }
}

/** Applies one step; node indexes wrap onto the topology's nodes. */
export function applyStep(network: EngineNetwork, step: Step): void {
  const resolved = resolveStep([...network.nodes.keys()], step, network.nodes.has('w1'));
  if ('runMs' in resolved) network.run(resolved.runMs);
  else for (const fault of resolved.faults) network.apply(fault);
}
