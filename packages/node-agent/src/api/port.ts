import type { DomainState } from '@pxsim/quorum';
import type { AgentEvent, AgentStatus, WriteResult } from '../agent.js';
import type { ClusterDomainUpdate, ClusterDomainUpdateSpec } from '../wire/layout.js';
import type { LinkFaults } from '@pxsim/runtime';
import type { AgentMetrics } from '../metrics.js';
import type { VolumeShell } from '../shell/volumes.js';

/**
 * What the API needs from an agent: the status snapshot, five commands (set a domain's state, remove an empty
 * domain, apply a ClusterDomainUpdate, list them, write) and the event feed — never its internals. `NodeAgent`
 * satisfies it.
 */
export interface AgentApiPort {
  status(): AgentStatus;
  setDomainState(name: string, state: DomainState): Promise<{ name: string; state: DomainState; revision: number }>;
  removeDomain(name: string): Promise<{ name: string; revision: number }>;
  write(bytes: number): WriteResult;
  applyClusterDomainUpdate(spec: ClusterDomainUpdateSpec, mode: 'create' | 'apply'): Promise<ClusterDomainUpdate>;
  listClusterDomainUpdates(): Promise<ClusterDomainUpdate[]>;
  subscribe(listener: (event: AgentEvent) => void): () => void;
  /** The node's volumes (absent: no volume routes, e.g. in tests of other routes). */
  volumes?: VolumeShell;
}

export interface ApiOptions {
  adminToken: string | undefined;
  /** When given, admins can inject faults on this node's sending side (POST /v1/debug/faults). */
  faults?: LinkFaults;
  /** When given, `GET /metrics` answers them in Prometheus's text format. */
  metrics?: AgentMetrics;
  /** fastify's request logging (off by default: px-node logs its own lines). */
  logger?: boolean;
}
