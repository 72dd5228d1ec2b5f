import {
  clusterDomainsStatus,
  type AgentStatus,
  type ClusterDomainUpdate,
  type NodeStatusEntry,
  type ReplicaSets,
} from '@pxsim/node-agent';

/**
 * Go's text/tabwriter as pxctl uses it (tab padding, 8-column tab stops, shown expanded): every column but the
 * last is padded to the next multiple of 8 after its widest cell.
 */
export function tabStops(rows: string[][], indent = ''): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, index) => {
      widths[index] = Math.max(widths[index] ?? 0, cell.length);
    });
  }
  return rows.map(
    (row) =>
      indent +
      row
        .map((cell, index) =>
          index === row.length - 1 ? cell : cell.padEnd(Math.ceil(((widths[index] ?? 0) + 1) / 8) * 8),
        )
        .join(''),
  );
}

/** kubectl's printer (tabwriter minwidth 6, padding 3, spaces): what storkctl prints. */
export function kubectlColumns(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, index) => {
      widths[index] = Math.max(widths[index] ?? 0, cell.length);
    });
  }
  return rows.map((row) =>
    row
      .map((cell, index) => (index === row.length - 1 ? cell : cell.padEnd(Math.max(6, (widths[index] ?? 0) + 3))))
      .join('')
      .trimEnd(),
  );
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

/** "0 B", "150 GiB", "9.0 GiB": whole numbers bare, others with one decimal. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const text = Number.isInteger(value) ? String(value) : value.toFixed(1);
  return `${text} ${UNITS[unit] ?? 'B'}`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

/** Go's "02 Jan 06 15:04 MST" in the given time zone (default: the process's). */
export function formatGoDate(ms: number, timeZone?: string): string {
  const date = new Date(ms);
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    year: '2-digit',
    month: 'numeric',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'short',
  }).formatToParts(date);
  const part = (type: Intl.DateTimeFormatPartTypes): string =>
    parts.find((candidate) => candidate.type === type)?.value ?? '';
  const zone = part('timeZoneName').replace(/^GMT$/, 'UTC');
  return `${part('day')} ${MONTHS[Number(part('month')) - 1] ?? ''} ${part('year')} ${part('hour')}:${part('minute')} ${zone}`;
}

/** Facts about the machine that pxctl shows and the agent does not track. */
export interface HostFacts {
  license: string;
  kernel: string;
  os: string;
  devicePath: string;
  lastScanMs: number;
  region: string;
  timeZone?: string;
}

function statusLine(status: AgentStatus): string {
  if (status.phase !== 'running') return `Status: PX is not running (${status.phaseReason})`;
  switch (status.node.status) {
    case 'Online':
      return 'Status: PX is operational';
    case 'Out of Quorum':
      return 'Status: PX is not in quorum';
    case 'Initializing':
      return 'Status: PX is initializing';
    case 'Offline':
      return 'Status: PX is offline';
  }
}

function storageStatusCell(node: NodeStatusEntry): string {
  return node.thisNode ? `${node.storageStatus} (This node)` : node.storageStatus;
}

/** The node's pool and device tables of `pxctl status` (a storage-less node has neither). */
function localStorageLines(status: AgentStatus, host: HostFacts): string[] {
  if (status.node.storageless) {
    return ['        Local Storage Pool: 0 pool', '        No storage pool (storage-less witness node)'];
  }
  const capacity = formatBytes(status.node.capacityBytes);
  const pool = tabStops(
    [
      ['POOL', 'IO_PRIORITY', 'RAID_LEVEL', 'USABLE', 'USED', 'STATUS', 'ZONE', 'REGION'],
      [
        '0',
        'LOW',
        'raid0',
        capacity,
        formatBytes(status.node.usedBytes),
        status.node.storageStatus === 'Up' ? 'Online' : 'Offline',
        status.node.domain,
        host.region,
      ],
    ],
    '        ',
  );
  const devices = tabStops(
    [
      // pxctl leaves an empty column between Size and Last-Scan.
      ['Device', 'Path', 'Media Type', 'Size', '', 'Last-Scan'],
      ['0:1', host.devicePath, 'STORAGE_MEDIUM_SSD', capacity, '', formatGoDate(host.lastScanMs, host.timeZone)],
      ['total', '', '-', capacity, ''],
    ],
    '        ',
  ).map((line) => line.trimEnd());
  return [
    '        Local Storage Pool: 1 pool',
    ...pool,
    '        Local Storage Devices: 1 device',
    ...devices,
    '        Cache Devices:',
    '        No cache devices',
  ];
}

const NODE_TABLE_HEADER = [
  'IP',
  'ID',
  'SchedulerNodeName',
  'StorageNode',
  'Used',
  'Capacity',
  'Status',
  'StorageStatus',
  'Version',
  'Kernel',
  'OS',
];

