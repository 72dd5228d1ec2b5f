import { z } from 'zod';
import { GOSSIP_STATES } from '@pxsim/quorum';
import type { AgentEvent, AgentStatus } from '../agent.js';
import { clusterDomainUpdateSchema } from '../wire/layout.js';
import type { FaultSummary } from '@pxsim/runtime';
import { API_ERRORS, type ApiErrorCode } from './errors.js';

/*
 * The JSON bodies the REST API answers with, as zod schemas, so that clients (the CLI) validate instead of casting.
 * The compile-time checks at the bottom keep them equal to the agent's own types.
 */

const userStatusSchema = z.enum(['Online', 'Offline', 'Out of Quorum', 'Initializing']);
const domainStateSchema = z.enum(['Active', 'Inactive']);
const gossipStateSchema = z.enum(GOSSIP_STATES);
const agentPhaseSchema = z.enum(['starting', 'waiting for kvdb', 'running', 'stopping', 'stopped', 'failed']);

export const nodeStatusEntrySchema = z.object({
  id: z.string(),
  ip: z.string(),
  schedulerNodeName: z.string(),
  domain: z.string(),
  status: userStatusSchema,
  gossipState: gossipStateSchema,
  storageStatus: z.enum(['Up', 'Down']),
  reason: z.string(),
  usedBytes: z.number(),
  capacityBytes: z.number(),
  version: z.string(),
  storageless: z.boolean(),
  thisNode: z.boolean(),
});

/** `GET /v1/cluster`: the agent's whole status snapshot (what `pxctl status` prints). */
export const agentStatusSchema = z.object({
  phase: agentPhaseSchema,
  phaseReason: z.string(),
  nowMs: z.number(),
  node: nodeStatusEntrySchema.extend({
    apiPort: z.number().int(),
    heartbeatPort: z.number().int(),
    replicationPort: z.number().int(),
    serving: z.boolean(),
  }),
  cluster: z.object({
    id: z.string(),
    uuid: z.string(),
    createdAtMs: z.number(),
    scheduler: z.literal('kubernetes'),
    kvdb: z.string(),
    kvdbRevision: z.number(),
  }),
  quorum: z.object({
    mode: z.string(),
    total: z.number(),
    up: z.number(),
    needed: z.number(),
    activeDomains: z.array(z.string()),
  }),
  nodes: z.array(nodeStatusEntrySchema),
  domains: z.array(
    z.object({ name: z.string(), state: domainStateSchema, nodes: z.number(), updatedAtMs: z.number() }),
  ),
  counters: z.object({
    framesReceived: z.number(),
    framesDropped: z.number(),
    framesFromOtherClusters: z.number(),
    framesUnauthenticated: z.number(),
    framesSent: z.number(),
    kvdbValuesRejected: z.number(),
  }),
});

/** `GET /status` (liveness). */
export const nodeLivenessSchema = z.object({
  nodeId: z.string(),
  phase: agentPhaseSchema,
  status: userStatusSchema,
  reason: z.string(),
});

/** `GET /health` (readiness; 200 when ready, else 503 with the same body). */
export const nodeHealthSchema = z.object({ ready: z.boolean(), status: userStatusSchema, reason: z.string() });

/** `GET /v1/clusterdomains` (openstorage `SdkClusterDomainsEnumerateResponse`). */
export const clusterDomainsEnumerateSchema = z.object({ cluster_domain_names: z.array(z.string()) });

/** `GET /v1/clusterdomains/inspect/{name}` (openstorage `SdkClusterDomainInspectResponse`). */
export const clusterDomainInspectSchema = z.object({ cluster_domain_name: z.string(), is_active: z.boolean() });

/**
 * `POST /v1/clusterdomains/{activate,deactivate}/{name}` and `DELETE /v1/clusterdomains/{name}`: `{}`, as
 * openstorage's empty responses.
 */
export const clusterDomainActionSchema = z.strictObject({});

/** `GET /v1/stork/clusterdomainupdates`. (`POST` answers one `clusterDomainUpdateSchema`, from the layout.) */
export const clusterDomainUpdateListSchema = z.object({ items: z.array(clusterDomainUpdateSchema) });

/** `POST /v1/io/write`, acknowledged. */
export const writeAckSchema = z.object({ acknowledged: z.literal(true), usedBytes: z.number() });

