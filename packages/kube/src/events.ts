import { KubeError } from './errors.js';
import type { KubeObject } from './objects.js';
import type { ObjectStore } from './store.js';
import { EVENTS } from './workloads.js';

export function timestampOf(nowMs: number): string {
  return new Date(nowMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Records an Event about `about` in its namespace (`default` for a cluster-scoped object), as client-go's recorder
 * does: the same type, reason and message about the same object again raises the count and the last time of the
 * existing Event instead of adding one.
 */
export async function recordEvent(
  store: ObjectStore,
  about: KubeObject,
  event: { type: 'Normal' | 'Warning'; reason: string; message: string; component: string },
  nowMs: number,
): Promise<void> {
  const namespace = about.metadata.namespace ?? 'default';
  const { items } = await store.list(EVENTS, namespace);
  const same = items.find(
    (item) =>
      (item['involvedObject'] as { uid?: string } | undefined)?.uid === about.metadata.uid &&
      item['reason'] === event.reason &&
      item['message'] === event.message &&
      item['type'] === event.type,
  );
  const now = timestampOf(nowMs);
  if (same !== undefined) {
    const count = typeof same['count'] === 'number' ? same['count'] + 1 : 2;
    try {
      await store.update(
        { type: EVENTS, namespace, name: same.metadata.name },
        { ...same, count, lastTimestamp: now },
        same.metadata.resourceVersion ?? '',
      );
    } catch (error) {
      if (!(error instanceof KubeError && (error.reason === 'Conflict' || error.reason === 'NotFound'))) throw error;
    }
    return;
  }
  const name = `${about.metadata.name}.${nowMs.toString(16)}${items.length.toString(16)}`;
  await store.create(
    { type: EVENTS, namespace, name },
    {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: {
        apiVersion: about.apiVersion,
        kind: about.kind,
        name: about.metadata.name,
        ...(about.metadata.namespace === undefined ? {} : { namespace: about.metadata.namespace }),
        uid: about.metadata.uid,
        resourceVersion: about.metadata.resourceVersion,
      },
      reason: event.reason,
      message: event.message,
      type: event.type,
      source: { component: event.component },
      count: 1,
      firstTimestamp: now,
      lastTimestamp: now,
    },
  );
}
