import { parseArgs } from 'node:util';
import { isIP } from 'node:net';
import { parseKvdbEndpoints } from '@pxsim/kvdb-client';
import { TIMING_PROFILES, type QuorumMode, type TimingProfileName } from '@pxsim/quorum';

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
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export const DEFAULT_VERSION = '2.1.0.0-pxsim';

const NAME = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,62}[A-Za-z0-9])?$/;

function checkName(value: string, what: string): string {
  if (!NAME.test(value)) {
    throw new ConfigError(
      `${what} "${value}" is not allowed: use 1–64 letters, digits, '.', '_' or '-', starting and ending with a letter or digit`,
    );
  }
  return value;
}

function checkPort(value: number | string, what: string): number {
  const port = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(port) || port < PORT_MIN || port > PORT_MAX) {
    throw new ConfigError(
      `${what} ${String(value)} is outside ${PORT_MIN}–${PORT_MAX} (the ports a metro cluster opens between domains)`,
    );
  }
  return port;
}

/** Validates a whole configuration; throws ConfigError naming the first bad value. */
export function validateConfig(
  input: Omit<AgentConfig, 'adminToken'> & { adminToken?: string | undefined },
): AgentConfig {
  const clusterId = checkName(input.clusterId, 'cluster ID');
  try {
    parseKvdbEndpoints(input.kvdb);
  } catch (error) {
    throw new ConfigError(error instanceof Error ? error.message.replace(/^InvalidArgument: /, '') : String(error));
  }
  const clusterDomain = checkName(input.clusterDomain, 'cluster domain');
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
  const schedulerNodeName = checkName(input.schedulerNodeName, 'scheduler node name');
  if (!Number.isFinite(input.poolCapacityGiB) || input.poolCapacityGiB <= 0 || input.poolCapacityGiB > 1024 * 1024) {
    throw new ConfigError(
      `--pool-capacity-gib ${input.poolCapacityGiB} must be a number of GiB above 0 and at most 1048576`,
    );
  }
  if (input.version.trim() === '' || input.version.length > 64)
    throw new ConfigError(`--version must be 1–64 characters`);
  if (input.quorumMode !== 'safe' && input.quorumMode !== 'reference') {
    throw new ConfigError(`--quorum-mode ${String(input.quorumMode)} is not allowed: use safe or reference`);
  }
  if (!(input.timingProfile in TIMING_PROFILES)) {
    throw new ConfigError(
      `--timing ${String(input.timingProfile)} is not allowed: use ${Object.keys(TIMING_PROFILES).join(' or ')}`,
    );
  }
  if (input.adminToken !== undefined && input.adminToken.length < 8) {
    throw new ConfigError('the admin token must be at least 8 characters');
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

export const USAGE = `Usage: px-node -c CLUSTER_ID -k KVDB --cluster-domain DOMAIN --data-dir DIR [options]

Starts one simulated Portworx node agent.

Required:
  -c, --cluster-id ID          cluster ID shared by every node (e.g. px-dr-cluster)
  -k, --kvdb ENDPOINTS         etcd:http://HOST:PORT[,…] (mem:// only in-process)
      --cluster-domain NAME    this node's cluster domain (e.g. us-east-1a)
      --data-dir DIR           where the node ID is kept across restarts

Options:
      --ip ADDRESS             address to bind and advertise (default 127.0.0.1)
      --api-port PORT          REST API (default 9001)
      --heartbeat-port PORT    heartbeats (default 9002)
      --replication-port PORT  replication (default 9003); every port within ${PORT_MIN}–${PORT_MAX}
      --scheduler-node-name N  Kubernetes node name (default px-<ip with dashes>)
      --pool-capacity-gib N    simulated storage pool size (default 150)
      --version V              version string (default ${DEFAULT_VERSION})
      --quorum-mode MODE       safe (default) or reference
      --timing PROFILE         portworx (default) or fast
      --admin-token-file FILE  file holding the bearer token for admin endpoints (or PX_ADMIN_TOKEN)
      --storageless            a storage-less (witness) node
  -h, --help                   this text

Invalid values print one line naming the value and exit with code 2.`;

/** Parses px-node's command line. Returns undefined for --help. */
export function parseAgentArgs(
  argv: string[],
  environment: Record<string, string | undefined>,
  readFile: (path: string) => string,
): AgentConfig | undefined {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        'cluster-id': { type: 'string', short: 'c' },
        kvdb: { type: 'string', short: 'k' },
        'cluster-domain': { type: 'string' },
        ip: { type: 'string', default: '127.0.0.1' },
        'api-port': { type: 'string', default: '9001' },
        'heartbeat-port': { type: 'string', default: '9002' },
        'replication-port': { type: 'string', default: '9003' },
        'data-dir': { type: 'string' },
        'scheduler-node-name': { type: 'string' },
        'pool-capacity-gib': { type: 'string', default: '150' },
        version: { type: 'string', default: DEFAULT_VERSION },
        'quorum-mode': { type: 'string', default: 'safe' },
        timing: { type: 'string', default: 'portworx' },
        'admin-token-file': { type: 'string' },
        storageless: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    throw new ConfigError(error instanceof Error ? (error.message.split('\n')[0] ?? String(error)) : String(error));
  }
  const values = parsed.values;
  if (values.help === true) return undefined;
  const need = (value: string | undefined, flag: string): string => {
    if (value === undefined || value === '') throw new ConfigError(`${flag} is required (see --help)`);
    return value;
  };
  const ip = values.ip ?? '127.0.0.1';
  let adminToken = environment['PX_ADMIN_TOKEN'];
  if (values['admin-token-file'] !== undefined) {
    try {
      adminToken = readFile(values['admin-token-file']).trim();
    } catch (error) {
      throw new ConfigError(
        `cannot read --admin-token-file ${values['admin-token-file']}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
  const capacity = Number(values['pool-capacity-gib']);
  return validateConfig({
    clusterId: need(values['cluster-id'], '-c/--cluster-id'),
    kvdb: need(values.kvdb, '-k/--kvdb'),
    clusterDomain: need(values['cluster-domain'], '--cluster-domain'),
    ip,
    apiPort: checkPort(values['api-port'] ?? '', '--api-port'),
    heartbeatPort: checkPort(values['heartbeat-port'] ?? '', '--heartbeat-port'),
    replicationPort: checkPort(values['replication-port'] ?? '', '--replication-port'),
    dataDir: need(values['data-dir'], '--data-dir'),
    schedulerNodeName: values['scheduler-node-name'] ?? `px-${ip.replaceAll('.', '-')}`,
    poolCapacityGiB: capacity,
    version: values.version ?? DEFAULT_VERSION,
    quorumMode: (values['quorum-mode'] ?? 'safe') as QuorumMode,
    timingProfile: (values.timing ?? 'portworx') as TimingProfileName,
    adminToken,
    storageless: values.storageless === true,
  });
}
