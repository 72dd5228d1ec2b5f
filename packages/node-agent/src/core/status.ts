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

/**
 * The reason that goes with `shownStatus`. (A running agent's own trouble, such as having no alive record, is in the
 * status's `phaseReason`, not here: the node's reason is the engine's while it runs.)
 */
export function shownReason(node: Pick<NodeView, 'nodeId' | 'reason'>, self: SelfPhase): string {
  return node.nodeId === self.nodeId && self.phase !== 'running' ? self.phaseReason : node.reason;
}

/** Whether this node serves I/O: running, and its engine says it may. */
export function servingOf(view: QuorumView, self: SelfPhase): boolean {
  return self.phase === 'running' && view.self.serving;
}

/**
 * Whether two engine node lists show the same in the status (what `nodesPart` reads: ID, domain, status, gossip state
 * and reason; not `lastHeardMs`, which moves with every heartbeat). The engine builds a fresh list at every evaluation:
 * comparing by content lets the status keep its node list (and the volume shell its serving view) while nothing shown
 * changed.
 */
function sameShownNodes(before: readonly NodeView[], after: readonly NodeView[]): boolean {
  if (before === after) return true;
  if (before.length !== after.length) return false;
  for (let index = 0; index < after.length; index++) {
    const left = before[index];
    const right = after[index];
    if (left === undefined || right === undefined || !sameShownNode(left, right)) return false;
  }
  return true;
}

function sameShownNode(left: NodeView, right: NodeView): boolean {
  return (
    left.nodeId === right.nodeId &&
    left.domain === right.domain &&
    left.status === right.status &&
    left.gossipState === right.gossipState &&
    left.reason === right.reason
  );
}

/** Whether the engine's view of this node shows the same (what `nodePart` reads, `serving` included). */
function sameShownSelf(before: QuorumView['self'], after: QuorumView['self']): boolean {
  return before === after || (sameShownNode(before, after) && before.serving === after.serving);
}

/** Whether two quorum counts are equal (the engine makes a fresh one at every evaluation). */
function sameQuorum(before: QuorumView['quorum'], after: QuorumView['quorum']): boolean {
  if (before === after) return true;
  if (before.total !== after.total || before.up !== after.up || before.needed !== after.needed) return false;
  return sameList(before.activeDomains, after.activeDomains);
}

function sameList(before: readonly string[], after: readonly string[]): boolean {
  return before === after || (before.length === after.length && before.every((item, index) => item === after[index]));
}

function copyCounters(counters: AgentStatus['counters']): AgentStatus['counters'] {
  return {
    framesReceived: counters.framesReceived,
    framesDropped: counters.framesDropped,
    framesFromOtherClusters: counters.framesFromOtherClusters,
    framesUnauthenticated: counters.framesUnauthenticated,
    framesSent: counters.framesSent,
    kvdbValuesRejected: counters.kvdbValuesRejected,
  };
}

/** What the status is built from: the core's state at one moment. */
export interface StatusInputs {
  self: SelfPhase;
  view: QuorumView;
  cluster: ParsedCluster | undefined;
  usedBytes: number;
  counters: AgentStatus['counters'];
}

/**
 * Builds the agent's status snapshot from parts, each rebuilt only when its own inputs changed (compared by
 * identity): a frame moving a counter, or a write moving the used bytes, leaves the cluster and domain parts as they
 * were, and only a change of the engine's view or of this agent's phase rebuilds the node list. Every part is a fresh
 * immutable value whenever its inputs change; unchanged parts are shared between snapshots. `withCounters` is the
 * cheapest change of all (most inputs are frames): the same snapshot with new counters.
 */
export class StatusBuilder {
  private readonly config: AgentConfig;
  private readonly kvdbDescription: string;
  private readonly poolCapacityBytes: number;
  /** The inputs the current parts were built from. */
  private built:
    | {
        self: SelfPhase;
        view: QuorumView;
        cluster: ParsedCluster | undefined;
        usedBytes: number;
        status: AgentStatus;
      }
    | undefined;

