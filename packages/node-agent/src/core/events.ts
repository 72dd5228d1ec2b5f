import type { QuorumView, UserStatus } from '@pxsim/quorum';
import type { ParsedCluster } from '../wire/layout.js';
import { shownReason, shownStatus, type SelfPhase } from './status.js';
import type { AgentEvent } from './types.js';

/**
 * The node-status events between two views of the engine, under the same phase of this agent, appended to `events`
 * (created only if there is one: most views change no status).
 */
export function nodeStatusChanges(
  before: QuorumView,
  after: QuorumView,
  self: SelfPhase,
  events: AgentEvent[] | undefined,
): AgentEvent[] | undefined {
  let previous: Map<string, UserStatus> | undefined;
  for (const [index, node] of after.nodes.entries()) {
    const to = shownStatus(node, self);
    // Both views list the membership in the same order unless it changed: look up by ID only then.
    const same = before.nodes[index];
    let from: UserStatus | undefined;
    if (same?.nodeId === node.nodeId) from = shownStatus(same, self);
    else {
      previous ??= new Map(before.nodes.map((old) => [old.nodeId, shownStatus(old, self)]));
      from = previous.get(node.nodeId);
    }
    if (from === to) continue;
    events ??= [];
    events.push({
      type: 'node-status',
      atMs: after.nowMs,
      nodeId: node.nodeId,
      from: from ?? 'Unknown',
      to,
      gossipState: node.gossipState,
      reason: shownReason(node, self),
    });
  }
  return events;
}

/** The phase event of a change of phase, and this node's status event if its shown status changed with it. */
export function phaseChanges(
  view: QuorumView,
  before: SelfPhase,
  after: SelfPhase,
  atMs: number,
  events: AgentEvent[],
): void {
  events.push({ type: 'phase', atMs, phase: after.phase, reason: after.phaseReason });
  const from = shownStatus(view.self, before);
  const to = shownStatus(view.self, after);
  if (from === to) return;
  events.push({
    type: 'node-status',
    atMs,
    nodeId: after.nodeId,
    from,
    to,
    gossipState: view.self.gossipState,
    reason: shownReason(view.self, after),
  });
}

/** The domain-state events between two reads of the cluster. */
export function domainChanges(
  before: ParsedCluster | undefined,
  after: ParsedCluster,
  atMs: number,
  events: AgentEvent[],
): void {
  const old = new Map((before?.domains ?? []).map((domain) => [domain.name, domain.state]));
  for (const domain of after.domains) {
    const from = old.get(domain.name);
    if (from === domain.state) continue;
    events.push({ type: 'domain-state', atMs, domain: domain.name, from: from ?? 'Unknown', to: domain.state });
  }
}
