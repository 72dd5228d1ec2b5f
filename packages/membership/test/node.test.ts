import { seededRandom } from '@pxsim/runtime';
import { describe, expect, it } from 'vitest';
import {
  MembershipNode,
  MembershipUsageError,
  encodedSize,
  lanConfig,
  type MembershipMessage,
  type Output,
  type Send,
} from '../src/index.js';

const config = lanConfig();
const peers = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'];

/** A node "me" that already knows `peers`, all alive at incarnation 1 (n = 11). */
function started(): { node: MembershipNode; output: Output } {
  const node = new MembershipNode({ name: 'me', config, random: seededRandom(1) });
  return { node, output: node.start(0, [], peers) };
}

/** Every part of every message sent, flattened out of compounds, with its destination. */
function parts(sends: Send[]): { to: string; message: Exclude<MembershipMessage, { type: 'compound' }> }[] {
  return sends.flatMap((send) =>
    send.message.type === 'compound'
      ? send.message.parts.map((message) => ({ to: send.to, message }))
      : [{ to: send.to, message: send.message }],
  );
}

/** Ticks until the node sends a ping; returns it, its target and the time. */
function nextPing(node: MembershipNode, fromMs: number): { seq: number; target: string; atMs: number } {
  let atMs = fromMs;
  for (let round = 0; round < 100; round++) {
    const output = node.tick(atMs);
    const ping = parts(output.sends).find((part) => part.message.type === 'ping');
    if (ping?.message.type === 'ping') return { seq: ping.message.seq, target: ping.to, atMs };
    atMs = output.nextDeadlineMs;
  }
  throw new Error('no ping');
}

