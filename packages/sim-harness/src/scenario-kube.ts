import { parseAllDocuments } from 'yaml';
import {
  groupVersionOf,
  kubeObjectSchema,
  KubeError,
  PODS,
  RESOURCES,
  scaleMigratedApplications,
  stringAt,
  type KubeObject,
  type ResourceType,
} from '@pxsim/kube';
import type { VirtualKube } from './kube-virtual.js';
import type { Simulation } from './simulation.js';

/**
 * The Kubernetes steps of a scenario (virtual time: `VirtualKube`), what a user does with kubectl and storkctl:
 * - `kubeApply: {cluster, yaml}`: the YAML's objects created in that domain's cluster (replaced when there);
 * - `pods: {cluster, namespace, running, withinMs}`: that many pods of the namespace Running there, within the bound;
 * - `kubeExpect: {cluster, resource, namespace?, name, field, equals, withinMs}`: an object's field (a dotted path)
 *   shows the value within the bound (a Migration `status.status` `Successful`, a ClusterDomainUpdate's, …);
 * - `migrations: {cluster, namespace, action: activate|deactivate}`: `storkctl activate|deactivate migrations -n`.
 */
export type KubeStep =
  | { kind: 'kubeApply'; cluster: string; objects: KubeObject[] }
  | { kind: 'pods'; cluster: string; namespace: string; running: number; withinMs: number }
  | {
      kind: 'kubeExpect';
      cluster: string;
      resource: string;
      namespace: string | undefined;
      name: string;
      field: string;
      equals: string;
      withinMs: number;
    }
  | { kind: 'migrations'; cluster: string; namespace: string; action: 'activate' | 'deactivate' };

export const KUBE_STEP_KINDS: readonly string[] = ['kubeApply', 'pods', 'kubeExpect', 'migrations'];

export class KubeStepError extends Error {}

const FIELDS: Record<string, readonly string[]> = {
  kubeApply: ['cluster', 'yaml'],
  pods: ['cluster', 'namespace', 'running', 'withinMs'],
  kubeExpect: ['cluster', 'resource', 'namespace', 'name', 'field', 'equals', 'withinMs'],
  migrations: ['cluster', 'namespace', 'action'],
};
const DEFAULT_WITHIN_MS = 30_000;
const RETRY_EVERY_MS = 100;

function text(value: Record<string, unknown>, name: string, where: string): string {
  const found = value[name];
  if (typeof found !== 'string' || found.trim() === '') throw new KubeStepError(`${where}: "${name}" must be a name`);
  return found;
}

function withinOf(value: Record<string, unknown>, where: string): number {
  const found = value['withinMs'] ?? DEFAULT_WITHIN_MS;
  if (typeof found !== 'number' || !Number.isInteger(found) || found < 0 || found > 3_600_000)
    throw new KubeStepError(`${where}: "withinMs" must be an integer from 0 to 3600000`);
  return found;
}

/** The type an object of the YAML is, by its apiVersion and kind; refused naming the served kinds otherwise. */
export function typeOfObject(object: KubeObject): ResourceType {
  const type = RESOURCES.find(
    (candidate) => candidate.kind === object.kind && groupVersionOf(candidate) === object.apiVersion,
  );
  if (type === undefined)
    throw new KubeStepError(
      `${object.apiVersion} ${object.kind} is not served (kinds: ${RESOURCES.map((candidate) => candidate.kind).join(', ')})`,
    );
  return type;
}

function objectsOf(yaml: unknown, where: string): KubeObject[] {
  if (typeof yaml !== 'string') throw new KubeStepError(`${where}: kubeApply's "yaml" must be YAML text`);
  const objects: KubeObject[] = [];
  for (const [index, document] of parseAllDocuments(yaml).entries()) {
    const error = document.errors[0];
    if (error !== undefined)
      throw new KubeStepError(
        `${where}: yaml document ${index + 1}: invalid YAML: ${error.message.split('\n')[0] ?? ''}`,
      );
    const value: unknown = document.toJS();
    if (value === null || value === undefined) continue;
    const parsed = kubeObjectSchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new KubeStepError(
        `${where}: yaml document ${index + 1}: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? ''}`,
      );
    }
    try {
      typeOfObject(parsed.data);
    } catch (problem) {
      throw new KubeStepError(`${where}: yaml document ${index + 1}: ${(problem as Error).message}`);
    }
    objects.push(parsed.data);
  }
  if (objects.length === 0) throw new KubeStepError(`${where}: kubeApply's yaml has no objects`);
  return objects;
}

