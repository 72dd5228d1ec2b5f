import { reconcileMigrations } from './migrations.js';
import type { ObjectStore } from './store.js';
import {
  reconcileClusterDomainsStatus,
  reconcileClusterDomainUpdates,
  reconcileClusterPairs,
  type StorkDeps,
} from './stork-controllers.js';

/**
 * Stork's controllers of one cluster as one pass: ClusterDomainUpdates carried out, the ClusterDomainsStatus
 * refreshed after them (as stork does), ClusterPairs checked, Migrations moved on.
 */
export async function reconcileStork(store: ObjectStore, deps: StorkDeps): Promise<void> {
  await reconcileClusterDomainUpdates(store, deps);
  await reconcileClusterDomainsStatus(store, deps);
  await reconcileClusterPairs(store, deps);
  await reconcileMigrations(store, deps);
}
