import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Clock } from '@pxsim/runtime';
import { apiGroupList, apiResourceList, apiVersions, SERVER_VERSION } from './discovery.js';
import { invalid, KubeError, notFound } from './errors.js';
import { openApiGroupVersion, openApiRoot } from './openapi.js';
import { applyPatch } from './patch.js';
import { kubeObjectSchema, nameProblem, type KubeObject } from './objects.js';
import { groupVersionOf, NAMESPACES, type ResourceType } from './resources.js';
import { RESOURCES } from './workloads.js';
import { fieldSelector, labelSelector } from './selectors.js';
import type { ObjectRef, ObjectStore } from './store.js';
import { tableOf, wantsTable, type IncludeObject } from './table.js';
import { serveWatch } from './watch.js';

export interface KubeApiOptions {
  store: ObjectStore;
  clock: Clock;
  /** `host:port` clients reach this server at (`/api`'s serverAddressByClientCIDRs). */
  serverAddress: string;
  resources?: ResourceType[];
}

/** Namespaces a cluster always has, which cannot be deleted. */
export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

type Query = Record<string, string | undefined>;

/** Where a request under `/api/v1/…` or `/apis/<g>/<v>/…` points: a collection (no name) or one object. */
interface Target {
  type: ResourceType;
  namespace: string | undefined;
  name: string | undefined;
  /** `…/<name>/scale`: the object seen as an autoscaling/v1 Scale. */
  subresource?: 'scale';
}

function parseTarget(resources: ResourceType[], group: string, version: string, rest: string): Target {
  const segments = rest.split('/').filter((segment) => segment !== '');
  const scoped = segments[0] === 'namespaces' && segments.length >= 3;
  const [namespace, resource, name, subresource] = scoped
    ? [segments[1], segments[2], segments[3], segments[4]]
    : [undefined, segments[0], segments[1], segments[2]];
  const type = resources.find(
    (candidate) => candidate.group === group && candidate.version === version && candidate.resource === resource,
  );
  const known = subresource === undefined || (subresource === 'scale' && type?.scale === true && name !== undefined);
  if (type === undefined || (namespace !== undefined && !type.namespaced) || !known) {
    throw new KubeError('NotFound', 'the server could not find the requested resource');
  }
  return { type, namespace, name, ...(subresource === undefined ? {} : { subresource: 'scale' as const }) };
}

function send(reply: FastifyReply, error: unknown): FastifyReply {
  const known =
    error instanceof KubeError
      ? error
      : new KubeError(
          'InternalError',
          `Internal error occurred: ${error instanceof Error ? error.message : String(error)}`,
        );
  return reply.code(known.code).type('application/json').send(known.toStatus());
}

/** The patch bodies kubectl sends, as JSON; protobuf bodies refused with what to use instead. */
function addBodyParsers(app: FastifyInstance): void {
  for (const type of [
    'application/merge-patch+json',
    'application/strategic-merge-patch+json',
    'application/json-patch+json',
  ]) {
    app.addContentTypeParser(type, { parseAs: 'string' }, (_request, body, done) => {
      try {
        done(null, JSON.parse(String(body)));
      } catch {
        done(new KubeError('BadRequest', `the patch body is not JSON (${type})`), undefined);
      }
    });
  }
  // kubectl's typed commands (`kubectl create namespace NAME`, `kubectl create deployment …`) send protobuf.
  app.addContentTypeParser('application/vnd.kubernetes.protobuf', (_request, _payload, done) => {
    done(
      new KubeError(
        'UnsupportedMediaType',
        "pxsim's API server reads JSON bodies only, not application/vnd.kubernetes.protobuf (what kubectl's typed " +
          'commands such as "kubectl create namespace NAME" send): write the object as YAML and use kubectl create -f ' +
          'or kubectl apply -f',
      ),
      undefined,
    );
  });
}

/**
 * A Kubernetes-compatible API server for one cluster (one cluster domain): discovery, `/version`, and list, get,
 * watch, create, update and delete of the served resources, with server-side tables for `kubectl get` and
 * `metav1.Status` errors. Objects live in the kvdb through `store`.
 */
