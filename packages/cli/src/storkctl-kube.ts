import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { parse, stringify } from 'yaml';
import {
  CLUSTER_PAIRS,
  HttpKubeApi,
  KubeError,
  MIGRATIONS,
  nameProblem,
  pruneToContext,
  scaleMigratedApplications,
  resolveContext,
  STORK_API_VERSION,
  type KubeObject,
  type ResourceType,
} from '@pxsim/kube';
import { CliError, stateDir } from './client.js';
import { formatGoDate, kubectlColumns } from './format.js';

/** What a storkctl command needs to reach a cluster, as kubectl's flags give it. */
export interface KubeFlags {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  allNamespaces?: boolean;
  output?: 'json' | 'yaml';
}

interface Io {
  out(text: string): void;
}

/**
 * The kubeconfig file: `--kubeconfig`, else `$KUBECONFIG` (its first entry), else the running sim's
 * (`.pxsim/kubeconfig`, or under `$PXSIM_STATE_DIR`), else `~/.kube/config`.
 */
function kubeconfigPath(flag: string | undefined): string {
  if (flag !== undefined) return flag;
  const fromEnv = process.env['KUBECONFIG']?.split(':').find((entry) => entry !== '');
  if (fromEnv !== undefined) return fromEnv;
  const sim = join(stateDir(), 'kubeconfig');
  return existsSync(sim) ? sim : join(homedir(), '.kube', 'config');
}

/** Whether the flags or the defaults name a kubeconfig file that is there. */
export function kubeconfigAvailable(flags: KubeFlags): boolean {
  return existsSync(kubeconfigPath(flags.kubeconfig));
}

function readKubeconfig(flags: KubeFlags): unknown {
  const path = kubeconfigPath(flags.kubeconfig);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new CliError(
      `cannot read the kubeconfig ${path}: ${(error as Error).message} (start the sim with pnpm sim, or pass --kubeconfig)`,
    );
  }
  try {
    return parse(text) as unknown;
  } catch (error) {
    throw new CliError(`${path}: invalid YAML: ${(error as Error).message.split('\n')[0] ?? ''}`);
  }
}

/** The API of the context the flags choose, and the namespace they choose (context's, else `default`). */
export function connect(flags: KubeFlags): { api: HttpKubeApi; namespace: string } {
  const resolved = resolveContext(readKubeconfig(flags), flags.context);
  if (!resolved.ok) throw new CliError(resolved.problem);
  try {
    return { api: new HttpKubeApi(resolved.server), namespace: flags.namespace ?? resolved.namespace ?? 'default' };
  } catch (error) {
    throw new CliError((error as Error).message);
  }
}

/** A Kubernetes error as storkctl prints it. */
export async function fromServer<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof KubeError) throw new CliError(`Error from server (${error.reason}): ${error.message}`);
    throw error;
  }
}

export function kubeFlags(command: Command, namespaced: { all?: boolean; output?: boolean }): Command {
  command
    .option(
      '--kubeconfig <file>',
      "kubeconfig file (default: $KUBECONFIG, the sim's .pxsim/kubeconfig, ~/.kube/config)",
    )
    .option('--context <name>', 'kubeconfig context (default: the current one)')
    .option('-n, --namespace <namespace>', "namespace (default: the context's, else default)");
  if (namespaced.all === true) command.option('-a, --all-namespaces', 'all namespaces');
  if (namespaced.output === true)
    command.addOption(new Option('-o, --output <format>', 'output format: json, yaml').choices(['json', 'yaml']));
  return command;
}

async function listOf(flags: KubeFlags, type: ResourceType, name: string | undefined): Promise<KubeObject[]> {
  const { api, namespace } = connect(flags);
  if (name !== undefined) return [await fromServer(() => api.get({ type, namespace, name }))];
  // All namespaces (-a): the collection across them (`/apis/<g>/<v>/<resource>`).
  const scope = flags.allNamespaces === true ? undefined : namespace;
  return (await fromServer(() => api.list(type, scope))).items;
}

function createdOf(object: KubeObject): string {
  const ms = Date.parse(object.metadata.creationTimestamp ?? '');
  return Number.isNaN(ms) ? '' : formatGoDate(ms);
}

/** Go's time.Duration printing, rounded to the second (`19s`, `1m5s`, `2h0m3s`). */
export function goDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = seconds % 60;
  if (hours > 0) return `${hours}h${minutes}m${rest}s`;
  if (minutes > 0) return `${minutes}m${rest}s`;
  return `${rest}s`;
}

