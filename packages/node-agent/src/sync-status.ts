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
