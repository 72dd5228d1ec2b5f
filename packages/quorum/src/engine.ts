import { QuorumInputError } from './errors.js';
import { evaluateQuorum, type QuorumDecision, type QuorumMathInput } from './quorum-math.js';
import { PeerTable } from './peers.js';
import { timingProblems, type QuorumTiming } from './timing.js';
import {
  type ClusterSnapshot,
  type DomainState,
  type GossipState,
  type MemberInfo,
  type NodeView,
  type PartitionClaim,
  type QuorumAction,
  type QuorumInput,
  type QuorumMode,
  type QuorumView,
  type SelfGossipState,
  type UserStatus,
} from './types.js';

export interface QuorumEngineOptions {
  selfId: string;
  mode: QuorumMode;
  timing: QuorumTiming;
}

/** How long after a fault the safe mode's guarantees hold (see the package README). */
export interface SafetyBounds {
  /** Two domains cut off from each other both ways for longer than this: nodes of at most one of them are UP. */
  splitBrainMs: number;
  /** A domain deactivated longer ago than this: all its nodes are Out of Quorum, kvdb reachable or not. */
  inactiveDomainMs: number;
  /** The larger of the two. */
  detectionBoundMs: number;
}

export function safetyBounds(timing: QuorumTiming): SafetyBounds {
  const splitBrainMs = timing.suspectAfterMs + timing.latencyMaxMs;
  const inactiveDomainMs = timing.snapshotFreshnessMs;
  return { splitBrainMs, inactiveDomainMs, detectionBoundMs: Math.max(splitBrainMs, inactiveDomainMs) };
}

const NO_DOMAINS: Readonly<Record<string, DomainState>> = Object.freeze({});
const SELF_STATES: ReadonlySet<string> = new Set(['UP', 'SUSPECT_NOT_IN_QUORUM', 'NOT_IN_QUORUM']);
/** Heartbeats from IDs not (yet) in the membership are remembered up to this many. */
const UNKNOWN_PEERS_MAX = 256;

export function claimKey(domains: readonly [string, string]): string {
  const [first, second] = domains;
  return first < second ? `${first}|${second}` : `${second}|${first}`;
}

function orderedPair(first: string, second: string): readonly [string, string] {
  return first < second ? [first, second] : [second, first];
}

function checkTime(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new QuorumInputError(`${what} must be a time of 0 ms or more, got ${String(value)}`);
  }
  return value;
}

function validateSnapshot(snapshot: ClusterSnapshot): void {
  if (!Number.isSafeInteger(snapshot.revision) || snapshot.revision < 1) {
    throw new QuorumInputError(`snapshot revision must be a whole number of 1 or more, got ${snapshot.revision}`);
  }
  for (const [domain, state] of Object.entries(snapshot.domains)) {
    if (domain === '') throw new QuorumInputError('a domain name must not be empty');
    if (state !== 'Active' && state !== 'Inactive') {
      throw new QuorumInputError(`domain ${domain} has state ${String(state)}; expected Active or Inactive`);
    }
  }
  const seen = new Set<string>();
  for (const member of snapshot.members) {
    if (typeof member.nodeId !== 'string' || member.nodeId === '') {
      throw new QuorumInputError('a member has an empty node ID');
    }
    if (seen.has(member.nodeId)) throw new QuorumInputError(`duplicate node ID ${member.nodeId} in the membership`);
    seen.add(member.nodeId);
    // A member of a domain missing from the map is valid: the reference counts it as inactive
    // (gossip `quorum_failure_domains.go` `isDomainActive`); safe mode counts it conservatively (see `effective`).
  }
  for (const claim of snapshot.claims) {
    const [first, second] = claim.domains;
    if (first === second || !(first in snapshot.domains) || !(second in snapshot.domains)) {
      throw new QuorumInputError(`partition claim ${claimKey(claim.domains)} must name two known, different domains`);
    }
    if (claim.winner !== first && claim.winner !== second) {
      throw new QuorumInputError(
        `partition claim ${claimKey(claim.domains)} has winner ${claim.winner}, not one of its domains`,
      );
    }
  }
}

/**
 * The quorum engine of one node: a pure state machine. It does no I/O, reads no clock, starts no timers and draws
 * no random numbers; `step` takes an input carrying the current time and returns the new view.
 */
