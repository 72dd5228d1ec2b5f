import { relative } from 'node:path';
import { Option, type Command } from 'commander';
import { TIMING_PROFILES, type TimingProfileName } from '@pxsim/quorum';
import { CLUSTER_ID_RULE, DOMAIN_NAME_RULE, nameProblem, type NameRule } from '@pxsim/node-agent';
import { CliError, SIM_LOG_LEVELS, stateDir, type SimLogLevel } from './client.js';
import { addObjectCommands, processIo, program, type Io } from './commands.js';
import { addFaultCommands } from './fault-command.js';
import { failoverScenario } from './scenario.js';
import type { CheckCommandOptions, ScheduleFilters } from './explore.js';
import type { SimOptions } from './sim.js';

/** A flag's value must follow its name rule (wire/names.ts); the refusal names the flag and the rule. */
function checkFlagName(rule: NameRule, value: string, flag: string): void {
  const problem = nameProblem(rule, value);
  if (problem !== undefined) throw new CliError(`${flag}: ${problem}`, 2);
}

export interface UpFlags {
  domains: string;
  nodesPerDomain: string;
  witness?: boolean;
  quorumMode: string;
  timing: string;
  clusterId: string;
  kvdb: string;
  etcd?: boolean;
  ipPrefix: string;
  logLevel: string;
}

function isSimLogLevel(value: string): value is SimLogLevel {
  return SIM_LOG_LEVELS.some((level) => level === value);
}

export function simOptionsFrom(flags: UpFlags): SimOptions {
  const domains = flags.domains.split(',').map((domain) => domain.trim());
  checkFlagName(CLUSTER_ID_RULE, flags.clusterId, '--cluster-id');
  for (const domain of domains) checkFlagName(DOMAIN_NAME_RULE, domain, '--domains');
  if (new Set(domains).size !== domains.length)
    throw new CliError(`--domains lists a domain twice: ${flags.domains}`, 2);
  if (domains.length < 1 || domains.length > 8)
    throw new CliError(`--domains: 1 to 8 domains, got ${domains.length}`, 2);
  if (flags.witness === true && domains.includes('witness'))
    throw new CliError('--witness adds a domain named "witness"; do not list it in --domains', 2);
  const nodesPerDomain = Number(flags.nodesPerDomain);
  if (!Number.isInteger(nodesPerDomain) || nodesPerDomain < 1 || nodesPerDomain > 32) {
    throw new CliError(`--nodes-per-domain ${flags.nodesPerDomain} must be a whole number from 1 to 32`, 2);
  }
  if (flags.quorumMode !== 'safe' && flags.quorumMode !== 'reference')
    throw new CliError(`--quorum-mode ${flags.quorumMode}: use safe or reference`, 2);
  if (!(flags.timing in TIMING_PROFILES))
    throw new CliError(`--timing ${flags.timing}: use ${Object.keys(TIMING_PROFILES).join(' or ')}`, 2);
  if (!/^127\.\d{1,3}$/.test(flags.ipPrefix) || Number(flags.ipPrefix.split('.')[1]) > 255) {
    throw new CliError(`--ip-prefix ${flags.ipPrefix} must be 127.N (loopback), e.g. 127.0`, 2);
  }
  if (flags.etcd === true && flags.kvdb !== 'mem://')
    throw new CliError('--etcd starts a local etcd; do not combine it with --kvdb', 2);
  if (!isSimLogLevel(flags.logLevel))
    throw new CliError(`--log-level ${flags.logLevel}: use ${SIM_LOG_LEVELS.join(', ')}`, 2);
  return {
    clusterId: flags.clusterId,
    domains,
    nodesPerDomain,
    witness: flags.witness === true,
    quorumMode: flags.quorumMode,
    timing: flags.timing as TimingProfileName,
    kvdb: flags.kvdb,
    startEtcd: flags.etcd === true,
    stateDir: stateDir(),
    ipPrefix: flags.ipPrefix,
    controlHost: `${flags.ipPrefix}.0.1`,
    controlPort: 9020,
    logLevel: flags.logLevel,
  };
}

