import type { QuorumTiming } from './timing.js';
import type { GossipState, MemberInfo, SelfGossipState, UserStatus } from './types.js';

export interface PeerRecord {
  lastHeardMs: number;
  reportedState: SelfGossipState;
  /** Set when the peer was first seen silent for suspectAfterMs. */
  left: { atMs: number; domainMatesAlive: boolean } | undefined;
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

  /** Records, for every peer that has just gone silent, whether its domain-mates still answer (the reference's pings). */
  noteLeft(members: readonly MemberInfo[], nowMs: number): void {
    for (const [nodeId, peer] of this.peers) {
      if (peer.left !== undefined || this.isAlive(nodeId, nowMs)) continue;
      const domain = members.find((member) => member.nodeId === nodeId)?.domain;
      const domainMatesAlive = members.some(
        (member) =>
          member.domain === domain &&
          member.nodeId !== nodeId &&
          member.nodeId !== this.selfId &&
          this.isAlive(member.nodeId, nowMs),
      );
      peer.left = { atMs: peer.lastHeardMs + this.timing.suspectAfterMs, domainMatesAlive };
    }
  }

  /** A peer's gossip state as this node sees it (not for the node itself). */
  gossipState(nodeId: string, nowMs: number): GossipState {
    const peer = this.peers.get(nodeId);
    if (peer === undefined) return 'NEVER_GOSSIPED';
    if (this.isAlive(nodeId, nowMs)) return peer.reportedState;
    if (peer.left === undefined || peer.left.domainMatesAlive) return 'DOWN';
    return nowMs < peer.left.atMs + this.timing.suspectDownProbationMs ? 'SUSPECT_DOWN' : 'DOWN';
  }

  /** The status pxctl shows for a peer in gossip state `state`, and why. */
  status(member: MemberInfo, state: GossipState, nowMs: number): { status: UserStatus; reason: string } {
    if (member.decommissioned) return { status: 'Offline', reason: 'decommissioned' };
    const silentMs = nowMs - (this.peers.get(member.nodeId)?.lastHeardMs ?? 0);
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
      if (peer.left !== undefined && !peer.left.domainMatesAlive)
        consider(peer.left.atMs + this.timing.suspectDownProbationMs);
    }
  }
}
