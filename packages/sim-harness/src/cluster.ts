import { memberConfig, type AgentConfig, type AgentRuntime } from '@pxsim/node-agent';
import type { QuorumMode, TimingProfileName } from '@pxsim/quorum';

export interface NodeSpec {
  ip: string;
  domain: string;
  storageless: boolean;
}

/**
 * Domain i's nodes on PREFIX.(i+1).1…N, the witness on PREFIX.9.1 (PREFIX 127.0 by default): the layout of the
 * simulator, the live sim and the benchmarks alike.
 */
export function topology(domains: string[], nodesPerDomain: number, witness: boolean, ipPrefix = '127.0'): NodeSpec[] {
  const nodes: NodeSpec[] = [];
  domains.forEach((domain, index) => {
    for (let n = 1; n <= nodesPerDomain; n++)
      nodes.push({ ip: `${ipPrefix}.${index + 1}.${n}`, domain, storageless: false });
  });
  if (witness) nodes.push({ ip: `${ipPrefix}.9.1`, domain: 'witness', storageless: true });
  return nodes;
}

/** Node IPs of a group: `all`, a domain name, a node IP, or several of these joined with ','. */
export function groupIps(specs: readonly NodeSpec[], text: string): string[] {
  const ips = text.split(',').flatMap((part) => {
    const name = part.trim();
    if (name === 'all') return specs.map((spec) => spec.ip);
    const inDomain = specs.filter((spec) => spec.domain === name).map((spec) => spec.ip);
    if (inDomain.length > 0) return inDomain;
    if (specs.some((spec) => spec.ip === name)) return [name];
    const domains = [...new Set(specs.map((spec) => spec.domain))].join(', ');
    throw new Error(`"${name}" is neither a domain (${domains}) nor a node IP of this cluster`);
  });
  return [...new Set(ips)];
}

/** What every member of an assembled cluster shares. */
export interface ClusterPlan {
  clusterId: string;
  /** The `-k` value every agent gets (`mem://` in the simulator). */
  kvdb: string;
  quorumMode: QuorumMode;
  timing: TimingProfileName;
  adminToken: string;
  /** Where a node keeps its files (`/sim/IP` in the simulator). */
  dataDir: (spec: NodeSpec) => string;
  /** Appended to `ip-A-B-C-D` for the scheduler node name (`.sim.internal` in the simulator). */
  hostSuffix: string;
}

/** The name a node registers with the scheduler (its Kubernetes Node's name): `ip-A-B-C-D<suffix>`. */
export function schedulerNodeNameOf(ip: string, hostSuffix: string): string {
  return `ip-${ip.replaceAll('.', '-')}${hostSuffix}`;
}

/** The agent config of one node of the topology. */
export function agentConfig(plan: ClusterPlan, spec: NodeSpec): AgentConfig {
  return memberConfig({
    clusterId: plan.clusterId,
    kvdb: plan.kvdb,
    ip: spec.ip,
    domain: spec.domain,
    storageless: spec.storageless,
    quorumMode: plan.quorumMode,
    timingProfile: plan.timing,
    adminToken: plan.adminToken,
    dataDir: plan.dataDir(spec),
    schedulerNodeName: schedulerNodeNameOf(spec.ip, plan.hostSuffix),
  });
}

/** Every node's config, by IP, in topology order. */
export function agentConfigs(plan: ClusterPlan, specs: readonly NodeSpec[]): Map<string, AgentConfig> {
  return new Map(specs.map((spec) => [spec.ip, agentConfig(plan, spec)]));
}

export interface ClusterMember<T> {
  spec: NodeSpec;
  config: AgentConfig;
  runtime: AgentRuntime;
  agent: T;
}

/**
 * The one place a cluster is assembled: topology → agent configs → runtimes → agents. `runtimeFor` gives each node
 * its world (virtual or real); `create` makes the agent (`new NodeAgent(config, runtime)`, or `startNode` for one
 * with its API server).
 */
export function assembleCluster<T>(
  plan: ClusterPlan,
  specs: readonly NodeSpec[],
  runtimeFor: (spec: NodeSpec, config: AgentConfig) => AgentRuntime,
  create: (config: AgentConfig, runtime: AgentRuntime) => T,
): Array<ClusterMember<T>> {
  return specs.map((spec) => {
    const config = agentConfig(plan, spec);
    const runtime = runtimeFor(spec, config);
    return { spec, config, runtime, agent: create(config, runtime) };
  });
}
