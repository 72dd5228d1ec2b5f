import { domainSyncStatuses, type ReplicaSets, type SyncStatus } from '@pxsim/storage';
import type { AgentStatus } from './agent.js';

/**
 * ClusterDomainsStatus' `syncStatus` of every domain as a node sees the cluster (its status: domains and which node is
 * in which) and the volumes' replica sets (undefined when they could not be listed: `SyncStatusUnknown`, as stork
 * answers when its volume enumeration fails). Stork's rule: `@pxsim/storage` `domainSyncStatuses`.
 */
export function clusterSyncStatuses(
  status: Pick<AgentStatus, 'domains' | 'nodes'>,
  volumes: readonly ReplicaSets[] | undefined,
): Map<string, SyncStatus> {
  return domainSyncStatuses(
    status.domains.map((domain) => ({ name: domain.name, active: domain.state === 'Active' })),
    new Map(status.nodes.map((node) => [node.id, node.domain])),
    volumes,
  );
}

/**
 * The ClusterDomainsStatus object (named after the cluster ID as stork names it), both shapes of its status; `syncStatus` by
 * stork's rule over the volumes' replica sets (`volumes` undefined: they could not be listed, `SyncStatusUnknown`).
 */
export function clusterDomainsStatus(
  status: AgentStatus,
  volumes: readonly ReplicaSets[] | undefined,
): {
  apiVersion: string;
  kind: string;
  metadata: { name: string; creationTimestamp: string };
  status: {
    active: string[];
    inactive: string[];
    localDomain: string;
    clusterDomainInfos: Array<{ name: string; state: 'Active' | 'Inactive'; syncStatus: SyncStatus }>;
  };
} {
  const domains = [...status.domains].sort((left, right) => (left.name < right.name ? -1 : 1));
  const syncStatuses = clusterSyncStatuses(status, volumes);
  return {
    apiVersion: 'stork.libopenstorage.org/v1alpha1',
    kind: 'ClusterDomainsStatus',
    metadata: {
      // Stork's name for it: the cluster ID in lower case, characters outside [a-z0-9.-] replaced by '-'.
      name: status.cluster.id.toLowerCase().replace(/[^a-z0-9.-]/g, '-'),
      creationTimestamp: new Date(status.cluster.createdAtMs).toISOString(),
    },
    status: {
      active: domains.filter((domain) => domain.state === 'Active').map((domain) => domain.name),
      inactive: domains.filter((domain) => domain.state === 'Inactive').map((domain) => domain.name),
      localDomain: status.node.domain,
      clusterDomainInfos: domains.map((domain) => ({
        name: domain.name,
        state: domain.state,
        syncStatus: syncStatuses.get(domain.name) ?? 'SyncStatusUnknown',
      })),
    },
  };
}
