import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { stringify } from 'yaml';
import {
  agentStatusSchema,
  clusterDomainActionSchema,
  clusterDomainUpdateListSchema,
  clusterDomainUpdateSchema,
  DOMAIN_NAME_RULE,
  nameProblem,
  type AgentStatus,
  type ClusterDomainUpdate,
  type ReplicaSets,
  replicaSetsOf,
  volumeListJsonSchema,
} from '@pxsim/node-agent';
import { parseCduDocuments } from './cdu.js';
import { adminToken, call, CliError, nodeUrl } from './client.js';
import {
  clusterDomainsStatus,
  clusterDomainUpdateObject,
  renderClusterDomainsStatus,
  renderClusterDomainUpdates,
  renderClusterList,
  renderPxctlStatus,
} from './format.js';
import { hostFacts } from './host.js';
import { addClusterDomainVerb } from './storkctl-domains.js';
import {
  addStorkCreateCommands,
  addStorkGenerateCommands,
  addStorkGetCommands,
  addStorkMigrationVerbs,
} from './storkctl-kube.js';
import { cliVersion, VERSION_DESCRIPTION, VERSION_FLAGS } from './version.js';
import { addVolumeCommands } from './volume.js';

/** Where commands write: stdout for results, stderr for progress and errors. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
}

export const processIo: Io = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
};

type Output = 'table' | 'wide' | 'json' | 'yaml';

function outputOption(choices: Output[]): Option {
  return new Option(
    '-o, --output <format>',
    `output format: ${choices.filter((choice) => choice !== 'table').join(', ')}`,
  ).choices(choices.filter((choice) => choice !== 'table'));
}

function printObject(io: Io, value: unknown, format: Output): void {
  io.out(format === 'yaml' ? stringify(value) : `${JSON.stringify(value, null, 2)}\n`);
}

/** A command's root: its name, its one-line errors on stderr, `-V, --version`. */
export function program(name: string, description: string, io: Io): Command {
  return new Command(name)
    .description(description)
    .version(cliVersion(), VERSION_FLAGS, VERSION_DESCRIPTION)
    .exitOverride()
    .showHelpAfterError(false)
    .configureOutput({
      writeOut: (text) => io.out(text),
      writeErr: (text) => io.err(text),
      outputError: (text, write) => write(`${name}: ${text.replace(/^error: /, '').trim()}\n`),
    });
}