/** The "Cluster Summary" and "Global Storage Pool" sections of `pxctl status`. */
function clusterSummaryLines(status: AgentStatus, host: HostFacts): string[] {
  const storageNodes = status.nodes.filter((node) => !node.storageless);
  const online = storageNodes.filter((node) => node.status === 'Online').length;
  const rows = [NODE_TABLE_HEADER];
  for (const node of status.nodes) {
    rows.push([
      node.ip,
      node.id,
      node.schedulerNodeName,
      node.storageless ? 'No' : 'Yes',
      formatBytes(node.usedBytes),
      formatBytes(node.capacityBytes),
      node.status,
      storageStatusCell(node),
      node.version,
      host.kernel,
      host.os,
    ]);
  }
  const totalUsed = status.nodes.reduce((sum, node) => sum + node.usedBytes, 0);
  const totalCapacity = status.nodes.reduce((sum, node) => sum + node.capacityBytes, 0);
  return [
    'Cluster Summary',
    `        Cluster ID: ${status.cluster.id}`,
    `        Cluster UUID: ${status.cluster.uuid}`,
    `        Scheduler: ${status.cluster.scheduler}`,
    `        Nodes: ${storageNodes.length} node(s) with storage (${online} online)`,
    ...tabStops(rows, '        '),
    'Global Storage Pool',
    `        Total Used      :  ${formatBytes(totalUsed)}`,
    `        Total Capacity  :  ${formatBytes(totalCapacity)}`,
  ];
}

/** `pxctl status`, in the format of the Portworx walkthrough. */
export function renderPxctlStatus(status: AgentStatus, host: HostFacts): string {
  const lines: string[] = [statusLine(status)];
  if (status.node.status !== 'Online') {
    lines.push(`Reason: ${status.node.reason || status.phaseReason}`);
    if (status.node.status === 'Out of Quorum') lines.push('Node Up but not in Quorum.');
  }
  lines.push(`License: ${host.license}`, `Node ID: ${status.node.id}`, `        IP: ${status.node.ip}`);
  lines.push(...localStorageLines(status, host), ...clusterSummaryLines(status, host));
  return `${lines.join('\n')}\n`;
}

/** `pxctl cluster list`. */
export function renderClusterList(status: AgentStatus): string {
  const rows = [['ID', 'SCHEDULER_NODE_NAME', 'DATA IP', 'DOMAIN', 'STATUS', 'GOSSIP STATE', 'REASON']];
  for (const node of status.nodes) {
    rows.push([
      node.id,
      node.schedulerNodeName,
      node.ip,
      node.domain,
      node.status,
      node.gossipState,
      node.reason || '-',
    ]);
  }
  return `Cluster ID: ${status.cluster.id}\nCluster UUID: ${status.cluster.uuid}\nNodes in the cluster:\n${tabStops(rows).join('\n')}\n`;
}

/** `storkctl get clusterdomainsstatus`: the walkthrough's table, or current stork's (`current`). */
export function renderClusterDomainsStatus(
  status: AgentStatus,
  volumes: readonly ReplicaSets[] | undefined,
  current: boolean,
  timeZone?: string,
): string {
  const object = clusterDomainsStatus(status, volumes);
  const created = formatGoDate(status.cluster.createdAtMs, timeZone);
  if (!current) {
    return `${kubectlColumns([
      ['NAME', 'ACTIVE', 'INACTIVE', 'CREATED'],
      [object.metadata.name, `[${object.status.active.join(' ')}]`, `[${object.status.inactive.join(' ')}]`, created],
    ]).join('\n')}\n`;
  }
  const cell = (state: 'Active' | 'Inactive'): string =>
    object.status.clusterDomainInfos
      .filter((info) => info.state === state)
      .map((info) => `${info.name} (${info.syncStatus})`)
      .join(', ');
  return `${kubectlColumns([
    ['NAME', 'LOCAL-DOMAIN', 'ACTIVE', 'INACTIVE', 'CREATED'],
    [object.metadata.name, object.status.localDomain, cell('Active'), cell('Inactive'), created],
  ]).join('\n')}\n`;
}

/** A ClusterDomainUpdate as the Kubernetes object it stands for. */
export function clusterDomainUpdateObject(update: ClusterDomainUpdate): Record<string, unknown> {
  return {
    apiVersion: 'stork.libopenstorage.org/v1alpha1',
    kind: 'ClusterDomainUpdate',
    metadata: { name: update.name, creationTimestamp: new Date(update.createdAtMs).toISOString() },
    spec: { clusterdomain: update.clusterDomain, active: update.active },
    status: { status: update.status, reason: update.reason },
  };
}

/** `storkctl get clusterdomainupdate`. */
export function renderClusterDomainUpdates(updates: ClusterDomainUpdate[], timeZone?: string): string {
  if (updates.length === 0) return 'No resources found.\n';
  const rows = [['NAME', 'CLUSTER-DOMAIN', 'ACTION', 'STATUS', 'CREATED']];
  for (const update of updates) {
    rows.push([
      update.name,
      update.clusterDomain,
      update.active ? 'Activate' : 'Deactivate',
      update.status,
      formatGoDate(update.createdAtMs, timeZone),
    ]);
  }
  return `${kubectlColumns(rows).join('\n')}\n`;
}

export { clusterDomainsStatus };
