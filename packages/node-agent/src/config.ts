import { parseArgs } from 'node:util';
import { isIP } from 'node:net';
import { parseKvdbEndpoints } from '@pxsim/kvdb-client';
import { TIMING_PROFILES, type QuorumMode, type TimingProfileName } from '@pxsim/quorum';
import { CLUSTER_ID_RULE, DOMAIN_NAME_RULE, nameProblem, OBJECT_NAME_RULE, type NameRule } from './wire/names.js';

/** Ports every node agent must use, as the metro requirement states: 9001–9020 open between domains. */
export const PORT_MIN = 9001;
export const PORT_MAX = 9020;

export interface AgentConfig {
  clusterId: string;
  /** Portworx-style -k value. */
  kvdb: string;
  clusterDomain: string;
  ip: string;
  apiPort: number;
  heartbeatPort: number;
  replicationPort: number;
  dataDir: string;
  schedulerNodeName: string;
  poolCapacityGiB: number;
  version: string;
  quorumMode: QuorumMode;
  timingProfile: TimingProfileName;
  /** Bearer token for the admin endpoints; undefined disables them. */
  adminToken: string | undefined;
  /** A storage-less node (witness). */
  storageless: boolean;
  /** Start in another domain than the one the data dir records (logged). */
  allowDomainChange?: boolean;
  /** Join or create a cluster with another UUID than the one the data dir records (kvdb data lost; logged). */
  allowNewClusterUuid?: boolean;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export const DEFAULT_VERSION = '2.1.0.0-pxsim';

/** Portworx's readiness port: every node answers `GET /health` there too, so no other port may take it. */
export const READINESS_PORT = 9015;

function checkName(rule: NameRule, value: string, what: string): string {
  const problem = nameProblem(rule, value);
  if (problem !== undefined) throw new ConfigError(`${what} ${problem}`);
  return value;
}

function checkPort(value: number | string, what: string): number {
  const port = typeof value === 'number' ? value : /^[0-9]{1,5}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(port) || port < PORT_MIN || port > PORT_MAX) {
    throw new ConfigError(
      `${what} ${String(value)} is outside ${PORT_MIN}–${PORT_MAX} (the ports a metro cluster opens between domains)`,
    );
  }
  if (port === READINESS_PORT) {
    throw new ConfigError(`${what} ${port} is taken: ${READINESS_PORT} is the readiness port (GET /health)`);
  }
  return port;
}

/** Validates a whole configuration; throws ConfigError naming the first bad value. */
export function validateConfig(
  input: Omit<AgentConfig, 'adminToken'> & { adminToken?: string | undefined },
): AgentConfig {
  const clusterId = checkName(CLUSTER_ID_RULE, input.clusterId, '-c/--cluster-id');
  try {
    parseKvdbEndpoints(input.kvdb);
  } catch (error) {
    const reason = error instanceof Error ? error.message.replace(/^InvalidArgument: /, '') : String(error);
    throw new ConfigError(`-k/--kvdb: ${reason}`);
  }
  const clusterDomain = checkName(DOMAIN_NAME_RULE, input.clusterDomain, '--cluster-domain');
  if (isIP(input.ip) !== 4) throw new ConfigError(`--ip ${input.ip} is not an IPv4 address`);
  const apiPort = checkPort(input.apiPort, '--api-port');
  const heartbeatPort = checkPort(input.heartbeatPort, '--heartbeat-port');
  const replicationPort = checkPort(input.replicationPort, '--replication-port');
  if (new Set([apiPort, heartbeatPort, replicationPort]).size !== 3) {
    throw new ConfigError(
      `ports must differ: api ${apiPort}, heartbeat ${heartbeatPort}, replication ${replicationPort}`,
    );
  }
  if (input.dataDir.trim() === '') throw new ConfigError('--data-dir must not be empty');
  const schedulerNodeName = checkName(OBJECT_NAME_RULE, input.schedulerNodeName, '--scheduler-node-name');
  if (!Number.isFinite(input.poolCapacityGiB) || input.poolCapacityGiB <= 0 || input.poolCapacityGiB > 1024 * 1024) {
    throw new ConfigError(
      `--pool-capacity-gib ${input.poolCapacityGiB} must be a number of GiB above 0 and at most 1048576`,
    );
  }
  if (input.version.trim() === '' || input.version.length > 64)
    throw new ConfigError(`--px-version "${input.version}" is not allowed: use 1–64 characters, not all blank`);
  if (input.quorumMode !== 'safe' && input.quorumMode !== 'reference') {
    throw new ConfigError(`--quorum-mode ${String(input.quorumMode)} is not allowed: use safe or reference`);
  }
  if (!(input.timingProfile in TIMING_PROFILES)) {
    throw new ConfigError(
      `--timing ${String(input.timingProfile)} is not allowed: use ${Object.keys(TIMING_PROFILES).join(' or ')}`,
    );
  }
  if (input.adminToken !== undefined && input.adminToken.length < 8) {
    throw new ConfigError(
      `the admin token (--admin-token-file or PX_ADMIN_TOKEN) has ${input.adminToken.length} characters: use at least 8`,
    );
  }
  return {
    ...input,
    clusterId,
    clusterDomain,
    apiPort,
    heartbeatPort,
    replicationPort,
    schedulerNodeName,
    adminToken: input.adminToken,
  };
}