/** Runs a program; returns its exit code (0 ok, 1 failure, 2 bad usage). Errors are one line on stderr. */
export async function run(command: Command, argv: string[], io: Io): Promise<number> {
  try {
    await command.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.code === 'commander.help'
      )
        return 0;
      return error.exitCode === 0 ? 0 : 2;
    }
    if (error instanceof CliError) {
      io.err(`${command.name()}: ${error.message}\n`);
      return error.exitCode;
    }
    io.err(`${command.name()}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

async function fetchStatus(node: string | undefined): Promise<AgentStatus> {
  return call(nodeUrl(node), '/v1/cluster', agentStatusSchema);
}

/** The volumes' replica sets for stork's syncStatus rule; undefined when they cannot be listed (as stork does). */
async function fetchReplicaSets(node: string | undefined): Promise<ReplicaSets[] | undefined> {
  try {
    const { volumes } = await call(nodeUrl(node), '/v1/volumes', volumeListJsonSchema);
    return volumes.map(replicaSetsOf);
  } catch {
    return undefined;
  }
}

// ---- pxctl ---------------------------------------------------------------------------------------------------------

export function pxctl(io: Io = processIo): Command {
  const root = program('pxctl', 'Inspect a pxsim node, as Portworx pxctl does.', io);
  root
    .command('status')
    .description('show this node, its pool, and the cluster (the seed\'s "pxctl status")')
    .option('--node <ip[:port]>', "node to ask (default: the sim's first node)")
    .addOption(outputOption(['table', 'json']))
    .action(async (options: { node?: string; output?: Output }) => {
      const status = await fetchStatus(options.node);
      if (options.output === 'json') printObject(io, status, 'json');
      else io.out(renderPxctlStatus(status, hostFacts(status)));
    });
  const cluster = root.command('cluster').description('cluster commands');
  cluster
    .command('list')
    .description('list the nodes of the cluster with their state and reason')
    .option('--node <ip[:port]>', 'node to ask')
    .addOption(outputOption(['table', 'json']))
    .action(async (options: { node?: string; output?: Output }) => {
      const status = await fetchStatus(options.node);
      if (options.output === 'json')
        printObject(
          io,
          { clusterId: status.cluster.id, clusterUuid: status.cluster.uuid, nodes: status.nodes },
          'json',
        );
      else io.out(renderClusterList(status));
    });
  const domains = cluster.command('domains').description('cluster domain commands');
  domains
    .command('delete')
    .description(
      'remove an empty cluster domain (e.g. one a mistyped --cluster-domain created); refused while any node is in ' +
        'it, and for the last Active domain',
    )
    .requiredOption('--name <domain>', 'the cluster domain to remove')
    .option('--node <ip[:port]>', 'node to send it to')
    .option('--token-file <file>', "admin token file (default: the sim's, or PX_ADMIN_TOKEN)")
    .action(async (options: { name: string; node?: string; tokenFile?: string }) => {
      const problem = nameProblem(DOMAIN_NAME_RULE, options.name);
      if (problem !== undefined) throw new CliError(`--name ${problem}`, 2);
      await call(nodeUrl(options.node), `/v1/clusterdomains/${options.name}`, clusterDomainActionSchema, {
        method: 'DELETE',
        token: adminToken(options.tokenFile),
      });
      io.out(`cluster domain ${options.name} removed\n`);
    });
  addVolumeCommands(root, io);
  return root;
}

// ---- storkctl ------------------------------------------------------------------------------------------------------

async function postUpdate(
  spec: { name: string; clusterDomain: string; active: boolean },
  mode: 'create' | 'apply',
  options: { node?: string; tokenFile?: string },
): Promise<ClusterDomainUpdate> {
  return call(nodeUrl(options.node), `/v1/stork/clusterdomainupdates?mode=${mode}`, clusterDomainUpdateSchema, {
    method: 'POST',
    body: spec,
    token: adminToken(options.tokenFile),
    timeoutMs: 15_000,
  });
}

async function createUpdate(
  io: Io,
  spec: { name: string; clusterDomain: string; active: boolean },
  mode: 'create' | 'apply',
  options: { node?: string; tokenFile?: string },
): Promise<ClusterDomainUpdate> {
  const result = await postUpdate(spec, mode, options);
  if (result.status === 'Failed') throw new CliError(`clusterdomainupdate ${result.name} failed: ${result.reason}`);
  io.out(
    `clusterdomainupdate.stork.libopenstorage.org/${result.name} ${mode === 'create' ? 'created' : 'configured'} (${result.status})\n`,
  );
  return result;
}

export function storkctl(io: Io = processIo, now: () => number = Date.now): Command {
  const root = program(
    'storkctl',
    'Stork helper for pxsim: cluster pairs and migrations (through the Kubernetes API of the kubeconfig), cluster ' +
      'domains and their updates (through a px node).',
    io,
  );
  const get = root.command('get').description('show Stork objects');
  addStorkGetCommands(get, io, now);
  addStorkGenerateCommands(root, io);
  addStorkCreateCommands(root, io);
  get
    .command('clusterdomainsstatus')
    .alias('cds')
    .description('the ClusterDomainsStatus: active and inactive domains')
    .option('--node <ip[:port]>', 'node to ask')
    .addOption(outputOption(['table', 'wide', 'json', 'yaml']))
    .addOption(
      new Option(
        '--columns <set>',
        "the table of the walkthrough's stork (NAME ACTIVE INACTIVE CREATED) or of current stork (LOCAL-DOMAIN, " +
          'and each domain with its syncStatus); -o wide prints the same table, as storkctl does',
      )
        .choices(['walkthrough', 'current'])
        .default('walkthrough'),
    )
    .action(async (options: { node?: string; output?: Output; columns: 'walkthrough' | 'current' }) => {
      const status = await fetchStatus(options.node);
      const volumes = await fetchReplicaSets(options.node);
      if (options.output === 'json' || options.output === 'yaml')
        printObject(io, clusterDomainsStatus(status, volumes), options.output);
      else io.out(renderClusterDomainsStatus(status, volumes, options.columns === 'current'));
    });
  get
    .command('clusterdomainupdate')
    .aliases(['clusterdomainupdates', 'cdu'])
    .description('ClusterDomainUpdates and their status')
    .option('--node <ip[:port]>', 'node to ask')
    .addOption(outputOption(['table', 'json', 'yaml']))
    .action(async (options: { node?: string; output?: Output }) => {
      const { items } = await call(
        nodeUrl(options.node),
        '/v1/stork/clusterdomainupdates',
        clusterDomainUpdateListSchema,
      );
      if (options.output === 'json' || options.output === 'yaml')
        printObject(
          io,
          { apiVersion: 'v1', kind: 'List', items: items.map(clusterDomainUpdateObject) },
          options.output,
        );
      else io.out(renderClusterDomainUpdates(items));
    });
  for (const action of ['activate', 'deactivate'] as const) {
    const verb = root.command(action).description(`${action} Stork objects`);
    addStorkMigrationVerbs(verb, action, io);
    addClusterDomainVerb(verb, action, io, {
      nameProblem: (name) => nameProblem(DOMAIN_NAME_RULE, name),
      domains: async (node) => (await fetchStatus(node)).domains.map(({ name, state }) => ({ name, state })),
      update: (spec, options) => postUpdate(spec, 'create', options),
    });
  }
  return root;
}

// ---- pxsim (everything but `up` and `scenario`, which live in their own modules) --------------------------------

export function addObjectCommands(root: Command, io: Io): void {
  for (const mode of ['apply', 'create'] as const) {
    root
      .command(mode)
      .description(`${mode} ClusterDomainUpdate documents (kubectl ${mode} -f)`)
      .requiredOption('-f, --filename <file>', 'YAML file with one or more documents')
      .option('--node <ip[:port]>', 'node to send them to')
      .option('--token-file <file>', 'admin token file')
      .action(async (options: { filename: string; node?: string; tokenFile?: string }) => {
        let text: string;
        try {
          text = readFileSync(options.filename, 'utf8');
        } catch (error) {
          throw new CliError(
            `cannot read ${options.filename}: ${error instanceof Error ? error.message : String(error)}`,
            2,
          );
        }
        const documents = parseCduDocuments(text, options.filename);
        for (const document of documents) await createUpdate(io, document, mode, options);
      });
  }
}
