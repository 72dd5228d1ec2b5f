import { KubeError } from './errors.js';
import { valueAt, type KubeObject } from './objects.js';

/** A parsed selector: does an object match it. */
export type Selector = (object: KubeObject) => boolean;

const MATCH_ALL: Selector = () => true;

/** Splits on commas outside parentheses (`a in (x,y),b` → `a in (x,y)`, `b`). */
function requirements(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let index = 0; index < text.length; index++) {
    const char = text[index];
    if (char === '(') depth++;
    else if (char === ')') depth--;
    else if (char === ',' && depth === 0) {
      parts.push(text.slice(start, index).trim());
      start = index + 1;
    }
  }
  parts.push(text.slice(start).trim());
  return parts.filter((part) => part !== '');
}

const SET_FORM = /^([A-Za-z0-9._/-]+)\s+(in|notin)\s+\(([^()]*)\)$/;
const EQUALITY_FORM = /^([A-Za-z0-9._/-]+)\s*(==|=|!=)\s*([A-Za-z0-9._-]*)$/;
const EXISTS_FORM = /^(!?)([A-Za-z0-9._/-]+)$/;

function labelRequirement(text: string): Selector {
  const labels = (object: KubeObject): Record<string, string> => object.metadata.labels ?? {};
  const set = SET_FORM.exec(text);
  if (set !== null) {
    const [, key = '', operator, values = ''] = set;
    const allowed = new Set(values.split(',').map((value) => value.trim()));
    return operator === 'in'
      ? (object) => allowed.has(labels(object)[key] ?? '\0')
      : (object) => !allowed.has(labels(object)[key] ?? '\0');
  }
  const equality = EQUALITY_FORM.exec(text);
  if (equality !== null) {
    const [, key = '', operator, value] = equality;
    return operator === '!=' ? (object) => labels(object)[key] !== value : (object) => labels(object)[key] === value;
  }
  const exists = EXISTS_FORM.exec(text);
  if (exists !== null) {
    const [, not, key = ''] = exists;
    return not === '!' ? (object) => !(key in labels(object)) : (object) => key in labels(object);
  }
  throw new KubeError('BadRequest', `unable to parse requirement: ${JSON.stringify(text)}`);
}

/** `?labelSelector=`: `k=v`, `k==v`, `k!=v`, `k`, `!k`, `k in (a,b)`, `k notin (a,b)`, comma-joined (all must hold). */
export function labelSelector(text: string | undefined): Selector {
  if (text === undefined || text.trim() === '') return MATCH_ALL;
  const parts = requirements(text).map(labelRequirement);
  return (object) => parts.every((part) => part(object));
}

/** The fields each kind can be selected by besides `metadata.name` and `metadata.namespace` (the apiserver's sets). */
const KIND_FIELDS: Record<string, string[]> = {
  Pod: ['spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'status.phase', 'status.podIP', 'status.hostIP'],
  Event: [
    'involvedObject.kind',
    'involvedObject.name',
    'involvedObject.namespace',
    'involvedObject.uid',
    'involvedObject.apiVersion',
    'reason',
    'type',
    'source',
  ],
  Namespace: ['status.phase'],
  Node: ['spec.unschedulable'],
};

function fieldValue(object: KubeObject, field: string): string {
  const value = valueAt(object, field);
  if (typeof value === 'string') return value;
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : '';
}

/**
 * `?fieldSelector=`: `metadata.name`, `metadata.namespace` and the kind's own fields (`spec.nodeName` and
 * `status.phase` of pods, `involvedObject.*` of events: what `kubectl describe` and `delete --wait` use), with `=`,
 * `==` or `!=`; any other field is refused as the apiserver does.
 */
export function fieldSelector(text: string | undefined, kind: string): Selector {
  if (text === undefined || text.trim() === '') return MATCH_ALL;
  const allowed = ['metadata.name', 'metadata.namespace', ...(KIND_FIELDS[kind] ?? [])];
  const parts = text.split(',').map((part): Selector => {
    const match = /^([A-Za-z0-9.]+)\s*(==|=|!=)\s*(.*)$/.exec(part.trim());
    if (match === null) throw new KubeError('BadRequest', `invalid field selector: ${JSON.stringify(part)}`);
    const [, field = '', operator, value] = match;
    if (!allowed.includes(field)) throw new KubeError('BadRequest', `field label not supported: ${field}`);
    return operator === '!='
      ? (object) => fieldValue(object, field) !== value
      : (object) => fieldValue(object, field) === value;
  });
  return (object) => parts.every((part) => part(object));
}
