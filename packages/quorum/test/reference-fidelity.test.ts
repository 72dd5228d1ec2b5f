import { describe, expect, it } from 'vitest';
import {
  FAST_TIMING,
  QuorumEngine,
  type ClusterSnapshot,
  type DomainState,
  type QuorumTiming,
  type QuorumView,
} from '@pxsim/quorum';

// The reference mode against the sources it follows (libopenstorage/gossip, openstorage cluster/manager), one case
// per rule. FAST_TIMING: suspicion 2,500 ms, quorum timeout 5,000 ms, quorum wait 30,000 ms, probation 5,000 ms,
// gossip interval 500 ms. Transcripts of the same rules in a six-node network: testdata/reference_fidelity.txt.

const NODES = ['a1', 'a2', 'a3', 'b1', 'b2', 'b3'];

function cluster(
  domains: Record<string, DomainState> = { 'us-east-1a': 'Active', 'us-east-1b': 'Active' },
  revision = 2,
  nodes = NODES,
): ClusterSnapshot {
  return {
    revision,
    members: nodes.map((nodeId) => ({
      nodeId,
      domain: nodeId.startsWith('a') ? 'us-east-1a' : nodeId.startsWith('b') ? 'us-east-1b' : 'eu-west-1',
      quorumMember: true,
      decommissioned: false,
    })),
    domains,
    claims: [],
  };
}

/** One reference engine for a1, fed snapshots and the heartbeats of `alive` every gossip interval. */
class Driver {
  readonly engine: QuorumEngine;
  nowMs = 0;
  snapshot = cluster();
  alive = new Set(NODES.filter((node) => node !== 'a1'));

  constructor(timing: QuorumTiming = FAST_TIMING) {
    this.engine = new QuorumEngine({ selfId: 'a1', mode: 'reference', timing });
  }

  /** Runs until `untilMs`: a read and the heartbeats of every live peer each 500 ms, ticks at deadlines. */
  run(untilMs: number): QuorumView {
    let view = this.engine.view();
    while (this.nowMs < untilMs) {
      const nextMs = Math.min(untilMs, this.nowMs + 500 - (this.nowMs % 500), view.nextDeadlineMs ?? untilMs);
      this.nowMs = Math.max(nextMs, this.nowMs + 1);
      if (this.nowMs % 500 === 0) {
        view = this.engine.step({
          type: 'snapshot',
          atMs: this.nowMs,
          readStartMs: this.nowMs,
          snapshot: this.snapshot,
        });
        for (const from of this.alive)
          view = this.engine.step({ type: 'heartbeat', atMs: this.nowMs, from, peerState: 'UP' });
      } else {
        view = this.engine.step({ type: 'tick', atMs: this.nowMs });
      }
    }
    return view;
  }
}

const peer = (view: QuorumView, nodeId: string) => view.nodes.find((node) => node.nodeId === nodeId);

