import { parse } from 'yaml';
import type { QuorumMode, TimingProfileName } from '@pxsim/quorum';
import { formatFault, mapTargets, parseFaultText, type Fault } from '@pxsim/runtime';
import type { Finding } from '@pxsim/checkers';
import type { SyncStatus } from '@pxsim/storage';
import {
  DATA_STEP_KINDS,
  DataStepError,
  DataSteps,
  describeDataStep,
  parseDataStep,
  SYNC_SAMPLE_MS,
  type DataStep,
} from './scenario-data.js';
import { VirtualKube } from './kube-virtual.js';
import {
  describeKubeStep,
  KUBE_STEP_KINDS,
  KubeStepError,
  parseKubeStep,
  runKubeStep,
  type KubeStep,
} from './scenario-kube.js';
import { VirtualDriver } from './scenario-virtual.js';
import { Simulation } from './simulation.js';

/**
 * A step of a scenario: a fault of the one vocabulary (`@pxsim/runtime`; groups are domains, `domain/i` labels or
 * `all`), time passing, or an expectation. In YAML a fault is written `fault: partition us-east-1a us-east-1b` or
 * with the older keys (`start`, `crash`, `restart` (brings crashed nodes back, as `start`), `partition: [a, b]`,
 * `latency: {ms, jitterMs}`, `kvdbCut`, `heal: true`, `deactivate`, `activate`).
 */
export type ScenarioStep =
  | { fault: Fault }
  | { wait: number }
  | { expect: { nodes: string; status: string; withinMs: number } }
  | { data: DataStep }
  | { kube: KubeStep };

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
  'fault',
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
  ...DATA_STEP_KINDS,
  ...KUBE_STEP_KINDS,
];
const STATUSES = ['Online', 'Offline', 'Out of Quorum', 'Initializing'];

const groupValue = (value: unknown, kind: string, where: string): string[] => {
  if (typeof value !== 'string' || value.trim() === '') throw new ScenarioError(`${where}: ${kind} takes a group`);
  return [value];
};

