import { createKvdb, MemKvdb, MemStore } from '@pxsim/kvdb-client';
import { LinkFaults, ManualClock, seededRandom } from '@pxsim/runtime';
import {
  faultyKvdb,
  MemoryNetwork,
  startNode,
  memberConfig,
  type AgentConfig,
  type AgentRuntime,
  type NodeIdentity,
  type RunningNode,
} from '@pxsim/node-agent';

export const ADMIN_TOKEN = 'test-admin-token';

export const SEED_TOPOLOGY: Array<{ ip: string; domain: string }> = [
  { ip: '127.0.1.1', domain: 'us-east-1a' },
  { ip: '127.0.1.2', domain: 'us-east-1a' },
  { ip: '127.0.1.3', domain: 'us-east-1a' },
  { ip: '127.0.2.1', domain: 'us-east-1b' },
  { ip: '127.0.2.2', domain: 'us-east-1b' },
  { ip: '127.0.2.3', domain: 'us-east-1b' },
];

/** Six real agents in one process, on MemKvdb, a manual clock and an in-memory heartbeat network. */
export class VirtualCluster {
  readonly clock = new ManualClock(1_000_000);
  readonly network = new MemoryNetwork(this.clock);
  readonly memStores = new Map<string, MemStore>();
  readonly identities = new Map<string, NodeIdentity>();
  readonly nodes = new Map<string, RunningNode>();
  readonly logs: string[] = [];
  /** Faults on each node's kvdb link (none unless a test cuts one). */
  readonly faults = new LinkFaults();
  private readonly random = seededRandom(7);

  config(ip: string, domain: string): AgentConfig {
    return memberConfig({
      clusterId: 'px-dr-cluster',
      kvdb: 'mem://virtual',
      domain,
      ip,
      dataDir: `/virtual/${ip}`,
      schedulerNodeName: `ip-${ip.replaceAll('.', '-')}`,
      quorumMode: 'safe',
      timingProfile: 'fast',
      adminToken: ADMIN_TOKEN,
      storageless: false,
    });
  }

  runtime(ip: string): AgentRuntime {
    return {
      clock: this.clock,
      random: this.random,
      transport: this.network.transport(ip),
      replicationTransport: this.network.transport(ip),
      identity: {
        load: () => this.identities.get(ip),
        save: (identity) => void this.identities.set(ip, identity),
      },
      openKvdb: (endpoints, namespace) =>
        faultyKvdb(
          createKvdb(endpoints, { namespace, clock: this.clock, memStores: this.memStores }),
          ip,
          this.faults,
          this.clock,
        ),
      log: (level, message) => void this.logs.push(`${this.clock.nowMs()} ${ip} ${level} ${message}`),
    };
  }

  async start(ips: string[] = SEED_TOPOLOGY.map((node) => node.ip)): Promise<void> {
    for (const ip of ips) {
      const domain = SEED_TOPOLOGY.find((node) => node.ip === ip)?.domain ?? 'us-east-1a';
      this.nodes.set(ip, await startNode(this.config(ip, domain), this.runtime(ip)));
    }
  }

  async stop(ips: string[]): Promise<void> {
    for (const ip of ips) {
      await this.nodes.get(ip)?.stop();
      this.nodes.delete(ip);
    }
  }

  /** Lets `ms` of virtual time pass, running every timer and the promise work it triggers. */
  async advance(ms: number, stepMs = 10): Promise<void> {
    for (let done = 0; done < ms; done += stepMs) {
      this.clock.advance(Math.min(stepMs, ms - done));
      for (let round = 0; round < 4; round++) await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** A kvdb client of the cluster's namespace that bypasses every agent (to plant values, or read them). */
  rawKvdb(): MemKvdb {
    let store = this.memStores.get('virtual');
    if (store === undefined) {
      store = new MemStore({ clock: this.clock });
      this.memStores.set('virtual', store);
    }
    return new MemKvdb({ store, namespace: 'pxsim/px-dr-cluster/' });
  }

  node(ip: string): RunningNode {
    const node = this.nodes.get(ip);
    if (node === undefined) throw new Error(`node ${ip} is not running`);
    return node;
  }

  statuses(): Record<string, string> {
    return Object.fromEntries([...this.nodes].map(([ip, node]) => [ip, node.agent.status().node.status]));
  }

  async stopAll(): Promise<void> {
    await this.stop([...this.nodes.keys()]);
  }
}