export class QuorumEngine {
  readonly selfId: string;
  readonly mode: QuorumMode;
  readonly timing: QuorumTiming;
  readonly bounds: SafetyBounds;
  private nowMs = 0;
  private snapshot: ClusterSnapshot | undefined;
  private snapshotReadStartMs = 0;
  private lastSnapshotError: { atMs: number; error: string } | undefined;
  /** Safe mode: members ever seen, so that a registration that vanishes still counts (hazard H5). */
  private readonly durableMembers = new Map<string, MemberInfo>();
  private readonly peers: PeerTable;
  /** Membership in force, sorted by domain then node ID; rebuilt when a snapshot changes it. */
  private membersCache: MemberInfo[] | undefined;
  private selfState: SelfGossipState = 'NOT_IN_QUORUM';
  private suspectDeadlineMs: number | undefined;
  /** Reference mode: the cluster manager above gossip (openstorage `cluster/manager`); see `stepReference`. */
  private manager: ManagerPhase = { phase: 'waiting', sinceMs: undefined };
  /** Reference mode: joined gossip since the (re)start, i.e. its own domain was seen Active (gossip `proto/gossip.go`). */
  private joinedGossip = false;
  /** Safe mode: since when (snapshot answer time) the own domain has been Active without a break. */
  private ownActiveSinceMs: number | undefined;
  /** Safe mode: since when (snapshot answer time) each domain has been Inactive, and each member decommissioned. */
  private readonly inactiveSinceMs = new Map<string, number>();
  /** Safe mode: since when (snapshot answer time) each domain has been Active without a break. */
  private readonly activeSinceMs = new Map<string, number>();
  private readonly decommissionedSinceMs = new Map<string, number>();
  /** Safe mode: when each claim (by key and revision) was first seen. */
  private readonly claimSeenMs = new Map<string, number>();
  /**
   * Safe mode: by domain pair, a claim another domain won that has gone from the snapshots, and the answer time of the
   * first snapshot without it (its holders may still use it, through older snapshots, for F after its deletion).
   * Bounded by the number of domain pairs.
   */
  private readonly otherClaimGone = new Map<string, { winner: string; atMs: number }>();
  /** Safe mode: since when this node has had a fresh view, an active domain and quorum without a break. */
  private quorumSinceMs: number | undefined;
  /** Safe mode: when each action was last asked for, so that it is repeated only after a refresh period. */
  private readonly actionAskedMs = new Map<string, number>();
  private current: QuorumView;

  constructor(options: QuorumEngineOptions) {
    if (typeof options.selfId !== 'string' || options.selfId === '') {
      throw new QuorumInputError('selfId must be a non-empty node ID');
    }
    if (options.mode !== 'reference' && options.mode !== 'safe') {
      throw new QuorumInputError(`quorum mode must be reference or safe, got ${String(options.mode)}`);
    }
    const problems = timingProblems(options.timing);
    if (options.mode === 'safe' && problems.length > 0) {
      throw new QuorumInputError(`timing rejected in safe mode: ${problems.join('; ')}`);
    }
    this.selfId = options.selfId;
    this.mode = options.mode;
    this.timing = options.timing;
    this.bounds = safetyBounds(options.timing);
    this.peers = new PeerTable(options.selfId, options.timing);
    this.current = this.evaluate();
  }

  view(): QuorumView {
    return this.current;
  }

  step(input: QuorumInput): QuorumView {
    const atMs = checkTime(input.atMs, `${input.type} time`);
    if (atMs < this.nowMs) {
      throw new QuorumInputError(`time went backwards: ${input.type} at ${atMs} ms after ${this.nowMs} ms`);
    }
    if (this.mode === 'reference' && this.manager.phase === 'waiting') this.manager.sinceMs ??= atMs;
    // Reference mode: a node outside gossip (its domain inactive since its start, or restarting) hears nobody.
    if (input.type === 'heartbeat' && !this.hearsGossip()) return this.step({ type: 'tick', atMs });
    const heardAtMs =
      input.type === 'heartbeat' ? Math.min(atMs, checkTime(input.heardAtMs ?? atMs, 'heardAtMs')) : atMs;
    if (input.type === 'heartbeat' && this.routineHeartbeat(input.from, input.peerState, atMs, heardAtMs))
      return this.current;
    if (input.type === 'snapshot' && this.routineSnapshot(input.snapshot, input.readStartMs, atMs)) return this.current;
    switch (input.type) {
      case 'snapshot':
        this.acceptSnapshot(input.snapshot, checkTime(input.readStartMs, 'readStartMs'), atMs);
        break;
      case 'snapshotFailed':
        this.lastSnapshotError = { atMs, error: String(input.error) };
        break;
      case 'heartbeat':
        this.acceptHeartbeat(input.from, input.peerState, heardAtMs);
        break;
      case 'tick':
        break;
      default:
        throw new QuorumInputError(`unknown input type ${String((input as { type?: unknown }).type)}`);
    }
    this.nowMs = atMs;
    this.current = this.evaluate();
    return this.current;
  }