describe('state rules (state.go aliveNode, suspectNode, deadNode)', () => {
  it('aliveNode: only a higher incarnation updates a known member; a new member joins', () => {
    const { node } = started();
    expect(node.receive(10, 'a', { type: 'alive', node: 'b', incarnation: 1 }).events).toEqual([]);
    expect(node.receive(11, 'a', { type: 'alive', node: 'b', incarnation: 2 }).events).toEqual([]);
    expect(node.member('b')?.incarnation).toBe(2);
    expect(node.receive(12, 'a', { type: 'alive', node: 'new', incarnation: 1 }).events).toEqual([
      { kind: 'join', node: 'new', incarnation: 1, atMs: 12 },
    ]);
    expect(node.memberCount).toBe(12);
  });

  it('suspectNode: a lower incarnation is ignored; an equal one suspects; a higher alive refutes it', () => {
    const { node } = started();
    node.receive(10, 'a', { type: 'alive', node: 'b', incarnation: 3 });
    expect(node.receive(11, 'a', { type: 'suspect', node: 'b', incarnation: 2, from: 'a' }).events).toEqual([]);
    expect(node.receive(12, 'a', { type: 'suspect', node: 'b', incarnation: 3, from: 'a' }).events).toEqual([
      { kind: 'suspect', node: 'b', incarnation: 3, atMs: 12, from: 'a' },
    ]);
    // An alive at the same incarnation does not clear a suspicion; a higher one does.
    expect(node.receive(13, 'b', { type: 'alive', node: 'b', incarnation: 3 }).events).toEqual([]);
    expect(node.member('b')?.status).toBe('suspect');
    expect(node.receive(14, 'b', { type: 'alive', node: 'b', incarnation: 4 }).events).toEqual([
      { kind: 'alive', node: 'b', incarnation: 4, atMs: 14 },
    ]);
    expect(node.suspicionOf('b')).toBeUndefined();
  });

  it('deadNode: a lower incarnation is ignored; dead stays dead until a higher alive (join)', () => {
    const { node } = started();
    node.receive(10, 'a', { type: 'alive', node: 'c', incarnation: 5 });
    expect(node.receive(11, 'a', { type: 'dead', node: 'c', incarnation: 4, from: 'a' }).events).toEqual([]);
    expect(node.receive(12, 'a', { type: 'dead', node: 'c', incarnation: 5, from: 'a' }).events).toEqual([
      { kind: 'dead', node: 'c', incarnation: 5, atMs: 12, from: 'a' },
    ]);
    expect(node.receive(13, 'a', { type: 'suspect', node: 'c', incarnation: 9, from: 'a' }).events).toEqual([]);
    expect(node.receive(14, 'a', { type: 'alive', node: 'c', incarnation: 5 }).events).toEqual([]);
    expect(node.receive(15, 'c', { type: 'alive', node: 'c', incarnation: 6 }).events).toEqual([
      { kind: 'join', node: 'c', incarnation: 6, atMs: 15 },
    ]);
  });

  it('a dead message sent by the member itself means it left — state.go deadNode (d.Node == d.From)', () => {
    const { node } = started();
    node.receive(10, 'd', { type: 'dead', node: 'd', incarnation: 1, from: 'd' });
    expect(node.member('d')?.status).toBe('left');
  });

  it('refute: a suspicion or death of this node raises its incarnation above the accusation — state.go refute', () => {
    const { node } = started();
    expect(node.incarnation).toBe(1);
    const refuted = node.receive(10, 'a', { type: 'suspect', node: 'me', incarnation: 7, from: 'a' });
    expect(refuted.events).toEqual([{ kind: 'alive', node: 'me', incarnation: 8, atMs: 10 }]);
    expect(node.member('me')?.status).toBe('alive');
    expect(node.healthScore).toBe(1);
    // The refutation rides on the next message sent.
    const ack = node.receive(11, 'a', { type: 'ping', seq: 1, node: 'me' });
    expect(parts(ack.sends).map((part) => part.message)).toContainEqual({ type: 'alive', node: 'me', incarnation: 8 });
    // Dead at a lower incarnation than ours: still refuted (deadNode only drops d.Incarnation < ours).
    expect(node.receive(12, 'a', { type: 'dead', node: 'me', incarnation: 8, from: 'a' }).events).toEqual([
      { kind: 'alive', node: 'me', incarnation: 9, atMs: 12 },
    ]);
    // An alive about ourselves with a higher incarnation than ours (a stale self) is refuted too (aliveNode).
    expect(node.receive(13, 'a', { type: 'alive', node: 'me', incarnation: 20 }).events).toEqual([
      { kind: 'alive', node: 'me', incarnation: 21, atMs: 13 },
    ]);
  });

  it('a second accuser confirms a suspicion, re-broadcast once per new confirmer — state.go suspectNode', () => {
    const { node } = started();
    node.receive(10, 'a', { type: 'suspect', node: 'b', incarnation: 1, from: 'a' });
    const suspicion = node.suspicionOf('b');
    // n = 11: k = SuspicionMult − 2 = 2; min = 4 × log10(11) × 1 s; max = 6 × min.
    expect(suspicion?.k).toBe(2);
    expect(suspicion?.minMs).toBe(4164);
    expect(suspicion?.deadlineMs).toBe(10 + 6 * 4164);
    node.receive(20, 'c', { type: 'suspect', node: 'b', incarnation: 1, from: 'c' });
    expect(suspicion?.count).toBe(1);
    const beforeSecond = suspicion?.deadlineMs ?? 0;
    node.receive(30, 'c', { type: 'suspect', node: 'b', incarnation: 1, from: 'c' });
    expect(suspicion?.deadlineMs).toBe(beforeSecond);
    node.receive(40, 'd', { type: 'suspect', node: 'b', incarnation: 1, from: 'd' });
    expect(suspicion?.deadlineMs).toBe(10 + 4164);
  });

  it('suspect → dead when the timer runs out, declared by this node — state.go suspectNode timeout', () => {
    const { node } = started();
    node.receive(10, 'a', { type: 'suspect', node: 'b', incarnation: 1, from: 'a' });
    const deadline = node.suspicionOf('b')?.deadlineMs ?? 0;
    // No other member answers either, so this node's own probes confirm and may shorten the timer.
    let atMs = 10;
    const events = [];
    while (atMs <= deadline) {
      const output = node.tick(atMs);
      events.push(...output.events);
      atMs = Math.max(atMs + 1, output.nextDeadlineMs);
    }
    const dead = events.find((event) => event.kind === 'dead' && event.node === 'b');
    expect(dead).toMatchObject({ kind: 'dead', node: 'b', incarnation: 1, from: 'me' });
    expect(dead?.atMs).toBeLessThanOrEqual(deadline);
    expect(node.member('b')?.status).toBe('dead');
  });
});

