import { KubeError } from './errors.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(value: unknown): value is Record<string, Json> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** RFC 7386 JSON merge patch (`application/merge-patch+json`): objects merged, null deletes, anything else replaces. */
export function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return patch;
  const result: Record<string, Json> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key] ?? null, value);
  }
  return result;
}

/**
 * The keys lists of built-in objects are merged by in a strategic merge patch (the `patchMergeKey` tags of the
 * Kubernetes API types that kubectl's patches touch); any other list is replaced whole.
 */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  ports: 'containerPort',
  conditions: 'type',
  addresses: 'type',
  imagePullSecrets: 'name',
  tolerations: 'key',
};

function mergeList(field: string, target: Json[], patch: Json[], order: Json[] | undefined): Json[] {
  const key = MERGE_KEYS[field];
  if (key === undefined || !patch.every(isObject))
    return patch.filter((item) => !isObject(item) || item['$patch'] !== 'delete');
  const result = target.filter(isObject).map((item) => ({ ...item }));
  for (const item of patch.filter(isObject)) {
    const index = result.findIndex((existing) => existing[key] === item[key]);
    if (item['$patch'] === 'delete') {
      if (index >= 0) result.splice(index, 1);
    } else if (index >= 0) result[index] = strategicMergePatch(result[index] ?? null, item) as Record<string, Json>;
    else result.push(strategicMergePatch(null, item) as Record<string, Json>);
  }
  if (order === undefined) return result;
  const rank = (item: Record<string, Json>): number => {
    const at = order.findIndex((entry) => isObject(entry) && entry[key] === item[key]);
    return at < 0 ? order.length : at;
  };
  return result.sort((a, b) => rank(a) - rank(b));
}

/**
 * A strategic merge patch (`application/strategic-merge-patch+json`, what `kubectl apply` sends for built-in
 * kinds): a merge patch whose lists of objects with a merge key are merged by it, with the directives kubectl
 * writes: `$patch: delete|replace`, `$setElementOrder/<list>`, `$deleteFromPrimitiveList/<list>`, `$retainKeys`.
 */
export function strategicMergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return patch;
  if (patch['$patch'] === 'replace') {
    return Object.fromEntries(Object.entries(patch).filter(([key]) => key !== '$patch'));
  }
  if (patch['$patch'] === 'delete') return null;
  let result: Record<string, Json> = isObject(target) ? { ...target } : {};
  const retain = patch['$retainKeys'];
  if (Array.isArray(retain)) {
    result = Object.fromEntries(Object.entries(result).filter(([key]) => retain.includes(key)));
  }
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$')) {
      const removal = /^\$deleteFromPrimitiveList\/(.+)$/.exec(key);
      const field = removal?.[1];
      const current = field === undefined ? undefined : result[field];
      if (field !== undefined && Array.isArray(current) && Array.isArray(value)) {
        result[field] = current.filter((item) => !value.includes(item));
      }
      continue;
    }
    if (value === null) delete result[key];
    else if (Array.isArray(value)) {
      const current = result[key];
      const order = patch[`$setElementOrder/${key}`];
      result[key] = mergeList(
        key,
        Array.isArray(current) ? current : [],
        value,
        Array.isArray(order) ? order : undefined,
      );
    } else result[key] = strategicMergePatch(result[key] ?? null, value);
  }
  return result;
}

/** Applies a PATCH body by its content type; JSON patch (RFC 6902) is refused with a clear reason. */
export function applyPatch(contentType: string | undefined, target: unknown, patch: unknown): unknown {
  const type = (contentType ?? '').split(';')[0]?.trim();
  if (type === 'application/merge-patch+json') return mergePatch(target as Json, patch as Json);
  if (type === 'application/strategic-merge-patch+json') return strategicMergePatch(target as Json, patch as Json);
  throw new KubeError(
    'UnsupportedMediaType',
    `the patch type ${JSON.stringify(type)} is not supported here: use application/merge-patch+json or application/strategic-merge-patch+json`,
  );
}