const ruleTargets = { from: z.array(z.string()).exactOptional(), to: z.array(z.string()).exactOptional() };
/** `GET` and `POST /v1/debug/faults`. */
export const faultSummarySchema = z.object({
  cuts: z.array(z.string()),
  kvdbCut: z.array(z.string()),
  latency: z.array(z.object({ ...ruleTargets, ms: z.number(), jitterMs: z.number() })),
  loss: z.array(z.object({ ...ruleTargets, percent: z.number() })),
});

/** One message on the `/v1/events` WebSocket: a `hello` with the status first, then every `AgentEvent`. */
export const agentEventMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('hello'), status: agentStatusSchema }),
  z.object({ type: z.literal('phase'), atMs: z.number(), phase: agentPhaseSchema, reason: z.string() }),
  z.object({
    type: z.literal('node-status'),
    atMs: z.number(),
    nodeId: z.string(),
    from: z.union([userStatusSchema, z.literal('Unknown')]),
    to: userStatusSchema,
    gossipState: gossipStateSchema,
    reason: z.string(),
  }),
  z.object({
    type: z.literal('domain-state'),
    atMs: z.number(),
    domain: z.string(),
    from: z.union([domainStateSchema, z.literal('Unknown')]),
    to: domainStateSchema,
  }),
]);

const errorCodes = Object.keys(API_ERRORS) as [ApiErrorCode, ...ApiErrorCode[]];
/** Every error answer: `{ error: { code, message } }` (`known`: the known domains, on DOMAIN_NOT_FOUND). */
export const apiErrorSchema = z.object({
  error: z.object({ code: z.enum(errorCodes), message: z.string(), known: z.array(z.string()).exactOptional() }),
});

/**
 * A volume as `GET /v1/volumes/:volume` answers it (the shape of `pxctl --json volume list` where it can): what the
 * CLI and the scenario runner read of `volumeJson` (`volume-routes.ts`).
 */
export const volumeJsonSchema = z.object({
  id: z.string(),
  locator: z.object({ name: z.string(), volume_labels: z.record(z.string(), z.string()) }),
  ctime: z.number(),
  spec: z.object({ size: z.string(), ha_level: z.string() }),
  usage: z.string(),
  status: z.string(),
  state: z.string(),
  attached_on: z.string(),
  replica_sets: z.array(z.object({ nodes: z.array(z.string()) })),
  runtime_state: z.array(
    z.object({ runtime_state: z.object({ ReplicaSetCreateMid: z.string(), ReplicaSetCurrMid: z.string() }) }),
  ),
  replication_status: z.string(),
  /** Each create-set replica as the node asked sees it (absent from older agents' answers). */
  replicas: z.array(z.object({ node: z.string(), in_current_set: z.boolean(), state: z.string() })).exactOptional(),
  io: z.object({
    reads: z.number(),
    writes: z.number(),
    bytes_read: z.number(),
    bytes_written: z.number(),
    in_progress: z.number(),
  }),
});
export type VolumeJson = z.infer<typeof volumeJsonSchema>;
/** `GET /v1/volumes`. */
export const volumeListJsonSchema = z.object({ volumes: z.array(volumeJsonSchema) });
/** `GET /v1/volumes/:volume/blocks/:block`: the block's bytes in base64. */
export const blockReadSchema = z.object({ block: z.number(), data: z.string() });
/** An I/O error answer carries whether the operation may yet take effect. */
export const ioErrorSchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), outcome: z.enum(['failed', 'unknown']).exactOptional() }),
});

/** A volume's create and current replica sets (node IDs), from its runtime state. */
export function replicaSetsOf(volume: VolumeJson): { createSet: string[]; currentSet: string[] } {
  const state = volume.runtime_state[0]?.runtime_state;
  const ids = (text: string | undefined): string[] => (text ?? '').split(',').filter((id) => id !== '');
  return { createSet: ids(state?.ReplicaSetCreateMid), currentSet: ids(state?.ReplicaSetCurrMid) };
}

// Compile-time: the schemas describe exactly the agent's types (a drift fails `pnpm typecheck`).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameStatus: Same<z.infer<typeof agentStatusSchema>, AgentStatus> = true;
const sameEvent: Same<Exclude<z.infer<typeof agentEventMessageSchema>, { type: 'hello' }>, AgentEvent> = true;
const sameFaults: Same<z.infer<typeof faultSummarySchema>, FaultSummary> = true;
void [sameStatus, sameEvent, sameFaults];
