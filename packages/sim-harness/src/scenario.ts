import { parse } from 'yaml';
import type { QuorumMode, TimingProfileName } from '@pxsim/quorum';
import { Simulation } from './simulation.js';

export type ScenarioStep =
  | { start: string }
  | { crash: string }
  | { restart: string }
  | { partition: [string, string] }
  | { latency: { ms: number; jitterMs: number } }
  | { kvdbCut: string }
  | { heal: true }
  | { deactivate: string }
  | { activate: string }
  | { wait: number }
  | { expect: { nodes: string; status: string; withinMs: number } };

export interface Scenario {
  name: string;
  cluster: {
    domains: string[];
    nodesPerDomain: number;
    witness: boolean;
    quorumMode: QuorumMode;
    timing: TimingProfileName;
  };
  steps: ScenarioStep[];
}

export class ScenarioError extends Error {}

const STEP_KINDS = [
  'start',
  'crash',
  'restart',
  'partition',
  'latency',
  'kvdbCut',
  'heal',
  'deactivate',
  'activate',
  'wait',
  'expect',
];
const STATUSES = ['Online', 'Offline', 'Out of Quorum', 'Initializing'];

/** Reads a scenario file; any problem names the step and what is wrong. */
export function parseScenario(text: string, file: string): Scenario {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (error) {
    throw new ScenarioError(
      `${file}: invalid YAML: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
    );
  }
  const object = raw as { name?: unknown; cluster?: Record<string, unknown>; steps?: unknown };
  if (typeof object !== 'object' || object === null)
    throw new ScenarioError(`${file}: expected a mapping with name, cluster and steps`);
  const cluster = object.cluster ?? {};
  const domains = cluster['domains'] ?? ['us-east-1a', 'us-east-1b'];
  if (!Array.isArray(domains) || domains.some((domain) => typeof domain !== 'string'))
    throw new ScenarioError(`${file}: cluster.domains must be a list of names`);
  const nodesPerDomain = cluster['nodesPerDomain'] ?? 3;
  if (
    typeof nodesPerDomain !== 'number' ||
    !Number.isInteger(nodesPerDomain) ||
    nodesPerDomain < 1 ||
    nodesPerDomain > 32
  ) {
    throw new ScenarioError(`${file}: cluster.nodesPerDomain must be 1–32`);
  }
  const quorumMode = cluster['quorumMode'] ?? 'safe';
  if (quorumMode !== 'safe' && quorumMode !== 'reference')
    throw new ScenarioError(`${file}: cluster.quorumMode must be safe or reference`);
  const timing = cluster['timing'] ?? 'fast';
  if (timing !== 'fast' && timing !== 'portworx')
    throw new ScenarioError(`${file}: cluster.timing must be fast or portworx`);
  if (!Array.isArray(object.steps) || object.steps.length === 0)
    throw new ScenarioError(`${file}: steps must be a non-empty list`);
  const steps = object.steps.map((step: unknown, index: number): ScenarioStep => {
    const where = `${file}: step ${index + 1}`;
    if (typeof step !== 'object' || step === null || Object.keys(step).length !== 1)
      throw new ScenarioError(`${where}: each step is a mapping with one key (${STEP_KINDS.join(', ')})`);
    const [kind, value] = Object.entries(step)[0] as [string, unknown];
    if (!STEP_KINDS.includes(kind))
      throw new ScenarioError(`${where}: unknown step "${kind}"; known: ${STEP_KINDS.join(', ')}`);
    if (kind === 'expect') {
      const expectation = value as { nodes?: unknown; status?: unknown; withinMs?: unknown };
      if (
        typeof expectation.nodes !== 'string' ||
        typeof expectation.status !== 'string' ||
        !STATUSES.includes(expectation.status) ||
        typeof expectation.withinMs !== 'number'
      ) {
        throw new ScenarioError(`${where}: expect needs nodes (a group), status (${STATUSES.join(', ')}) and withinMs`);
      }
    }
    if (kind === 'partition' && (!Array.isArray(value) || value.length !== 2))
      throw new ScenarioError(`${where}: partition takes two groups`);
    if (kind === 'wait' && (typeof value !== 'number' || value < 0))
      throw new ScenarioError(`${where}: wait takes a number of ms`);
    return step as ScenarioStep;
  });
  return {
    name: typeof object.name === 'string' ? object.name : file,
    cluster: { domains: domains as string[], nodesPerDomain, witness: cluster['witness'] === true, quorumMode, timing },
    steps,
  };
}

/** What a run produced: each node's sequence of states (labelled domain/index), and a readable timeline. */
export interface ScenarioRun {
  transitions: Record<string, string[]>;
  timeline: string[];
}

/** Node labels `domain/i` (1-based) in topology order. */
export function nodeLabels(scenario: Scenario): string[] {
  return scenario.cluster.domains.flatMap((domain) =>
    Array.from({ length: scenario.cluster.nodesPerDomain }, (_, index) => `${domain}/${index + 1}`),
  );
}

/** The sequences the two runtimes must agree on: states, Initializing left out, repeats collapsed. */
export function comparable(run: ScenarioRun): Record<string, string[]> {
  return Object.fromEntries(
    Object.entries(run.transitions).map(([label, states]) => [
      label,
      states
        .filter((state) => state !== 'Initializing')
        .filter((state, index, list) => index === 0 || list[index - 1] !== state),
    ]),
  );
}

export function resolveGroup(scenario: Scenario, group: string): string[] {
  const labels = nodeLabels(scenario);
  const result = group.split(',').flatMap((part) => {
    const name = part.trim();
    if (name === 'all') return labels;
    const inDomain = labels.filter((label) => label.startsWith(`${name}/`));
    if (inDomain.length > 0) return inDomain;
    if (labels.includes(name)) return [name];
    throw new ScenarioError(`"${name}" is neither a domain nor a node label (${labels.join(', ')})`);
  });
  return [...new Set(result)];
}

/** Runs a scenario in virtual time on the simulator. */
export async function runScenarioVirtual(scenario: Scenario, seed: number): Promise<ScenarioRun> {
  const sim = new Simulation({
    seed,
    domains: scenario.cluster.domains,
    nodesPerDomain: scenario.cluster.nodesPerDomain,
    witness: scenario.cluster.witness,
    quorumMode: scenario.cluster.quorumMode,
    timing: scenario.cluster.timing,
  });
  const labels = nodeLabels(scenario);
  const ipOf = new Map(labels.map((label, index) => [label, sim.specs[index]?.ip ?? '']));
  const labelOf = new Map([...ipOf].map(([label, ip]) => [ip, label]));
  const ips = (group: string): string[] => resolveGroup(scenario, group).map((label) => ipOf.get(label) ?? '');
  const timeline: string[] = [];
  try {
    for (const step of scenario.steps) {
      const [kind, value] = Object.entries(step)[0] as [string, unknown];
      timeline.push(`${sim.nowMs} ms: ${kind} ${JSON.stringify(value)}`);
      if ('start' in step) sim.start(ips(step.start));
      else if ('crash' in step) sim.crash(ips(step.crash));
      else if ('restart' in step) sim.start(ips(step.restart));
      else if ('partition' in step) sim.partition(ips(step.partition[0]), ips(step.partition[1]));
      else if ('latency' in step) sim.latency(step.latency);
      else if ('kvdbCut' in step) sim.kvdbCut(ips(step.kvdbCut));
      else if ('heal' in step) sim.heal();
      else if ('deactivate' in step) await sim.setDomain(step.deactivate, false);
      else if ('activate' in step) await sim.setDomain(step.activate, true);
      else if ('wait' in step) await sim.run(step.wait);
      else {
        const targets = ips(step.expect.nodes);
        const deadline = sim.nowMs + step.expect.withinMs;
        while (!targets.every((ip) => sim.state(ip) === step.expect.status)) {
          if (sim.nowMs >= deadline) {
            throw new ScenarioError(
              `virtual run: expected ${step.expect.nodes} ${step.expect.status} within ${step.expect.withinMs} ms; states: ${JSON.stringify(sim.states())}`,
            );
          }
          await sim.run(50);
        }
      }
    }
  } finally {
    await sim.dispose();
  }
  const transitions: Record<string, string[]> = Object.fromEntries(labels.map((label) => [label, []]));
  for (const entry of sim.history) {
    if (entry.kind !== 'state') continue;
    const label = labelOf.get(entry.node);
    if (label !== undefined) transitions[label]?.push(entry.to);
  }
  if (sim.violations.length > 0)
    timeline.push(...sim.violations.map((violation) => `VIOLATION ${violation.check}: ${violation.detail}`));
  return { transitions, timeline };
}
