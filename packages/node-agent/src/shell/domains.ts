import { isKvdbError, KvdbError, type Kvdb } from '@pxsim/kvdb-client';
import type { Clock } from '@pxsim/runtime';
import type { DomainState } from '@pxsim/quorum';
import {
  CDU_PREFIX,
  CLAIMS_PREFIX,
  CLUSTER_PREFIX,
  clusterDomainUpdateSchema,
  DOMAINS_PREFIX,
  parseCluster,
  parseKvdbValue,
  type ClusterDomainUpdate,
  type ClusterDomainUpdateSpec,
  type DomainEntry,
} from '../wire/layout.js';

export class DomainNotFoundError extends Error {
  constructor(
    readonly domain: string,
    readonly known: string[],
  ) {
    super(`unknown cluster domain "${domain}"; known domains: ${known.length === 0 ? '(none)' : known.join(', ')}`);
  }
}

export class CduExistsError extends Error {
  constructor(readonly objectName: string) {
    super(`clusterdomainupdates.stork.libopenstorage.org "${objectName}" already exists`);
  }
}

/** The node IDs a refusal names at most (the message says how many more there are). */
const NAMED_NODES_MAX = 8;

/** A domain that still has node registrations cannot be removed (they would name a domain the map lacks). */
export class DomainNotEmptyError extends Error {
  constructor(
    readonly domain: string,
    readonly nodeIds: string[],
  ) {
    const named = nodeIds.slice(0, NAMED_NODES_MAX).join(', ');
    const more = nodeIds.length > NAMED_NODES_MAX ? ` and ${nodeIds.length - NAMED_NODES_MAX} more` : '';
    super(
      `cluster domain "${domain}" still has ${nodeIds.length} node${nodeIds.length === 1 ? '' : 's'} ` +
        `(${named}${more}); only a domain with no nodes can be removed`,
    );
  }
}

/** Removing the only Active domain would leave no domain whose nodes may serve. */
export class LastActiveDomainError extends Error {
  constructor(readonly domain: string) {
    super(`cluster domain "${domain}" is the last Active domain; activate another domain before removing it`);
  }
}

/** What the operator commands need of the agent. */
export interface DomainCommandContext {
  kvdb: Kvdb;
  clock: Clock;
  /** The cluster changed: read it again. */
  requestRead: () => void;
  /** A kvdb value failed its schema (reported, never thrown). */
  onRejected: (key: string, problem: string, consequence: string) => void;
}

/** ClusterDomainUpdate: marks a domain Active or Inactive in the kvdb (compare-and-set). */
export async function setDomainState(
  context: DomainCommandContext,
  name: string,
  state: DomainState,
): Promise<{ name: string; state: DomainState; revision: number }> {
  const { kvdb, clock } = context;
  const range = await kvdb.range(DOMAINS_PREFIX);
  const known = range.kvs.map((kv) => kv.key.slice(DOMAINS_PREFIX.length)).sort();
  const found = range.kvs.find((kv) => kv.key === `${DOMAINS_PREFIX}${name}`);
  if (found === undefined) throw new DomainNotFoundError(name, known);
  const entry: DomainEntry = { name, state, updatedAtMs: clock.nowMs() };
  const result = await kvdb.update(found.key, JSON.stringify(entry), { ifModRevision: found.modRevision });
  context.requestRead();
  return { name, state, revision: result.revision };
}

/**
 * Removes an empty cluster domain (e.g. one a mistyped `--cluster-domain` created): its entry and the partition
 * claims naming it go in one transaction, guarded by every domain entry's mod revision as read (so a domain
 * deactivated meanwhile cannot make this one the last Active domain unnoticed: that answers `Modified`). Refused,
 * with nothing changed: an unknown domain, a domain that any node registration (decommissioned ones included)
 * names, and the last Active domain.
 */
