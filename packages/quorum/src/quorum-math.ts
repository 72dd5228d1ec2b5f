import type { DomainState, MemberInfo, QuorumCount } from './types.js';

export interface QuorumMathInput {
  selfId: string;
  members: readonly MemberInfo[];
  /** Empty: no domain map (the default rule). */
  domains: Readonly<Record<string, DomainState>>;
  /** Node IDs this node sees alive (UP, NOT_IN_QUORUM or SUSPECT_NOT_IN_QUORUM); self is always alive. */
  alive: ReadonlySet<string>;
}

export interface QuorumDecision extends QuorumCount {
  inQuorum: boolean;
  /** Self's domain is known and Inactive. */
  selfDomainInactive: boolean;
}

/**
 * The reference quorum rule (libopenstorage/gossip proto/state/quorum*.go). With a domain map: a node of an
 * inactive domain is never in quorum; `total` counts the durable quorum members of active domains; `up` those of
 * them seen alive; in quorum iff up ≥ floor(total / 2) + 1. Without one: the same over all quorum members.
 */
export function evaluateQuorum(input: QuorumMathInput): QuorumDecision {
  const hasDomainMap = Object.keys(input.domains).length > 0;
  const isActive = (domain: string): boolean => !hasDomainMap || input.domains[domain] === 'Active';
  const self = input.members.find((member) => member.nodeId === input.selfId);
  const selfDomainInactive = hasDomainMap && self !== undefined && !isActive(self.domain);
  let total = 0;
  let up = 0;
  for (const member of input.members) {
    if (!member.quorumMember || member.decommissioned || !isActive(member.domain)) continue;
    total += 1;
    if (member.nodeId === input.selfId || input.alive.has(member.nodeId)) up += 1;
  }
  const needed = Math.floor(total / 2) + 1;
  const activeDomains = hasDomainMap
    ? Object.keys(input.domains)
        .filter((domain) => input.domains[domain] === 'Active')
        .sort()
    : [...new Set(input.members.map((member) => member.domain))].sort();
  return {
    total,
    up,
    needed,
    activeDomains,
    selfDomainInactive,
    inQuorum: !selfDomainInactive && self !== undefined && up >= needed,
  };
}