/** Starts the sim and runs until SIGINT/SIGTERM (or `until` resolves, for tests). */
export async function up(io: Io, flags: UpFlags, until?: Promise<void>): Promise<void> {
  const options = simOptionsFrom(flags);
  // Loaded here, not at start: `pxsim --help` or `pxsim fault` need neither fastify nor the agents.
  const { Sim } = await import('./sim.js');
  const sim = new Sim(options);
  io.err(
    `pxsim: starting ${sim.specs.length} nodes of cluster ${options.clusterId} (${options.quorumMode} quorum, ${options.timing} timing)…\n`,
  );
  try {
    await sim.start();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new CliError(
      message.includes('EADDRINUSE') ? `${message}: is another sim or px-node already running?` : message,
    );
  }
  const kvdbText = options.startEtcd ? 'a local etcd' : options.kvdb === 'mem://' ? 'mem:// (embedded)' : options.kvdb;
  const lines = [`pxsim: cluster ${options.clusterId} on ${kvdbText}`];
  for (const spec of sim.specs) {
    lines.push(
      `  ${spec.domain.padEnd(12)} ${spec.ip.padEnd(10)} API http://${spec.ip}:9001  heartbeats ws://${spec.ip}:9002/heartbeat${spec.storageless ? '  (witness)' : ''}`,
    );
  }
  lines.push(
    `  control      http://${options.controlHost}:${options.controlPort}`,
    `  dashboard    http://${options.controlHost}:${options.controlPort}/#token=${sim.adminToken}`,
    ...sim.kubeServers.map(({ domain, server }) => `  kubernetes   ${server}  (context ${domain})`),
    `admin token: ${sim.adminTokenFile}`,
    `kubeconfig:  ${sim.kubeConfigFile}`,
    'try next:',
    '  pnpm exec pxctl status',
    '  pnpm exec storkctl get clusterdomainsstatus',
    '  pnpm exec pxsim scenario failover',
    `  kubectl --kubeconfig ${relative(process.cwd(), sim.kubeConfigFile) || sim.kubeConfigFile} --context ${options.domains[0] ?? 'us-east-1a'} get nodes -o wide`,
    `  pnpm exec pxsim fault partition ${options.domains[0] ?? 'us-east-1a'} ${options.domains[1] ?? 'us-east-1b'}`,
    'Ctrl-C stops the sim.',
  );
  io.out(`${lines.join('\n')}\n`);
  const startedMs = Date.now();
  const formed = (async () => {
    while (Date.now() - startedMs < 60_000) {
      const statuses = [...sim.nodes.values()].map((node) => node.agent.status().node.status);
      if (statuses.length === sim.specs.length && statuses.every((status) => status === 'Online')) {
        io.out(`pxsim: all ${statuses.length} nodes Online after ${((Date.now() - startedMs) / 1000).toFixed(1)} s\n`);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    io.err('pxsim: not every node is Online after 60 s; see pnpm exec pxctl cluster list\n');
  })();
  const stopSignal =
    until ??
    new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
  await stopSignal;
  await formed.catch(() => undefined);
  io.err('pxsim: stopping…\n');
  await sim.stop();
  io.err('pxsim: stopped\n');
}

export function pxsim(io: Io = processIo): Command {
  const root = program(
    'pxsim',
    'A simulated Portworx metro (stretched) cluster: run it, inject faults, apply Stork objects.',
    io,
  );
  root
    .command('up')
    .description('start the local sim (default: two domains x three nodes on the embedded kvdb) and run until Ctrl-C')
    .option('--domains <list>', 'comma-separated cluster domains', 'us-east-1a,us-east-1b')
    .option('--nodes-per-domain <n>', 'nodes in each domain', '3')
    .option('--witness', 'add a one-node storage-less witness domain')
    .option('--quorum-mode <mode>', 'safe or reference', 'safe')
    .option('--timing <profile>', 'fast or portworx', 'fast')
    .option('--cluster-id <id>', 'cluster ID', 'px-dr-cluster')
    .option('--kvdb <endpoints>', 'mem:// (embedded) or etcd:http://HOST:PORT', 'mem://')
    .option('--etcd', 'start a local etcd from the etcd binary and use it')
    .option('--ip-prefix <127.N>', 'loopback addresses to use: nodes on 127.N.D.I, control on 127.N.0.1:9020', '127.0')
    .option('--log-level <level>', `the agents' log (pino JSON lines on stderr): ${SIM_LOG_LEVELS.join(', ')}`, 'warn')
    .action(async (flags: UpFlags) => up(io, flags));
  addObjectCommands(root, io);
  addFaultCommands(root, io);
  addPropertyCommands(root, io);
  root
    .command('scenario')
    .description('play scenarios: the live failover against the running sim, or a scenario file')
    .command('failover')
    .description('the seed walkthrough: lose a domain, deactivate it, fail back; prints a timeline')
    .option('--domain <name>', 'the domain to lose', 'us-east-1a')
    .option('--timeout <seconds>', 'longest wait for each step', '60')
    .option('--token-file <file>', 'admin token file')
    .option('--html <file>', "also write the run's timeline as one self-contained HTML page")
    .action(async (options: { domain: string; timeout: string; tokenFile?: string; html?: string }) => {
      const seconds = Number(options.timeout);
      if (!(seconds > 0)) throw new CliError(`--timeout ${options.timeout} must be a number of seconds above 0`, 2);
      await failoverScenario(io, {
        domain: options.domain,
        timeoutMs: seconds * 1000,
        ...(options.tokenFile === undefined ? {} : { tokenFile: options.tokenFile }),
        ...(options.html === undefined ? {} : { html: options.html }),
      });
    });
  addScenarioFileCommand(root, io);
  return root;
}

/** `pxsim check` and `pxsim replay`: random fault schedules, and one failing case again. */
function addPropertyCommands(root: Command, io: Io): void {
  root
    .command('check')
    .description('run random fault schedules against the real agents in virtual time (checkers S1-S3, L1)')
    .option('--runs <n>', 'how many schedules', '200')
    .option('--mode <mode>', 'quorum mode: safe or reference', 'safe')
    .option('--seed <n>', 'fast-check seed (default: random, printed)')
    .option('--html-dir <dir>', "write a failure's timeline (one HTML page per failing schedule) into this directory")
    .option('--faults <kinds>', 'only these fault steps, comma-separated (default all; e.g. witness-bridge,crash)')
    .option('--fail-on <checks>', 'only these checks fail a schedule, comma-separated (default all; e.g. LIN,RPO)')
    .option('--witness <yes|no>', 'every schedule with or without a witness node (default: drawn per schedule)')
    .option(
      '--nodes-per-domain <n>',
      'nodes in each of the two data domains (default 3; e.g. 50 for a 100-node cluster)',
    )
    .option(
      '--shard <i/M>',
      "only this shard of the seed's runs (run index i modulo M); the M shards of a seed run its runs, on any machines",
    )
    .option('--workers <n>', 'spread the runs (or the shard) over n processes, e.g. one per core', '1')
    .addOption(new Option('--result-json', 'print the result as one JSON line, no report (a worker)').hideHelp())
    .option(
      '--kubernetes',
      'check K1 instead: an application wanted in both Kubernetes clusters never runs in both at once (safe mode)',
    )
    .action(async (options: CheckCommandOptions & ScheduleFilters & { kubernetes?: boolean }) =>
      options.kubernetes === true
        ? (await import('./kube-check.js')).checkKubernetes(io, options)
        : (await import('./explore.js')).check(io, options),
    );
  root
    .command('replay')
    .description('replay exactly the failing schedule a property run printed, with its history')
    .requiredOption('--seed <n>', 'the seed printed with the failure')
    .requiredOption('--path <path>', 'the path printed with the failure')
    .option('--replay-path <text>', 'the replay path printed with a shrunk failure')
    .option('--mode <mode>', 'quorum mode: safe or reference', 'safe')
    .option('--html <file>', "write the run's timeline as one self-contained HTML page")
    .option('--faults <kinds>', 'the --faults the property run had (printed with the failure)')
    .option('--fail-on <checks>', 'the --fail-on the property run had (printed with the failure)')
    .option('--witness <yes|no>', 'the --witness the property run had (printed with the failure)')
    .option('--nodes-per-domain <n>', 'the --nodes-per-domain the property run had (printed with the failure)')
    .option('--kubernetes', 'a failure of pxsim check --kubernetes (K1)')
    .action(
      async (
        options: { seed: string; path: string; mode: string; replayPath?: string; html?: string } & ScheduleFilters & {
            kubernetes?: boolean;
          },
      ) =>
        options.kubernetes === true
          ? (await import('./kube-check.js')).replayKubernetes(io, options)
          : (await import('./explore.js')).replay(io, options),
    );
}

/** `pxsim scenario run FILE`: a scenario file (YAML) in virtual time, or with `--real` against px-node and etcd. */
function addScenarioFileCommand(root: Command, io: Io): void {
  const scenario = root.commands.find((command) => command.name() === 'scenario');
  scenario
    ?.command('run <file>')
    .description(
      'play a scenario file (e.g. packages/sim-harness/scenarios/seed-walkthrough.yaml): virtual time by default, ' +
        '--real for px-node processes around a local etcd; prints the timeline, states, syncStatus and I/O checks',
    )
    .option('--seed <n>', 'simulation seed (virtual time)', '1')
    .option('--real', 'run in real time: px-node processes on loopback and a real etcd (needs the etcd binary)')
    .option('--ip-prefix <127.N>', 'loopback addresses of the real run', '127.4')
    .action(async (file: string, options: { seed: string; real?: boolean; ipPrefix: string }) =>
      (await import('./scenario-file.js')).runScenarioFile(io, file, options),
    );
}
