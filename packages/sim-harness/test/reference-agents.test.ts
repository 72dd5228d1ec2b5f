import { describe, expect, it } from 'vitest';
import { Simulation } from '@pxsim/sim-harness';

// The reference mode's restart cycle in the real agents (virtual time, FAST_TIMING): a deactivated domain goes
// SUSPECT_NOT_IN_QUORUM (Out of Quorum, still counted by its peers), shuts down after the quorum timeout, restarts out
// of gossip (its agents send no heartbeats while their domain is inactive) and rejoins once the domain is activated.
describe('reference mode in the agents', () => {
  it('a deactivated domain shuts down, restarts out of gossip, and rejoins when activated', async () => {
    const sim = new Simulation({
      seed: 3,
      witness: false,
      quorumMode: 'reference',
      volumeIo: false,
      writeIntervalMs: 0,
    });
    const domainB = sim.group('us-east-1b');
    const sent = (): number[] => domainB.map((ip) => sim.agent(ip)?.status().counters.framesSent ?? 0);
    try {
      sim.start(sim.group('all'));
      await sim.run(6000);
      expect(new Set(Object.values(sim.states()))).toEqual(new Set(['Online']));
      await sim.setDomain('us-east-1b', false);
      await sim.run(1500);
      for (const ip of domainB) {
        const self = sim.agent(ip)?.status();
        expect(self?.node.status, ip).toBe('Out of Quorum');
        expect(self?.node.gossipState, ip).toBe('SUSPECT_NOT_IN_QUORUM');
      }
      await sim.run(6000); // past the quorum timeout (5,000 ms) and the restart (500 ms)
      const before = sent();
      await sim.run(3000);
      expect(sent(), 'heartbeats sent by us-east-1b while out of gossip').toEqual(before);
      for (const ip of domainB)
        expect(sim.agent(ip)?.status().node.reason, ip).toMatch(/not in gossip until its domain is active/);
      for (const ip of sim.group('us-east-1a')) expect(sim.state(ip), ip).toBe('Online');
      await sim.setDomain('us-east-1b', true);
      await sim.run(3000);
      expect(sent().every((count, index) => count > (before[index] ?? 0))).toBe(true);
      expect(new Set(Object.values(sim.states()))).toEqual(new Set(['Online']));
    } finally {
      await sim.dispose();
    }
  });
});
