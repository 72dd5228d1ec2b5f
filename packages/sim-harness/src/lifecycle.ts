import { MemKvdb, type MemStore } from '@pxsim/kvdb-client';
import { faultyKvdb, NodeAgent, type AgentEvent, type AgentRuntime, type NodeIdentity } from '@pxsim/node-agent';
import { derivedRandom, type Scheduler } from '@pxsim/runtime';
import { MemoryBlockStore } from '@pxsim/storage';
import type { UserStatus } from '@pxsim/quorum';
import { assembleCluster, type ClusterPlan, type NodeSpec } from './cluster.js';
import type { SimNetwork } from './network.js';
import { NodeClock } from './node-clock.js';

export type NodeState = UserStatus | 'crashed' | 'paused' | 'not started';

export interface SimNode {
  spec: NodeSpec;
  agent: NodeAgent | undefined;
  clock: NodeClock | undefined;
  incarnation: number;
  identity: NodeIdentity | undefined;
  state: NodeState;
  onFrame: ((bytes: Uint8Array) => void) | undefined;
  onReplication?: ((bytes: Uint8Array) => void) | undefined;
  /** The node's disk: its volumes' blocks, kept across its restarts (as its identity is). */
  blocks: MemoryBlockStore;
}

export interface LifecycleOptions {
  seed: number;
  scheduler: Scheduler;
  network: SimNetwork;
  store: MemStore;
  plan: ClusterPlan;
  kvdbLatencyMs: number;
  /** Makes each agent's quorum engine (default: the real one). */
  quorumEngine?: AgentRuntime['quorumEngine'];
  /** A process of the node started (it has heard nothing yet). */
  onStarted: (ip: string) => void;
  /** A node's state changed (the host records it and runs the checkers). */
  onState: (node: SimNode, from: NodeState, reason: string) => void;
}

/**
 * The nodes of a simulation and what happens to their processes: start (or restart with the same identity), crash
 * (SIGKILL), pause (SIGSTOP) and resume. Each incarnation gets its own random streams, derived from the seed.
 */
export class NodeLifecycle {
  /** By IP, in topology order. */
  readonly nodes = new Map<string, SimNode>();
  private disposed = false;

  constructor(
    specs: readonly NodeSpec[],
    private readonly options: LifecycleOptions,
  ) {
    for (const spec of specs) {
      this.nodes.set(spec.ip, {
        spec,
        agent: undefined,
        clock: undefined,
        incarnation: 0,
        identity: undefined,
        state: 'not started',
        onFrame: undefined,
        blocks: new MemoryBlockStore(),
      });
    }
  }

  node(ip: string): SimNode {
    const node = this.nodes.get(ip);
    if (node === undefined) throw new Error(`no node ${ip}`);
    return node;
  }

  /** Nodes with a process that is not paused. */
  /** Runs `work` in node `ip`'s process now; false when it is not running or paused. */
  inNode(ip: string, work: (agent: NodeAgent) => void): boolean {
    const node = this.nodes.get(ip);
    const agent = node?.agent;
    if (agent === undefined || node?.clock === undefined || node.clock.paused) return false;
    node.clock.run(() => work(agent));
    return true;
  }

  running(): SimNode[] {
    return [...this.nodes.values()].filter((node) => node.agent !== undefined && node.clock?.paused !== true);
  }

  private runtime(node: SimNode, clock: NodeClock): AgentRuntime {
    const { seed, network, store } = this.options;
    const ip = node.spec.ip;
    const random = derivedRandom(seed, `node ${ip} #${node.incarnation}`);
    const kvdbRandom = derivedRandom(seed, `kvdb link ${ip} #${node.incarnation}`);
    return {
      clock,
      random,
      transport: network.transport(ip, node),
      replicationTransport: network.transport(ip, node, 'replication'),
      blocks: node.blocks,
      identity: {
        load: () => node.identity,
        save: (identity) => {
          node.identity = identity;
        },
      },
      openKvdb: (_endpoints, namespace) =>
        faultyKvdb(new MemKvdb({ store, namespace }), ip, network.faults, clock, {
          delayMs: network.kvdbDelayMs(ip, this.options.kvdbLatencyMs, kvdbRandom),
        }),
      log: () => undefined,
      ...(this.options.quorumEngine === undefined ? {} : { quorumEngine: this.options.quorumEngine }),
    };
  }

  /** Starts (or restarts, with the same identity) the given nodes; running ones are left alone. */
  start(ips: string[]): void {
    for (const ip of ips) {
      const node = this.node(ip);
      if (node.agent !== undefined) continue;
      node.incarnation += 1;
      this.options.onStarted(ip);
      const clock = new NodeClock(this.options.scheduler);
      node.clock = clock;
      const [member] = assembleCluster(
        this.options.plan,
        [node.spec],
        () => this.runtime(node, clock),
        (config, runtime) => new NodeAgent(config, runtime),
      );
      if (member === undefined) continue;
      node.agent = member.agent;
      member.agent.subscribe((event) => this.onAgentEvent(node, event));
      this.setState(node, 'Initializing', 'started');
      void member.agent.start();
    }
  }

  private onAgentEvent(node: SimNode, event: AgentEvent): void {
    if (event.type === 'node-status' && node.agent !== undefined && event.nodeId === node.agent.nodeId) {
      this.setState(node, event.to, event.reason);
    }
  }

  private setState(node: SimNode, state: NodeState, reason: string): void {
    if (node.state === state || this.disposed) return;
    const before = node.state;
    node.state = state;
    this.options.onState(node, before, reason);
  }

  /** Crash (as SIGKILL): nothing handed back; timers and frames of the node are dropped. */
  crash(ips: string[]): void {
    for (const ip of ips) {
      const node = this.nodes.get(ip);
      if (node?.agent === undefined || node.clock === undefined) continue;
      node.clock.dead = true;
      node.onFrame = undefined;
      node.onReplication = undefined;
      void node.agent.stop({ crash: true });
      node.agent = undefined;
      this.setState(node, 'crashed', '');
    }
  }

  /** Pause (as SIGSTOP): timers and frames wait until resume. */
  pause(ips: string[]): void {
    for (const ip of ips) {
      const node = this.nodes.get(ip);
      if (node?.clock === undefined || node.agent === undefined || node.clock.paused) continue;
      node.clock.paused = true;
      this.setState(node, 'paused', '');
    }
  }

  resume(ips: string[]): void {
    for (const ip of ips) {
      const node = this.nodes.get(ip);
      if (node?.clock === undefined || node.agent === undefined || !node.clock.paused) continue;
      node.clock.resume();
      this.setState(node, node.agent.status().node.status, 'resumed');
    }
  }

  /** Stops every node (end of a run): releases watchers and timers; no state is recorded any more. */
  async dispose(): Promise<void> {
    this.disposed = true;
    for (const node of this.nodes.values()) {
      if (node.clock !== undefined) node.clock.dead = true;
      await node.agent?.stop({ crash: true });
      node.agent = undefined;
    }
  }
}