  private acceptSnapshot(snapshot: ClusterSnapshot, readStartMs: number, atMs: number): void {
    if (readStartMs > atMs) {
      throw new QuorumInputError(`a snapshot read cannot start (${readStartMs} ms) after it was answered (${atMs} ms)`);
    }
    validateSnapshot(snapshot);
    if (this.snapshot !== undefined && snapshot.revision < this.snapshot.revision) return; // an overtaken read
    const previousClaims = this.snapshot?.claims ?? [];
    this.snapshot = snapshot;
    this.snapshotReadStartMs = Math.max(
      readStartMs,
      this.snapshot.revision === snapshot.revision ? this.snapshotReadStartMs : 0,
    );
    this.lastSnapshotError = undefined;
    for (const member of snapshot.members) this.durableMembers.set(member.nodeId, member);
    this.membersCache = undefined;
    const selfDomain = this.members().find((member) => member.nodeId === this.selfId)?.domain;
    if (this.mode === 'reference' && this.ownDomainActive()) this.joinedGossip = true;
    if (selfDomain !== undefined && snapshot.domains[selfDomain] === 'Active') {
      this.ownActiveSinceMs ??= atMs;
    } else {
      this.ownActiveSinceMs = undefined;
    }
    for (const [domain, state] of Object.entries(snapshot.domains)) {
      if (state === 'Inactive') {
        if (!this.inactiveSinceMs.has(domain)) this.inactiveSinceMs.set(domain, atMs);
        this.activeSinceMs.delete(domain);
      } else {
        this.inactiveSinceMs.delete(domain);
        if (!this.activeSinceMs.has(domain)) this.activeSinceMs.set(domain, atMs);
      }
    }
    for (const member of snapshot.members) {
      if (member.decommissioned) {
        if (!this.decommissionedSinceMs.has(member.nodeId)) this.decommissionedSinceMs.set(member.nodeId, atMs);
      } else {
        this.decommissionedSinceMs.delete(member.nodeId);
      }
    }
    const ownDomain = this.members().find((member) => member.nodeId === this.selfId)?.domain;
    for (const claim of previousClaims) {
      const stillThere = snapshot.claims.some(
        (other) => claimKey(other.domains) === claimKey(claim.domains) && other.revision === claim.revision,
      );
      if (!stillThere && claim.winner !== ownDomain)
        this.otherClaimGone.set(claimKey(claim.domains), { winner: claim.winner, atMs });
    }
    const liveClaims = new Set<string>();
    for (const claim of snapshot.claims) {
      const key = `${claimKey(claim.domains)}@${claim.revision}`;
      liveClaims.add(key);
      if (!this.claimSeenMs.has(key)) this.claimSeenMs.set(key, atMs);
    }
    for (const key of this.claimSeenMs.keys()) if (!liveClaims.has(key)) this.claimSeenMs.delete(key);
  }

  /**
   * A heartbeat from a member that is alive and reports what it reported before changes no decision: it only moves
   * that peer's suspicion deadline later. Record it and keep the current view; the next evaluation (at the latest at
   * the view's deadline, which the host ticks) sees it. This keeps the cost per heartbeat constant.
   */
  private routineHeartbeat(from: unknown, peerState: unknown, atMs: number, heardAtMs: number): boolean {
    if (typeof from !== 'string') return false;
    const peer = this.peers.get(from);
    if (peer === undefined || peer.reportedState !== peerState || atMs - peer.lastHeardMs >= this.timing.suspectAfterMs)
      return false;
    if (this.current.nextDeadlineMs !== undefined && atMs >= this.current.nextDeadlineMs) return false;
    peer.lastHeardMs = Math.max(peer.lastHeardMs, heardAtMs);
    this.nowMs = atMs;
    return true;
  }

  /**
   * A re-read that finds the same revision, while the view was not blocked on staleness, only makes the view fresher:
   * keep the view; the next evaluation (at the latest at the view's deadline) sees the later read time.
   */
  private routineSnapshot(snapshot: ClusterSnapshot, readStartMs: number, atMs: number): boolean {
    if (
      this.snapshot === undefined ||
      snapshot.revision !== this.snapshot.revision ||
      this.lastSnapshotError !== undefined
    )
      return false;
    if (typeof readStartMs !== 'number' || !(readStartMs >= this.snapshotReadStartMs) || readStartMs > atMs)
      return false;
    if (this.current.nextDeadlineMs !== undefined && atMs >= this.current.nextDeadlineMs) return false;
    if (this.nowMs - this.snapshotReadStartMs >= this.timing.snapshotFreshnessMs) return false;
    this.snapshotReadStartMs = readStartMs;
    this.nowMs = atMs;
    return true;
  }

  private acceptHeartbeat(from: unknown, peerState: unknown, heardAtMs: number): void {
    if (typeof from !== 'string' || from === '') throw new QuorumInputError('a heartbeat has no sender ID');
    if (from === this.selfId) throw new QuorumInputError(`a heartbeat from this node itself (${from})`);
    if (typeof peerState !== 'string' || !SELF_STATES.has(peerState)) {
      throw new QuorumInputError(
        `heartbeat from ${from} reports state ${String(peerState)}; expected UP, SUSPECT_NOT_IN_QUORUM or NOT_IN_QUORUM`,
      );
    }
    const known = this.members().some((member) => member.nodeId === from);
    if (!known && this.peers.get(from) === undefined && this.peers.size >= this.members().length + UNKNOWN_PEERS_MAX)
      return;
    this.peers.heard(from, peerState as SelfGossipState, heardAtMs);
  }

  /** Reference mode: whether this node's own domain is active in its snapshot (no domain map: every domain is). */
  private ownDomainActive(): boolean {
    const domain = this.members().find((member) => member.nodeId === this.selfId)?.domain;
    const domains = this.snapshot?.domains ?? NO_DOMAINS;
    return domain !== undefined && (Object.keys(domains).length === 0 || domains[domain] === 'Active');
  }

