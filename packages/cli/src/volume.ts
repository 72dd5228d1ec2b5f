import type { Command } from 'commander';
import { z } from 'zod';
import {
  agentStatusSchema,
  nameProblem,
  OBJECT_NAME_RULE,
  volumeJsonSchema,
  volumeListJsonSchema,
} from '@pxsim/node-agent';
import { adminToken, call, CliError, nodeUrl } from './client.js';
import type { Io } from './commands.js';
import { renderVolumeInspect, renderVolumeList, type NodeIps } from './volume-format.js';

/** Portworx's limits: `--size` in GB 1–1024 here (the storage model's VOLUME_SIZE_GIB_MAX), `--repl` 1–3. */
export const VOLUME_SIZE_GIB_MAX = 1024;

interface NodeOptions {
  node?: string;
  json?: boolean;
}

/** A whole number in [min, max] from a flag's text, or a usage error naming the flag and the range. */
export function parseWhole(flag: string, text: string, min: number, max: number): number {
  const value = /^\d{1,7}$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= min && value <= max))
    throw new CliError(`${flag} ${text} is not a whole number from ${min} to ${max}`, 2);
  return value;
}

/** `-l a=b,c=d` as a label map, or a usage error naming the bad pair. */
export function parseLabels(text: string | undefined): Record<string, string> {
  const labels: Record<string, string> = {};
  if (text === undefined || text === '') return labels;
  for (const pair of text.split(',')) {
    const [key = '', value, ...rest] = pair.split('=');
    if (key === '' || value === undefined || rest.length > 0)
      throw new CliError(`--label ${JSON.stringify(pair)} is not name=value`, 2);
    labels[key] = value;
  }
  return labels;
}

export function checkVolumeName(name: string): string {
  const problem = nameProblem(OBJECT_NAME_RULE, name);
  if (problem !== undefined) throw new CliError(`volume name ${problem}`, 2);
  return name;
}

async function nodeIps(base: string): Promise<NodeIps> {
  const status = await call(base, '/v1/cluster', agentStatusSchema);
  return new Map(status.nodes.map((node) => [node.id, node.ip]));
}

const path = (name: string): string => `/v1/volumes/${encodeURIComponent(name)}`;

function printJson(io: Io, value: unknown): void {
  io.out(`${JSON.stringify(value, null, 2)}\n`);
}

/** `pxctl volume …`: create, list, inspect, delete over the node's REST API. */
export function addVolumeCommands(root: Command, io: Io): void {
  const volume = root.command('volume').alias('v').description('manage volumes (replicated block devices)');
  volume
    .command('create <name>')
    .alias('c')
    .description('create a volume (its replicas placed domain-aware; prints "Volume successfully created: <id>")')
    .option('-s, --size <GB>', 'volume size in GB (1-1024)', '1')
    .option('-r, --repl <n>', 'replication factor (1-3)', '1')
    .option('--nodes <ids>', 'comma-separated node IDs to place the replicas on')
    .option('-l, --label <pairs>', 'list of comma-separated name=value pairs')
    .option('--node <ip[:port]>', 'node to ask')
    .option('--token-file <file>', 'file holding the admin token (default: PX_ADMIN_TOKEN, then the sim)')
    .option('-j, --json', 'output in json')
    .action(async (name: string, options: NodeOptions & CreateOptions) => {
      const body = {
        name: checkVolumeName(name),
        size: parseWhole('--size', options.size, 1, VOLUME_SIZE_GIB_MAX),
        repl: parseWhole('--repl', options.repl, 1, 3),
        ...(options.nodes === undefined ? {} : { nodes: options.nodes.split(',').filter((id) => id !== '') }),
        labels: parseLabels(options.label),
      };
      const created = await call(nodeUrl(options.node), '/v1/volumes', volumeJsonSchema, {
        method: 'POST',
        body,
        token: adminToken(options.tokenFile),
      });
      if (options.json === true) printJson(io, created);
      else io.out(`Volume successfully created: ${created.id}\n`);
    });
  addReadCommands(volume, io);
  addDeleteCommand(volume, io);
  addAttachCommands(volume, io);
}

