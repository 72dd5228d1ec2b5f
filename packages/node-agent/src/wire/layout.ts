import { z } from 'zod';
import type { ClusterSnapshot, DomainState, MemberInfo, PartitionClaim } from '@pxsim/quorum';
import type { KeyValue } from '@pxsim/kvdb-client';
import { CLUSTER_ID_RULE, DOMAIN_NAME_RULE, nameProblem, nameSchema, OBJECT_NAME_RULE } from './names.js';

/**
 * The cluster's keys in the kvdb, under the per-cluster namespace `pxsim/<clusterId>/`:
 *
 *   cluster/info              ClusterInfo (created once)
 *   cluster/nodes/<nodeId>    NodeEntry, durable (never on a lease: hazard H5)
 *   cluster/domains/<name>    DomainEntry (Active | Inactive)
 *   cluster/claims/<a>|<b>    ClaimEntry, safe mode's partition claims
 *   alive/<nodeId>            on a lease: one live agent per node ID (not part of the cluster snapshot)
 *   volumes/<volumeId>        VolumeRecord (@pxsim/storage): replica sets, attachment, epoch
 *   volume-names/<name>       the volume ID of a name (created with the record in one transaction: names unique)
 */
export const CLUSTER_PREFIX = 'cluster/';
export const INFO_KEY = 'cluster/info';
export const NODES_PREFIX = 'cluster/nodes/';
export const DOMAINS_PREFIX = 'cluster/domains/';
export const CLAIMS_PREFIX = 'cluster/claims/';
export const ALIVE_PREFIX = 'alive/';
export const VOLUMES_PREFIX = 'volumes/';
export const VOLUME_NAMES_PREFIX = 'volume-names/';
/** Stork's ClusterDomainUpdate objects (outside cluster/: not part of the quorum snapshot). */
export const CDU_PREFIX = 'stork/clusterdomainupdates/';

/** The kvdb namespace of a cluster; throws for an ID that breaks the cluster ID rule (it is a key segment). */
export function namespaceFor(clusterId: string): string {
  const problem = nameProblem(CLUSTER_ID_RULE, clusterId);
  if (problem !== undefined) throw new RangeError(problem);
  return `pxsim/${clusterId}/`;
}