/** A fault step of the YAML (either form) in the vocabulary; problems name the step. */
function scenarioFault(kind: string, value: unknown, where: string): Fault {
  try {
    switch (kind) {
      case 'fault':
        if (typeof value !== 'string')
          throw new ScenarioError(`${where}: fault takes a line such as "crash us-east-1a"`);
        return parseFaultText(value);
      case 'start':
      case 'restart':
        return { kind: 'start', nodes: groupValue(value, kind, where) };
      case 'crash':
        return { kind: 'crash', nodes: groupValue(value, kind, where) };
      case 'kvdbCut':
        return { kind: 'kvdb-cut', nodes: groupValue(value, kind, where) };
      case 'partition':
        if (!Array.isArray(value) || value.length !== 2 || !value.every((group) => typeof group === 'string'))
          throw new ScenarioError(`${where}: partition takes two groups`);
        return { kind: 'partition', a: [value[0] as string], b: [value[1] as string] };
      case 'latency': {
        const latency = value as { ms?: unknown; jitterMs?: unknown } | null;
        if (typeof latency?.ms !== 'number' || typeof latency.jitterMs !== 'number')
          throw new ScenarioError(`${where}: latency takes { ms, jitterMs }`);
        return { kind: 'latency', ms: latency.ms, jitterMs: latency.jitterMs };
      }
      case 'heal':
        return { kind: 'heal' };
      default:
        return { kind: kind === 'activate' ? 'activate' : 'deactivate', domain: groupValue(value, kind, where).join() };
    }
  } catch (error) {
    if (error instanceof ScenarioError) throw error;
    throw new ScenarioError(`${where}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** What a step says, for the timeline. */
export function describeStep(step: ScenarioStep): string {
  if ('fault' in step) return formatFault(step.fault);
  if ('wait' in step) return `wait ${step.wait} ms`;
  if ('data' in step) return describeDataStep(step.data);
  if ('kube' in step) return describeKubeStep(step.kube);
  return `expect ${step.expect.nodes} ${step.expect.status} within ${step.expect.withinMs} ms`;
}

function dataStep(kind: string, value: unknown, where: string): DataStep {
  try {
    return parseDataStep(kind, value, where);
  } catch (error) {
    if (error instanceof DataStepError) throw new ScenarioError(error.message);
    throw error;
  }
}

function kubeStep(kind: string, value: unknown, where: string): KubeStep {
  try {
    return parseKubeStep(kind, value, where);
  } catch (error) {
    if (error instanceof KubeStepError) throw new ScenarioError(error.message);
    throw error;
  }
}

/** Data steps name groups and domains of the cluster: an unknown one is refused before anything runs. */
function checkDataGroups(scenario: Scenario, file: string): void {
  scenario.steps.forEach((step, index) => {
    const where = `${file}: step ${index + 1}`;
    if ('kube' in step && !scenario.cluster.domains.includes(step.kube.cluster))
      throw new ScenarioError(
        `${where}: ${step.kube.kind} names cluster "${step.kube.cluster}", not one of the domains ${scenario.cluster.domains.join(', ')}`,
      );
    if (!('data' in step)) return;
    if (step.data.kind === 'attach') {
      try {
        resolveGroup(scenario, step.data.on);
      } catch (error) {
        throw new ScenarioError(`${where}: attach on ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    if (step.data.kind === 'sync' && !scenario.cluster.domains.includes(step.data.domain))
      throw new ScenarioError(
        `${where}: sync names domain "${step.data.domain}", not one of ${scenario.cluster.domains.join(', ')}`,
      );
  });
}

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
    if (kind === 'wait' && (typeof value !== 'number' || value < 0))
      throw new ScenarioError(`${where}: wait takes a number of ms`);
    if (kind === 'wait') return { wait: value as number };
    if (DATA_STEP_KINDS.includes(kind)) return { data: dataStep(kind, value, where) };
    if (KUBE_STEP_KINDS.includes(kind)) return { kube: kubeStep(kind, value, where) };
    if (kind === 'expect') return { expect: value as { nodes: string; status: string; withinMs: number } };
    return { fault: scenarioFault(kind, value, where) };
  });
  const scenario: Scenario = {
    name: typeof object.name === 'string' ? object.name : file,
    cluster: { domains: domains as string[], nodesPerDomain, witness: cluster['witness'] === true, quorumMode, timing },
    steps,
  };
  checkDataGroups(scenario, file);
  return scenario;
}

/**
 * What a run produced: each node's sequence of states (labelled domain/index), each domain's sequence of syncStatus
 * values as sampled, the data steps' block operations and what the data checkers found in them, and a timeline.
 */
export interface ScenarioRun {
  transitions: Record<string, string[]>;
  sync: Record<string, SyncStatus[]>;
  io: { operations: number; acknowledgedWrites: number; findings: Finding[] };
  timeline: string[];
}

