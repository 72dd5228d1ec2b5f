import { KubeError, type StatusReason } from './errors.js';
import { kubeObjectSchema, type KubeObject } from './objects.js';
import type { ResourceType } from './resources.js';
import type { ObjectRef } from './store.js';

/**
 * What a controller or a command needs of a Kubernetes API: the object verbs. The cluster's own `ObjectStore` has
 * this shape; `HttpKubeApi` is the same over HTTP, for another cluster (a ClusterPair's remote) or a command.
 */
export interface KubeApi {
  get(ref: ObjectRef): Promise<KubeObject>;
  list(type: ResourceType, namespace: string | undefined): Promise<{ items: KubeObject[] }>;
  create(ref: ObjectRef, object: KubeObject): Promise<KubeObject>;
  update(ref: ObjectRef, object: KubeObject, resourceVersion: string): Promise<KubeObject>;
  delete(ref: ObjectRef): Promise<unknown>;
}

const REASONS: StatusReason[] = [
  'NotFound',
  'AlreadyExists',
  'Conflict',
  'Invalid',
  'BadRequest',
  'Forbidden',
  'MethodNotAllowed',
  'NotAcceptable',
  'UnsupportedMediaType',
  'InternalError',
  'ServiceUnavailable',
];

/** The path of a collection (no name) or an object; a namespaced kind without a namespace: across all of them. */
export function pathOf(type: ResourceType, namespace: string | undefined, name?: string): string {
  const base = type.group === '' ? `/api/${type.version}` : `/apis/${type.group}/${type.version}`;
  const scope = type.namespaced && namespace !== undefined ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${base}${scope}/${type.resource}${name === undefined ? '' : `/${encodeURIComponent(name)}`}`;
}

/** A Kubernetes API over HTTP (JSON), its `Status` errors turned back into `KubeError`s. */
export class HttpKubeApi implements KubeApi {
  constructor(
    readonly server: string,
    private readonly timeoutMs = 10_000,
  ) {
    if (!/^http:\/\//.test(server)) {
      throw new KubeError('BadRequest', `server ${server}: only plain http API servers are supported (pxsim's are)`);
    }
  }

  /** `GET /version`: whether the server answers at all. */
  async version(): Promise<Record<string, unknown>> {
    return (await this.request('GET', '/version')) as Record<string, unknown>;
  }

  async get(ref: ObjectRef): Promise<KubeObject> {
    return kubeObjectSchema.parse(await this.request('GET', pathOf(ref.type, ref.namespace, ref.name)));
  }

  async list(type: ResourceType, namespace: string | undefined): Promise<{ items: KubeObject[] }> {
    const answer = (await this.request('GET', pathOf(type, namespace))) as { items?: unknown[] };
    return { items: (answer.items ?? []).map((item) => kubeObjectSchema.parse(item)) };
  }

  async create(ref: ObjectRef, object: KubeObject): Promise<KubeObject> {
    return kubeObjectSchema.parse(await this.request('POST', pathOf(ref.type, ref.namespace), object));
  }

  async update(ref: ObjectRef, object: KubeObject, resourceVersion: string): Promise<KubeObject> {
    const body = { ...object, metadata: { ...object.metadata, resourceVersion } };
    return kubeObjectSchema.parse(await this.request('PUT', pathOf(ref.type, ref.namespace, ref.name), body));
  }

  async delete(ref: ObjectRef): Promise<unknown> {
    return this.request('DELETE', pathOf(ref.type, ref.namespace, ref.name));
  }

  private async request(method: string, path: string, body?: unknown): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(`${this.server}${path}`, {
        method,
        headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      const inner = (error as { cause?: { code?: string; message?: string } }).cause;
      const cause = inner?.message ?? inner?.code ?? (error as Error).message;
      throw new KubeError('ServiceUnavailable', `cannot reach the API server at ${this.server}: ${cause}`);
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? {} : JSON.parse(text);
    } catch {
      throw new KubeError(
        'InternalError',
        `${method} ${this.server}${path}: the answer is not JSON (${response.status})`,
      );
    }
    if (response.ok) return parsed;
    const status = parsed as { kind?: string; reason?: string; message?: string };
    const reason = REASONS.find((known) => known === status.reason) ?? 'InternalError';
    throw new KubeError(reason, status.message ?? `${method} ${path}: HTTP ${response.status}`);
  }
}
