import { stringify } from 'yaml';

/** One cluster a kubeconfig names: its context, cluster and user all take this name. */
export interface KubeConfigCluster {
  name: string;
  /** `http://host:port` of its API server. */
  server: string;
}

/**
 * A kubeconfig with one context per cluster (cluster, user and context named alike, namespace `default`), the
 * first one current. Plain http on loopback, no credentials: client-go accepts an http server and sends no auth.
 */
export function kubeConfig(clusters: KubeConfigCluster[]): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    preferences: {},
    clusters: clusters.map(({ name, server }) => ({ name, cluster: { server } })),
    users: clusters.map(({ name }) => ({ name, user: {} })),
    contexts: clusters.map(({ name }) => ({ name, context: { cluster: name, user: name, namespace: 'default' } })),
    'current-context': clusters[0]?.name ?? '',
  });
}

/** A kubeconfig's cluster, context and user entries by name, whichever of the two shapes it was written in. */
interface ConfigMaps {
  clusters: Map<string, Record<string, unknown>>;
  contexts: Map<string, Record<string, unknown>>;
  users: Map<string, Record<string, unknown>>;
  current: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The entries of a kubeconfig: client-go's v1 file shape (`clusters: [{name, cluster}]`) or the internal shape a
 * ClusterPair's `spec.config` holds (`clusters: {name: cluster}`).
 */
function mapsOf(config: unknown, entry: 'cluster' | 'context' | 'user'): Map<string, Record<string, unknown>> {
  const section = isRecord(config) ? config[`${entry}s`] : undefined;
  const map = new Map<string, Record<string, unknown>>();
  if (Array.isArray(section)) {
    for (const item of section) {
      if (isRecord(item) && typeof item['name'] === 'string' && isRecord(item[entry]))
        map.set(item['name'], item[entry]);
    }
  } else if (isRecord(section)) {
    for (const [name, value] of Object.entries(section)) if (isRecord(value)) map.set(name, value);
  }
  return map;
}

function configMaps(config: unknown): ConfigMaps {
  const current = isRecord(config) ? config['current-context'] : undefined;
  return {
    clusters: mapsOf(config, 'cluster'),
    contexts: mapsOf(config, 'context'),
    users: mapsOf(config, 'user'),
    current: typeof current === 'string' ? current : '',
  };
}

/** What a kubeconfig context resolves to: the API server and the namespace, or why it does not resolve. */
export type ResolvedContext =
  | { ok: true; context: string; cluster: string; server: string; namespace: string | undefined }
  | { ok: false; problem: string };

/** Resolves `context` (default: the current context) of a kubeconfig in either shape to its server. */
export function resolveContext(config: unknown, context?: string): ResolvedContext {
  const maps = configMaps(config);
  const name = context ?? maps.current;
  if (name === '') return { ok: false, problem: 'the kubeconfig has no current-context and none was given' };
  const found = maps.contexts.get(name);
  if (found === undefined) {
    const known = [...maps.contexts.keys()].sort().join(', ') || 'none';
    return { ok: false, problem: `context "${name}" is not in the kubeconfig (contexts: ${known})` };
  }
  const clusterName = typeof found['cluster'] === 'string' ? found['cluster'] : '';
  const cluster = maps.clusters.get(clusterName);
  const server = cluster?.['server'];
  if (typeof server !== 'string' || server === '')
    return { ok: false, problem: `context "${name}" names cluster "${clusterName}", which has no server` };
  const namespace = typeof found['namespace'] === 'string' ? found['namespace'] : undefined;
  return { ok: true, context: name, cluster: clusterName, server, namespace };
}

/**
 * The kubeconfig pruned to one context and what it names, in the shape `storkctl generate clusterpair` puts in a
 * ClusterPair's `spec.config` (clientcmd's internal Config: entries keyed by name).
 */
export function pruneToContext(config: unknown, context?: string): Record<string, unknown> | { problem: string } {
  const resolved = resolveContext(config, context);
  if (!resolved.ok) return { problem: resolved.problem };
  const maps = configMaps(config);
  const contextEntry = maps.contexts.get(resolved.context) ?? {};
  const userName = typeof contextEntry['user'] === 'string' ? contextEntry['user'] : '';
  const contextWithoutNamespace = { ...contextEntry };
  delete contextWithoutNamespace['namespace'];
  return {
    clusters: { [resolved.cluster]: maps.clusters.get(resolved.cluster) ?? {} },
    contexts: { [resolved.context]: contextWithoutNamespace },
    'current-context': resolved.context,
    preferences: {},
    users: userName === '' ? {} : { [userName]: maps.users.get(userName) ?? {} },
  };
}