  /** Whether heartbeats reach this node: always in safe mode; in reference mode only while it is in gossip. */
  private hearsGossip(): boolean {
    return this.mode === 'safe' || (this.joinedGossip && this.manager.phase !== 'restarting');
  }

  /** Membership in force: the snapshot's, plus (safe mode) members that vanished without being decommissioned. */
  private members(): MemberInfo[] {
    if (this.snapshot === undefined) return [];
    this.membersCache ??= [...(this.mode === 'reference' ? this.snapshot.members : this.durableMembers.values())].sort(
      (left, right) =>
        left.domain === right.domain ? (left.nodeId < right.nodeId ? -1 : 1) : left.domain < right.domain ? -1 : 1,
    );
    return this.membersCache;
  }

  /** Safe mode: whether a change that relaxes the rule (a deactivation, a decommission) seen at `sinceMs` is in force. */
  private settled(sinceMs: number | undefined): boolean {
    return (
      this.mode === 'reference' || (sinceMs !== undefined && this.nowMs >= sinceMs + this.timing.snapshotFreshnessMs)
    );
  }

  /**
   * The domain map and membership the rule is applied to. In safe mode another domain's deactivation and a member's
   * decommission only count once seen for snapshotFreshnessMs: until then the nodes concerned may still be serving on
   * an older snapshot, so they are counted as they were. The own domain's state is always taken as read.
   */
  private effective(
    members: MemberInfo[],
    ownDomain: string | undefined,
  ): {
    members: MemberInfo[];
    domains: Readonly<Record<string, DomainState>>;
    pending: string[];
  } {
    // The snapshot's own map and membership are returned as they are unless something is pending (the usual case).
    const read: Readonly<Record<string, DomainState>> = this.snapshot?.domains ?? NO_DOMAINS;
    let domains = read;
    const pending: string[] = [];
    // Safe mode: a member of a domain missing from the map counts as active for the quorum count (the reference
    // counts it inactive, which relaxes the rule); its own node treats its domain as inactive and does not serve.
    if (this.mode === 'safe' && Object.keys(read).length > 0) {
      for (const member of members) {
        if (member.domain in domains || member.domain === ownDomain) continue;
        if (domains === read) domains = { ...read };
        (domains as Record<string, DomainState>)[member.domain] = 'Active';
      }
    }
    for (const domain in read) {
      if (read[domain] !== 'Inactive' || domain === ownDomain) continue;
      const sinceMs = this.inactiveSinceMs.get(domain);
      if (this.settled(sinceMs)) continue;
      if (domains === read) domains = { ...read };
      (domains as Record<string, DomainState>)[domain] = 'Active';
      pending.push(
        `domain ${domain} was deactivated too recently and counts as active for ${(sinceMs ?? this.nowMs) + this.timing.snapshotFreshnessMs - this.nowMs} ms more`,
      );
    }
    let effectiveMembers = members;
    for (const [index, member] of members.entries()) {
      if (!member.decommissioned) continue;
      const sinceMs = this.decommissionedSinceMs.get(member.nodeId);
      if (this.settled(sinceMs)) continue;
      pending.push(
        `${member.nodeId} was decommissioned too recently and counts for ${(sinceMs ?? this.nowMs) + this.timing.snapshotFreshnessMs - this.nowMs} ms more`,
      );
      if (effectiveMembers === members) effectiveMembers = [...members];
      effectiveMembers[index] = { ...member, decommissioned: false };
    }
    return { members: effectiveMembers, domains, pending };
  }

  /**
   * Safe mode: another domain's activation relaxes the rule for a node that hears that domain (its nodes' votes
   * join), so like a deactivation it takes full effect only once seen for the activation hold. Until then the node
   * must have quorum under the older map too (the recently activated domains counted as Inactive): otherwise a node
   * short of quorum in its own domain could serve the instant it reads the activation, while its domain-mates, not
   * having read it yet, still serve as the majority of the older map. Majorities of the older map meet each other;
   * after the hold every node's map has the activation. Undefined when nothing stands in the way.
   */
  private olderMapProblem(
    members: readonly MemberInfo[],
    domains: Readonly<Record<string, DomainState>>,
    alive: ReadonlySet<string>,
    ownDomain: string | undefined,
  ): string | undefined {
    if (this.mode === 'reference') return undefined;
    let older: Record<string, DomainState> | undefined;
    let latestMs = 0;
    for (const [domain, sinceMs] of this.activeSinceMs) {
      if (domain === ownDomain || domains[domain] !== 'Active') continue;
      const holdUntilMs = this.activationHoldEndsMs(sinceMs);
      if (this.nowMs >= holdUntilMs) continue;
      older ??= { ...domains };
      older[domain] = 'Inactive';
      latestMs = Math.max(latestMs, holdUntilMs);
    }
    if (older === undefined) return undefined;
    const before = this.decide({ selfId: this.selfId, members, domains: older, alive });
    if (before.inQuorum) return undefined;
    const recent = Object.keys(older).filter((domain) => older[domain] !== domains[domain]);
    return (
      `domain ${recent.join(', ')} became active too recently: until ${latestMs - this.nowMs} ms from now this node ` +
      `also needs quorum without it, and sees ${before.up} of ${before.total} (needs ${before.needed})`
    );
  }