/** Reads one Kubernetes step of the YAML (`kind` is its key); every problem names the step and the field. */
export function parseKubeStep(kind: string, raw: unknown, where: string): KubeStep {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new KubeStepError(`${where}: ${kind} takes a mapping (${(FIELDS[kind] ?? []).join(', ')})`);
  const value = raw as Record<string, unknown>;
  const unknown = Object.keys(value).find((key) => !(FIELDS[kind] ?? []).includes(key));
  if (unknown !== undefined)
    throw new KubeStepError(`${where}: ${kind} has no "${unknown}" (it takes ${(FIELDS[kind] ?? []).join(', ')})`);
  const cluster = text(value, 'cluster', where);
  switch (kind) {
    case 'kubeApply':
      return { kind, cluster, objects: objectsOf(value['yaml'], where) };
    case 'pods': {
      const running = value['running'];
      if (typeof running !== 'number' || !Number.isInteger(running) || running < 0)
        throw new KubeStepError(`${where}: "running" must be a count of pods`);
      return { kind, cluster, namespace: text(value, 'namespace', where), running, withinMs: withinOf(value, where) };
    }
    case 'kubeExpect': {
      const resource = text(value, 'resource', where);
      if (!RESOURCES.some((type) => type.resource === resource))
        throw new KubeStepError(
          `${where}: resource "${resource}" is not served (${RESOURCES.map((type) => type.resource).join(', ')})`,
        );
      return {
        kind,
        cluster,
        resource,
        namespace: value['namespace'] === undefined ? undefined : text(value, 'namespace', where),
        name: text(value, 'name', where),
        field: text(value, 'field', where),
        equals: text(value, 'equals', where),
        withinMs: withinOf(value, where),
      };
    }
    default: {
      const action = value['action'];
      if (action !== 'activate' && action !== 'deactivate')
        throw new KubeStepError(`${where}: migrations' "action" must be activate or deactivate`);
      return { kind: 'migrations', cluster, namespace: text(value, 'namespace', where), action };
    }
  }
}

export function describeKubeStep(step: KubeStep): string {
  switch (step.kind) {
    case 'kubeApply':
      return `kubectl --context ${step.cluster} apply: ${step.objects.map((o) => `${o.kind.toLowerCase()}/${o.metadata.name}`).join(', ')}`;
    case 'pods':
      return `expect ${step.running} pod(s) Running in ${step.cluster} ${step.namespace} within ${step.withinMs} ms`;
    case 'kubeExpect':
      return `expect ${step.resource}/${step.name} ${step.field} = ${step.equals} in ${step.cluster} within ${step.withinMs} ms`;
    case 'migrations':
      return `storkctl --context ${step.cluster} ${step.action} migrations -n ${step.namespace}`;
  }
}

async function until(sim: Simulation, withinMs: number, holds: () => Promise<string | undefined>): Promise<void> {
  const deadline = sim.nowMs + withinMs;
  for (;;) {
    const problem = await holds();
    if (problem === undefined) return;
    if (sim.nowMs >= deadline) throw new KubeStepError(`not within ${withinMs} ms: ${problem}`);
    await sim.run(RETRY_EVERY_MS);
  }
}

/** Runs one Kubernetes step against the virtual clusters. */
export async function runKubeStep(kube: VirtualKube, sim: Simulation, step: KubeStep): Promise<void> {
  const store = kube.cluster(step.cluster);
  switch (step.kind) {
    case 'kubeApply':
      await kube.apply(step.cluster, step.objects, typeOfObject);
      return;
    case 'migrations':
      await scaleMigratedApplications(store, step.namespace, step.action);
      return;
    case 'pods':
      await until(sim, step.withinMs, async () => {
        const { items } = await store.list(PODS, step.namespace);
        const phases = items.map((pod) => `${pod.metadata.name} ${stringAt(pod, 'status.phase', '?')}`);
        const running = items.filter((pod) => stringAt(pod, 'status.phase', '') === 'Running').length;
        return running === step.running ? undefined : `pods: ${phases.join(', ') || 'none'}`;
      });
      return;
    case 'kubeExpect': {
      const type = RESOURCES.find((candidate) => candidate.resource === step.resource);
      if (type === undefined) throw new KubeStepError(`resource ${step.resource} is not served`);
      await until(sim, step.withinMs, async () => {
        try {
          const object = await store.get({ type, namespace: step.namespace, name: step.name });
          const value = stringAt(object, step.field, '<none>');
          return value === step.equals ? undefined : `it is ${value}`;
        } catch (error) {
          if (error instanceof KubeError && error.reason === 'NotFound') return 'not found';
          throw error;
        }
      });
    }
  }
}
