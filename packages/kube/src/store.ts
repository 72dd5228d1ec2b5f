import { isKvdbError, type KeyValue, type Kvdb } from '@pxsim/kvdb-client';
import type { Clock } from '@pxsim/runtime';
import { alreadyExists, conflict, KubeError, notFound } from './errors.js';
import { kubeObjectSchema, type KubeObject } from './objects.js';
import { groupVersionOf, type ResourceType } from './resources.js';

/** Where an object is: its type, its namespace (undefined for cluster-scoped kinds) and its name. */
export interface ObjectRef {
  type: ResourceType;
  namespace: string | undefined;
  name: string;
}

export interface ObjectList {
  items: KubeObject[];
  /** The kvdb revision the list was read at: the list's resourceVersion. */
  revision: number;
}

/**
 * Kubernetes objects in the cluster's kvdb, one JSON value per object at `<group>/<resource>/<namespace>/<name>`
 * (`_` for cluster-scoped kinds, `core` for the core group), under the prefix the caller's kvdb client has. An
 * object's `resourceVersion` is its key's mod revision, so updates and deletes are compare-and-set on it and a list's
 * version is the revision it was read at. A value that is not an object of the expected kind is reported (500,
 * naming the key), never served as if it were one.
 */
export class ObjectStore {
  constructor(
    private readonly kvdb: Kvdb,
    private readonly deps: { clock: Clock; random: () => number },
  ) {}

  private static prefixOf(type: ResourceType, namespace: string | undefined): string {
    return `${type.group === '' ? 'core' : type.group}/${type.resource}/${namespace ?? '_'}`;
  }

  private static keyOf(ref: ObjectRef): string {
    return `${ObjectStore.prefixOf(ref.type, ref.type.namespaced ? ref.namespace : undefined)}/${ref.name}`;
  }

  /** The stored object, its resourceVersion set from the key's revision. */
  private decode(type: ResourceType, kv: KeyValue): KubeObject {
    let parsed: unknown;
    try {
      parsed = JSON.parse(kv.value);
    } catch {
      throw new KubeError('InternalError', `stored value at ${kv.key} is not JSON`);
    }
    const result = kubeObjectSchema.safeParse(parsed);
    if (!result.success || result.data.kind !== type.kind) {
      const why = result.success ? `kind ${result.data.kind}, expected ${type.kind}` : result.error.issues[0]?.message;
      throw new KubeError('InternalError', `stored value at ${kv.key} is not a ${type.kind}: ${why ?? 'malformed'}`);
    }
    return { ...result.data, metadata: { ...result.data.metadata, resourceVersion: String(kv.modRevision) } };
  }

  async get(ref: ObjectRef): Promise<KubeObject> {
    try {
      const { kv } = await this.kvdb.get(ObjectStore.keyOf(ref));
      return this.decode(ref.type, kv);
    } catch (error) {
      if (isKvdbError(error, 'NotFound')) throw notFound(ref.type.resource, ref.type.group, ref.name);
      throw unavailable(error);
    }
  }

  /** The keys of a type's objects in one namespace, or (undefined, or a cluster-scoped kind) all of them. */
  private listPrefix(type: ResourceType, namespace: string | undefined): string {
    const group = type.group === '' ? 'core' : type.group;
    return type.namespaced && namespace !== undefined
      ? `${group}/${type.resource}/${namespace}/`
      : `${group}/${type.resource}/`;
  }

  /** Every object of a type, in one namespace or (undefined) in all. */
  async list(type: ResourceType, namespace: string | undefined): Promise<ObjectList> {
    const prefix = this.listPrefix(type, namespace);
    try {
      const result = await this.kvdb.range(prefix);
      return { items: result.kvs.map((kv) => this.decode(type, kv)), revision: result.revision };
    } catch (error) {
      throw unavailable(error);
    }
  }