  /**
   * Safe mode: while a deactivation or decommission is held back (the node counts it as not yet in force, so that it
   * meets nodes still serving on the older snapshot), the node must also have quorum under the map and membership it
   * read: other nodes whose hold is over count by that map alone, and a majority of the older map need not meet
   * theirs (a node that read the change late would otherwise serve on the older map past their holds). Undefined when
   * nothing stands in the way.
   */
  private newerMapProblem(
    pending: readonly string[],
    allMembers: readonly MemberInfo[],
    alive: ReadonlySet<string>,
  ): string | undefined {
    if (this.mode === 'reference' || pending.length === 0 || this.snapshot === undefined) return undefined;
    const after = this.decide({ selfId: this.selfId, members: allMembers, domains: this.snapshot.domains, alive });
    if (after.inQuorum) return undefined;
    return (
      `${pending.join('; ')}: until then this node also needs quorum with it in force, and sees ${after.up} of ` +
      `${after.total} (needs ${after.needed})`
    );
  }

  private evaluate(): QuorumView {
    if (this.manager.phase === 'restarting' && this.nowMs >= this.manager.untilMs) this.restart();
    const allMembers = this.members();
    this.peers.noteLeft(allMembers, this.snapshot?.domains ?? NO_DOMAINS, this.nowMs);
    this.peers.endProbations(this.nowMs, this.selfState === 'UP');
    const ownDomain = allMembers.find((member) => member.nodeId === this.selfId)?.domain;
    const { members, domains, pending } = this.effective(allMembers, ownDomain);
    const alive = new Set(
      members.filter((member) => this.peers.isAlive(member.nodeId, this.nowMs)).map((member) => member.nodeId),
    );
    const decision = this.decide({ selfId: this.selfId, members, domains, alive });
    const self = members.find((member) => member.nodeId === this.selfId);
    const outcome =
      this.snapshot === undefined || self === undefined
        ? { status: 'Initializing' as const, reason: this.initializingReason(), actions: [] }
        : this.mode === 'reference'
          ? this.stepReference(decision, self)
          : this.stepSafe(
              decision,
              self,
              members,
              alive,
              pending,
              this.olderMapProblem(members, domains, alive, ownDomain) ??
                this.newerMapProblem(pending, allMembers, alive),
            );
    if (outcome.status === 'Initializing') {
      this.selfState = 'NOT_IN_QUORUM';
      this.suspectDeadlineMs = undefined;
    }
    const nodes = this.nodeViews(members, outcome.status, outcome.reason);
    const selfView = nodes.find((node) => node.nodeId === this.selfId) ?? {
      nodeId: this.selfId,
      domain: '',
      gossipState: this.selfGossipState(),
      status: outcome.status,
      reason: outcome.reason,
      lastHeardMs: undefined,
    };
    return {
      nowMs: this.nowMs,
      mode: this.mode,
      self: {
        nodeId: selfView.nodeId,
        domain: selfView.domain,
        gossipState: selfView.gossipState,
        status: selfView.status,
        reason: selfView.reason,
        lastHeardMs: selfView.lastHeardMs,
        serving: outcome.status === 'Online',
        gossiping: this.hearsGossip(),
      },
      nodes,
      quorum: {
        total: decision.total,
        up: decision.up,
        needed: decision.needed,
        activeDomains: decision.activeDomains,
      },
      nextDeadlineMs: this.nextDeadline(members),
      actions: outcome.actions,
      snapshotRevision: this.snapshot?.revision ?? 0,
    };
  }

  private initializingReason(): string {
    if (this.snapshot === undefined) {
      return this.lastSnapshotError === undefined
        ? 'waiting for the first read of the cluster from the kvdb'
        : `waiting for kvdb: ${this.lastSnapshotError.error}`;
    }
    return `node ${this.selfId} is not registered in the cluster yet`;
  }

  private countReason(decision: QuorumDecision): string {
    return `sees ${decision.up} of ${decision.total} active-domain members, needs ${decision.needed}`;
  }