/** The data part of a run's result. */
export function dataSummary(data: DataSteps): Pick<ScenarioRun, 'sync' | 'io'> {
  return {
    sync: Object.fromEntries(data.sync.seen),
    io: {
      operations: data.ops.length,
      acknowledgedWrites: data.ops.filter((op) => op.kind === 'write' && op.outcome === 'ok').length,
      findings: data.findings(),
    },
  };
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

/** Runs the simulation until the nodes are in the expected state, failing past the deadline. */
async function expectStates(
  sim: Simulation,
  expected: { nodes: string; status: string; withinMs: number },
  targets: string[],
): Promise<void> {
  const deadline = sim.nowMs + expected.withinMs;
  while (!targets.every((ip) => sim.state(ip) === expected.status)) {
    if (sim.nowMs >= deadline) {
      throw new ScenarioError(
        `virtual run: expected ${expected.nodes} ${expected.status} within ${expected.withinMs} ms; states: ${JSON.stringify(sim.states())}`,
      );
    }
    await sim.run(50);
  }
}

/** Runs a scenario in virtual time on the simulator (its data steps are the only volume I/O). */
export async function runScenarioVirtual(
  scenario: Scenario,
  seed: number,
  options: { wrapKubeVolumeDriver?: ConstructorParameters<typeof VirtualKube>[3] } = {},
): Promise<ScenarioRun> {
  const sim = new Simulation({
    seed,
    domains: scenario.cluster.domains,
    nodesPerDomain: scenario.cluster.nodesPerDomain,
    witness: scenario.cluster.witness,
    quorumMode: scenario.cluster.quorumMode,
    timing: scenario.cluster.timing,
    volumeIo: false,
  });
  const labels = nodeLabels(scenario);
  const ipOf = new Map(labels.map((label, index) => [label, sim.specs[index]?.ip ?? '']));
  const ips = (group: string): string[] => resolveGroup(scenario, group).map((label) => ipOf.get(label) ?? '');
  const driver = new VirtualDriver(sim, ipOf);
  const data = new DataSteps(driver, (group) => resolveGroup(scenario, group));
  const timeline: string[] = [];
  const kube = scenario.steps.some((step) => 'kube' in step)
    ? new VirtualKube(sim, scenario.cluster.domains, seed, options.wrapKubeVolumeDriver)
    : undefined;
  await kube?.start();
  const sample = (): void => {
    const statuses = driver.syncStatusesNow();
    if (statuses !== undefined) data.sync.note(statuses);
    sim.scheduler.setTimer(SYNC_SAMPLE_MS, sample);
  };
  sample();
  try {
    for (const step of scenario.steps) {
      timeline.push(`${sim.nowMs} ms: ${describeStep(step)}`);
      if ('fault' in step) await sim.apply([mapTargets(step.fault, (groups) => groups.flatMap(ips))]);
      else if ('wait' in step) await sim.run(step.wait);
      else if ('data' in step) await runDataStep(data, step.data, `virtual run at ${sim.nowMs} ms`);
      else if ('kube' in step) await runKube(kube, sim, step.kube);
      else await expectStates(sim, step.expect, ips(step.expect.nodes));
    }
  } finally {
    await sim.dispose();
  }
  const run = { transitions: virtualTransitions(sim, labels, ipOf), ...dataSummary(data), timeline };
  run.io.findings.push(...(kube?.findings ?? []));
  if (sim.violations.length > 0)
    timeline.push(...sim.violations.map((violation) => `VIOLATION ${violation.check}: ${violation.detail}`));
  timeline.push(...run.io.findings.map((finding) => `VIOLATION ${finding.check}: ${finding.detail}`));
  return run;
}

/** Runs a Kubernetes step; a failure names where the run was. */
async function runKube(kube: VirtualKube | undefined, sim: Simulation, step: KubeStep): Promise<void> {
  if (kube === undefined) throw new ScenarioError('no Kubernetes clusters in this run');
  try {
    await runKubeStep(kube, sim, step);
  } catch (error) {
    if (error instanceof KubeStepError)
      throw new ScenarioError(`virtual run at ${sim.nowMs} ms: ${describeKubeStep(step)}: ${error.message}`);
    throw error;
  }
}

/** Runs a data step; a failure names where the run was. */
export async function runDataStep(data: DataSteps, step: DataStep, where: string): Promise<void> {
  try {
    await data.run(step);
  } catch (error) {
    if (error instanceof DataStepError)
      throw new ScenarioError(`${where}: ${describeDataStep(step)}: ${error.message}`);
    throw error;
  }
}

function virtualTransitions(
  sim: Simulation,
  labels: string[],
  ipOf: ReadonlyMap<string, string>,
): Record<string, string[]> {
  const labelOf = new Map([...ipOf].map(([label, ip]) => [ip, label]));
  const transitions: Record<string, string[]> = Object.fromEntries(labels.map((label) => [label, []]));
  for (const entry of sim.history) {
    if (entry.kind !== 'state') continue;
    const label = labelOf.get(entry.node);
    if (label !== undefined) transitions[label]?.push(entry.to);
  }
  return transitions;
}