/** px-node's `--log-level`: how much it logs to stderr. */
export type LogLevelSetting = 'debug' | 'info' | 'warn' | 'error' | 'silent';
export const LOG_LEVEL_SETTINGS: readonly LogLevelSetting[] = ['debug', 'info', 'warn', 'error', 'silent'];

interface FlagSpec {
  name: string;
  short?: string;
  /** The value's placeholder in --help; absent for a boolean flag. */
  value?: string;
  default?: string;
  help: string;
  group: 'Required' | 'Options';
}

/** Every px-node flag, once: parsing and --help both come from this table. */
export const AGENT_FLAGS: readonly FlagSpec[] = [
  { name: 'cluster-id', short: 'c', value: 'ID', group: 'Required', help: 'cluster ID shared by every node' },
  {
    name: 'kvdb',
    short: 'k',
    value: 'ENDPOINTS',
    group: 'Required',
    help: 'etcd:http://HOST:PORT[,…] (JSON gateway), etcd+grpc:http://HOST:PORT[,…] (etcd3 gRPC client), mem://[NAME] (embedded, this process only)',
  },
  { name: 'cluster-domain', value: 'NAME', group: 'Required', help: "this node's cluster domain (e.g. us-east-1a)" },
  { name: 'data-dir', value: 'DIR', group: 'Required', help: 'where the node ID is kept across restarts' },
  { name: 'ip', value: 'ADDRESS', default: '127.0.0.1', group: 'Options', help: 'IPv4 address to bind and advertise' },
  { name: 'api-port', value: 'PORT', default: '9001', group: 'Options', help: 'REST API' },
  { name: 'heartbeat-port', value: 'PORT', default: '9002', group: 'Options', help: 'heartbeats' },
  {
    name: 'replication-port',
    value: 'PORT',
    default: '9003',
    group: 'Options',
    help: 'replication',
  },
  {
    name: 'scheduler-node-name',
    value: 'NAME',
    group: 'Options',
    help: 'Kubernetes node name (default px-<ip with dashes>)',
  },
  {
    name: 'pool-capacity-gib',
    value: 'N',
    default: '150',
    group: 'Options',
    help: 'simulated storage pool size in GiB',
  },
  {
    name: 'px-version',
    value: 'V',
    default: DEFAULT_VERSION,
    group: 'Options',
    help: 'the Portworx version this node reports',
  },
  { name: 'quorum-mode', value: 'MODE', default: 'safe', group: 'Options', help: 'safe or reference' },
  {
    name: 'timing',
    value: 'PROFILE',
    default: 'portworx',
    group: 'Options',
    help: `${Object.keys(TIMING_PROFILES).join(' or ')}`,
  },
  {
    name: 'admin-token-file',
    value: 'FILE',
    group: 'Options',
    help: 'file holding the bearer token for admin endpoints (or PX_ADMIN_TOKEN)',
  },
  { name: 'storageless', group: 'Options', help: 'a storage-less (witness) node' },
  {
    name: 'allow-domain-change',
    group: 'Options',
    help: 'move this node to --cluster-domain although its data dir records another domain',
  },
  {
    name: 'allow-new-cluster-uuid',
    group: 'Options',
    help: 'join or re-create the cluster although the kvdb no longer holds the UUID its data dir records',
  },
  {
    name: 'log-level',
    value: 'LEVEL',
    default: 'info',
    group: 'Options',
    help: `${LOG_LEVEL_SETTINGS.join(', ')}: JSON lines on stderr`,
  },
  { name: 'version', short: 'V', group: 'Options', help: "print px-node's own version and exit" },
  { name: 'help', short: 'h', group: 'Options', help: 'this text' },
];

function usageLine(flag: FlagSpec): string {
  const names = `${flag.short === undefined ? '    ' : `-${flag.short}, `}--${flag.name}${flag.value === undefined ? '' : ` ${flag.value}`}`;
  const help = flag.default === undefined ? flag.help : `${flag.help} (default ${flag.default})`;
  return `  ${names.padEnd(30)} ${help}`;
}

export const USAGE = [
  'Usage: px-node -c CLUSTER_ID -k KVDB --cluster-domain DOMAIN --data-dir DIR [options]',
  '',
  'Starts one simulated Portworx node agent.',
  '',
  'Required:',
  ...AGENT_FLAGS.filter((flag) => flag.group === 'Required').map(usageLine),
  '',
  'Options:',
  ...AGENT_FLAGS.filter((flag) => flag.group === 'Options').map(usageLine),
  '',
  `Every port is within ${PORT_MIN}–${PORT_MAX} (the metro rule), all different, and not ${READINESS_PORT}: every node answers`,
  `GET /health on ${READINESS_PORT} too (Portworx's readiness port).`,
  '',
  'An invalid value prints one line naming the flag, the value and what is allowed, and exits with code 2.',
].join('\n');