  /**
   * The reference rule, in two layers. Gossip's own state machine (`proto/state/state_*.go`): UP → SUSPECT_NOT_IN_QUORUM
   * when quorum fails, whatever the cause (a deactivation of the own domain too: `state_up.go`
   * `UpdateClusterDomainsActiveMap`), → NOT_IN_QUORUM after quorumTimeoutMs if still short; back to UP once in quorum.
   * Above it the cluster manager (openstorage `cluster/manager/manager.go`): at start it waits for gossip to be UP, at
   * most quorumWaitMs, then gives up (Offline) and the process is restarted (`waitForQuorum`); once running it reports
   * NOT_IN_QUORUM (Out of Quorum, not serving) while gossip is SUSPECT_NOT_IN_QUORUM, whose peers still count this
   * node, and when gossip reaches NOT_IN_QUORUM it shuts its storage down and exits (`notifyListeners`): restarted, it
   * waits for quorum again, with a fresh gossip memory.
   */
  private stepReference(decision: QuorumDecision, self: MemberInfo): Outcome {
    if (this.manager.phase === 'restarting') {
      return {
        status: 'Offline',
        reason: `${this.manager.reason}; the process exits and is restarted in ${this.manager.untilMs - this.nowMs} ms`,
        actions: [],
      };
    }
    this.stepGossip(decision);
    if (this.selfState === 'UP') {
      this.manager = { phase: 'running' };
      return { status: 'Online', reason: '', actions: [] };
    }
    const why = decision.selfDomainInactive ? `domain ${self.domain} is inactive` : this.countReason(decision);
    if (this.manager.phase === 'waiting') {
      const leftMs = (this.manager.sinceMs ?? this.nowMs) + this.timing.quorumWaitMs - this.nowMs;
      if (leftMs > 0) {
        const joined = this.joinedGossip ? '' : ' (not in gossip until its domain is active)';
        return {
          status: 'Out of Quorum',
          reason: `${why}; waiting for quorum${joined}, ${leftMs} ms left`,
          actions: [],
        };
      }
      return this.shutDown(`unable to achieve quorum within ${this.timing.quorumWaitMs} ms`);
    }
    if (this.selfState === 'SUSPECT_NOT_IN_QUORUM' && this.suspectDeadlineMs !== undefined) {
      return {
        status: 'Out of Quorum',
        reason: `${why}; peers still count this node for ${this.suspectDeadlineMs - this.nowMs} ms (quorum timeout), then it shuts down`,
        actions: [],
      };
    }
    return this.shutDown('not in quorum: storage shut down');
  }

  /** Gossip's self state: UP, SUSPECT_NOT_IN_QUORUM (with the quorum timer), NOT_IN_QUORUM. */
  private stepGossip(decision: QuorumDecision): void {
    if (decision.inQuorum) {
      this.selfState = 'UP';
      this.suspectDeadlineMs = undefined;
      return;
    }
    if (this.selfState === 'UP') {
      this.selfState = 'SUSPECT_NOT_IN_QUORUM';
      this.suspectDeadlineMs = this.nowMs + this.timing.quorumTimeoutMs;
    }
    if (this.selfState === 'SUSPECT_NOT_IN_QUORUM' && (this.suspectDeadlineMs ?? 0) <= this.nowMs) {
      this.selfState = 'NOT_IN_QUORUM';
      this.suspectDeadlineMs = undefined;
    }
  }

  /** Reference mode: the process exits (Offline, out of gossip) and its supervisor restarts it a gossip interval later. */
  private shutDown(reason: string): Outcome {
    const restartMs = this.timing.heartbeatIntervalMs;
    this.manager = { phase: 'restarting', untilMs: this.nowMs + restartMs, reason };
    this.selfState = 'NOT_IN_QUORUM';
    this.suspectDeadlineMs = undefined;
    return {
      status: 'Offline',
      reason: `${reason}; the process exits and is restarted in ${restartMs} ms`,
      actions: [],
    };
  }

  /** Reference mode: the restarted process: no gossip memory, NOT_IN_QUORUM, in gossip only if its domain is active. */
  private restart(): void {
    this.peers.clear();
    this.selfState = 'NOT_IN_QUORUM';
    this.suspectDeadlineMs = undefined;
    this.joinedGossip = this.ownDomainActive();
    this.manager = { phase: 'waiting', sinceMs: this.nowMs };
  }

  private selfGossipState(): GossipState {
    return this.manager.phase === 'restarting' ? 'DOWN' : this.selfState;
  }