describe('reference mode follows the reference', () => {
  it('SUSPECT_NOT_IN_QUORUM: the cluster manager reports Out of Quorum (not serving) while gossip keeps its grace period', () => {
    // openstorage cluster/manager/manager.go notifyListeners: gossip SUSPECT_NOT_IN_QUORUM -> Status_NOT_IN_QUORUM.
    const driver = new Driver();
    expect(driver.run(2000).self.status).toBe('Online');
    driver.alive = new Set(['a2', 'a3']);
    const view = driver.run(2000 + FAST_TIMING.suspectAfterMs + 600);
    expect(view.self.gossipState).toBe('SUSPECT_NOT_IN_QUORUM');
    expect(view.self.status).toBe('Out of Quorum');
    expect(view.self.serving).toBe(false);
    expect(view.self.gossiping).toBe(true);
    expect(view.self.reason).toMatch(
      /; peers still count this node for \d+ ms \(quorum timeout\), then it shuts down$/,
    );
    // What its peers make of it: a SUSPECT_NOT_IN_QUORUM heartbeat counts as alive (quorum_failure_domains.go).
    const other = new QuorumEngine({ selfId: 'b1', mode: 'reference', timing: FAST_TIMING });
    other.step({ type: 'snapshot', atMs: 1, readStartMs: 0, snapshot: cluster() });
    const seen = other.step({ type: 'heartbeat', atMs: 2, from: 'a1', peerState: 'SUSPECT_NOT_IN_QUORUM' });
    expect(seen.quorum.up).toBe(2);
  });

  it('NOT_IN_QUORUM: shuts down and exits; restarted, it waits for quorum, then gives up Offline and restarts again', () => {
    // manager.go notifyListeners ("Not in quorum. Gracefully shutting down...") and waitForQuorum (600 x 2 s).
    const driver = new Driver();
    driver.run(2000);
    driver.alive = new Set(['a2', 'a3']);
    const suspectFromMs = 2000 + FAST_TIMING.suspectAfterMs;
    const down = driver.run(suspectFromMs + FAST_TIMING.quorumTimeoutMs + 250);
    expect(down.self).toMatchObject({ gossipState: 'DOWN', status: 'Offline', serving: false, gossiping: false });
    expect(down.self.reason).toMatch(
      /^not in quorum: storage shut down; the process exits and is restarted in \d+ ms$/,
    );
    const restarted = driver.run(driver.nowMs + 500);
    expect(restarted.self).toMatchObject({ gossipState: 'NOT_IN_QUORUM', status: 'Out of Quorum', gossiping: true });
    expect(restarted.self.reason).toMatch(/waiting for quorum, \d+ ms left$/);
    // A fresh process: the peers it has not heard since are DOWN, "never heard from" (gossip_store.go).
    expect(peer(restarted, 'b1')).toMatchObject({ gossipState: 'DOWN', reason: 'never heard from' });
    const gaveUp = driver.run(driver.nowMs + FAST_TIMING.quorumWaitMs);
    expect(gaveUp.self).toMatchObject({ gossipState: 'DOWN', status: 'Offline', gossiping: false });
    expect(gaveUp.self.reason).toMatch(/^unable to achieve quorum within 30000 ms; /);
    driver.alive = new Set(NODES.filter((node) => node !== 'a1'));
    expect(driver.run(driver.nowMs + 2000).self.status).toBe('Online');
  });

  it('own domain deactivated while UP: SUSPECT_NOT_IN_QUORUM and the quorum timer, not NOT_IN_QUORUM at once', () => {
    // gossip proto/state/state_up.go UpdateClusterDomainsActiveMap -> GetSuspectNotInQuorum.
    const driver = new Driver();
    driver.run(2000);
    driver.snapshot = cluster({ 'us-east-1a': 'Inactive', 'us-east-1b': 'Active' }, 3);
    const suspect = driver.run(2500);
    expect(suspect.self).toMatchObject({ gossipState: 'SUSPECT_NOT_IN_QUORUM', status: 'Out of Quorum' });
    expect(suspect.self.reason).toMatch(/^domain us-east-1a is inactive; peers still count this node/);
    expect(driver.run(2500 + FAST_TIMING.quorumTimeoutMs - 100).self.gossipState).toBe('SUSPECT_NOT_IN_QUORUM');
    expect(driver.run(2500 + FAST_TIMING.quorumTimeoutMs).self.gossipState).toBe('DOWN');
    // Restarted with its domain inactive: it stays out of gossip (next case) and waits.
    const restarted = driver.run(driver.nowMs + 600);
    expect(restarted.self).toMatchObject({ gossipState: 'NOT_IN_QUORUM', gossiping: false });
  });

  it('a node whose domain is inactive at start does not gossip, and hears nobody, until the domain is activated', () => {
    // gossip proto/gossip.go Start (no memberlist while the own domain is inactive) and UpdateClusterDomainsActiveMap.
    const driver = new Driver();
    driver.snapshot = cluster({ 'us-east-1a': 'Inactive', 'us-east-1b': 'Active' });
    const out = driver.run(3000);
    expect(out.self).toMatchObject({ status: 'Out of Quorum', gossiping: false });
    expect(out.self.reason).toMatch(
      /^domain us-east-1a is inactive; waiting for quorum \(not in gossip until its domain is active\)/,
    );
    expect(peer(out, 'b1')).toMatchObject({ gossipState: 'DOWN', reason: 'never heard from' });
    driver.snapshot = cluster(undefined, 3);
    const joined = driver.run(3500);
    expect(joined.self).toMatchObject({ gossipState: 'UP', status: 'Online', gossiping: true });
  });

  it('SUSPECT_DOWN probation: renewed while this node is not UP; a peer of an inactive domain that leaves is DOWN at once', () => {
    // gossip proto/gossip_delegates.go probationExpiredOnSuspectedDownNode and isClusterDomainSuspectDown.
    // A quorum timeout longer than the probation, so that a1 is still SUSPECT_NOT_IN_QUORUM when the probation ends.
    const driver = new Driver({ ...FAST_TIMING, quorumTimeoutMs: 20_000 });
    driver.run(2000);
    driver.alive = new Set(['a2', 'a3']); // all of us-east-1b goes silent: a partition, not dead nodes
    const leftAtMs = 2000 + FAST_TIMING.suspectAfterMs; // about; a1 itself is SUSPECT_NOT_IN_QUORUM from then on
    const suspect = driver.run(leftAtMs + 600);
    expect(peer(suspect, 'b1')?.gossipState).toBe('SUSPECT_DOWN');
    // The probation ends while a1 is not UP: back on probation (it would be DOWN after 5,000 ms otherwise).
    const renewed = driver.run(leftAtMs + FAST_TIMING.suspectDownProbationMs + 600);
    expect(renewed.self.gossipState).not.toBe('UP');
    expect(peer(renewed, 'b1')?.gossipState).toBe('SUSPECT_DOWN');
    // A node UP when the probation ends marks the peer DOWN: us-east-1b deactivated, a1 has quorum again.
    const up = new Driver();
    up.run(2000);
    up.snapshot = cluster({ 'us-east-1a': 'Active', 'us-east-1b': 'Inactive' }, 3);
    up.alive = new Set(['a2', 'a3']);
    const inactiveLeft = up.run(2000 + FAST_TIMING.suspectAfterMs + 600);
    expect(inactiveLeft.self.gossipState).toBe('UP');
    expect(peer(inactiveLeft, 'b1')?.gossipState).toBe('DOWN');
  });

  it('a member whose domain is missing from the map counts as inactive (reference) and towards total (safe)', () => {
    // gossip proto/state/quorum_failure_domains.go isDomainActive: a domain absent from the active map is inactive.
    const withStranger = cluster(undefined, 2, [...NODES, 'x1', 'x2', 'x3']);
    const reference = new QuorumEngine({ selfId: 'a1', mode: 'reference', timing: FAST_TIMING });
    expect(reference.step({ type: 'snapshot', atMs: 1, readStartMs: 0, snapshot: withStranger }).quorum.total).toBe(6);
    // Safe mode counts it (the stricter reading): three more members, none heard.
    const safe = new QuorumEngine({ selfId: 'a1', mode: 'safe', timing: FAST_TIMING });
    expect(safe.step({ type: 'snapshot', atMs: 1, readStartMs: 0, snapshot: withStranger }).quorum.total).toBe(9);
    // And its own nodes treat their domain as inactive.
    const stranger = new QuorumEngine({ selfId: 'x1', mode: 'safe', timing: FAST_TIMING });
    const view = stranger.step({ type: 'snapshot', atMs: 1, readStartMs: 0, snapshot: withStranger });
    expect(view.self.reason).toBe('domain eu-west-1 is inactive');
  });
});