  /** Stores a new object: uid, creationTimestamp and generation set here; 409 AlreadyExists when the name is taken. */
  async create(ref: ObjectRef, object: KubeObject): Promise<KubeObject> {
    const stored: KubeObject = {
      ...object,
      apiVersion: groupVersionOf(ref.type),
      kind: ref.type.kind,
      metadata: {
        ...object.metadata,
        name: ref.name,
        ...(ref.type.namespaced ? { namespace: ref.namespace } : {}),
        uid: this.uid(),
        creationTimestamp: new Date(this.deps.clock.nowMs()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        generation: 1,
      },
    };
    delete stored.metadata.resourceVersion;
    try {
      const { kv } = await this.kvdb.create(ObjectStore.keyOf(ref), JSON.stringify(stored));
      return { ...stored, metadata: { ...stored.metadata, resourceVersion: String(kv.modRevision) } };
    } catch (error) {
      if (isKvdbError(error, 'Exists')) throw alreadyExists(ref.type.resource, ref.type.group, ref.name);
      throw unavailable(error);
    }
  }

  /**
   * Replaces a stored object if its resourceVersion is still `resourceVersion` (409 Conflict otherwise, as the
   * apiserver's optimistic concurrency). uid and creationTimestamp are kept from the stored object.
   */
  async update(ref: ObjectRef, object: KubeObject, resourceVersion: string): Promise<KubeObject> {
    const current = await this.get(ref);
    if (current.metadata.resourceVersion !== resourceVersion) throw this.modified(ref);
    const stored: KubeObject = {
      ...object,
      metadata: {
        ...object.metadata,
        uid: current.metadata.uid,
        creationTimestamp: current.metadata.creationTimestamp,
      },
    };
    delete stored.metadata.resourceVersion;
    try {
      const { revision } = await this.kvdb.update(ObjectStore.keyOf(ref), JSON.stringify(stored), {
        ifModRevision: Number(resourceVersion),
      });
      return { ...stored, metadata: { ...stored.metadata, resourceVersion: String(revision) } };
    } catch (error) {
      if (isKvdbError(error, 'Modified') || isKvdbError(error, 'NotFound')) throw this.modified(ref);
      throw unavailable(error);
    }
  }

  /** Removes an object; answers it as it was. */
  async delete(ref: ObjectRef): Promise<KubeObject> {
    const current = await this.get(ref);
    try {
      await this.kvdb.delete(ObjectStore.keyOf(ref), { ifModRevision: Number(current.metadata.resourceVersion) });
      return current;
    } catch (error) {
      if (isKvdbError(error, 'Modified') || isKvdbError(error, 'NotFound')) throw this.modified(ref);
      throw unavailable(error);
    }
  }

  /**
   * Every change to objects of a type (in one namespace, or all) after `fromRevision`, in order, as watch events;
   * `onEnd` once if the kvdb ends the watch (compacted history, a lagging consumer, a closed client). Returns the
   * cancel.
   */
  watch(
    type: ResourceType,
    namespace: string | undefined,
    fromRevision: number,
    onEvent: (event: { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: KubeObject }) => void,
    onEnd: (reason: string) => void,
  ): () => void {
    const watch = this.kvdb.watch(this.listPrefix(type, namespace), {
      fromRevision,
      onBatch: (batch) => {
        for (const event of batch.events) {
          try {
            if (event.type === 'delete') {
              const last = event.prev === undefined ? this.bare(type, event.kv.key) : this.decode(type, event.prev);
              const object = { ...last, metadata: { ...last.metadata, resourceVersion: String(batch.revision) } };
              onEvent({ type: 'DELETED', object });
            } else {
              onEvent({ type: event.kv.version === 1 ? 'ADDED' : 'MODIFIED', object: this.decode(type, event.kv) });
            }
          } catch (error) {
            onEnd(error instanceof Error ? error.message : String(error));
          }
        }
      },
      onError: (error) => onEnd(error.message),
    });
    return () => watch.cancel();
  }

  /** A deleted object the kvdb did not hand back: its kind and name, from the key. */
  private bare(type: ResourceType, key: string): KubeObject {
    const parts = key.split('/');
    const name = parts.at(-1) ?? '';
    const namespace = parts.at(-2);
    return {
      apiVersion: groupVersionOf(type),
      kind: type.kind,
      metadata: { name, ...(type.namespaced && namespace !== undefined ? { namespace } : {}) },
    };
  }

  private modified(ref: ObjectRef): KubeError {
    return conflict(
      ref.type.resource,
      ref.type.group,
      ref.name,
      'the object has been modified; please apply your changes to the latest version and try again',
    );
  }

  /** A random RFC 4122 version 4 UUID from the injected random source. */
  private uid(): string {
    const hex = Array.from({ length: 32 }, () => Math.floor(this.deps.random() * 16).toString(16));
    hex[12] = '4';
    hex[16] = ((Number.parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
    const text = hex.join('');
    return `${text.slice(0, 8)}-${text.slice(8, 12)}-${text.slice(12, 16)}-${text.slice(16, 20)}-${text.slice(20)}`;
  }
}

/** A kvdb failure as the apiserver reports a storage failure: 503, the cause in the message. */
function unavailable(error: unknown): unknown {
  if (error instanceof KubeError) return error;
  return new KubeError(
    'ServiceUnavailable',
    `storage is unavailable: ${error instanceof Error ? error.message : String(error)}`,
  );
}
