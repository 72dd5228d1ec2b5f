import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { CLUSTER_DOMAIN_UPDATES, CLUSTER_DOMAINS_STATUSES, STORK_API_VERSION } from '@pxsim/kube';
import { CliError } from './client.js';
import { connect, fromServer, kubeconfigAvailable, kubeFlags, type KubeFlags } from './storkctl-kube.js';

interface Io {
  out(text: string): void;
}

/** One cluster domain as the chosen path sees it. */
export interface DomainState {
  name: string;
  state: 'Active' | 'Inactive';
}

/** The px-node path (`--node`, no Kubernetes): the domains as a node knows them, an update carried out there. */
export interface NodePath {
  /** Why a name cannot be a cluster domain (checked before anything is asked); undefined when it can. */
  nameProblem(name: string): string | undefined;
  domains(node: string | undefined): Promise<DomainState[]>;
  /** Carries the update out on the node; its final status and reason. */
  update(
    spec: { name: string; clusterDomain: string; active: boolean },
    options: { node?: string; tokenFile?: string },
  ): Promise<{ status: string; reason: string }>;
}

type Flags = KubeFlags & { node?: string; tokenFile?: string; name?: string; wait?: boolean; all?: boolean };

const WAIT_LIMIT_MS = 120_000;
const WAIT_STEP_MS = 500;

/** The ClusterDomainsStatus objects' domains (stork reads them to check a name before it creates an update). */
async function kubeDomains(flags: Flags): Promise<DomainState[]> {
  const { api } = connect(flags);
  const { items } = await fromServer(() => api.list(CLUSTER_DOMAINS_STATUSES, undefined));
  return items.flatMap((item) => {
    const infos = (item['status'] as { clusterDomainInfos?: DomainState[] } | undefined)?.clusterDomainInfos;
    return Array.isArray(infos) ? infos : [];
  });
}

/** Creates the ClusterDomainUpdate object. */
async function kubeCreate(flags: Flags, spec: { name: string; clusterDomain: string; active: boolean }): Promise<void> {
  const { api } = connect(flags);
  await fromServer(() =>
    api.create(
      { type: CLUSTER_DOMAIN_UPDATES, namespace: undefined, name: spec.name },
      {
        apiVersion: STORK_API_VERSION,
        kind: 'ClusterDomainUpdate',
        metadata: { name: spec.name },
        spec: { clusterdomain: spec.clusterDomain, active: spec.active },
      },
    ),
  );
}

/** Polls the update to its end as `storkctl … --wait` does, printing each status it sees. */
async function kubeWait(io: Io, flags: Flags, name: string): Promise<{ status: string; reason: string }> {
  const { api } = connect(flags);
  const ref = { type: CLUSTER_DOMAIN_UPDATES, namespace: undefined, name };
  for (let waited = 0; waited < WAIT_LIMIT_MS; waited += WAIT_STEP_MS) {
    const object = await fromServer(() => api.get(ref));
    const status = (object['status'] ?? {}) as { status?: string; reason?: string };
    io.out(`..${status.status ?? ''}`);
    if (status.status === 'Successful' || status.status === 'Failed')
      return { status: status.status, reason: status.reason ?? '' };
    await new Promise((resolve) => setTimeout(resolve, WAIT_STEP_MS));
  }
  throw new CliError('\nTimed out performing task');
}

function names(base: string | undefined, count: number): string[] {
  const stem = base ?? randomUUID();
  return Array.from({ length: count }, (_unused, index) => (count > 1 ? `${stem}-${index}` : stem));
}

/**
 * `storkctl activate|deactivate clusterdomain`: the domain checked against the ClusterDomainsStatus first
 * (`provided cluster domain X not found`), then a ClusterDomainUpdate created (named by `--name`, else a UUID) and
 * `Cluster Domain <action> operation started successfully for X`; `--wait` follows it to its end; `activate -a`
 * activates every Inactive domain. Through the kubeconfig's cluster (stork's way), or through a px node with `--node`.
 */
export function addClusterDomainVerb(verb: Command, action: 'activate' | 'deactivate', io: Io, node: NodePath): void {
  const command = verb
    .command('clusterdomain [name]')
    .alias('cd')
    .description(`${action} a cluster domain: creates a ClusterDomainUpdate (through Kubernetes, or --node)`)
    .option('--name <name>', `name for the ${action} cluster domain action (default: a UUID)`)
    .option('--wait', 'wait for the clusterdomain update to complete')
    .option('--node <ip[:port]>', 'go to this px node instead of Kubernetes')
    .option('--token-file <file>', "admin token file for --node (default: the sim's, or PX_ADMIN_TOKEN)");
  if (action === 'activate') command.option('-a, --all', 'activate all inactive cluster domains');
  kubeFlags(command, {}).action(async (domain: string | undefined, flags: Flags) => {
    if (domain !== undefined) {
      const problem = node.nameProblem(domain);
      if (problem !== undefined) throw new CliError(`clusterdomain ${problem}`, 2);
    }
    const viaNode = flags.node !== undefined || flags.tokenFile !== undefined || !kubeconfigAvailable(flags);
    const known = viaNode ? await node.domains(flags.node) : await kubeDomains(flags);
    let targets: string[];
    if (flags.all === true) targets = known.filter((entry) => entry.state === 'Inactive').map((entry) => entry.name);
    else if (domain !== undefined) {
      if (!known.some((entry) => entry.name === domain)) {
        const list = known.map((entry) => entry.name).join(', ') || 'none';
        throw new CliError(`provided cluster domain ${domain} not found (cluster domains: ${list})`);
      }
      targets = [domain];
    } else throw new CliError(`exactly one cluster domain name needs to be provided to the ${action} command`, 2);
    const updateNames = names(flags.name, targets.length);
    for (const [index, clusterDomain] of targets.entries()) {
      const spec = { name: updateNames[index] ?? '', clusterDomain, active: action === 'activate' };
      let outcome: { status: string; reason: string } | undefined;
      if (viaNode) outcome = await node.update(spec, flags);
      else await kubeCreate(flags, spec);
      io.out(`Cluster Domain ${action} operation started successfully for ${clusterDomain}\n`);
      if (flags.wait === true) {
        io.out(action === 'activate' ? 'Activating..' : 'Deactivating..');
        if (outcome === undefined) outcome = await kubeWait(io, flags, spec.name);
        else io.out(`..${outcome.status}`);
      }
      if (outcome?.status === 'Failed') {
        if (flags.wait === true) io.out('\n');
        throw new CliError(`Failed to update ClusterDomain, Reason : ${outcome.reason}`);
      }
      if (flags.wait === true) io.out(`\nCluster Domain ${clusterDomain} updated successfully\n`);
    }
  });
}
