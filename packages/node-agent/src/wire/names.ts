import { z } from 'zod';

/**
 * The one rule per kind of name. Flags (`px-node`, `pxsim up`, `storkctl`), the REST API's schemas, the YAML reader
 * and the kvdb layout all check names here, so that nothing invalid reaches a kvdb key, and every refusal names the
 * rule it broke.
 *
 * - cluster ID and cluster domain: a DNS-1123-label-like name, as Portworx accepts for cluster names and zones:
 *   1–63 letters, digits, '-' or '_', starting and ending with a letter or digit (no '.', no '/': they are kvdb key
 *   segments).
 * - object name (a ClusterDomainUpdate's metadata.name): a Kubernetes object name (DNS-1123 subdomain): at most
 *   253 lower-case letters, digits, '-' and '.', made of dot-separated labels that start and end with a letter or
 *   digit (so no '..').
 */
export interface NameRule {
  /** What the name is, e.g. "cluster ID". */
  readonly kind: string;
  readonly pattern: RegExp;
  readonly maxLength: number;
  /** The rule in words, as every refusal quotes it. */
  readonly rule: string;
}

const LABEL_LIKE = /^[A-Za-z0-9]([A-Za-z0-9_-]*[A-Za-z0-9])?$/;
const LABEL_LIKE_RULE =
  "1–63 letters, digits, '-' or '_', starting and ending with a letter or digit (a DNS-1123-label-like name)";

export const CLUSTER_ID_RULE: NameRule = {
  kind: 'cluster ID',
  pattern: LABEL_LIKE,
  maxLength: 63,
  rule: LABEL_LIKE_RULE,
};

export const DOMAIN_NAME_RULE: NameRule = {
  kind: 'cluster domain',
  pattern: LABEL_LIKE,
  maxLength: 63,
  rule: LABEL_LIKE_RULE,
};

export const OBJECT_NAME_RULE: NameRule = {
  kind: 'object name',
  pattern: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/,
  maxLength: 253,
  rule: "at most 253 lower-case letters, digits, '-' and '.', in dot-separated parts that start and end with a letter or digit (a Kubernetes object name, DNS-1123 subdomain)",
};

const withArticle = (kind: string): string => `${/^[aeiou]/i.test(kind) ? 'an' : 'a'} ${kind}`;

/** Why `value` breaks the rule (naming the rule), or undefined when it is a valid name of that kind. */
export function nameProblem(rule: NameRule, value: string): string | undefined {
  if (value.length > 0 && value.length <= rule.maxLength && rule.pattern.test(value)) return undefined;
  const shown =
    value.length > 80 ? `${JSON.stringify(value.slice(0, 80))}… (${value.length} characters)` : JSON.stringify(value);
  return `${shown} is not allowed as ${withArticle(rule.kind)}: use ${rule.rule}`;
}

export function isValidName(rule: NameRule, value: string): boolean {
  return nameProblem(rule, value) === undefined;
}

/** The rule as a JSON schema for fastify route schemas (ajv). */
export function nameJsonSchema(rule: NameRule) {
  return { type: 'string', minLength: 1, maxLength: rule.maxLength, pattern: rule.pattern.source } as const;
}

/** The rule as a zod schema (kvdb layout, YAML); the message names the rule. */
export function nameSchema(rule: NameRule): z.ZodString {
  return z
    .string()
    .min(1, `${withArticle(rule.kind)} cannot be empty: use ${rule.rule}`)
    .max(rule.maxLength, `${withArticle(rule.kind)} has at most ${rule.maxLength} characters: use ${rule.rule}`)
    .regex(rule.pattern, `not a valid ${rule.kind}: use ${rule.rule}`);
}

/** The rules route schemas use (a cluster ID never appears in a route: the domain rule owns the shared pattern). */
const ROUTE_RULES = [DOMAIN_NAME_RULE, OBJECT_NAME_RULE];

/** One schema validation failure as ajv reports it (the fields used here). */
export interface SchemaFailure {
  instancePath: string;
  keyword: string;
  message?: string | undefined;
  params: Record<string, unknown>;
}

/**
 * The message of a route schema's refusal: ajv's own, except that a name breaking its rule's pattern or length says
 * the rule in words (ajv would quote the regular expression). `where` is fastify's part (`body`, `params`, …).
 */
export function schemaFailureMessage(failures: readonly SchemaFailure[], where: string): string {
  const failure = failures[0];
  if (failure === undefined) return `${where} is invalid`;
  const field = `${where}${failure.instancePath}`;
  const pattern = failure.params['pattern'];
  const rule =
    failure.keyword === 'pattern' ? ROUTE_RULES.find((candidate) => candidate.pattern.source === pattern) : undefined;
  if (rule !== undefined) return `${field} is not allowed as ${withArticle(rule.kind)}: use ${rule.rule}`;
  return `${field} ${failure.message ?? 'is invalid'}`;
}