export function buildKubeApi(options: KubeApiOptions): FastifyInstance {
  const resources = options.resources ?? RESOURCES;
  const app = Fastify({ logger: false, bodyLimit: 3 * 1024 * 1024 });
  addBodyParsers(app);
  app.setErrorHandler((error, _request, reply) => {
    if (error instanceof KubeError) return send(reply, error);
    const status = (error as { statusCode?: number }).statusCode;
    const message = error instanceof Error ? error.message : String(error);
    if (status === 415) return send(reply, new KubeError('UnsupportedMediaType', message));
    if (status !== undefined && status < 500) return send(reply, new KubeError('BadRequest', message));
    return send(reply, error);
  });
  app.setNotFoundHandler((_request, reply) =>
    send(reply, new KubeError('NotFound', 'the server could not find the requested resource')),
  );
  app.get('/version', () => SERVER_VERSION);
  app.get('/healthz', () => 'ok');
  app.get('/readyz', () => 'ok');
  app.get('/livez', () => 'ok');
  app.get('/openapi/v3', () => openApiRoot(resources));
  app.get<{ Params: { '*': string } }>('/openapi/v3/*', (request, reply) => {
    const document = openApiGroupVersion(resources, request.params['*']);
    if (document === undefined)
      return send(reply, new KubeError('NotFound', 'the server could not find the requested resource'));
    return document;
  });
  app.get('/api', () => apiVersions(options.serverAddress));
  app.get('/apis', () => apiGroupList(resources));
  app.get('/api/v1', (_request, reply) => resourceList(reply, resources, '', 'v1'));
  app.get<{ Params: { group: string; version: string } }>('/apis/:group/:version', (request, reply) =>
    resourceList(reply, resources, request.params.group, request.params.version),
  );
  const objects = new ObjectRoutes(options, resources);
  app.all<{ Params: { '*': string } }>('/api/v1/*', async (request, reply) =>
    objects.handle(request, reply, parseTarget(resources, '', 'v1', request.params['*'])),
  );
  app.all<{ Params: { group: string; version: string; '*': string } }>(
    '/apis/:group/:version/*',
    async (request, reply) =>
      objects.handle(
        request,
        reply,
        parseTarget(resources, request.params.group, request.params.version, request.params['*']),
      ),
  );
  return app;
}

function resourceList(reply: FastifyReply, resources: ResourceType[], group: string, version: string): unknown {
  const list = apiResourceList(resources, group, version);
  if (list === undefined)
    return send(reply, new KubeError('NotFound', 'the server could not find the requested resource'));
  return list;
}

/** The object routes: one method per verb, all through the store. */
class ObjectRoutes {
  constructor(
    private readonly options: KubeApiOptions,
    private readonly resources: ResourceType[],
  ) {}

  async handle(request: FastifyRequest, reply: FastifyReply, target: Target): Promise<unknown> {
    const query = request.query as Query;
    const { name } = target;
    if (target.subresource === 'scale' && name !== undefined) return this.scale(request, { ...target, name });
    if (request.method === 'GET' && name === undefined) {
      if (query['watch'] === 'true' || query['watch'] === '1') return serveWatch(this.options, request, reply, target);
      return this.list(request, target);
    }
    if (request.method === 'GET' && name !== undefined) return this.get(request, { ...target, name });
    if (request.method === 'POST' && name === undefined)
      return reply.code(201).send(await this.create(request, target));
    if (request.method === 'PUT' && name !== undefined) return this.update(request, { ...target, name });
    if (request.method === 'PATCH' && name !== undefined) return this.patch(request, { ...target, name });
    if (request.method === 'DELETE' && name !== undefined) return this.delete({ ...target, name });
    throw new KubeError('MethodNotAllowed', `the server does not allow this method on the requested resource`);
  }