/**
 * `pxctl host attach|detach`'s work as volume subcommands: the volume is attached on the node asked (`--node`), which
 * must hold a replica of its current set; attaching where it is attached on a node not Online here is a failover.
 */
function addAttachCommands(volume: Command, io: Io): void {
  for (const action of ['attach', 'detach'] as const) {
    volume
      .command(`${action} <name>`)
      .description(
        action === 'attach'
          ? 'attach a volume on the node asked (--node; it must hold a current replica): it serves I/O there'
          : 'detach a volume from the node asked (--node, where it is attached)',
      )
      .option('--node <ip[:port]>', 'node to attach on / detach from')
      .option('--token-file <file>', 'file holding the admin token (default: PX_ADMIN_TOKEN, then the sim)')
      .option('-j, --json', 'output in json')
      .action(async (name: string, options: NodeOptions & { tokenFile?: string }) => {
        const base = nodeUrl(options.node);
        const answer = await call(base, `${path(checkVolumeName(name))}/${action}`, z.unknown(), {
          method: 'POST',
          token: adminToken(options.tokenFile),
          timeoutMs: 30_000,
        });
        if (options.json === true) printJson(io, answer);
        else
          io.out(
            `Volume ${name} successfully ${action}ed${action === 'attach' ? ` on ${new URL(base).hostname}` : ''}.\n`,
          );
      });
  }
}

interface CreateOptions {
  size: string;
  repl: string;
  nodes?: string;
  label?: string;
  tokenFile?: string;
}

function addReadCommands(volume: Command, io: Io): void {
  volume
    .command('list')
    .alias('l')
    .description('list the volumes: ID NAME SIZE HA SHARED ENCRYPTED IO_PRIORITY STATUS HA-STATE')
    .option('--node <ip[:port]>', 'node to ask')
    .option('-j, --json', 'output in json')
    .action(async (options: NodeOptions) => {
      const base = nodeUrl(options.node);
      const { volumes } = await call(base, '/v1/volumes', volumeListJsonSchema);
      if (options.json === true) printJson(io, volumes);
      else io.out(renderVolumeList(volumes, await nodeIps(base)));
    });
  volume
    .command('inspect <name>')
    .alias('i')
    .description('show a volume: size, HA, state, replica sets, replication status')
    .option('--node <ip[:port]>', 'node to ask')
    .option('-j, --json', 'output in json')
    .action(async (name: string, options: NodeOptions) => {
      const base = nodeUrl(options.node);
      const found = await call(base, path(name), volumeJsonSchema);
      if (options.json === true) printJson(io, found);
      else io.out(renderVolumeInspect(found, await nodeIps(base)));
    });
}

function addDeleteCommand(volume: Command, io: Io): void {
  volume
    .command('delete <name>')
    .alias('d')
    .description(
      'delete a detached volume; Portworx asks "Delete volume \'NAME\', proceed ? (Y/N):", this tool never ' +
        'prompts: pass -f/--force to confirm',
    )
    .option('-f, --force', 'delete without asking (required: pxctl here is not interactive)')
    .option('--node <ip[:port]>', 'node to ask')
    .option('--token-file <file>', 'file holding the admin token (default: PX_ADMIN_TOKEN, then the sim)')
    .action(async (name: string, options: NodeOptions & { force?: boolean; tokenFile?: string }) => {
      if (options.force !== true)
        throw new CliError(`not deleting volume '${name}' without confirmation: pass -f/--force`, 2);
      await call(nodeUrl(options.node), path(name), z.unknown(), {
        method: 'DELETE',
        token: adminToken(options.tokenFile),
      });
      io.out(`Volume ${name} successfully deleted.\n`);
    });
}