function print(
  io: Io,
  flags: KubeFlags,
  objects: KubeObject[],
  rows: (object: KubeObject) => string[],
  header: string[],
): void {
  if (flags.output !== undefined) {
    const value = objects.length === 1 ? objects[0] : { apiVersion: 'v1', kind: 'List', items: objects };
    io.out(flags.output === 'yaml' ? stringify(value) : `${JSON.stringify(value, null, 2)}\n`);
    return;
  }
  if (objects.length === 0) {
    io.out('No resources found.\n');
    return;
  }
  const all = flags.allNamespaces === true;
  const table = [all ? ['NAMESPACE', ...header] : header];
  for (const object of objects) table.push(all ? [object.metadata.namespace ?? '', ...rows(object)] : rows(object));
  io.out(`${kubectlColumns(table).join('\n')}\n`);
}

function text(object: KubeObject, path: string): string {
  let value: unknown = object;
  for (const key of path.split('.')) value = (value as Record<string, unknown> | undefined)?.[key];
  return typeof value === 'string' ? value : '';
}

/** `done/total` of a migration's status list (`volumes` or `resources`). */
function progress(object: KubeObject, list: 'volumes' | 'resources'): string {
  const items = (object['status'] as Record<string, unknown> | undefined)?.[list];
  const all = Array.isArray(items) ? (items as Array<{ status?: string }>) : [];
  return `${all.filter((item) => item.status === 'Successful').length}/${all.length}`;
}

function elapsed(object: KubeObject, nowMs: number): string {
  const created = Date.parse(object.metadata.creationTimestamp ?? '');
  if (Number.isNaN(created)) return '';
  const finished = Date.parse(text(object, 'status.finishTimestamp'));
  return goDuration((Number.isNaN(finished) ? nowMs : finished) - created);
}

export function addStorkGetCommands(get: Command, io: Io, now: () => number): void {
  kubeFlags(get.command('clusterpair [name]').alias('clusterpairs').description('ClusterPairs and their status'), {
    all: true,
    output: true,
  }).action(async (name: string | undefined, flags: KubeFlags) => {
    const pairs = await listOf(flags, CLUSTER_PAIRS, name);
    print(
      io,
      flags,
      pairs,
      (pair) => [
        pair.metadata.name,
        text(pair, 'status.storageStatus'),
        text(pair, 'status.schedulerStatus'),
        createdOf(pair),
      ],
      ['NAME', 'STORAGE-STATUS', 'SCHEDULER-STATUS', 'CREATED'],
    );
  });
  kubeFlags(get.command('migration [name]').alias('migrations').description('Migrations and their progress'), {
    all: true,
    output: true,
  }).action(async (name: string | undefined, flags: KubeFlags) => {
    const migrations = await listOf(flags, MIGRATIONS, name);
    print(
      io,
      flags,
      migrations,
      (migration) => [
        migration.metadata.name,
        text(migration, 'spec.clusterPair'),
        text(migration, 'status.stage'),
        text(migration, 'status.status'),
        progress(migration, 'volumes'),
        progress(migration, 'resources'),
        createdOf(migration),
        elapsed(migration, now()),
      ],
      ['NAME', 'CLUSTERPAIR', 'STAGE', 'STATUS', 'VOLUMES', 'RESOURCES', 'CREATED', 'ELAPSED'],
    );
  });
}

/** The ClusterPair spec `storkctl generate clusterpair` prints, for the destination the kubeconfig context names. */
export function clusterPairSpec(
  config: unknown,
  name: string,
  namespace: string,
  options: Record<string, string>,
  context?: string,
): Record<string, unknown> {
  const pruned = pruneToContext(config, context);
  if ('problem' in pruned) throw new CliError(String(pruned['problem']));
  return {
    apiVersion: STORK_API_VERSION,
    kind: 'ClusterPair',
    metadata: { creationTimestamp: null, name, namespace },
    spec: { config: pruned, options },
    status: { remoteStorageId: '', schedulerStatus: '', storageStatus: '' },
  };
}

function storageOptionsOf(text: string | undefined): Record<string, string> {
  if (text === undefined || text === '') return { insert_storage_options_here: '' };
  const options: Record<string, string> = {};
  for (const pair of text.split(',')) {
    const [key, value, extra] = pair.split('=');
    if (key === undefined || key === '' || value === undefined || extra !== undefined)
      throw new CliError(`invalid storage options ${JSON.stringify(text)}: expected key=value[,key=value…]`, 2);
    options[key] = value;
  }
  return options;
}