  private async list(request: FastifyRequest, target: Target): Promise<unknown> {
    const query = request.query as Query;
    const matches = labelSelector(query['labelSelector']);
    const fields = fieldSelector(query['fieldSelector'], target.type.kind);
    const { items, revision } = await this.options.store.list(target.type, target.namespace);
    const selected = items.filter((item) => matches(item) && fields(item));
    if (wantsTable(request.headers.accept)) {
      return tableOf(target.type, selected, String(revision), this.options.clock.nowMs(), includeOf(query));
    }
    return {
      kind: `${target.type.kind}List`,
      apiVersion: groupVersionOf(target.type),
      metadata: { resourceVersion: String(revision) },
      items: selected,
    };
  }

  private async get(request: FastifyRequest, ref: ObjectRef): Promise<unknown> {
    const object = await this.options.store.get(ref);
    if (!wantsTable(request.headers.accept)) return object;
    const version = object.metadata.resourceVersion ?? '';
    return tableOf(ref.type, [object], version, this.options.clock.nowMs(), includeOf(request.query as Query));
  }

  /** A body (or a patched object) as an object of the target's kind, its name and namespace checked against the path. */
  private bodyOf(body: unknown, target: Target, name: string | undefined): KubeObject {
    const parsed = kubeObjectSchema.safeParse(body);
    const { type } = target;
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue?.path.join('.') ?? '';
      throw new KubeError(
        'BadRequest',
        `the body is not a ${type.kind}: ${field === '' ? '' : `${field}: `}${issue?.message ?? ''}`,
      );
    }
    const object = parsed.data;
    if (object.kind !== type.kind || object.apiVersion !== groupVersionOf(type)) {
      throw new KubeError(
        'BadRequest',
        `the API version in the data (${object.apiVersion}) and kind (${object.kind}) do not match ${groupVersionOf(type)}, ${type.kind}`,
      );
    }
    const given = object.metadata.namespace;
    // A cluster-scoped object has no namespace: one in the body is dropped, as the apiserver does.
    if (!type.namespaced && given !== undefined) {
      const metadata = { ...object.metadata };
      delete metadata.namespace;
      return this.bodyOf({ ...object, metadata }, target, name);
    }
    if (type.namespaced && given !== undefined && given !== target.namespace) {
      throw new KubeError(
        'BadRequest',
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    }
    if (name !== undefined && object.metadata.name !== name) {
      throw new KubeError('BadRequest', 'the name of the object does not match the name on the URL');
    }
    const problem = nameProblem(object.metadata.name, type.nameRule);
    if (object.metadata.name === '' || problem !== undefined) {
      const message =
        object.metadata.name === '' ? 'Required value: name or generateName is required' : (problem ?? '');
      const reason = object.metadata.name === '' ? 'FieldValueRequired' : 'FieldValueInvalid';
      throw invalid(type.kind, type.group, object.metadata.name, [{ reason, message, field: 'metadata.name' }]);
    }
    return object;
  }

  private async create(request: FastifyRequest, target: Target): Promise<unknown> {
    const body = this.bodyOf(request.body, target, undefined);
    const object = target.type.prepare?.(body) ?? body;
    const ref = { type: target.type, namespace: target.namespace, name: object.metadata.name };
    if (target.type.namespaced) await this.namespaceMustExist(target.namespace ?? 'default');
    if ((request.query as Query)['dryRun'] === 'All') return { ...object, metadata: { ...object.metadata } };
    return this.options.store.create(ref, object);
  }

  private async update(request: FastifyRequest, ref: ObjectRef): Promise<unknown> {
    const object = this.bodyOf(request.body, ref, ref.name);
    const version = object.metadata.resourceVersion ?? (await this.options.store.get(ref)).metadata.resourceVersion;
    return this.options.store.update(ref, object, version ?? '');
  }

  /**
   * PATCH: the patch applied to the stored object and the result stored if the object did not change meanwhile
   * (retried a few times if it did, as the apiserver's guaranteed update).
   */
  private async patch(request: FastifyRequest, ref: ObjectRef): Promise<unknown> {
    for (let attempt = 1; ; attempt++) {
      const current = await this.options.store.get(ref);
      const patched = this.bodyOf(applyPatch(request.headers['content-type'], current, request.body), ref, ref.name);
      const version = patched.metadata.resourceVersion ?? current.metadata.resourceVersion ?? '';
      if ((request.query as Query)['dryRun'] === 'All') return patched;
      try {
        return await this.options.store.update(ref, patched, version);
      } catch (error) {
        const retry =
          error instanceof KubeError && error.reason === 'Conflict' && version === current.metadata.resourceVersion;
        if (!retry || attempt >= 3) throw error;
      }
    }
  }

