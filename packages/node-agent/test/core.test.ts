import { describe, expect, it } from 'vitest';
import type { KeyValue } from '@pxsim/kvdb-client';
import { timingProfile } from '@pxsim/quorum';
import {
  AgentCore,
  decodeFrame,
  clusterTagOf,
  encodeFrame,
  frameKey,
  FRAME_TAG_BYTES,
  validateConfig,
  type AgentInput,
  type AgentReady,
} from '@pxsim/node-agent';

/** The pure core alone: inputs in, `AgentReady` values out; no runtime, no clock, no kvdb. */

const SELF = 'node-a1';
const PEER = 'node-a2';
/** A fixed heartbeat secret (a test's: a cluster's comes from newFrameSecret). */
const SECRET = 'dGVzdC1zZWNyZXQtZm9yLWhlYXJ0YmVhdC10YWdzLTMy';

function makeCore(): AgentCore {
  const config = validateConfig({
    clusterId: 'px-dr-cluster',
    kvdb: 'mem://core-test',
    clusterDomain: 'us-east-1a',
    ip: '127.0.1.1',
    apiPort: 9001,
    heartbeatPort: 9002,
    replicationPort: 9003,
    dataDir: '/virtual/core-test',
    schedulerNodeName: 'ip-127-0-1-1',
    poolCapacityGiB: 1,
    version: '2.1.0.0-pxsim',
    quorumMode: 'safe',
    timingProfile: 'fast',
    adminToken: 'core-test-token',
    storageless: false,
  });
  const core = new AgentCore({
    config,
    nodeId: SELF,
    timing: timingProfile('fast'),
    random: () => 0.5,
    kvdbDescription: 'mem://core-test',
  });
  core.eventsWanted = true;
  return core;
}

let revision = 0;
function kv(key: string, value: unknown): KeyValue {
  revision += 1;
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return { key, value: text, createRevision: revision, modRevision: revision, version: 1 };
}

function node(id: string, ip: string): KeyValue {
  return kv(`cluster/nodes/${id}`, {
    id,
    clusterId: 'px-dr-cluster',
    schedulerNodeName: `ip-${ip}`,
    mgmtIp: ip,
    dataIp: ip,
    apiPort: 9001,
    heartbeatPort: 9002,
    replicationPort: 9003,
    genNumber: 1,
    startTimeMs: 0,
    hostname: `ip-${ip}`,
    clusterDomain: 'us-east-1a',
    nonQuorumMember: false,
    storageless: false,
    poolCapacityBytes: 1024,
    poolUsedBytes: 0,
    version: '2.1.0.0-pxsim',
    decommissioned: false,
  });
}

const CLUSTER: KeyValue[] = [
  kv('cluster/info', { clusterId: 'px-dr-cluster', clusterUuid: 'uuid-1', createdAtMs: 0, heartbeatSecret: SECRET }),
  kv('cluster/domains/us-east-1a', { name: 'us-east-1a', state: 'Active', updatedAtMs: 0 }),
  node(SELF, '127.0.1.1'),
  node(PEER, '127.0.1.2'),
];

/** One line per thing the ready value asks for, in the order the shell performs them. */
function describeReady(ready: AgentReady): string[] {
  const lines: string[] = [];
  if (ready.tickAtMs !== undefined) lines.push(`tick at ${ready.tickAtMs}`);
  for (const op of ready.kvdbOps ?? []) lines.push(`kvdb ${op.type} ${op.domains.join('|')}`);
  if (ready.frame !== undefined) {
    const decoded = decodeFrame(ready.frame.bytes, frameKey(SECRET));
    const what = decoded.ok ? `${decoded.frame.state} seq ${decoded.frame.sequence}` : decoded.problem;
    lines.push(`frame ${what} to ${ready.frame.to.map((to) => `${to.ip}:${to.port}`).join(',')}`);
  }
  for (const log of ready.logs ?? []) lines.push(`log ${log.level} ${log.message}`);
  for (const event of ready.events ?? []) {
    if (event.type === 'phase') lines.push(`event phase ${event.phase} (${event.reason})`);
    else if (event.type === 'node-status')
      lines.push(`event ${event.nodeId} ${event.from} -> ${event.to} (${event.reason})`);
    else lines.push(`event domain ${event.domain} ${event.from} -> ${event.to}`);
  }
  if (ready.joinInMs !== undefined) lines.push(`join in ${ready.joinInMs}`);
  if (ready.runLoopsFirstHeartbeatInMs !== undefined)
    lines.push(`run loops, first heartbeat in ${ready.runLoopsFirstHeartbeatInMs}`);
  if (ready.aliveClaimInMs !== undefined) lines.push(`claim alive in ${ready.aliveClaimInMs}`);
  if (ready.fatal !== undefined) lines.push(`fatal ${ready.fatal}`);
  return lines;
}

