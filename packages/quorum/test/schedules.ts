import fc from 'fast-check';
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

/** Applies one step; node indexes wrap onto the topology's nodes. */
export function applyStep(network: EngineNetwork, step: Step): void {
  const ids = [...network.nodes.keys()];
  const id = (index: number): string => ids[index % ids.length] as string;
  const set = (indexes: number[]): string[] => [...new Set(indexes.map(id))];
  const rest = (chosen: string[]): string[] => ids.filter((candidate) => !chosen.includes(candidate));
  const hasWitness = network.nodes.has('w1');
  switch (step.kind) {
    case 'domain-split':
      network.cut(network.group('us-east-1a'), network.group('us-east-1b'));
      network.cut(network.group('us-east-1b'), network.group('us-east-1a'));
      if (hasWitness) {
        network.cut(['w1'], network.group('us-east-1a'));
        network.cut(network.group('us-east-1a'), ['w1']);
      }
      return;
    case 'witness-bridge':
      network.cut(network.group('us-east-1a'), network.group('us-east-1b'));
      network.cut(network.group('us-east-1b'), network.group('us-east-1a'));
      return;
    case 'halves': {
      const half = set(step.picks);
      network.cut(half, rest(half));
      network.cut(rest(half), half);
      return;
    }
    case 'isolate':
      network.cut([id(step.node)], rest([id(step.node)]));
      network.cut(rest([id(step.node)]), [id(step.node)]);
      return;
    case 'bridge': {
      const bridge = id(step.bridge);
      const half = set(step.picks).filter((candidate) => candidate !== bridge);
      const other = rest([...half, bridge]);
      network.cut(half, other);
      network.cut(other, half);
      return;
    }
    case 'majorities-ring': {
      // Each node sees its neighbours on a ring (a majority for 5–7 nodes), no two the same view.
      for (let i = 0; i < ids.length; i++) {
        for (let j = 0; j < ids.length; j++) {
          const distance = Math.min(Math.abs(i - j), ids.length - Math.abs(i - j));
          if (distance > Math.floor(ids.length / 4) + 1) network.cut([id(i)], [id(j)]);
        }
      }
      return;
    }
    case 'one-way':
      network.cut(set(step.from), set(step.to));
      return;
    case 'heal':
      network.heal();
      return;
    case 'kvdb-cut':
      network.setKvdbCut(set(step.picks), true);
      return;
    case 'kvdb-heal':
      network.setKvdbCut(ids, false);
      return;
    case 'deactivate':
    case 'activate':
      network.setDomain(DOMAINS[step.domain % 2] as string, step.kind === 'activate' ? 'Active' : 'Inactive');
      return;
    case 'crash':
      network.crash([id(step.node)]);
      return;
    case 'restart':
      network.boot([id(step.node)]);
      return;
    case 'latency':
      network.latencyMinMs = 0;
      network.latencyMaxMs = step.maxMs;
      return;
    case 'hide-members':
      network.hideMembers(set(step.on), set(step.members));
      return;
    case 'run':
      network.run(step.ms);
      return;
  }
}