/** What the command line asks for: help, the tool's version, or running a node. */
export type AgentArgs =
  { kind: 'help' } | { kind: 'version' } | { kind: 'run'; config: AgentConfig; logLevel: LogLevelSetting };

type FlagValues = Record<string, string | boolean | undefined>;

function parseFlags(argv: string[]): FlagValues {
  const options = Object.fromEntries(
    AGENT_FLAGS.map((flag) => [
      flag.name,
      {
        type: flag.value === undefined ? ('boolean' as const) : ('string' as const),
        ...(flag.short === undefined ? {} : { short: flag.short }),
      },
    ]),
  );
  try {
    return parseArgs({ args: argv, strict: true, allowPositionals: false, options }).values;
  } catch (error) {
    const first = error instanceof Error ? (error.message.split('\n')[0] ?? error.message) : String(error);
    throw new ConfigError(`${first} (see --help)`);
  }
}

/** A flag's string value, its default, or undefined. */
function stringFlag(values: FlagValues, name: string): string | undefined {
  const value = values[name];
  if (typeof value === 'string') return value;
  return AGENT_FLAGS.find((flag) => flag.name === name)?.default;
}

function requiredFlag(values: FlagValues, name: string, label: string): string {
  const value = stringFlag(values, name);
  if (value === undefined || value === '') throw new ConfigError(`${label} is required (see --help)`);
  return value;
}

function oneOf<T extends string>(values: FlagValues, name: string, allowed: readonly T[]): T {
  const value = stringFlag(values, name) ?? '';
  const found = allowed.find((candidate) => candidate === value);
  if (found === undefined) throw new ConfigError(`--${name} ${value} is not allowed: use ${allowed.join(', ')}`);
  return found;
}

function capacityGiB(values: FlagValues): number {
  const text = stringFlag(values, 'pool-capacity-gib') ?? '';
  if (!/^[0-9]+(\.[0-9]+)?$/.test(text))
    throw new ConfigError(
      `--pool-capacity-gib ${text} is not allowed: use a number of GiB above 0 and at most 1048576`,
    );
  return Number(text);
}

function adminTokenFrom(
  values: FlagValues,
  environment: Record<string, string | undefined>,
  readFile: (path: string) => string,
): string | undefined {
  const file = stringFlag(values, 'admin-token-file');
  if (file === undefined) return environment['PX_ADMIN_TOKEN'];
  try {
    return readFile(file).trim();
  } catch (error) {
    throw new ConfigError(
      `cannot read --admin-token-file ${file}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/** Parses px-node's command line; throws ConfigError naming the flag, the value and the rule. */
export function parseAgentArgs(
  argv: string[],
  environment: Record<string, string | undefined>,
  readFile: (path: string) => string,
): AgentArgs {
  const values = parseFlags(argv);
  if (values['help'] === true) return { kind: 'help' };
  if (values['version'] === true) return { kind: 'version' };
  const ip = stringFlag(values, 'ip') ?? '127.0.0.1';
  const logLevel = oneOf(values, 'log-level', LOG_LEVEL_SETTINGS);
  const config = validateConfig({
    clusterId: requiredFlag(values, 'cluster-id', '-c/--cluster-id'),
    kvdb: requiredFlag(values, 'kvdb', '-k/--kvdb'),
    clusterDomain: requiredFlag(values, 'cluster-domain', '--cluster-domain'),
    ip,
    apiPort: checkPort(stringFlag(values, 'api-port') ?? '', '--api-port'),
    heartbeatPort: checkPort(stringFlag(values, 'heartbeat-port') ?? '', '--heartbeat-port'),
    replicationPort: checkPort(stringFlag(values, 'replication-port') ?? '', '--replication-port'),
    dataDir: requiredFlag(values, 'data-dir', '--data-dir'),
    schedulerNodeName: stringFlag(values, 'scheduler-node-name') ?? `px-${ip.replaceAll('.', '-')}`,
    poolCapacityGiB: capacityGiB(values),
    version: stringFlag(values, 'px-version') ?? DEFAULT_VERSION,
    quorumMode: oneOf(values, 'quorum-mode', ['safe', 'reference'] as const),
    timingProfile: oneOf(values, 'timing', Object.keys(TIMING_PROFILES) as TimingProfileName[]),
    adminToken: adminTokenFrom(values, environment, readFile),
    storageless: values['storageless'] === true,
    allowDomainChange: values['allow-domain-change'] === true,
    allowNewClusterUuid: values['allow-new-cluster-uuid'] === true,
  });
  return { kind: 'run', config, logLevel };
}