  constructor(options: { config: AgentConfig; kvdbDescription: string; poolCapacityBytes: number }) {
    this.config = options.config;
    this.kvdbDescription = options.kvdbDescription;
    this.poolCapacityBytes = options.poolCapacityBytes;
  }

  /** Snapshots built so far (`withCounters` copies are not counted). */
  builds = 0;

  build(inputs: StatusInputs, nowMs: number): AgentStatus {
    this.builds += 1;
    const { self, view, cluster, usedBytes } = inputs;
    const last = this.built;
    const clusterSame = last !== undefined && last.cluster === cluster;
    const othersSame = clusterSame && last.self === self && sameShownNodes(last.view.nodes, view.nodes);
    const nodesSame = othersSame && last.usedBytes === usedBytes;
    // A write moves only this node's used bytes: its entry is replaced, the others are shared.
    const nodes = nodesSame
      ? last.status.nodes
      : othersSame
        ? last.status.nodes.map((node) => (node.thisNode ? { ...node, usedBytes } : node))
        : this.nodesPart(inputs);
    const selfSame = last !== undefined && sameShownSelf(last.view.self, view.self);
    const nodeSame = nodesSame && selfSame;
    const status: AgentStatus = {
      phase: self.phase,
      phaseReason: self.phaseReason,
      nowMs,
      node: nodeSame
        ? last.status.node
        : othersSame && selfSame
          ? { ...last.status.node, usedBytes }
          : this.nodePart(inputs, nodes),
      cluster: clusterSame ? last.status.cluster : this.clusterPart(cluster),
      quorum:
        last !== undefined && sameQuorum(last.view.quorum, view.quorum) ? last.status.quorum : this.quorumPart(view),
      nodes,
      domains: clusterSame ? last.status.domains : this.domainsPart(cluster),
      counters: copyCounters(inputs.counters),
    };
    this.built = { self, view, cluster, usedBytes, status };
    return status;
  }

  /** The same snapshot with new counters (and its time): nothing else changed. Written out field by field (hot). */
  withCounters(status: AgentStatus, counters: AgentStatus['counters'], nowMs: number): AgentStatus {
    const next: AgentStatus = {
      phase: status.phase,
      phaseReason: status.phaseReason,
      nowMs,
      node: status.node,
      cluster: status.cluster,
      quorum: status.quorum,
      nodes: status.nodes,
      domains: status.domains,
      counters: copyCounters(counters),
    };
    if (this.built?.status === status) this.built.status = next;
    return next;
  }

  private nodesPart(inputs: StatusInputs): NodeStatusEntry[] {
    const { self, view, cluster, usedBytes } = inputs;
    const entries = new Map((cluster?.nodes ?? []).map((node) => [node.id, node]));
    return view.nodes.map((node) => {
      const entry = entries.get(node.nodeId);
      const thisNode = node.nodeId === self.nodeId;
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
        usedBytes: thisNode ? usedBytes : (entry?.poolUsedBytes ?? 0) + (entry?.volumeUsedBytes ?? 0),
        capacityBytes: entry?.poolCapacityBytes ?? 0,
        version: entry?.version ?? '',
        storageless: entry?.storageless ?? false,
        thisNode,
      };
    });
  }

  private nodePart(inputs: StatusInputs, nodes: NodeStatusEntry[]): AgentStatus['node'] {
    const { self, view, usedBytes } = inputs;
    const status = shownStatus(view.self, self);
    const config = this.config;
    return {
      id: self.nodeId,
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
  }

  private clusterPart(cluster: ParsedCluster | undefined): AgentStatus['cluster'] {
    return {
      id: this.config.clusterId,
      uuid: cluster?.info?.clusterUuid ?? '',
      createdAtMs: cluster?.info?.createdAtMs ?? 0,
      scheduler: 'kubernetes',
      kvdb: this.kvdbDescription,
      kvdbRevision: cluster?.revision ?? 0,
    };
  }

  private quorumPart(view: QuorumView): AgentStatus['quorum'] {
    return { mode: this.config.quorumMode, ...view.quorum };
  }

  private domainsPart(cluster: ParsedCluster | undefined): AgentStatus['domains'] {
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
  }
}