export const clusterInfoSchema = z.object({
  clusterId: z.string().min(1),
  clusterUuid: z.string().min(1),
  createdAtMs: z.number().nonnegative(),
  /**
   * The key of the heartbeat tags (`wire/frames.ts`), created with the record. Never shown by the API. A cluster
   * created before it existed has none: its agents send and accept no heartbeats until it is recreated.
   */
  heartbeatSecret: z.string().min(22).max(128).optional(),
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
  /** Bytes the node's volume replicas hold, as it last published them (entries of older agents lack it: 0). */
  volumeUsedBytes: z.number().nonnegative().default(0),
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

/** One read of `cluster/`, validated. Its entries may be shared with later reads and are frozen: read only. */
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
export type ValueParse<T> = { ok: true; value: T } | { ok: false; problem: string };

/**
 * Parses one kvdb value through its schema; never throws. The problem names what was wrong (not JSON, or the first
 * schema issue with its path), for a log line that also names the key.
 */
export function parseKvdbValue<T>(text: string, schema: z.ZodType<T>): ValueParse<T> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return { ok: false, problem: `not JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
  const result = schema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    return { ok: false, problem: `${issue?.path.join('.') || 'value'}: ${issue?.message ?? 'invalid'}` };
  }
  return { ok: true, value: result.data };
}

/**
 * Speed cache, private to this module: one reader's parses by key, reused while the key's mod revision is unchanged
 * (reads repeat every refresh, and a key's value at one mod revision never changes). Bounded by `READER_CACHE_MAX`
 * keys (cleared when full). Parsed values are deeply frozen, as successive reads share them: read only.
 * (A second cache, by entry object across readers, was removed: `pnpm bench sim` showed no gain from it.)
 */
type ReaderCache = Map<string, { modRevision: number; parse: ValueParse<unknown> }>;
const READER_CACHE_MAX = 4096;

function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const inner of Object.values(value)) deepFreeze(inner);
}

function parseEntry<T>(
  kv: KeyValue,
  schema: z.ZodType<T>,
  rejected: ParsedCluster['rejected'],
  cache: ReaderCache,
): T | undefined {
  const cached = cache.get(kv.key);
  let found = cached !== undefined && cached.modRevision === kv.modRevision ? cached.parse : undefined;
  if (found === undefined) {
    found = parseKvdbValue(kv.value, schema);
    if (found.ok) deepFreeze(found.value);
    Object.freeze(found);
    if (cache.size >= READER_CACHE_MAX) cache.clear();
    cache.set(kv.key, { modRevision: kv.modRevision, parse: found });
  }
  if (!found.ok) {
    rejected.push({ key: kv.key, problem: found.problem });
    return undefined;
  }
  return found.value as T;
}

/**
 * A parser of ranges over `cluster/` for one reader, with its own bounded cache of parses (see `ReaderCache`).
 */
export function clusterParser(): (revision: number, kvs: readonly KeyValue[]) => ParsedCluster {
  const cache: ReaderCache = new Map();
  return (revision, kvs) => parseCluster(revision, kvs, cache);
}

/** Turns one range over `cluster/` into validated entries and the quorum engine's snapshot. */
export function parseCluster(
  revision: number,
  kvs: readonly KeyValue[],
  cache: ReaderCache = new Map(),
): ParsedCluster {
  const rejected: ParsedCluster['rejected'] = [];
  let info: ClusterInfo | undefined;
  const nodes: NodeEntry[] = [];
  const domains: DomainEntry[] = [];
  const claims: PartitionClaim[] = [];
  for (const kv of kvs) {
    if (kv.key === INFO_KEY) {
      info = parseEntry(kv, clusterInfoSchema, rejected, cache);
    } else if (kv.key.startsWith(NODES_PREFIX)) {
      const node = parseEntry(kv, nodeEntrySchema, rejected, cache);
      if (node !== undefined && node.id !== kv.key.slice(NODES_PREFIX.length)) {
        rejected.push({ key: kv.key, problem: `node entry names ID ${node.id}, not the key's` });
      } else if (node !== undefined) nodes.push(node);
    } else if (kv.key.startsWith(DOMAINS_PREFIX)) {
      const domain = parseEntry(kv, domainEntrySchema, rejected, cache);
      if (domain !== undefined) domains.push(domain);
    } else if (kv.key.startsWith(CLAIMS_PREFIX)) {
      const claim = parseEntry(kv, claimEntrySchema, rejected, cache);
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

/** The value of `alive/<nodeId>` (on the agent's lease). */
export const aliveRecordSchema = z.object({
  ip: z.string(),
  apiPort: z.number().int(),
  sinceMs: z.number().nonnegative(),
  /** Tells one run of an agent from a predecessor or a twin with the same node ID. */
  incarnation: z.string().min(1),
});
export type AliveRecord = z.infer<typeof aliveRecordSchema>;

/** A Kubernetes object name (DNS-1123 subdomain): the one object name rule's pattern. */
export const OBJECT_NAME = OBJECT_NAME_RULE.pattern;

export const clusterDomainUpdateSpecSchema = z.object({
  name: nameSchema(OBJECT_NAME_RULE),
  clusterDomain: nameSchema(DOMAIN_NAME_RULE),
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

/** A volume's record (`volumes/<id>`); its type is @pxsim/storage's `VolumeRecord`. */
export const volumeRecordSchema = z.object({
  id: z.string().regex(/^\d{1,20}$/),
  name: nameSchema(OBJECT_NAME_RULE),
  sizeBytes: z.number().int().positive(),
  haLevel: z.union([z.literal(1), z.literal(2), z.literal(3)]),
  createSet: z.array(z.string().min(1)).min(1).max(3),
  currentSet: z.array(z.string().min(1)).max(3),
  attachedOn: z.string().min(1).optional(),
  attachEpoch: z.number().int().nonnegative(),
  createdAtMs: z.number().nonnegative(),
  labels: z.record(z.string(), z.string()),
});
