import { KubeError } from './errors.js';
import type { KubeObject } from './objects.js';

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

const FIELDS: Record<string, (object: KubeObject) => string> = {
  'metadata.name': (object) => object.metadata.name,
  'metadata.namespace': (object) => object.metadata.namespace ?? '',
};

/** `?fieldSelector=`: `metadata.name` and `metadata.namespace` with `=`, `==` or `!=` (what kubectl's wait uses). */
export function fieldSelector(text: string | undefined): Selector {
  if (text === undefined || text.trim() === '') return MATCH_ALL;
  const parts = text.split(',').map((part): Selector => {
    const match = /^([A-Za-z0-9.]+)\s*(==|=|!=)\s*(.*)$/.exec(part.trim());
    if (match === null) throw new KubeError('BadRequest', `invalid field selector: ${JSON.stringify(part)}`);
    const [, field = '', operator, value] = match;
    const read = FIELDS[field];
    if (read === undefined) throw new KubeError('BadRequest', `field label not supported: ${field}`);
    return operator === '!=' ? (object) => read(object) !== value : (object) => read(object) === value;
  });
  return (object) => parts.every((part) => part(object));
}
