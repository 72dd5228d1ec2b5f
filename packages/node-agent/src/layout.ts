import { z } from 'zod';
import type { ClusterSnapshot, DomainState, MemberInfo, PartitionClaim } from '@pxsim/quorum';
import type { KeyValue } from '@pxsim/kvdb-client';

/**
 * The cluster's keys in the kvdb, under the per-cluster namespace `pxsim/<clusterId>/`:
 *
 *   cluster/info              ClusterInfo (created once)
 *   cluster/nodes/<nodeId>    NodeEntry, durable (never on a lease: hazard H5)
 *   cluster/domains/<name>    DomainEntry (Active | Inactive)
 *   cluster/claims/<a>|<b>    ClaimEntry, safe mode's partition claims
 *   alive/<nodeId>            on a lease: one live agent per node ID (not part of the cluster snapshot)
 */
export const CLUSTER_PREFIX = 'cluster/';
export const INFO_KEY = 'cluster/info';
export const NODES_PREFIX = 'cluster/nodes/';
export const DOMAINS_PREFIX = 'cluster/domains/';
export const CLAIMS_PREFIX = 'cluster/claims/';
export const ALIVE_PREFIX = 'alive/';
/** Stork's ClusterDomainUpdate objects (outside cluster/: not part of the quorum snapshot). */
export const CDU_PREFIX = 'stork/clusterdomainupdates/';

export function namespaceFor(clusterId: string): string {
  return `pxsim/${clusterId}/`;
}

export const clusterInfoSchema = z.object({
  clusterId: z.string().min(1),
  clusterUuid: z.string().min(1),
  createdAtMs: z.number().nonnegative(),
});
export type ClusterInfo = z.infer<typeof clusterInfoSchema>;

export const nodeEntrySchema = z.object({
  id: z.string().min(1),
  clusterId: z.string().min(1),
  schedulerNodeName: z.string(),
  mgmtIp: z.string(),
  dataIp: z.string(),
  apiPort: z.number().int(),
  heartbeatPort: z.number().int(),
  replicationPort: z.number().int(),
  genNumber: z.number().int().nonnegative(),
  startTimeMs: z.number().nonnegative(),
  hostname: z.string(),
  clusterDomain: z.string().min(1),
  nonQuorumMember: z.boolean(),
  storageless: z.boolean(),
  poolCapacityBytes: z.number().nonnegative(),
  poolUsedBytes: z.number().nonnegative(),
  version: z.string(),
  decommissioned: z.boolean(),
});
export type NodeEntry = z.infer<typeof nodeEntrySchema>;

export const domainEntrySchema = z.object({
  name: z.string().min(1),
  state: z.enum(['Active', 'Inactive']),
  updatedAtMs: z.number().nonnegative(),
});
export type DomainEntry = z.infer<typeof domainEntrySchema>;

export const claimEntrySchema = z.object({
  domains: z.tuple([z.string().min(1), z.string().min(1)]),
  winner: z.string().min(1),
});

export interface ParsedCluster {
  revision: number;
  info: ClusterInfo | undefined;
  nodes: NodeEntry[];
  domains: DomainEntry[];
  snapshot: ClusterSnapshot;
  /** Keys whose values were rejected, with why: they are left out, never guessed at. */
  rejected: Array<{ key: string; problem: string }>;
}

/** A value's parse: the value, or why it was rejected. */
interface Parsed {
  value: unknown;
  problem: string | undefined;
}

/** Parsed values by key, reused while the key's mod revision is unchanged (reads repeat every refresh). */
export type ParseCache = Map<string, Parsed & { modRevision: number }>;
const PARSE_CACHE_MAX = 4096;

/**
 * Parsed values by entry, for frozen entries: a store that hands several clients the same frozen entry (the embedded
 * kvdb, where a whole simulated cluster reads one store) has it parsed once for all of them. The values are frozen in
 * turn, as they are shared.
 */
const sharedParses = new WeakMap<KeyValue, Parsed>();

function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const inner of Object.values(value)) deepFreeze(inner);
}

function parseValue<T>(
  kv: KeyValue,
  schema: z.ZodType<T>,
  rejected: ParsedCluster['rejected'],
  cache?: ParseCache,
): T | undefined {
  let parsed: Parsed | undefined;
  if (Object.isFrozen(kv)) {
    parsed = sharedParses.get(kv);
    if (parsed === undefined) {
      parsed = parseFresh(kv, schema);
      deepFreeze(parsed.value);
      sharedParses.set(kv, parsed);
    }
  } else {
    const cached = cache?.get(kv.key);
    parsed = cached !== undefined && cached.modRevision === kv.modRevision ? cached : undefined;
    if (parsed === undefined) {
      parsed = parseFresh(kv, schema);
      if (cache !== undefined) {
        if (cache.size >= PARSE_CACHE_MAX) cache.clear();
        cache.set(kv.key, { ...parsed, modRevision: kv.modRevision });
      }
    }
  }
  if (parsed.problem !== undefined) rejected.push({ key: kv.key, problem: parsed.problem });
  return parsed.value as T | undefined;
}

