import { z } from 'zod';

/** `metadata` as pxsim's API server reads it: what it sets and checks, anything else kept as given. */
export const objectMetaSchema = z.looseObject({
  name: z.string(),
  namespace: z.string().optional(),
  uid: z.string().optional(),
  resourceVersion: z.string().optional(),
  generation: z.number().int().optional(),
  creationTimestamp: z.string().nullish(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});

/** Any Kubernetes object: apiVersion, kind, metadata; spec, status and the rest as given. */
export const kubeObjectSchema = z.looseObject({
  apiVersion: z.string(),
  kind: z.string(),
  metadata: objectMetaSchema,
});

export type ObjectMeta = z.infer<typeof objectMetaSchema>;
export type KubeObject = z.infer<typeof kubeObjectSchema>;

/** A value at a dotted path of an object (`status.nodeInfo.kubeletVersion`), undefined when any step is missing. */
export function valueAt(object: unknown, path: string): unknown {
  let current: unknown = object;
  for (const step of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[step];
  }
  return current;
}

/** A string at a path, or `fallback` when it is missing or not a string. */
export function stringAt(object: unknown, path: string, fallback = '<none>'): string {
  const value = valueAt(object, path);
  return typeof value === 'string' && value !== '' ? value : fallback;
}

/** RFC 1123 label (namespaces, most names' segments): lowercase alphanumerics and '-', 63 at most. */
export const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** RFC 1123 subdomain (most object names): labels joined by '.', 253 at most. */
export const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Why `name` is not a valid name of this kind (the apiserver's words), or undefined. */
export function nameProblem(name: string, rule: 'label' | 'subdomain'): string | undefined {
  if (rule === 'label') {
    if (name.length <= 63 && DNS1123_LABEL.test(name)) return undefined;
    return (
      `Invalid value: ${JSON.stringify(name)}: a lowercase RFC 1123 label must consist of lower case alphanumeric ` +
      "characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', " +
      "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
    );
  }
  if (name.length <= 253 && DNS1123_SUBDOMAIN.test(name)) return undefined;
  return (
    `Invalid value: ${JSON.stringify(name)}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric ` +
    "characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used " +
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
  );
}
