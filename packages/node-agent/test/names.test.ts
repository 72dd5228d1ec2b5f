import { describe, expect, it } from 'vitest';
import {
  CLUSTER_ID_RULE,
  DOMAIN_NAME_RULE,
  OBJECT_NAME_RULE,
  clusterDomainUpdateSpecSchema,
  isValidName,
  namespaceFor,
  nameProblem,
  parseAgentArgs,
} from '@pxsim/node-agent';

describe('the name rules (wire/names.ts)', () => {
  it('a cluster ID or domain is DNS-1123-label-like: no dots, no slashes, 1–63 characters', () => {
    for (const good of ['px-metro', 'us-east-1a', 'US_East_1', 'a', 'x'.repeat(63)]) {
      expect(isValidName(CLUSTER_ID_RULE, good), good).toBe(true);
      expect(isValidName(DOMAIN_NAME_RULE, good), good).toBe(true);
    }
    for (const bad of ['px..rel', 'px.rel', '..', '...', '_', '-a', 'a-', 'px/dr', 'us east', '', 'x'.repeat(64)]) {
      expect(isValidName(CLUSTER_ID_RULE, bad), bad).toBe(false);
      expect(isValidName(DOMAIN_NAME_RULE, bad), bad).toBe(false);
    }
  });

  it('an object name is a Kubernetes object name: lower case, dot-separated labels, at most 253', () => {
    for (const good of ['activate-a', 'a.b-c.d', '0', 'x'.repeat(253)])
      expect(isValidName(OBJECT_NAME_RULE, good), good).toBe(true);
    for (const bad of ['a..b', '.a', 'a.', 'A', 'a_b', '', 'x'.repeat(254), 'a.-b'])
      expect(isValidName(OBJECT_NAME_RULE, bad), bad).toBe(false);
  });

  it('every refusal names the kind of name and the rule', () => {
    expect(nameProblem(DOMAIN_NAME_RULE, '..')).toBe(
      `".." is not allowed as a cluster domain: use ${DOMAIN_NAME_RULE.rule}`,
    );
    expect(nameProblem(CLUSTER_ID_RULE, 'x'.repeat(300))).toContain('(300 characters) is not allowed as a cluster ID');
  });

  it('px-node flags, the kvdb namespace and the ClusterDomainUpdate schema use the rules', () => {
    const base = ['-k', 'etcd:http://h:1', '--data-dir', '/d'];
    expect(() => parseAgentArgs(['-c', 'px..rel', '--cluster-domain', 'a', ...base], {}, () => '')).toThrow(
      '-c/--cluster-id "px..rel" is not allowed as a cluster ID: use 1–63 letters',
    );
    expect(() => parseAgentArgs(['-c', 'px', '--cluster-domain', '..', ...base], {}, () => '')).toThrow(
      '--cluster-domain ".." is not allowed as a cluster domain',
    );
    expect(() => namespaceFor('px..rel')).toThrow('is not allowed as a cluster ID');
    expect(namespaceFor('px-metro')).toBe('pxsim/px-metro/');
    const parsed = clusterDomainUpdateSpecSchema.safeParse({ name: 'a..b', clusterDomain: '_', active: true });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((issue) => issue.message).join(' | ')).toContain('not a valid object name');
  });
});
