import { LineCounter, parseAllDocuments } from 'yaml';
import { CliError } from './client.js';
import { DOMAIN_NAME_RULE, nameProblem, OBJECT_NAME_RULE } from '@pxsim/node-agent';

export interface CduDocument {
  name: string;
  clusterDomain: string;
  active: boolean;
}

const SUPPORTED = 'ClusterDomainUpdate (apiVersion stork.libopenstorage.org/v1alpha1)';

function leadingSpaces(line: string): number {
  return line.length - line.trimStart().length;
}

/**
 * The likely cause of a YAML error, for the case the seed's documents show: the first line carries more indentation
 * than the lines after it (copied from an indented block).
 */
function likelyCause(text: string, line: number): string | undefined {
  const lines = text.split('\n');
  const contentLines = lines
    .map((value, index) => ({ value, index }))
    .filter(({ value }) => value.trim() !== '' && !value.trimStart().startsWith('#'));
  const first = contentLines[0];
  const second = contentLines[1];
  if (first !== undefined && second !== undefined && leadingSpaces(first.value) > leadingSpaces(second.value)) {
    const extra = leadingSpaces(first.value) - leadingSpaces(second.value);
    return `line ${first.index + 1} is indented ${extra} space(s) deeper than line ${second.index + 1}; top-level keys must start in the same column (remove the extra leading space(s))`;
  }
  const offending = lines[line - 1];
  if (offending !== undefined && offending.includes('\t'))
    return `line ${line} contains a tab; YAML indentation must use spaces`;
  return undefined;
}

/** Parses ClusterDomainUpdate documents; any problem is a CliError naming the file, line and column. */
export function parseCduDocuments(text: string, file: string): CduDocument[] {
  const lineCounter = new LineCounter();
  const documents = parseAllDocuments(text, { lineCounter, prettyErrors: false });
  if (!Array.isArray(documents)) throw new CliError(`${file}: no YAML documents found`);
  const results: CduDocument[] = [];
  for (const document of documents) {
    const error = document.errors[0];
    if (error !== undefined) {
      const { line, col } = lineCounter.linePos(error.pos[0]);
      const cause = likelyCause(text, line);
      throw new CliError(
        `${file}:${line}:${col}: invalid YAML: ${error.message.split('\n')[0] ?? error.code}${cause === undefined ? '' : `; likely cause: ${cause}`}`,
      );
    }
    const value: unknown = document.toJS();
    if (value === null || value === undefined) continue;
    const where = (node: unknown): string => {
      const range = (node as { range?: [number, number, number] } | undefined)?.range;
      if (range === undefined) return file;
      const { line, col } = lineCounter.linePos(range[0]);
      return `${file}:${line}:${col}`;
    };
    if (typeof value !== 'object' || Array.isArray(value))
      throw new CliError(
        `${where(document.contents)}: expected a mapping (a Kubernetes object), got ${Array.isArray(value) ? 'a list' : typeof value}`,
      );
    const object = value as Record<string, unknown>;
    if (object['kind'] !== 'ClusterDomainUpdate') {
      throw new CliError(
        `${where(document.contents)}: unsupported kind ${JSON.stringify(object['kind'] ?? null)}; supported: ${SUPPORTED}`,
      );
    }
    if (object['apiVersion'] !== 'stork.libopenstorage.org/v1alpha1') {
      throw new CliError(
        `${where(document.contents)}: unsupported apiVersion ${JSON.stringify(object['apiVersion'] ?? null)} for ClusterDomainUpdate; expected stork.libopenstorage.org/v1alpha1`,
      );
    }
    const metadata = object['metadata'] as Record<string, unknown> | undefined;
    const spec = object['spec'] as Record<string, unknown> | undefined;
    const name = metadata?.['name'];
    const nameIssue =
      typeof name === 'string'
        ? nameProblem(OBJECT_NAME_RULE, name)
        : `must be a string, got ${JSON.stringify(name ?? null)}`;
    if (typeof name !== 'string' || nameIssue !== undefined) {
      throw new CliError(
        `${where(document.getIn(['metadata', 'name'], true) ?? document.get('metadata', true) ?? document.contents)}: metadata.name ${nameIssue ?? ''}`,
      );
    }
    const clusterDomain = spec?.['clusterdomain'];
    const domainIssue =
      typeof clusterDomain === 'string'
        ? nameProblem(DOMAIN_NAME_RULE, clusterDomain)
        : `must name a cluster domain, got ${JSON.stringify(clusterDomain ?? null)}`;
    if (typeof clusterDomain !== 'string' || domainIssue !== undefined) {
      throw new CliError(
        `${where(document.getIn(['spec', 'clusterdomain'], true) ?? document.get('spec', true) ?? document.contents)}: spec.clusterdomain ${domainIssue ?? ''}`,
      );
    }
    const active = spec?.['active'];
    if (typeof active !== 'boolean') {
      throw new CliError(
        `${where(document.getIn(['spec', 'active'], true) ?? document.get('spec', true) ?? document.contents)}: spec.active must be true or false, got ${JSON.stringify(active ?? null)}`,
      );
    }
    results.push({ name, clusterDomain, active });
  }
  if (results.length === 0) throw new CliError(`${file}: no objects in the file`);
  return results;
}
