import type { MemStore } from '@pxsim/kvdb-client';
import { DOMAINS_PREFIX, domainEntrySchema, namespaceFor, parseKvdbValue } from '@pxsim/node-agent';

/**
 * Watches the domain keys of the cluster in the simulated kvdb: `onChange(domain, active, revision)` at the very
 * instant a write changes one (the store commits and delivers in the same virtual instant), so that S2's window starts
 * at the kvdb's change, not when the operator's call returns. Returns the function that stops the watch.
 */
export function watchDomainKeys(
  store: MemStore,
  clusterId: string,
  onChange: (domain: string, active: boolean, revision: number) => void,
): () => void {
  const watch = store.watch(namespaceFor(clusterId), DOMAINS_PREFIX, {
    onBatch: (batch) => {
      for (const event of batch.events) {
        if (event.type !== 'put') continue;
        const parsed = parseKvdbValue(event.kv.value, domainEntrySchema);
        if (parsed.ok) onChange(parsed.value.name, parsed.value.state === 'Active', batch.revision);
      }
    },
    // The watch ends only at dispose (Closed) or if the history were compacted under it: the checker then keeps
    // what it knew, and an S2 window it misses shows as a missing check, never as a false alarm.
    onError: () => undefined,
  });
  return () => watch.cancel();
}
