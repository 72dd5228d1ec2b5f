import { AGE_COLUMN, ALL_VERBS, NAME_COLUMN, type ResourceType } from './resources.js';

/** Stork's API group and version (`stork.libopenstorage.org/v1alpha1`). */
export const STORK_GROUP = 'stork.libopenstorage.org';
export const STORK_VERSION = 'v1alpha1';
export const STORK_API_VERSION = `${STORK_GROUP}/${STORK_VERSION}`;

/** On a migrated Deployment or StatefulSet: the source's replica count, kept while the destination runs 0. */
export const MIGRATION_REPLICAS_ANNOTATION = `${STORK_GROUP}/migrationReplicas`;
/** The key the Portworx documentation prints (and stork before 2.x wrote); read as well as the one above. */
export const LEGACY_MIGRATION_REPLICAS_ANNOTATION = 'stork.openstorage.org/migrationReplicas';
/** The label every migrated object carries on the destination. */
export const MIGRATED_LABEL = `${STORK_GROUP}/migrated`;

/**
 * Stork's custom resources as stork registers them (no additional printer columns, so `kubectl get` shows NAME and
 * AGE, as against a real cluster; `storkctl get` prints the richer tables).
 */
function storkType(
  resource: string,
  singular: string,
  kind: string,
  namespaced: boolean,
  shortNames: string[],
): ResourceType {
  return {
    group: STORK_GROUP,
    version: STORK_VERSION,
    resource,
    singular,
    kind,
    namespaced,
    shortNames,
    verbs: ALL_VERBS,
    nameRule: 'subdomain',
    columns: [NAME_COLUMN, AGE_COLUMN],
  };
}

export const CLUSTER_PAIRS = storkType('clusterpairs', 'clusterpair', 'ClusterPair', true, []);
export const MIGRATIONS = storkType('migrations', 'migration', 'Migration', true, []);
export const CLUSTER_DOMAIN_UPDATES = storkType(
  'clusterdomainupdates',
  'clusterdomainupdate',
  'ClusterDomainUpdate',
  false,
  ['cdu'],
);
export const CLUSTER_DOMAINS_STATUSES = storkType(
  'clusterdomainsstatuses',
  'clusterdomainsstatus',
  'ClusterDomainsStatus',
  false,
  ['cds'],
);

export const STORK_RESOURCES: ResourceType[] = [
  CLUSTER_PAIRS,
  MIGRATIONS,
  CLUSTER_DOMAIN_UPDATES,
  CLUSTER_DOMAINS_STATUSES,
];

/**
 * The ClusterDomainsStatus object's name for a cluster ID, as stork makes it: lower case, every character outside
 * `[a-z0-9-.]` replaced by `-`.
 */
export function clusterDomainsStatusName(clusterId: string): string {
  return clusterId.toLowerCase().replace(/[^a-z0-9.-]/g, '-');
}