function checkNames(name: string, namespace: string, what: string): void {
  const nameIssue = nameProblem(name, 'subdomain');
  if (nameIssue !== undefined) throw new CliError(`the Name "${name}" is not valid: ${nameIssue}`, 2);
  const namespaceIssue = nameProblem(namespace, 'label');
  if (namespaceIssue !== undefined)
    throw new CliError(`the Namespace "${namespace}" is not valid: ${namespaceIssue}`, 2);
  if (what === '') throw new CliError('exactly one name needs to be provided', 2);
}

export function addStorkGenerateCommands(root: Command, io: Io): void {
  const generate = root.command('generate').description('generate Stork specs');
  kubeFlags(
    generate
      .command('clusterpair <name>')
      .description(
        'print a ClusterPair for this cluster (run it against the destination, apply the output on the source); ' +
          'a metro cluster pairs no storage: delete the insert_storage_options_here line',
      )
      .option('--storageoptions <k=v,...>', 'storage pairing options (not used by a metro cluster)'),
    {},
  ).action((name: string, flags: KubeFlags & { storageoptions?: string }) => {
    const config = readKubeconfig(flags);
    const resolved = resolveContext(config, flags.context);
    if (!resolved.ok) throw new CliError(resolved.problem);
    const namespace = flags.namespace ?? resolved.namespace ?? 'default';
    checkNames(name, namespace, name);
    const spec = clusterPairSpec(config, name, namespace, storageOptionsOf(flags.storageoptions), flags.context);
    io.out(stringify(spec));
  });
}

/** `--flag=false` / `--flag=true` (pflag's booleans) as commander reads them (`--no-flag` / `--flag`). */
export function pflagBooleans(argv: string[], flags: string[]): string[] {
  return argv.map((argument) => {
    const match = /^--([A-Za-z]+)=(true|false)$/.exec(argument);
    if (match === null || !flags.includes(match[1] ?? '')) return argument;
    return match[2] === 'true' ? `--${match[1]}` : `--no-${match[1]}`;
  });
}

export function addStorkCreateCommands(root: Command, io: Io): void {
  const create = root.command('create').description('create Stork objects');
  kubeFlags(
    create
      .command('migration <name>')
      .description('create a Migration of namespaces to the cluster a ClusterPair names')
      .requiredOption('-c, --clusterPair <name>', 'the ClusterPair to migrate to')
      .requiredOption('--namespaces <list>', 'comma-separated namespaces to migrate')
      .option('--includeResources', 'migrate the Kubernetes resources (default true; --includeResources=false)', true)
      .option('--no-includeResources', 'migrate only volumes')
      .option('--includeVolumes', 'migrate volumes (default true; none move in a metro cluster)', true)
      .option('--no-includeVolumes', 'do not migrate volumes')
      .option('--startApplications', 'start the applications on the destination (default true)', true)
      .option('--no-startApplications', 'migrate the applications with 0 replicas'),
    {},
  ).action(
    async (
      name: string,
      flags: KubeFlags & {
        clusterPair: string;
        namespaces: string;
        includeResources: boolean;
        includeVolumes: boolean;
        startApplications: boolean;
      },
    ) => {
      const { api, namespace } = connect(flags);
      checkNames(name, namespace, name);
      const namespaces = flags.namespaces.split(',').filter((entry) => entry !== '');
      if (namespaces.length === 0) throw new CliError('need to provide atleast one namespace to migrate', 2);
      const object = {
        apiVersion: STORK_API_VERSION,
        kind: 'Migration',
        metadata: { name, namespace },
        spec: {
          clusterPair: flags.clusterPair,
          namespaces,
          includeResources: flags.includeResources,
          includeVolumes: flags.includeVolumes,
          startApplications: flags.startApplications,
        },
      };
      await fromServer(() => api.create({ type: MIGRATIONS, namespace, name }, object));
      io.out(`Migration ${name} created successfully\n`);
    },
  );
}

export function addStorkMigrationVerbs(verb: Command, action: 'activate' | 'deactivate', io: Io): void {
  kubeFlags(
    verb
      .command('migrations')
      .alias('migration')
      .description(
        action === 'activate'
          ? 'scale the migrated applications up to the replica count they had on the source'
          : 'scale the migrated applications down to 0',
      ),
    { all: true },
  ).action(async (flags: KubeFlags) => {
    const { api, namespace } = connect(flags);
    const scope = flags.allNamespaces === true ? undefined : namespace;
    const changed = await fromServer(() => scaleMigratedApplications(api, scope, action));
    for (const { kind, namespace: where, name, replicas } of changed)
      io.out(`Updated replicas for ${kind} ${where}/${name} to ${replicas}\n`);
    if (changed.length === 0)
      io.out(`No migrated applications found${scope === undefined ? '' : ` in namespace ${scope}`}.\n`);
  });
}