  /** The safe rule: every condition must hold at this instant, or the node does not serve (see README). */
  private stepSafe(
    decision: QuorumDecision,
    self: MemberInfo,
    members: MemberInfo[],
    alive: ReadonlySet<string>,
    pending: string[],
    olderMapProblem: string | undefined,
  ): Outcome {
    const blocked = (reason: string, actions: QuorumAction[] = []): Outcome => {
      this.selfState = 'NOT_IN_QUORUM';
      return { status: 'Out of Quorum', reason, actions };
    };
    // Until the claims below, every refusal breaks the node's run of fresh, active quorum (see quorumSinceMs).
    const short = (reason: string): Outcome => {
      this.quorumSinceMs = undefined;
      return blocked(reason);
    };
    const freshForMs = this.snapshotReadStartMs + this.timing.snapshotFreshnessMs - this.nowMs;
    if (freshForMs <= 0) {
      const why = this.lastSnapshotError === undefined ? '' : ` (last error: ${this.lastSnapshotError.error})`;
      return short(
        `no fresh view of the domain map: the last good kvdb read was sent ${this.nowMs - this.snapshotReadStartMs} ms ago (limit ${this.timing.snapshotFreshnessMs} ms)${why}`,
      );
    }
    if (decision.selfDomainInactive) return short(`domain ${self.domain} is inactive`);
    const activeSinceMs = this.ownActiveSinceMs ?? this.nowMs;
    const holdUntilMs = this.activationHoldEndsMs(activeSinceMs);
    if (this.nowMs < holdUntilMs) {
      return short(
        `domain ${self.domain} became active ${this.nowMs - activeSinceMs} ms ago; serving in ${holdUntilMs - this.nowMs} ms, once no node can still serve on an older domain map`,
      );
    }
    const pendingText = pending.length === 0 ? '' : ` (${pending.join('; ')})`;
    if (!decision.inQuorum) return short(`${this.countReason(decision)}${pendingText}`);
    if (olderMapProblem !== undefined) return short(olderMapProblem);
    this.quorumSinceMs ??= this.nowMs;

    const claims = this.snapshot?.claims ?? [];
    const actions: QuorumAction[] = [];
    const problems: string[] = [];
    const otherDomains = this.otherDomains(decision, self.domain);
    for (const domain of otherDomains) {
      const domainMembers = members.filter((member) => member.domain === domain && !member.decommissioned);
      if (domainMembers.length === 0) continue;
      const pair = orderedPair(self.domain, domain);
      const claim = claims.find((candidate) => claimKey(candidate.domains) === claimKey(pair));
      const cut = !domainMembers.some((member) => alive.has(member.nodeId));
      if (!cut) {
        if (claim !== undefined && claim.winner === self.domain) {
          this.ask(actions, { type: 'release', domains: pair, winner: self.domain, revision: claim.revision });
        } else if (claim !== undefined) {
          // The other domain claimed the partition: it hears nothing from this one (a one-way cut, since this node
          // hears it). Hearing is not being heard: a one-way cut fails detection both ways, and the loser stops.
          problems.push(`domain ${claim.winner} holds the partition claim (it cannot hear ${self.domain})`);
        } else {
          problems.push(this.releasedClaimProblem(pair));
        }
        continue;
      }
      problems.push(this.claimProblem(self.domain, domain, pair, claim, members, actions));
    }
    const unresolved = problems.filter((problem) => problem !== '');
    if (unresolved.length > 0) return blocked(`${unresolved.join('; ')}${pendingText}`, actions);
    this.selfState = 'UP';
    return { status: 'Online', reason: '', actions };
  }

  /**
   * The other active domains this node must hear or hold a claim over. Domains missing from the map (counted as
   * active for quorum in safe mode) are left out: their nodes do not serve, and a claim must name mapped domains.
   */
  private otherDomains(decision: QuorumDecision, ownDomain: string): string[] {
    const mapped = this.snapshot?.domains ?? NO_DOMAINS;
    const hasMap = Object.keys(mapped).length > 0;
    return decision.activeDomains.filter((domain) => domain !== ownDomain && (!hasMap || domain in mapped));
  }

  /**
   * A claim the other domain won, released: its holders may still use it through snapshots read before the release,
   * until F after it; the loser waits that out ('' when nothing to wait for).
   */
  private releasedClaimProblem(pair: readonly [string, string]): string {
    const gone = this.otherClaimGone.get(claimKey(pair));
    if (gone === undefined) return '';
    const untilMs = gone.atMs + this.timing.snapshotFreshnessMs;
    if (this.nowMs >= untilMs) {
      this.otherClaimGone.delete(claimKey(pair));
      return '';
    }
    return `domain ${gone.winner} released its partition claim; waiting ${untilMs - this.nowMs} ms more, until no node of it can still use the claim`;
  }

  /** What stops this node from serving while `domain` is cut off ('' when a usable claim is held). */
  private claimProblem(
    ownDomain: string,
    domain: string,
    pair: readonly [string, string],
    claim: PartitionClaim | undefined,
    members: MemberInfo[],
    actions: QuorumAction[],
  ): string {
    const cutText = `cannot see any node of active domain ${domain}`;
    if (claim === undefined) {
      // The other domain released its claim (it hears this one again): wait F before claiming in turn, or a heal would
      // hand the claim to this side for a moment and fence the other (which hears it) until it is released again.
      const released = this.releasedClaimProblem(pair);
      if (released !== '') return `${cutText}; ${released}`;
      const lastHeardMs = Math.max(
        0,
        ...members
          .filter((member) => member.domain === domain)
          .map((member) => this.peers.get(member.nodeId)?.lastHeardMs ?? 0),
      );
      // Deaf for suspectAfterMs while in quorum: a node back from a pause or an outage has heard nobody for long, and
      // must listen again before it speaks for its domain (its claim would fence a domain that hears this one).
      const cutSinceMs = Math.max(lastHeardMs, this.quorumSinceMs ?? this.nowMs) + this.timing.suspectAfterMs;
      const witness = members
        .filter((member) => member.domain === ownDomain)
        .every((member) => member.storageless === true);
      // A witness domain lets data domains claim first.
      const claimFromMs = witness ? cutSinceMs + this.timing.snapshotFreshnessMs : cutSinceMs;
      if (this.nowMs >= claimFromMs) this.ask(actions, { type: 'claim', domains: pair, winner: ownDomain });
      return `${cutText}; claiming the partition for ${ownDomain}`;
    }
    if (claim.winner !== ownDomain) return `${cutText}; domain ${claim.winner} holds the partition claim`;
    const seenMs = this.claimSeenMs.get(`${claimKey(pair)}@${claim.revision}`) ?? this.nowMs;
    const usableFromMs = this.claimUsableFromMs(seenMs);
    if (this.nowMs < usableFromMs) return `${cutText}; partition claim won, usable in ${usableFromMs - this.nowMs} ms`;
    return '';
  }