function parseFresh<T>(kv: KeyValue, schema: z.ZodType<T>): Parsed {
  let raw: unknown;
  try {
    raw = JSON.parse(kv.value);
  } catch (error) {
    return { value: undefined, problem: `not JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
  const result = schema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    return { value: undefined, problem: `${issue?.path.join('.') || 'value'}: ${issue?.message ?? 'invalid'}` };
  }
  return { value: result.data, problem: undefined };
}

/** Turns one range over `cluster/` into validated entries and the quorum engine's snapshot. */
export function parseCluster(revision: number, kvs: KeyValue[], cache?: ParseCache): ParsedCluster {
  const rejected: ParsedCluster['rejected'] = [];
  let info: ClusterInfo | undefined;
  const nodes: NodeEntry[] = [];
  const domains: DomainEntry[] = [];
  const claims: PartitionClaim[] = [];
  for (const kv of kvs) {
    if (kv.key === INFO_KEY) {
      info = parseValue(kv, clusterInfoSchema, rejected, cache);
    } else if (kv.key.startsWith(NODES_PREFIX)) {
      const node = parseValue(kv, nodeEntrySchema, rejected, cache);
      if (node !== undefined && node.id !== kv.key.slice(NODES_PREFIX.length)) {
        rejected.push({ key: kv.key, problem: `node entry names ID ${node.id}, not the key's` });
      } else if (node !== undefined) nodes.push(node);
    } else if (kv.key.startsWith(DOMAINS_PREFIX)) {
      const domain = parseValue(kv, domainEntrySchema, rejected, cache);
      if (domain !== undefined) domains.push(domain);
    } else if (kv.key.startsWith(CLAIMS_PREFIX)) {
      const claim = parseValue(kv, claimEntrySchema, rejected, cache);
      if (claim !== undefined)
        claims.push({ domains: claim.domains, winner: claim.winner, revision: kv.createRevision });
    }
  }
  const domainStates: Record<string, DomainState> = {};
  for (const domain of domains) domainStates[domain.name] = domain.state;
  const known = new Set(Object.keys(domainStates));
  const members: MemberInfo[] = [];
  for (const node of nodes) {
    if (!known.has(node.clusterDomain)) {
      rejected.push({ key: `${NODES_PREFIX}${node.id}`, problem: `domain ${node.clusterDomain} has no domain entry` });
      continue;
    }
    members.push({
      nodeId: node.id,
      domain: node.clusterDomain,
      quorumMember: !node.nonQuorumMember,
      decommissioned: node.decommissioned,
      storageless: node.storageless,
    });
  }
  const validClaims = claims.filter((claim) => {
    const ok =
      known.has(claim.domains[0]) &&
      known.has(claim.domains[1]) &&
      claim.domains.includes(claim.winner) &&
      claim.domains[0] !== claim.domains[1];
    if (!ok)
      rejected.push({
        key: `${CLAIMS_PREFIX}${claim.domains.join('|')}`,
        problem: 'claim names unknown domains or a winner outside its pair',
      });
    return ok;
  });
  return {
    revision,
    info,
    nodes,
    domains,
    snapshot: { revision, members, domains: domainStates, claims: validClaims },
    rejected,
  };
}

export function claimKeyFor(domains: readonly [string, string]): string {
  return `${CLAIMS_PREFIX}${[...domains].sort().join('|')}`;
}

/** A Kubernetes object name (DNS-1123 subdomain). */
export const OBJECT_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

export const clusterDomainUpdateSpecSchema = z.object({
  name: z.string().regex(OBJECT_NAME, 'must be a lower-case DNS-1123 name'),
  clusterDomain: z.string().min(1).max(64),
  active: z.boolean(),
});
export type ClusterDomainUpdateSpec = z.infer<typeof clusterDomainUpdateSpecSchema>;

export const clusterDomainUpdateSchema = clusterDomainUpdateSpecSchema.extend({
  status: z.enum(['Pending', 'Successful', 'Failed']),
  reason: z.string(),
  createdAtMs: z.number().nonnegative(),
  updatedAtMs: z.number().nonnegative(),
});
export type ClusterDomainUpdate = z.infer<typeof clusterDomainUpdateSchema>;