describe('probing (state.go probeNode; net.go handlePing, handleIndirectPing)', () => {
  it('an ack before the deadline ends the probe; nothing is suspected; health improves', () => {
    const { node } = started();
    node.receive(1, 'a', { type: 'suspect', node: 'me', incarnation: 1, from: 'a' });
    expect(node.healthScore).toBe(1);
    const ping = nextPing(node, 1);
    node.receive(ping.atMs + 900, ping.target, { type: 'ack', seq: ping.seq });
    expect(node.healthScore).toBe(0);
    const after = node.tick(ping.atMs + 5000);
    expect(after.events).toEqual([]);
  });

  it('no ack by ProbeTimeout: ping-req to IndirectChecks helpers; no ack by the interval: suspect', () => {
    const { node } = started();
    const ping = nextPing(node, 0);
    const atTimeout = node.tick(ping.atMs + config.probeTimeoutMs);
    const requests = parts(atTimeout.sends).filter((part) => part.message.type === 'pingReq');
    expect(requests).toHaveLength(3);
    for (const request of requests) {
      expect(request.message).toEqual({ type: 'pingReq', seq: ping.seq, node: ping.target, nack: true });
      expect([ping.target, 'me']).not.toContain(request.to);
    }
    // Two helpers nack: one nack missing → health score + 1 (Lifeguard).
    const [first, second] = requests;
    node.receive(ping.atMs + 700, first?.to ?? '', { type: 'nack', seq: ping.seq });
    node.receive(ping.atMs + 710, second?.to ?? '', { type: 'nack', seq: ping.seq });
    const atDeadline = node.tick(ping.atMs + config.probeIntervalMs);
    expect(atDeadline.events).toEqual([
      { kind: 'suspect', node: ping.target, incarnation: 1, atMs: ping.atMs + 1000, from: 'me' },
    ]);
    expect(node.healthScore).toBe(1);
  });

  it('a relayed ack during the indirect phase saves the target', () => {
    const { node } = started();
    const ping = nextPing(node, 0);
    node.tick(ping.atMs + config.probeTimeoutMs);
    node.receive(ping.atMs + 800, 'a', { type: 'ack', seq: ping.seq });
    expect(node.tick(ping.atMs + config.probeIntervalMs).events).toEqual([]);
  });

  it('a helper pings the target under its own seq, relays the ack, or nacks after ProbeTimeout', () => {
    const { node } = started();
    const request = node.receive(5, 'a', { type: 'pingReq', seq: 77, node: 'b', nack: true });
    const [ping] = parts(request.sends);
    expect(ping?.to).toBe('b');
    if (ping?.message.type !== 'ping') throw new Error('expected a ping');
    expect(parts(node.receive(6, 'b', { type: 'ack', seq: ping.message.seq }).sends)[0]).toEqual({
      to: 'a',
      message: { type: 'ack', seq: 77 },
    });
    node.receive(7, 'c', { type: 'pingReq', seq: 78, node: 'd', nack: true });
    const nack = node.tick(7 + config.probeTimeoutMs);
    expect(parts(nack.sends)).toContainEqual({ to: 'c', message: { type: 'nack', seq: 78 } });
  });

  it('answers only pings meant for it — net.go handlePing', () => {
    const { node } = started();
    expect(node.receive(5, 'a', { type: 'ping', seq: 3, node: 'other' }).sends).toEqual([]);
    expect(parts(node.receive(6, 'a', { type: 'ping', seq: 3, node: 'me' }).sends)[0]).toEqual({
      to: 'a',
      message: { type: 'ack', seq: 3 },
    });
  });

  it('probes a suspect member with the suspicion attached, so that it can refute — state.go probeNode', () => {
    const { node } = started();
    for (const peer of peers) node.receive(1, 'x', { type: 'suspect', node: peer, incarnation: 1, from: 'x' });
    let atMs = 2;
    for (let round = 0; round < 20; round++) {
      const output = node.tick(atMs);
      const compound = output.sends.find((send) => send.message.type === 'compound');
      if (compound?.message.type === 'compound' && compound.message.parts[0]?.type === 'ping') {
        expect(compound.message.parts[1]).toEqual({ type: 'suspect', node: compound.to, incarnation: 1, from: 'me' });
        return;
      }
      atMs = output.nextDeadlineMs;
    }
    throw new Error('no probe of a suspect member');
  });

  it('probes every other member once per pass, in an order reshuffled each pass — state.go probe, resetNodes', () => {
    const { node } = started();
    const passes: string[][] = [];
    let atMs = 0;
    for (let pass = 0; pass < 3; pass++) {
      const order: string[] = [];
      for (let probe = 0; probe < peers.length; probe++) {
        const ping = nextPing(node, atMs);
        order.push(ping.target);
        node.receive(ping.atMs + 1, ping.target, { type: 'ack', seq: ping.seq });
        atMs = ping.atMs + 1;
      }
      expect([...order].sort()).toEqual([...peers].sort());
      passes.push(order);
    }
    expect(passes[1]).not.toEqual(passes[2]);
  });
});

