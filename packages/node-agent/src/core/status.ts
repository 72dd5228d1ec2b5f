import type { NodeView, QuorumView, UserStatus } from '@pxsim/quorum';
import type { AgentConfig } from '../config.js';
import type { ParsedCluster } from '../wire/layout.js';
import type { AgentPhase, AgentStatus, NodeStatusEntry } from './types.js';

/** Where this agent is in its life, as the status rules need it. */
export interface SelfPhase {
  nodeId: string;
  phase: AgentPhase;
  phaseReason: string;
}

/**
 * THE status rule, written once: a node's own status is Initializing (for the reason its phase gives) until its
 * agent runs; otherwise, and for every peer, it is the engine's.
 */
export function shownStatus(node: Pick<NodeView, 'nodeId' | 'status'>, self: SelfPhase): UserStatus {
  return node.nodeId === self.nodeId && self.phase !== 'running' ? 'Initializing' : node.status;
}

/** The reason that goes with `shownStatus`. */
export function shownReason(node: Pick<NodeView, 'nodeId' | 'reason'>, self: SelfPhase): string {
  return node.nodeId === self.nodeId && self.phase !== 'running' ? self.phaseReason : node.reason;
}

/** Whether this node serves I/O: running, and its engine says it may. */
export function servingOf(view: QuorumView, self: SelfPhase): boolean {
  return self.phase === 'running' && view.self.serving;
}

/** What the status is built from: the core's state at one moment. */
export interface StatusInputs {
  self: SelfPhase;
  view: QuorumView;
  cluster: ParsedCluster | undefined;
  usedBytes: number;
  counters: AgentStatus['counters'];
}

/** Recomputes only when one of its keys changed (by identity): the status's parts are memoised on their inputs. */
function memoised<Keys extends readonly unknown[], Value>(compute: (...keys: Keys) => Value): (...keys: Keys) => Value {
  let last: { keys: Keys; value: Value } | undefined;
  return (...keys: Keys): Value => {
    if (last !== undefined) {
      const previous = last.keys;
      if (keys.every((key, index) => Object.is(key, previous[index]))) return last.value;
    }
    const value = compute(...keys);
    last = { keys, value };
    return value;
  };
}

/**
 * Builds the agent's status snapshot from memoised parts, so that a change to one input (a frame moving a counter,
 * a write moving the used bytes) rebuilds only the parts that depend on it: `status().node` stays cheap to ask for.
 * Every part is a fresh immutable value whenever its inputs change; unchanged parts are shared between snapshots.
 */
export class StatusBuilder {
  private readonly config: AgentConfig;
  private readonly kvdbDescription: string;
  private readonly poolCapacityBytes: number;

  constructor(options: { config: AgentConfig; kvdbDescription: string; poolCapacityBytes: number }) {
    this.config = options.config;
    this.kvdbDescription = options.kvdbDescription;
    this.poolCapacityBytes = options.poolCapacityBytes;
  }

  build(inputs: StatusInputs, nowMs: number): AgentStatus {
    const { self, view, cluster, usedBytes } = inputs;
    const nodes = this.nodesPart(view, cluster, self.phase, self.phaseReason, usedBytes, self.nodeId);
    return {
      phase: self.phase,
      phaseReason: self.phaseReason,
      nowMs,
      node: this.nodePart(view, nodes, self.phase, self.phaseReason, usedBytes, self.nodeId),
      cluster: this.clusterPart(cluster),
      quorum: this.quorumPart(view.quorum),
      nodes,
      domains: this.domainsPart(cluster),
      counters: { ...inputs.counters },
    };
  }

  private readonly nodesPart = memoised(
    (
      view: QuorumView,
      cluster: ParsedCluster | undefined,
      phase: AgentPhase,
      phaseReason: string,
      usedBytes: number,
      nodeId: string,
    ): NodeStatusEntry[] => {
      const self: SelfPhase = { nodeId, phase, phaseReason };
      const entries = new Map((cluster?.nodes ?? []).map((node) => [node.id, node]));
      return view.nodes.map((node) => {
        const entry = entries.get(node.nodeId);
        const thisNode = node.nodeId === nodeId;
        const status = shownStatus(node, self);
        return {
          id: node.nodeId,
          ip: entry?.mgmtIp ?? '',
          schedulerNodeName: entry?.schedulerNodeName ?? '',
          domain: node.domain,
          status,
          gossipState: node.gossipState,
          storageStatus: status === 'Online' ? 'Up' : 'Down',
          reason: shownReason(node, self),
          usedBytes: thisNode ? usedBytes : (entry?.poolUsedBytes ?? 0),
          capacityBytes: entry?.poolCapacityBytes ?? 0,
          version: entry?.version ?? '',
          storageless: entry?.storageless ?? false,
          thisNode,
        };
      });
    },
  );

  private readonly nodePart = memoised(
    (
      view: QuorumView,
      nodes: NodeStatusEntry[],
      phase: AgentPhase,
      phaseReason: string,
      usedBytes: number,
      nodeId: string,
    ): AgentStatus['node'] => {
      const self: SelfPhase = { nodeId, phase, phaseReason };
      const status = shownStatus(view.self, self);
      const config = this.config;
      return {
        id: nodeId,
        ip: config.ip,
        schedulerNodeName: config.schedulerNodeName,
        domain: config.clusterDomain,
        status,
        gossipState: view.self.gossipState,
        storageStatus: status === 'Online' ? 'Up' : 'Down',
        reason: shownReason(view.self, self),
        usedBytes,
        capacityBytes: nodes.find((node) => node.thisNode)?.capacityBytes ?? this.poolCapacityBytes,
        version: config.version,
        storageless: config.storageless,
        thisNode: true,
        apiPort: config.apiPort,
        heartbeatPort: config.heartbeatPort,
        replicationPort: config.replicationPort,
        serving: servingOf(view, self),
      };
    },
  );

  private readonly clusterPart = memoised((cluster: ParsedCluster | undefined): AgentStatus['cluster'] => ({
    id: this.config.clusterId,
    uuid: cluster?.info?.clusterUuid ?? '',
    createdAtMs: cluster?.info?.createdAtMs ?? 0,
    scheduler: 'kubernetes',
    kvdb: this.kvdbDescription,
    kvdbRevision: cluster?.revision ?? 0,
  }));

  private readonly quorumPart = memoised((quorum: QuorumView['quorum']): AgentStatus['quorum'] => ({
    mode: this.config.quorumMode,
    ...quorum,
  }));

  private readonly domainsPart = memoised((cluster: ParsedCluster | undefined): AgentStatus['domains'] => {
    const domainCounts = new Map<string, number>();
    for (const entry of cluster?.nodes ?? [])
      domainCounts.set(entry.clusterDomain, (domainCounts.get(entry.clusterDomain) ?? 0) + 1);
    return (cluster?.domains ?? [])
      .map((domain) => ({
        name: domain.name,
        state: domain.state,
        nodes: domainCounts.get(domain.name) ?? 0,
        updatedAtMs: domain.updatedAtMs,
      }))
      .sort((left, right) => (left.name < right.name ? -1 : 1));
  });
}