  // The three rules below are protected, and nothing else, so that the simulator's sensitivity test can run engines
  // with one of them deliberately broken (test-only subclasses, in the manner of FoundationDB's BUGGIFY) and show that
  // its random properties catch each. Production code constructs `QuorumEngine` itself.

  /** The quorum rule over what this node sees (`evaluateQuorum`). */
  protected decide(input: QuorumMathInput): QuorumDecision {
    return evaluateQuorum(input);
  }

  /** Safe mode: when the activation hold of an own domain seen Active (without a break) since `activeSinceMs` ends. */
  protected activationHoldEndsMs(activeSinceMs: number): number {
    return activeSinceMs + this.timing.snapshotFreshnessMs;
  }

  /** Safe mode: when a partition claim won by this node's domain, first seen at `seenMs`, becomes usable. */
  protected claimUsableFromMs(seenMs: number): number {
    return seenMs + this.timing.snapshotFreshnessMs;
  }

  private ask(actions: QuorumAction[], action: QuorumAction): void {
    const key = `${action.type}:${claimKey(action.domains)}`;
    const askedMs = this.actionAskedMs.get(key);
    if (askedMs !== undefined && this.nowMs - askedMs < this.timing.snapshotRefreshMs) return;
    this.actionAskedMs.set(key, this.nowMs);
    actions.push(action);
  }

  private nodeViews(members: MemberInfo[], selfStatus: UserStatus, selfReason: string): NodeView[] {
    const views = members.map((member): NodeView => {
      if (member.nodeId === this.selfId) {
        return {
          nodeId: member.nodeId,
          domain: member.domain,
          gossipState: this.selfGossipState(),
          status: selfStatus,
          reason: selfReason,
          lastHeardMs: undefined,
        };
      }
      const gossipState = this.peers.gossipState(member.nodeId, this.nowMs);
      const peer = this.peers.get(member.nodeId);
      const { status, reason } = this.peers.status(member, gossipState, this.nowMs);
      return {
        nodeId: member.nodeId,
        domain: member.domain,
        gossipState,
        status,
        reason,
        lastHeardMs: peer?.lastHeardMs,
      };
    });
    // Already in order: the membership is kept sorted by domain then node ID.
    return views;
  }

  private nextDeadline(members: MemberInfo[]): number | undefined {
    let earliest = Number.POSITIVE_INFINITY;
    const consider = (atMs: number): void => {
      if (atMs > this.nowMs && atMs < earliest) earliest = atMs;
    };
    this.peers.deadlines(members, consider);
    if (this.suspectDeadlineMs !== undefined) consider(this.suspectDeadlineMs);
    if (this.mode === 'reference') {
      if (this.manager.phase === 'restarting') consider(this.manager.untilMs);
      if (this.manager.phase === 'waiting' && this.manager.sinceMs !== undefined)
        consider(this.manager.sinceMs + this.timing.quorumWaitMs);
    }
    if (this.mode === 'safe' && this.snapshot !== undefined) {
      consider(this.snapshotReadStartMs + this.timing.snapshotFreshnessMs);
      if (this.ownActiveSinceMs !== undefined) consider(this.ownActiveSinceMs + this.timing.snapshotFreshnessMs);
      for (const seenMs of this.claimSeenMs.values()) consider(seenMs + this.timing.snapshotFreshnessMs);
      for (const gone of this.otherClaimGone.values()) consider(gone.atMs + this.timing.snapshotFreshnessMs);
      if (this.quorumSinceMs !== undefined) {
        consider(this.quorumSinceMs + this.timing.suspectAfterMs);
        consider(this.quorumSinceMs + this.timing.suspectAfterMs + this.timing.snapshotFreshnessMs);
      }
      for (const sinceMs of this.inactiveSinceMs.values()) consider(sinceMs + this.timing.snapshotFreshnessMs);
      for (const sinceMs of this.activeSinceMs.values()) consider(this.activationHoldEndsMs(sinceMs));
      for (const sinceMs of this.decommissionedSinceMs.values()) consider(sinceMs + this.timing.snapshotFreshnessMs);
      for (const member of members) {
        const peer = this.peers.get(member.nodeId);
        if (peer !== undefined)
          consider(peer.lastHeardMs + this.timing.suspectAfterMs + this.timing.snapshotFreshnessMs);
      }
      for (const askedMs of this.actionAskedMs.values()) consider(askedMs + this.timing.snapshotRefreshMs);
    }
    return earliest === Number.POSITIVE_INFINITY ? undefined : earliest;
  }
}

type ManagerPhase =
  | { phase: 'waiting'; sinceMs: number | undefined }
  | { phase: 'running' }
  | { phase: 'restarting'; untilMs: number; reason: string };

interface Outcome {
  status: UserStatus;
  reason: string;
  actions: QuorumAction[];
}