/** Steps the core through the inputs and returns the transcript: each input, then what it asked for. */
function transcript(core: AgentCore, inputs: AgentInput[]): string {
  const lines: string[] = [];
  for (const input of inputs) {
    const { type, atMs } = input;
    lines.push(`> ${type} @${atMs}`);
    for (const line of describeReady(core.step(input))) lines.push(`  ${line}`);
  }
  return lines.join('\n');
}

function frameFrom(nodeId: string, sequence: number, sentAtMs: number): Uint8Array {
  return encodeFrame(
    { v: 2, clusterTag: clusterTagOf('px-dr-cluster'), nodeId, generation: 1, sequence, sentAtMs, state: 'UP' },
    frameKey(SECRET),
  );
}

/** Runs the core with its peer heard every 250 ms and the cluster read every 500 ms, up to `untilMs`. */
/** The peer heartbeats every 250 ms (its sequence number is the send time, so it only grows across calls). */
function formCluster(core: AgentCore, fromMs: number, untilMs: number): void {
  for (let atMs = fromMs; atMs <= untilMs; atMs += 250) {
    core.step({ type: 'frame', atMs, bytes: frameFrom(PEER, atMs, atMs) });
    if (atMs % 500 === 0) core.step({ type: 'read', atMs, readStartMs: atMs, revision: 4, kvs: CLUSTER });
  }
}

function running(core: AgentCore): void {
  core.step({ type: 'started', atMs: 0, kvdbDescription: 'mem://core-test' });
  core.step({ type: 'joined', atMs: 10, generation: 1, usedBytes: 0 });
}

