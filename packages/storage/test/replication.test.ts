import { describe, expect, it } from 'vitest';
import { BLOCK_BYTES, GIB } from '../src/index.js';
import { TestWorld } from './net.js';

/** Two data nodes a (domain 1) and b (domain 2), a repl-2 volume `v` on both, attached on a. */
function attachedPair(mode: 'safe' | 'reference' = 'safe'): TestWorld {
  const world = new TestWorld(['a', 'b'], mode);
  world.quorum();
  world.create({ id: '100', name: 'v', sizeBytes: GIB, haLevel: 2, createSet: ['a', 'b'] });
  const attach = world.attach('a', 'v');
  world.run(50);
  expect(world.answer(attach)).toBe('ok');
  return world;
}

describe('the write rule: acknowledged only once every replica of the current set has it', () => {
  it('a write is acknowledged after the remote replica acknowledged, and both hold it', () => {
    const world = attachedPair();
    world.linkDelayMs = 20;
    const write = world.write('a', 'v', 3, 'x1');
    world.run(10);
    expect(world.answer(write)).toBe('pending'); // the replica's ack is 2 × 20 ms away
    world.run(100);
    expect(world.answer(write)).toBe('ok');
    expect([world.stored('a', '100', 3), world.stored('b', '100', 3)]).toEqual(['x1', 'x1']);
    const read = world.read('a', 'v', 3);
    world.run(100);
    expect(world.answer(read)).toBe('ok x1');
  });

  it('a silent replica is removed by compare-and-set after the timeout; the write completes then, not before', () => {
    const world = attachedPair();
    world.partition(['a'], ['b']);
    const write = world.write('a', 'v', 0, 'x1');
    world.run(2000);
    expect(world.answer(write)).toBe('pending');
    world.run(1000); // past the 2,500 ms replica timeout
    expect(world.answer(write)).toBe('ok');
    expect(world.records.get('100')?.record.currentSet).toEqual(['a']);
    expect(world.log.join('\n')).toContain('replica b removed from the current set');
  });

  it('with the kvdb down too, the removal cannot happen: I/O stalls (run-flat), then completes once the kvdb is back', () => {
    const world = attachedPair();
    world.partition(['a'], ['b']);
    world.kvdbDown = true;
    const write = world.write('a', 'v', 0, 'x1');
    world.run(30_000);
    expect(world.answer(write)).toBe('pending');
    expect(world.records.get('100')?.record.currentSet).toEqual(['a', 'b']);
    world.kvdbDown = false;
    world.run(1000);
    expect(world.answer(write)).toBe('ok');
  });

  it('a read returns the committed value, never a pending write', () => {
    const world = attachedPair();
    const first = world.write('a', 'v', 1, 'old');
    world.run(20);
    expect(world.answer(first)).toBe('ok');
    world.cuts.add('a>b'); // the next write cannot reach b for now
    const second = world.write('a', 'v', 1, 'new');
    world.cuts.delete('a>b');
    const read = world.read('a', 'v', 1);
    world.run(20);
    expect(world.answer(read)).toBe('ok old');
    expect(world.answer(second)).toBe('pending'); // retransmitted after 300 ms
    world.run(400);
    expect(world.answer(second)).toBe('ok');
  });
});

describe('fencing', () => {
  it('a node that does not serve refuses as coordinator and as replica', () => {
    const world = attachedPair();
    world.serving.set('b', false);
    world.quorum();
    const write = world.write('a', 'v', 0, 'x');
    world.run(100);
    expect(world.answer(write)).toBe('pending'); // b answers "not serving": as silence until the timeout
    world.serving.set('a', false);
    world.quorum();
    expect(world.answer(write)).toBe('unknown DISPLACED');
    const refused = world.write('a', 'v', 0, 'y');
    expect(world.answer(refused)).toBe('failed FENCED');
  });

  it('safe mode: a displaced coordinator is refused by the replicas (stale epoch) and gives up with unknown', () => {
    const world = attachedPair('safe');
    world.partition(['a'], ['b']);
    world.blind.add('a'); // a does not see the takeover in the kvdb either: only the replicas can stop it
    const takeover = world.attach('b', 'v'); // b still sees a online: refused
    world.sees('b', ['b']); // b sees a as not online: failover
    const retry = world.attach('b', 'v');
    world.run(3000);
    expect(world.answer(takeover)).toBe('failed ATTACHED_ELSEWHERE');
    expect(world.answer(retry)).toBe('ok');
    world.heal();
    const late = world.write('a', 'v', 0, 'from-a');
    world.run(100);
    expect(world.answer(late)).toBe('unknown DISPLACED');
    expect(world.stored('b', '100', 0)).toBe('');
  });

  it('reference mode: replicas trust quorum alone, so the displaced coordinator still gets acknowledgements', () => {
    const world = attachedPair('reference');
    world.partition(['a'], ['b']);
    world.sees('b', ['b']);
    const takeover = world.attach('b', 'v');
    world.run(3000);
    expect(world.answer(takeover)).toBe('ok');
    world.heal();
    const late = world.write('a', 'v', 0, 'from-a');
    world.run(100);
    expect(world.answer(late)).toBe('ok'); // two coordinators accepting writes: the divergence H1 exposes
  });
});

