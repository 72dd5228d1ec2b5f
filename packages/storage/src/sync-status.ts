/** ClusterDomainsStatus' `syncStatus` of a cluster domain (stork `pkg/apis/stork/v1alpha1/clusterdomainsstatus.go`). */
export type SyncStatus = 'InSync' | 'SyncInProgress' | 'NotInSync' | 'SyncStatusUnknown';

export const SYNC_STATUSES: readonly SyncStatus[] = ['InSync', 'SyncInProgress', 'NotInSync', 'SyncStatusUnknown'];

/** A volume's replica sets as stork reads them (`ReplicaSetCreateMid`, `ReplicaSetCurrMid`: node IDs). */
export interface ReplicaSets {
  createSet: readonly string[];
  currentSet: readonly string[];
}

/**
 * The create-set replicas missing from the current set, as stork's `getReplicasNotInCurrent` finds them: a volume
 * whose two sets have the same length is skipped, even if their members differ (stork compares lengths only).
 */
export function replicasNotInCurrent(volume: ReplicaSets): string[] {
  if (volume.createSet.length === volume.currentSet.length) return [];
  return volume.createSet.filter((node) => !volume.currentSet.includes(node));
}

/**
 * Each domain's `syncStatus` by stork's rule (`drivers/volume/portworx/portworx.go`, `GetClusterDomains`): an active
 * domain is `InSync` and an inactive one `NotInSync`, except that an active domain holding a create-set replica
 * missing from its volume's current set is `SyncInProgress` (its replicas still resync). When the volumes could not
 * be listed (`volumes` undefined) every domain is `SyncStatusUnknown`. A replica on a node of no known domain counts
 * nowhere.
 */
export function domainSyncStatuses(
  domains: ReadonlyArray<{ name: string; active: boolean }>,
  domainOfNode: ReadonlyMap<string, string>,
  volumes: readonly ReplicaSets[] | undefined,
): Map<string, SyncStatus> {
  const statuses = new Map<string, SyncStatus>(
    domains.map((domain) => [domain.name, domain.active ? 'InSync' : 'NotInSync']),
  );
  if (volumes === undefined) return new Map(domains.map((domain) => [domain.name, 'SyncStatusUnknown']));
  const active = new Set(domains.filter((domain) => domain.active).map((domain) => domain.name));
  for (const volume of volumes) {
    for (const replica of replicasNotInCurrent(volume)) {
      const domain = domainOfNode.get(replica);
      if (domain !== undefined && active.has(domain)) statuses.set(domain, 'SyncInProgress');
    }
  }
  return statuses;
}
