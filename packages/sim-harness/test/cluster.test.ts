import { describe, expect, it } from 'vitest';
import { MemKvdb, MemStore } from '@pxsim/kvdb-client';
import { NodeAgent, type AgentRuntime } from '@pxsim/node-agent';
import { ManualClock } from '@pxsim/runtime';
import { agentConfigs, assembleCluster, topology, type ClusterPlan } from '@pxsim/sim-harness';

const plan: ClusterPlan = {
  clusterId: 'px-dr-cluster',
  kvdb: 'mem://',
  quorumMode: 'safe',
  timing: 'fast',
  adminToken: 'cluster-test-token',
  dataDir: (spec) => `/sim/${spec.ip}`,
  hostSuffix: '.sim.internal',
};

describe('the cluster factory', () => {
  it('turns a topology into one validated config per node', () => {
    const specs = topology(['us-east-1a', 'us-east-1b'], 2, true);
    const configs = agentConfigs(plan, specs);
    expect([...configs.keys()]).toEqual(['127.0.1.1', '127.0.1.2', '127.0.2.1', '127.0.2.2', '127.0.9.1']);
    expect(configs.get('127.0.9.1')).toMatchObject({
      clusterDomain: 'witness',
      storageless: true,
      poolCapacityGiB: 1,
      schedulerNodeName: 'ip-127-0-9-1.sim.internal',
      dataDir: '/sim/127.0.9.1',
      heartbeatPort: 9002,
    });
    expect(() => agentConfigs({ ...plan, clusterId: '' }, specs)).toThrow(/cluster-id/);
  });

  it('assembles configs, runtimes and agents in topology order', () => {
    const clock = new ManualClock();
    const store = new MemStore({ clock });
    const specs = topology(['a', 'b'], 1, false);
    const runtimeFor = (): AgentRuntime => ({
      clock,
      random: () => 0.5,
      transport: { listen: async () => undefined, send: () => undefined, close: async () => undefined },
      replicationTransport: { listen: async () => undefined, send: () => undefined, close: async () => undefined },
      identity: { load: () => undefined, save: () => undefined },
      openKvdb: (_endpoints, namespace) => new MemKvdb({ store, namespace }),
      log: () => undefined,
    });
    const members = assembleCluster(plan, specs, runtimeFor, (config, runtime) => new NodeAgent(config, runtime));
    expect(members.map((member) => [member.spec.ip, member.config.clusterDomain])).toEqual([
      ['127.0.1.1', 'a'],
      ['127.0.2.1', 'b'],
    ]);
    expect(members.every((member) => member.agent instanceof NodeAgent && member.runtime.clock === clock)).toBe(true);
  });
});
