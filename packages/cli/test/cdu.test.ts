import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OBJECT_NAME_RULE } from '@pxsim/node-agent';
import { describe, expect, it } from 'vitest';
import { CliError, parseCduDocuments } from '@pxsim/cli';

const EXAMPLES = join(import.meta.dirname, '..', 'examples');
const read = (name: string): string => readFileSync(join(EXAMPLES, name), 'utf8');

function failure(text: string, file = 'f.yaml'): CliError {
  try {
    parseCduDocuments(text, file);
  } catch (error) {
    if (error instanceof CliError) return error;
    throw error;
  }
  throw new Error('expected a CliError');
}

describe('ClusterDomainUpdate documents', () => {
  it('reads the seed documents with their indentation repaired', () => {
    expect(parseCduDocuments(read('deactivate-us-east-1a.yaml'), 'd.yaml')).toEqual([
      { name: 'deactivate-us-east-1a', clusterDomain: 'us-east-1a', active: false },
    ]);
    expect(parseCduDocuments(read('activate-us-east-1a.yaml'), 'a.yaml')).toEqual([
      { name: 'activate-us-east-1a', clusterDomain: 'us-east-1a', active: true },
    ]);
    expect(
      parseCduDocuments(`${read('deactivate-us-east-1a.yaml')}---\n${read('activate-us-east-1a.yaml')}`, 'both.yaml'),
    ).toHaveLength(2);
  });

  it("rejects the seed's text as printed, naming the line, the column and the likely cause", () => {
    // The walkthrough's text as printed (origin in the fixture's first line).
    const seed = readFileSync(join(import.meta.dirname, 'fixtures', 'portworx-metro-walkthrough.txt'), 'utf8');
    const lines = seed.split('\n');
    const first = lines.findIndex((line) => line === ' apiVersion: stork.libopenstorage.org/v1alpha1');
    const text = lines.slice(first, first + 11).join('\n');
    expect(text).toBe(read('seed-as-printed-invalid.yaml').trimEnd());
    expect(failure(text, 'clusterdomainupdate.yaml').message).toBe(
      'clusterdomainupdate.yaml:2:1: invalid YAML: Unexpected scalar at node end; likely cause: line 1 is indented 1 space(s) deeper than line 2; top-level keys must start in the same column (remove the extra leading space(s))',
    );
  });

  it('rejects other malformed YAML and wrong documents with a message naming the place', () => {
    expect(failure('a: [1, 2\nb: 3\n').message).toMatch(/^f\.yaml:\d+:\d+: invalid YAML: /);
    expect(failure('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n').message).toBe(
      'f.yaml:1:1: unsupported kind "ConfigMap"; supported: ClusterDomainUpdate (apiVersion stork.libopenstorage.org/v1alpha1)',
    );
    const bad = read('deactivate-us-east-1a.yaml').replace('active: false', 'active: "no"');
    expect(failure(bad).message).toBe('f.yaml:11:11: spec.active must be true or false, got "no"');
    expect(
      failure(read('deactivate-us-east-1a.yaml').replace('name: deactivate-us-east-1a', 'name: Deactivate_A')).message,
    ).toBe(`f.yaml:4:9: metadata.name "Deactivate_A" is not allowed as an object name: use ${OBJECT_NAME_RULE.rule}`);
    for (const domain of ['..', '_', 'us east'])
      expect(
        failure(read('deactivate-us-east-1a.yaml').replace('clusterdomain: us-east-1a', `clusterdomain: "${domain}"`))
          .message,
      ).toMatch(new RegExp(`spec\\.clusterdomain ".*" is not allowed as a cluster domain: use 1–63 letters`));
    expect(failure('- 1\n- 2\n').message).toBe('f.yaml:1:1: expected a mapping (a Kubernetes object), got a list');
    expect(failure('# nothing\n').message).toBe('f.yaml: no objects in the file');
    expect(failure('\tapiVersion: x\n').message).toMatch(/tab/);
  });
});