export async function removeDomain(
  context: DomainCommandContext,
  name: string,
): Promise<{ name: string; revision: number }> {
  const { kvdb } = context;
  const range = await kvdb.range(CLUSTER_PREFIX);
  const cluster = parseCluster(range.revision, range.kvs);
  const domainKvs = range.kvs.filter((kv) => kv.key.startsWith(DOMAINS_PREFIX));
  const key = `${DOMAINS_PREFIX}${name}`;
  if (!domainKvs.some((kv) => kv.key === key)) {
    throw new DomainNotFoundError(name, domainKvs.map((kv) => kv.key.slice(DOMAINS_PREFIX.length)).sort());
  }
  const nodeIds = cluster.nodes.filter((node) => node.clusterDomain === name).map((node) => node.id);
  if (nodeIds.length > 0) throw new DomainNotEmptyError(name, nodeIds.sort());
  const active = cluster.domains.filter((domain) => domain.state === 'Active').map((domain) => domain.name);
  if (active.length === 1 && active[0] === name) throw new LastActiveDomainError(name);
  const claimKeys = range.kvs
    .filter((kv) => kv.key.startsWith(CLAIMS_PREFIX) && kv.key.slice(CLAIMS_PREFIX.length).split('|').includes(name))
    .map((kv) => kv.key);
  const result = await kvdb.txn({
    compare: domainKvs.map((kv) => ({ key: kv.key, target: 'modRevision', op: '==', value: kv.modRevision })),
    success: [key, ...claimKeys].map((deleted) => ({ type: 'delete', key: deleted })),
  });
  if (!result.succeeded) throw new KvdbError('Modified', `the cluster domains changed while removing "${name}"`);
  context.requestRead();
  return { name, revision: result.revision };
}

/**
 * A Stork ClusterDomainUpdate: recorded as Pending, carried out (activate or deactivate), then recorded as
 * Successful, or Failed with the reason (an unknown domain names the known ones). `create` refuses an existing name
 * (kubectl create); `apply` replaces it (kubectl apply).
 */
export async function applyClusterDomainUpdate(
  context: DomainCommandContext,
  spec: ClusterDomainUpdateSpec,
  mode: 'create' | 'apply',
): Promise<ClusterDomainUpdate> {
  const { kvdb, clock } = context;
  const key = `${CDU_PREFIX}${spec.name}`;
  const nowMs = clock.nowMs();
  const record: ClusterDomainUpdate = {
    ...spec,
    status: 'Pending',
    reason: '',
    createdAtMs: nowMs,
    updatedAtMs: nowMs,
  };
  if (mode === 'create') {
    try {
      await kvdb.create(key, JSON.stringify(record));
    } catch (error) {
      if (isKvdbError(error, 'Exists')) throw new CduExistsError(spec.name);
      throw error;
    }
  } else {
    await kvdb.put(key, JSON.stringify(record));
  }
  let done: ClusterDomainUpdate;
  try {
    await setDomainState(context, spec.clusterDomain, spec.active ? 'Active' : 'Inactive');
    done = { ...record, status: 'Successful', updatedAtMs: clock.nowMs() };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    done = { ...record, status: 'Failed', reason, updatedAtMs: clock.nowMs() };
  }
  await kvdb.put(key, JSON.stringify(done));
  return done;
}

/** Every ClusterDomainUpdate, oldest first; a malformed record is reported and left out, never thrown. */
export async function listClusterDomainUpdates(context: DomainCommandContext): Promise<ClusterDomainUpdate[]> {
  const range = await context.kvdb.range(CDU_PREFIX);
  const updates: ClusterDomainUpdate[] = [];
  for (const kv of range.kvs) {
    const parsed = parseKvdbValue(kv.value, clusterDomainUpdateSchema);
    if (parsed.ok) updates.push(parsed.value);
    else context.onRejected(kv.key, parsed.problem, 'left out of the list');
  }
  return updates.sort((left, right) => left.createdAtMs - right.createdAtMs || (left.name < right.name ? -1 : 1));
}
