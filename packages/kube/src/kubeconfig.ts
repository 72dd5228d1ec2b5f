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