describe('piggybacking and the frame bound (net.go sendMsg, UDPBufferSize)', () => {
  it('piggybacks only as many broadcasts as fit in 1400 bytes, the rest later', () => {
    const { node } = started();
    for (let index = 0; index < 200; index++)
      node.receive(1, 'a', { type: 'alive', node: `member-with-a-long-name-${index}`, incarnation: 1 });
    let sent = 0;
    for (let seq = 1; node.queuedBroadcasts > 0 && seq < 1000; seq++) {
      const output = node.receive(2, 'a', { type: 'ping', seq, node: 'me' });
      for (const send of output.sends) {
        expect(encodedSize(send.message)).toBeLessThanOrEqual(1400);
        if (send.message.type === 'compound') sent += send.message.parts.length - 1;
      }
    }
    // 200 broadcasts and this node's own alive, each sent retransmitLimit(4, 211) = 12 times.
    expect(sent).toBe(201 * 12);
  });
});

describe('usage', () => {
  it('rejects time going backwards with a typed error', () => {
    const { node } = started();
    node.tick(100);
    expect(() => node.tick(99)).toThrow(MembershipUsageError);
  });

  it('joins through a seed with a push/pull and learns its members — state.go pushPullNode', () => {
    const joiner = new MembershipNode({ name: 'new', config, random: seededRandom(2) });
    const request = joiner.start(0, ['me']);
    expect(request.sends).toHaveLength(1);
    const { node } = started();
    const send = request.sends[0];
    if (send === undefined) throw new Error('no push/pull');
    const reply = node.receive(10, 'new', send.message);
    expect(reply.events).toEqual([{ kind: 'join', node: 'new', incarnation: 1, atMs: 10 }]);
    const answer = reply.sends.find((candidate) => candidate.message.type === 'pushPull');
    if (answer === undefined) throw new Error('no push/pull reply');
    const joined = joiner.receive(20, 'me', answer.message);
    expect(joined.events.map((event) => event.node).sort()).toEqual([...peers, 'me'].sort());
    expect(joiner.memberCount).toBe(12);
  });
});
