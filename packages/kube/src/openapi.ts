import { createHash } from 'node:crypto';
import { groupVersionOf, type ResourceType } from './resources.js';

/**
 * The OpenAPI v3 documents kubectl 1.32 reads before `create -f` and `apply -f`: the root (`/openapi/v3`, one entry
 * per group version) and each group version's document. kubectl looks for a PATCH operation of the object's kind
 * with a `fieldValidation` query parameter; finding it, it leaves validation to the server (`fieldValidation=Strict`)
 * instead of downloading the protobuf OpenAPI v2 document, which pxsim does not serve. The documents describe the
 * paths and the operations' kinds, not the objects' schemas.
 */
function pathKeyOf(group: string, version: string): string {
  return group === '' ? `api/${version}` : `apis/${group}/${version}`;
}

/** Every group version's document, by its path key (`api/v1`, `apis/apps/v1`). */
function groupVersions(resources: ResourceType[]): Map<string, ResourceType[]> {
  const byKey = new Map<string, ResourceType[]>();
  for (const type of resources) {
    const key = pathKeyOf(type.group, type.version);
    byKey.set(key, [...(byKey.get(key) ?? []), type]);
  }
  return byKey;
}

const QUERY = (name: string): Record<string, unknown> => ({
  name,
  in: 'query',
  schema: { type: 'string', uniqueItems: true },
});

function operation(type: ResourceType, action: string, parameters: string[]): Record<string, unknown> {
  return {
    operationId: `${action}${type.kind}`,
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': { group: type.group, version: type.version, kind: type.kind },
    parameters: parameters.map(QUERY),
    responses: { '200': { description: 'OK' } },
  };
}

/** One group version's document: collection and object paths, with their operations. */
export function openApiGroupVersion(resources: ResourceType[], key: string): Record<string, unknown> | undefined {
  const types = groupVersions(resources).get(key);
  if (types === undefined) return undefined;
  const paths: Record<string, unknown> = {};
  const writes = ['dryRun', 'fieldManager', 'fieldValidation'];
  for (const type of types) {
    const base = `/${key}${type.namespaced ? '/namespaces/{namespace}' : ''}/${type.resource}`;
    paths[base] = {
      get: operation(type, 'list', ['labelSelector', 'fieldSelector', 'watch', 'resourceVersion', 'timeoutSeconds']),
      post: operation(type, 'post', writes),
    };
    paths[`${base}/{name}`] = {
      get: operation(type, 'get', []),
      put: operation(type, 'put', writes),
      patch: operation(type, 'patch', [...writes, 'force']),
      delete: operation(type, 'delete', ['dryRun']),
    };
  }
  const first = types[0];
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes (pxsim)', version: first === undefined ? '' : groupVersionOf(first) },
    paths,
    components: { schemas: {} },
  };
}

/** The root: where each group version's document is, with a hash of it (clients cache by it). */
export function openApiRoot(resources: ResourceType[]): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const key of groupVersions(resources).keys()) {
    const hash = createHash('sha256')
      .update(JSON.stringify(openApiGroupVersion(resources, key)))
      .digest('hex');
    paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${hash.slice(0, 32).toUpperCase()}` };
  }
  return { paths };
}