describe('open round and resync', () => {
  it('a new coordinator rewrites a block an old coordinator left half-written, so every replica agrees', () => {
    const world = new TestWorld(['a', 'b', 'c']);
    world.quorum();
    world.create({ id: '7', name: 'v', sizeBytes: GIB, haLevel: 3, createSet: ['a', 'b', 'c'] });
    const attach = world.attach('a', 'v');
    world.run(50);
    expect(world.answer(attach)).toBe('ok');
    world.cuts.add('a>c');
    world.write('a', 'v', 5, 'half'); // reaches b, not c; never acknowledged
    world.run(20);
    world.serving.set('a', false);
    world.quorum(); // a stops serving: its coordinator is gone
    world.cuts.clear();
    const takeover = world.attach('b', 'v');
    world.run(3000); // a (not serving) answers nothing useful: removed from the current set after the timeout
    expect(world.answer(takeover)).toBe('ok');
    // b's committed copy ("half", which it holds) wins: c is rewritten to it with a fresh version.
    expect([world.stored('b', '7', 5), world.stored('c', '7', 5)]).toEqual(['half', 'half']);
  });

  it('a returning replica resyncs the blocks it missed and is added back: Degraded -> Resync -> Up', () => {
    const world = attachedPair();
    world.partition(['a'], ['b']);
    world.sees('a', ['a']);
    const writes = [0, 1, 2].map((block) => world.write('a', 'v', block, `w${block}`));
    world.run(3000);
    expect(writes.map((id) => world.answer(id))).toEqual(['ok', 'ok', 'ok']);
    expect(world.nodes.get('a')?.volume('v')?.replicationStatus).toBe('Degraded');
    world.heal();
    world.quorum(); // b is online again in a's view: the resync starts
    expect(world.nodes.get('a')?.volume('v')?.replicationStatus).toBe('Resync');
    world.run(200);
    expect(world.records.get('100')?.record.currentSet).toEqual(['a', 'b']);
    expect(world.nodes.get('a')?.volume('v')?.replicationStatus).toBe('Up');
    expect([0, 1, 2].map((block) => world.stored('b', '100', block))).toEqual(['w0', 'w1', 'w2']);
  });

  it('a write while the resynced replica is being added back waits for it: acknowledged only once it is removed again', () => {
    // Found by the simulator (safe mode, regressions.test.ts): a write acknowledged while the add-back compare-and-set
    // was in flight had skipped the replica that the record then put back in the current set.
    const world = attachedPair();
    world.partition(['a'], ['b']);
    world.sees('a', ['a']);
    const first = world.write('a', 'v', 0, 'old');
    world.run(3000);
    expect(world.answer(first)).toBe('ok');
    world.heal();
    world.kvdbDelayMs = 100; // the add-back compare-and-set takes 200 ms
    world.quorum();
    world.run(10); // digest and rewrite acknowledged: the compare-and-set is in flight
    expect(world.records.get('100')?.record.currentSet).toEqual(['a']);
    world.cuts.add('a>b');
    const late = world.write('a', 'v', 0, 'late');
    world.run(300);
    expect(world.records.get('100')?.record.currentSet).toEqual(['a', 'b']);
    expect(world.answer(late)).toBe('pending'); // b is in the current set and has not got it
    world.run(3000);
    expect(world.records.get('100')?.record.currentSet).toEqual(['a']);
    expect(world.answer(late)).toBe('ok');
  });
});

describe('bad input is refused with a reason', () => {
  it('unknown volume, block out of range, payload too large, not attached here', () => {
    const world = attachedPair();
    expect(world.answer(world.write('a', 'nope', 0, 'x'))).toBe('failed VOLUME_NOT_FOUND');
    expect(world.answer(world.write('a', 'v', GIB / BLOCK_BYTES, 'x'))).toBe('failed BLOCK_OUT_OF_RANGE');
    expect(world.answer(world.write('a', 'v', -1, 'x'))).toBe('failed BLOCK_OUT_OF_RANGE');
    expect(world.answer(world.write('a', 'v', 0, 'x'.repeat(BLOCK_BYTES + 1)))).toBe('failed PAYLOAD_TOO_LARGE');
    expect(world.answer(world.write('b', 'v', 0, 'x'))).toBe('failed NOT_ATTACHED_HERE');
  });
});