  /** `…/scale`: GET answers the Scale; PATCH and PUT change `spec.replicas` of the object (kubectl scale). */
  private async scale(request: FastifyRequest, ref: ObjectRef): Promise<unknown> {
    const current = await this.options.store.get(ref);
    const scale = scaleOf(current);
    if (request.method === 'GET') return scale;
    if (request.method !== 'PATCH' && request.method !== 'PUT') {
      throw new KubeError('MethodNotAllowed', 'the server does not allow this method on the requested resource');
    }
    const wanted =
      request.method === 'PUT' ? request.body : applyPatch(request.headers['content-type'], scale, request.body);
    const replicas = (wanted as { spec?: { replicas?: unknown } } | undefined)?.spec?.replicas;
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
      throw invalid('Scale', 'autoscaling', ref.name, [
        {
          reason: 'FieldValueInvalid',
          message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`,
          field: 'spec.replicas',
        },
      ]);
    }
    const spec = { ...(current['spec'] as Record<string, unknown> | undefined), replicas };
    const updated = await this.options.store.update(ref, { ...current, spec }, current.metadata.resourceVersion ?? '');
    return scaleOf(updated);
  }

  private async delete(ref: ObjectRef): Promise<unknown> {
    if (ref.type === NAMESPACES && SYSTEM_NAMESPACES.includes(ref.name)) {
      throw new KubeError('Forbidden', `namespaces "${ref.name}" is forbidden: this namespace may not be deleted`, {
        name: ref.name,
        kind: 'namespaces',
      });
    }
    if (ref.type === NAMESPACES) await this.deleteContents(ref.name);
    return this.options.store.delete(ref);
  }

  /** A namespace's objects go with it (at once: pxsim has no finalizers). */
  private async deleteContents(namespace: string): Promise<void> {
    for (const type of this.resources.filter((candidate) => candidate.namespaced)) {
      const { items } = await this.options.store.list(type, namespace);
      for (const item of items) await this.options.store.delete({ type, namespace, name: item.metadata.name });
    }
  }

  private async namespaceMustExist(namespace: string): Promise<void> {
    try {
      await this.options.store.get({ type: NAMESPACES, namespace: undefined, name: namespace });
    } catch (error) {
      if (error instanceof KubeError && error.reason === 'NotFound') throw notFound('namespaces', '', namespace);
      throw error;
    }
  }
}

/** An object with `spec.replicas` as the autoscaling/v1 Scale kubectl reads and patches. */
function scaleOf(object: KubeObject): Record<string, unknown> {
  const spec = object['spec'] as { replicas?: number; selector?: { matchLabels?: Record<string, string> } } | undefined;
  const status = object['status'] as { replicas?: number } | undefined;
  const selector = Object.entries(spec?.selector?.matchLabels ?? {})
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
  const { name, namespace, uid, resourceVersion, creationTimestamp } = object.metadata;
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name, namespace, uid, resourceVersion, creationTimestamp },
    spec: { replicas: spec?.replicas ?? 1 },
    status: { replicas: status?.replicas ?? 0, selector },
  };
}

function includeOf(query: Query): IncludeObject {
  const value = query['includeObject'];
  return value === 'None' || value === 'Object' ? value : 'Metadata';
}

/** Creates the namespaces every cluster has, if missing (at a new cluster's first start). */
export async function ensureSystemNamespaces(store: ObjectStore): Promise<void> {
  for (const name of SYSTEM_NAMESPACES) {
    const ref = { type: NAMESPACES, namespace: undefined, name };
    try {
      await store.create(ref, {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name, labels: { 'kubernetes.io/metadata.name': name } },
        spec: { finalizers: ['kubernetes'] },
        status: { phase: 'Active' },
      });
    } catch (error) {
      if (!(error instanceof KubeError && error.reason === 'AlreadyExists')) throw error;
    }
  }
}
