import type { QuorumTiming } from './timing.js';
import type { DomainState, GossipState, MemberInfo, SelfGossipState, UserStatus } from './types.js';

export interface PeerRecord {
  lastHeardMs: number;
  reportedState: SelfGossipState;
  /**
   * Set when the peer was first seen silent for suspectAfterMs. `probationFromMs`: it is SUSPECT_DOWN from then for
   * suspectDownProbationMs (undefined: DOWN, at once or once a probation ended while this node was UP).
   */
  left: { atMs: number; probationFromMs: number | undefined } | undefined;
}

/**
 * What one node has heard from its peers: for each, when it was last heard (the latest time a frame showed it alive),
 * what it reported about itself, and whether it has gone silent. Times are the engine's; nothing here reads a clock.
 */
export class PeerTable {
  private readonly peers = new Map<string, PeerRecord>();

  constructor(
    private readonly selfId: string,
    private readonly timing: QuorumTiming,
  ) {}

  /** Forgets every peer (reference mode: the process restarted, its gossip memory is gone). */
  clear(): void {
    this.peers.clear();
  }

  get size(): number {
    return this.peers.size;
  }

  get(nodeId: string): PeerRecord | undefined {
    return this.peers.get(nodeId);
  }

  /** Records a heartbeat; a frame that may have waited (heard earlier than received) never moves `lastHeardMs` back. */
  heard(nodeId: string, reportedState: SelfGossipState, heardAtMs: number): void {
    const lastHeardMs = Math.max(this.peers.get(nodeId)?.lastHeardMs ?? Number.NEGATIVE_INFINITY, heardAtMs);
    this.peers.set(nodeId, { lastHeardMs, reportedState, left: undefined });
  }

  isAlive(nodeId: string, nowMs: number): boolean {
    const peer = this.peers.get(nodeId);
    return peer !== undefined && nowMs - peer.lastHeardMs < this.timing.suspectAfterMs;
  }

  /**
   * Records, for every peer that has just gone silent, whether it goes on probation (SUSPECT_DOWN) or is DOWN at once
   * (gossip `gossip_delegates.go` `isClusterDomainSuspectDown`): DOWN when another node of its domain still answers
   * (the reference pings them; here: heard within suspectAfterMs), when its domain is not active (a missing domain
   * counts as inactive), or when it is not a member; on probation when its whole active domain is silent.
   */
  noteLeft(members: readonly MemberInfo[], domains: Readonly<Record<string, DomainState>>, nowMs: number): void {
    const hasMap = Object.keys(domains).length > 0;
    for (const [nodeId, peer] of this.peers) {
      if (peer.left !== undefined || this.isAlive(nodeId, nowMs)) continue;
      const domain = members.find((member) => member.nodeId === nodeId)?.domain;
      const atMs = peer.lastHeardMs + this.timing.suspectAfterMs;
      const suspect =
        domain !== undefined &&
        (!hasMap || domains[domain] === 'Active') &&
        !members.some(
          (member) =>
            member.domain === domain &&
            member.nodeId !== nodeId &&
            member.nodeId !== this.selfId &&
            this.isAlive(member.nodeId, nowMs),
        );
      peer.left = { atMs, probationFromMs: suspect ? atMs : undefined };
    }
  }

  /**
   * Ends the probations that are over (gossip `gossip_delegates.go` `probationExpiredOnSuspectedDownNode`): the peer
   * is DOWN if this node is UP; otherwise it goes back on probation, from the instant the last one ended.
   */
  endProbations(nowMs: number, selfUp: boolean): void {
    const probationMs = this.timing.suspectDownProbationMs;
    for (const peer of this.peers.values()) {
      const fromMs = peer.left?.probationFromMs;
      if (peer.left === undefined || fromMs === undefined || nowMs < fromMs + probationMs) continue;
      peer.left.probationFromMs = selfUp
        ? undefined
        : fromMs + probationMs * Math.floor((nowMs - fromMs) / Math.max(1, probationMs));
    }
  }

  /** A peer's gossip state as this node sees it (not for the node itself). */
  gossipState(nodeId: string, nowMs: number): GossipState {
    const peer = this.peers.get(nodeId);
    // A member never heard from is in the node map as DOWN (gossip `gossip_store.go` `updateCluster`).
    if (peer === undefined) return 'DOWN';
    if (this.isAlive(nodeId, nowMs)) return peer.reportedState;
    const fromMs = peer.left?.probationFromMs;
    return fromMs !== undefined && nowMs < fromMs + this.timing.suspectDownProbationMs ? 'SUSPECT_DOWN' : 'DOWN';
  }

  /** The status pxctl shows for a peer in gossip state `state`, and why. */
  status(member: MemberInfo, state: GossipState, nowMs: number): { status: UserStatus; reason: string } {
    if (member.decommissioned) return { status: 'Offline', reason: 'decommissioned' };
    const peer = this.peers.get(member.nodeId);
    if (peer === undefined) return { status: 'Offline', reason: 'never heard from' };
    const silentMs = nowMs - peer.lastHeardMs;
    switch (state) {
      case 'UP':
        return { status: 'Online', reason: '' };
      case 'SUSPECT_NOT_IN_QUORUM':
        return { status: 'Online', reason: 'reports it is losing quorum' };
      case 'NOT_IN_QUORUM':
        return { status: 'Out of Quorum', reason: 'reports it is not in quorum' };
      case 'NEVER_GOSSIPED':
        return { status: 'Offline', reason: 'never heard from' };
      case 'SUSPECT_DOWN':
        return {
          status: 'Offline',
          reason: `silent for ${silentMs} ms and so is its domain ${member.domain}: suspected down (partition?)`,
        };
      case 'DOWN':
        return { status: 'Offline', reason: `silent for ${silentMs} ms` };
    }
  }

  /** Calls `consider` with each member's next peer deadline: suspicion, the end of a SUSPECT_DOWN probation. */
  deadlines(members: readonly MemberInfo[], consider: (atMs: number) => void): void {
    for (const member of members) {
      const peer = this.peers.get(member.nodeId);
      if (peer === undefined) continue;
      consider(peer.lastHeardMs + this.timing.suspectAfterMs);
      const fromMs = peer.left?.probationFromMs;
      if (fromMs !== undefined) consider(fromMs + this.timing.suspectDownProbationMs);
    }
  }
}