describe('AgentCore (pure: inputs in, AgentReady out)', () => {
  it('joins: retries with a doubling backoff, then runs, reads the cluster, heartbeats and hears a peer', () => {
    const core = makeCore();
    expect(
      transcript(core, [
        { type: 'started', atMs: 0, kvdbDescription: 'mem://core-test' },
        { type: 'joinFailed', atMs: 5, error: 'connection refused', predecessorLive: false },
        { type: 'joinFailed', atMs: 230, error: 'connection refused', predecessorLive: false },
        { type: 'joinFailed', atMs: 700, error: 'waiting for the previous agent', predecessorLive: true },
        { type: 'joined', atMs: 1600, generation: 2, usedBytes: 4096 },
        { type: 'read', atMs: 1610, readStartMs: 1600, revision: 4, kvs: CLUSTER },
        { type: 'heartbeatDue', atMs: 1850 },
        { type: 'frame', atMs: 1900, bytes: frameFrom(PEER, 1, 1899) },
        { type: 'frame', atMs: 2400, bytes: frameFrom(PEER, 2, 2399) },
        { type: 'read', atMs: 2410, readStartMs: 2400, revision: 4, kvs: CLUSTER },
      ]),
    ).toMatchInlineSnapshot(`
      "> started @0
        event phase waiting for kvdb (connecting to mem://core-test)
        join in 0
      > joinFailed @5
        event phase waiting for kvdb (waiting for kvdb: connection refused)
        join in 220
      > joinFailed @230
        join in 440
      > joinFailed @700
        event phase waiting for kvdb (waiting for the previous agent)
        join in 880
      > joined @1600
        event phase running ()
        run loops, first heartbeat in 250
      > read @1610
        tick at 4600
        event domain us-east-1a Unknown -> Active
        event node-a1 Unknown -> Out of Quorum (domain us-east-1a became active 0 ms ago; serving in 3000 ms, once no node can still serve on an older domain map)
        event node-a2 Unknown -> Offline (never heard from)
      > heartbeatDue @1850
        frame NOT_IN_QUORUM seq 0 to 127.0.1.2:9002
      > frame @1900
        tick at 4350
        event node-a2 Offline -> Online ()
      > frame @2400
      > read @2410"
    `);
  });

  it('says Initializing for this node until it runs (the rule is written once), and the engine verdict after', () => {
    const core = makeCore();
    expect(core.status(0).node).toMatchObject({ status: 'Initializing', serving: false, reason: '' });
    core.step({ type: 'started', atMs: 0, kvdbDescription: 'mem://core-test' });
    core.step({ type: 'read', atMs: 5, readStartMs: 1, revision: 4, kvs: CLUSTER });
    const waiting = core.status(5);
    expect(waiting.node).toMatchObject({ status: 'Initializing', reason: 'connecting to mem://core-test' });
    expect(waiting.nodes.find((entry) => entry.thisNode)).toMatchObject({
      status: 'Initializing',
      reason: 'connecting to mem://core-test',
    });
    core.step({ type: 'joined', atMs: 10, generation: 1, usedBytes: 0 });
    const joined = core.status(10);
    expect(joined.node.status).not.toBe('Initializing');
    expect(joined.nodes.find((entry) => entry.thisNode)?.status).toBe(joined.node.status);
  });

  it('keeps the status snapshot while nothing changed, and rebuilds only the parts a change touches', () => {
    const core = makeCore();
    running(core);
    core.step({ type: 'read', atMs: 20, readStartMs: 15, revision: 4, kvs: CLUSTER });
    core.step({ type: 'frame', atMs: 30, bytes: frameFrom(PEER, 1, 29) });
    const first = core.status(30);
    expect(core.status(31)).toBe(first); // nothing changed: the very same snapshot
    core.step({ type: 'frame', atMs: 40, bytes: frameFrom(PEER, 2, 39) }); // a routine heartbeat: only counters move
    const second = core.status(40);
    expect(second).not.toBe(first);
    expect(second.counters.framesReceived).toBe(first.counters.framesReceived + 1);
    expect(second.node).toBe(first.node);
    expect(second.nodes).toBe(first.nodes);
    expect(second.cluster).toBe(first.cluster);
    expect(second.domains).toBe(first.domains);
    expect(first.counters.framesReceived).toBe(1); // an earlier snapshot never changes
  });

  it('keeps the shown parts through an engine evaluation that shows nothing new; statusRevision moves on rebuilds only', () => {
    const core = makeCore();
    running(core);
    formCluster(core, 500, 12_000); // formed: both Online, no reason counting down
    const first = core.status(12_000);
    expect(first.node.serving).toBe(true);
    const revision = core.statusRevision;
    core.step({ type: 'frame', atMs: 12_100, bytes: frameFrom(PEER, 12_100, 12_099) }); // routine: counters only
    expect(core.statusRevision).toBe(revision);
    core.step({ type: 'tick', atMs: 12_110 }); // the engine evaluates again: a fresh view, the same verdicts
    expect(core.statusRevision).not.toBe(revision);
    const second = core.status(12_110);
    expect(core.statusRevision).not.toBe(revision);
    expect(second.nodes).toBe(first.nodes);
    expect(second.node).toBe(first.node);
    expect(second.quorum).toBe(first.quorum);
    expect(core.write(100).ok).toBe(true); // the used bytes move: this node's entries are new, its peer's shared
    const third = core.status(12_111);
    expect(third.node.usedBytes).toBe(100);
    expect(third.nodes.find((entry) => entry.thisNode)?.usedBytes).toBe(100);
    expect(third.nodes.find((entry) => !entry.thisNode)).toBe(first.nodes.find((entry) => !entry.thisNode));
  });

  it('drops and counts frames without the cluster key or replaying one accepted; sends and accepts none before the key', () => {
    const core = makeCore();
    running(core);
    // No cluster read yet: no key, so the core sends no heartbeat and accepts no frame.
    expect(core.step({ type: 'heartbeatDue', atMs: 15 }).frame).toBeUndefined();
    core.step({ type: 'frame', atMs: 16, bytes: frameFrom(PEER, 1, 16) });
    expect(core.status(16).counters).toMatchObject({ framesReceived: 0, framesUnauthenticated: 1 });
    core.step({ type: 'read', atMs: 20, readStartMs: 15, revision: 4, kvs: CLUSTER });
    const genuine = frameFrom(PEER, 2, 29);
    core.step({ type: 'frame', atMs: 30, bytes: genuine });
    core.step({ type: 'frame', atMs: 31, bytes: Uint8Array.from(genuine) }); // replayed
    const forgedFields = {
      v: 2,
      clusterTag: clusterTagOf('px-dr-cluster'),
      nodeId: PEER,
      generation: 1,
      sentAtMs: 40,
    } as const;
    const wrongKey = frameKey('b3RoZXItc2VjcmV0LW90aGVyLXNlY3JldC1vdGhlci0x');
    core.step({ type: 'frame', atMs: 40, bytes: encodeFrame({ ...forgedFields, sequence: 9, state: 'UP' }, wrongKey) });
    const untagged = frameFrom(PEER, 10, 41).subarray(0, -FRAME_TAG_BYTES);
    core.step({ type: 'frame', atMs: 41, bytes: Uint8Array.from([...untagged, ...new Uint8Array(FRAME_TAG_BYTES)]) });
    expect(core.status(41).counters).toMatchObject({ framesReceived: 1, framesUnauthenticated: 4, framesDropped: 0 });
    core.step({ type: 'frame', atMs: 50, bytes: frameFrom(PEER, 3, 49) }); // the next genuine one is accepted
    expect(core.status(50).counters).toMatchObject({ framesReceived: 2, framesUnauthenticated: 4 });
    const statusText = JSON.stringify(core.status(50));
    expect(statusText).not.toContain(SECRET);
  });

  it('keeps a peer Offline whose frames are forged, and Online whose frames are genuine', () => {
    const forged = makeCore();
    running(forged);
    const genuine = makeCore();
    running(genuine);
    const wrongKey = frameKey('b3RoZXItc2VjcmV0LW90aGVyLXNlY3JldC1vdGhlci0x');
    for (let atMs = 500, sequence = 1; atMs <= 12_000; atMs += 250, sequence++) {
      const fields = {
        v: 2,
        clusterTag: clusterTagOf('px-dr-cluster'),
        nodeId: PEER,
        generation: 1,
        sequence,
        sentAtMs: atMs,
      } as const;
      forged.step({ type: 'frame', atMs, bytes: encodeFrame({ ...fields, state: 'UP' }, wrongKey) });
      genuine.step({ type: 'frame', atMs, bytes: frameFrom(PEER, sequence, atMs) });
      for (const core of [forged, genuine])
        if (atMs % 500 === 0) core.step({ type: 'read', atMs, readStartMs: atMs, revision: 4, kvs: CLUSTER });
    }
    const peerIn = (core: AgentCore) => core.status(12_000).nodes.find((node) => node.id === PEER)?.status;
    expect(peerIn(genuine)).toBe('Online');
    expect(peerIn(forged)).toBe('Offline');
    expect(forged.status(12_000).counters.framesReceived).toBe(0);
  });

  it('answers writes by the serving verdict: NOT_READY before running, FENCED out of quorum, POOL_FULL past capacity', () => {
    const core = makeCore();
    expect(core.write(1)).toMatchObject({ ok: false, code: 'NOT_READY', reason: 'starting' });
    running(core);
    expect(core.write(1)).toMatchObject({ ok: false, code: 'FENCED' });
    formCluster(core, 500, 12_000);
    expect(core.status(12_000).node.serving).toBe(true);
    const before = core.status(12_000);
    expect(core.write(4096)).toEqual({ ok: true, usedBytes: 4096 });
    expect(core.status(12_000).node.usedBytes).toBe(4096);
    expect(before.node.usedBytes).toBe(0);
    expect(core.write(2 * 1024 ** 3)).toMatchObject({ ok: false, code: 'POOL_FULL' });
  });

  it('builds the same status from remembered parts (read after every input) as from scratch (read once at the end)', () => {
    const watched = makeCore();
    const fresh = makeCore();
    for (const core of [watched, fresh]) running(core);
    const inputs = (atMs: number): AgentInput[] => [
      { type: 'frame', atMs, bytes: frameFrom(PEER, atMs, atMs) },
      { type: 'read', atMs, readStartMs: atMs, revision: 4, kvs: CLUSTER },
      { type: 'tick', atMs: atMs + 1 },
    ];
    for (let atMs = 500; atMs <= 14_000; atMs += 500) {
      for (const input of inputs(atMs)) {
        watched.step(input);
        fresh.step(input);
        watched.status(input.atMs);
      }
      // Writes move this node's used bytes only (the builder patches that entry); a frame moves only counters.
      for (const core of [watched, fresh]) core.write(1000 + atMs);
      watched.status(atMs + 1);
    }
    expect(watched.status(14_001)).toEqual(fresh.status(14_001));
    expect(watched.status(14_001).node.usedBytes).toBeGreaterThan(0);
    expect(watched.status(14_001).nodes.find((node) => node.thisNode)?.usedBytes).toBe(
      watched.status(14_001).node.usedBytes,
    );
  });

  it('advances to now before serving: a paused agent refuses writes and reports the stale view at once', () => {
    const core = makeCore();
    running(core);
    formCluster(core, 500, 12_000);
    expect(core.status(12_000).node.serving).toBe(true);
    const pausedUntilMs = 12_000 + 15_000; // SIGSTOP for 15 s: no input, no timer fired
    // Without advancing, the core still holds the view of before the pause (what the shell must never serve on).
    expect(core.write(1)).toMatchObject({ ok: true });
    const ready = core.advance(pausedUntilMs);
    expect(describeReady(ready)).toEqual([
      `log warn no input for 15000 ms (the process was paused or its clock jumped): the view is stale until a kvdb read sent after ${pausedUntilMs} ms; frames before ${pausedUntilMs + 1000} ms are not counted`,
      expect.stringMatching(/^event node-a1 Online -> Out of Quorum \(no fresh view of the domain map: .*paused/),
      `event node-a2 Online -> Offline (silent for 15250 ms)`,
    ]);
    expect(core.write(1)).toMatchObject({ ok: false, code: 'FENCED' });
    const status = core.status(pausedUntilMs);
    expect(status.node).toMatchObject({ serving: false, status: 'Out of Quorum' });
    expect(status.quorum.up).toBe(1);
    expect(core.advance(pausedUntilMs)).toBe(AgentCore.NOTHING); // nothing due: cheap
    // Frames queued during the pause and a read sent before it do not make the view fresh again.
    core.step({ type: 'frame', atMs: pausedUntilMs + 1, bytes: frameFrom(PEER, 900, 20_000) });
    core.step({ type: 'read', atMs: pausedUntilMs + 2, readStartMs: 11_999, revision: 4, kvs: CLUSTER });
    expect(core.write(1)).toMatchObject({ ok: false, code: 'FENCED' });
    expect(core.status(pausedUntilMs + 2).quorum.up).toBe(1);
    // A fresh read alone is not enough while the frames may still be old ones (up to heartbeat + latency bound).
    formCluster(core, pausedUntilMs + 500, pausedUntilMs + 750);
    expect(core.status(pausedUntilMs + 750).quorum.up).toBe(1);
    expect(core.write(1)).toMatchObject({ ok: false, code: 'FENCED' });
    // A read sent after the pause and heartbeats after the drain let it serve again.
    formCluster(core, pausedUntilMs + 1000, pausedUntilMs + 1500);
    expect(core.status(pausedUntilMs + 1500).node.serving).toBe(true);
  });

  it('steps a due deadline before reporting, even when its tick timer has not fired yet', () => {
    const core = makeCore();
    running(core);
    formCluster(core, 500, 12_000);
    // The peer's suspicion deadline (suspectAfterMs after its last frame, at 12,000 ms, which shows it alive as of the
    // core's previous input, at 11,750 ms: the frame may have waited in the socket since then).
    const deadlineMs = 11_750 + 2500;
    core.step({ type: 'heartbeatDue', atMs: deadlineMs - 1 }); // inputs keep coming, but not the peer's frames
    core.step({ type: 'read', atMs: deadlineMs - 1, readStartMs: deadlineMs - 2, revision: 4, kvs: CLUSTER });
    expect(core.status(deadlineMs).quorum.up).toBe(2); // the view as of the last input
    core.advance(deadlineMs);
    expect(core.status(deadlineMs).quorum.up).toBe(1);
  });

  it('notices a kvdb that lost the cluster (record gone, revision backwards) and says so, as of the latest read', () => {
    const core = makeCore();
    running(core);
    formCluster(core, 500, 12_000);
    expect(core.status(12_000).node.serving).toBe(true);
    for (let atMs = 12_250, sequence = 100; atMs <= 16_000; atMs += 250, sequence++) {
      core.step({ type: 'frame', atMs, bytes: frameFrom(PEER, sequence, atMs) }); // still hears its peer
      if (atMs % 500 === 0) core.step({ type: 'read', atMs, readStartMs: atMs, revision: 2, kvs: [] }); // all gone
    }
    const status = core.status(16_000);
    expect(status.node.serving).toBe(false);
    expect(status.node.reason).toContain('the kvdb no longer holds cluster UUID uuid-1 (it holds no cluster record)');
    expect(status.nodes.map((entry) => entry.id)).toEqual([SELF, PEER]); // the member list is kept, not emptied
    core.step({ type: 'read', atMs: 16_100, readStartMs: 16_100, revision: 1, kvs: CLUSTER.slice(0, 1) });
    core.step({ type: 'tick', atMs: 16_100 });
    expect(core.status(16_100).node.reason).toContain('its revision 1 is below 4, seen before');
  });

  it('counts bad frames and bad kvdb values, each kvdb value once, naming the key', () => {
    const core = makeCore();
    running(core);
    const bad = kv('cluster/nodes/broken', '{not json');
    expect(
      transcript(core, [
        { type: 'read', atMs: 20, readStartMs: 15, revision: 6, kvs: [...CLUSTER, bad] },
        { type: 'frame', atMs: 21, bytes: Uint8Array.from([0xc1]) },
        {
          type: 'valueRejected',
          atMs: 22,
          key: 'stork/clusterdomainupdates/x',
          problem: 'not JSON',
          consequence: 'left out',
        },
        {
          type: 'valueRejected',
          atMs: 23,
          key: 'stork/clusterdomainupdates/x',
          problem: 'not JSON',
          consequence: 'left out',
        },
      ]),
    ).toMatchInlineSnapshot(`
      "> read @20
        tick at 3015
        log warn rejected kvdb value cluster/nodes/broken: not JSON: Expected property name or '}' in JSON at position 1
        event domain us-east-1a Unknown -> Active
        event node-a1 Unknown -> Out of Quorum (domain us-east-1a became active 0 ms ago; serving in 3000 ms, once no node can still serve on an older domain map)
        event node-a2 Unknown -> Offline (never heard from)
      > frame @21
      > valueRejected @22
        log warn rejected kvdb value stork/clusterdomainupdates/x: not JSON; left out
      > valueRejected @23"
    `);
    expect(core.status(24).counters).toMatchObject({ framesDropped: 1, kvdbValuesRejected: 2 });
  });

  it('re-claims a lost alive record with a bounded doubling backoff, saying so in the status until it has one', () => {
    const core = makeCore();
    running(core);
    const failures: AgentInput[] = Array.from({ length: 7 }, (_, index) => ({
      type: 'aliveClaimFailed',
      atMs: 1000 + index * 1000,
      error: 'kvdb unavailable',
    }));
    expect(
      transcript(core, [
        { type: 'aliveLost', atMs: 500, reason: 'lease expired' },
        ...failures,
        { type: 'aliveClaimed', atMs: 9000 },
      ]),
    ).toMatchInlineSnapshot(`
      "> aliveLost @500
        log warn alive lease lost (lease expired); re-registering
        event phase running (no alive record since 500 ms (lease lost: lease expired); claiming it again)
        claim alive in 0
      > aliveClaimFailed @1000
        log warn re-claiming the alive record failed (attempt 1): kvdb unavailable
        event phase running (no alive record since 500 ms (lease lost: lease expired); attempt 1 failed (kvdb unavailable); retrying in 200 ms)
        claim alive in 200
      > aliveClaimFailed @2000
        log warn re-claiming the alive record failed (attempt 2): kvdb unavailable
        event phase running (no alive record since 500 ms (lease lost: lease expired); attempt 2 failed (kvdb unavailable); retrying in 400 ms)
        claim alive in 400
      > aliveClaimFailed @3000
        log warn re-claiming the alive record failed (attempt 3): kvdb unavailable
        event phase running (no alive record since 500 ms (lease lost: lease expired); attempt 3 failed (kvdb unavailable); retrying in 800 ms)
        claim alive in 800
      > aliveClaimFailed @4000
        log warn re-claiming the alive record failed (attempt 4): kvdb unavailable
        event phase running (no alive record since 500 ms (lease lost: lease expired); attempt 4 failed (kvdb unavailable); retrying in 1600 ms)
        claim alive in 1600
      > aliveClaimFailed @5000
        log warn re-claiming the alive record failed (attempt 5): kvdb unavailable
        event phase running (no alive record since 500 ms (lease lost: lease expired); attempt 5 failed (kvdb unavailable); retrying in 3200 ms)
        claim alive in 3200
      > aliveClaimFailed @6000
        log warn re-claiming the alive record failed (attempt 6): kvdb unavailable
        event phase running (no alive record since 500 ms (lease lost: lease expired); attempt 6 failed (kvdb unavailable); retrying in 5000 ms)
        claim alive in 5000
      > aliveClaimFailed @7000
        log warn re-claiming the alive record failed (attempt 7): kvdb unavailable
        event phase running (no alive record since 500 ms (lease lost: lease expired); attempt 7 failed (kvdb unavailable); retrying in 5000 ms)
        claim alive in 5000
      > aliveClaimed @9000
        log info alive record claimed again after 8500 ms
        event phase running ()"
    `);
    expect(core.status(9000).phaseReason).toBe('');
  });

  it('stops trying when a twin holds the node ID, and ignores the engine once stopping', () => {
    const core = makeCore();
    expect(
      transcript(core, [
        { type: 'started', atMs: 0, kvdbDescription: 'mem://core-test' },
        { type: 'joinRefused', atMs: 9000, reason: 'node ID node-a1 is already live' },
        { type: 'stopping', atMs: 9001 },
        { type: 'read', atMs: 9002, readStartMs: 9001, revision: 4, kvs: CLUSTER },
        { type: 'stopped', atMs: 9003 },
      ]),
    ).toMatchInlineSnapshot(`
      "> started @0
        event phase waiting for kvdb (connecting to mem://core-test)
        join in 0
      > joinRefused @9000
        event phase failed (node ID node-a1 is already live)
        fatal node ID node-a1 is already live
      > stopping @9001
        event phase stopping (shutting down)
      > read @9002
        event domain us-east-1a Unknown -> Active
      > stopped @9003
        event phase stopped (stopped)"
    `);
  });
});
