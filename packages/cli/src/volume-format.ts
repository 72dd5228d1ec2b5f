import type { VolumeJson } from '@pxsim/node-agent';
import { formatBytes, tabStops } from './format.js';

export type { VolumeJson };

/** The node ID → IP the listing shows (`attached on <IP>`, `Node : <IP>`); an unknown node shows as its ID. */
export type NodeIps = ReadonlyMap<string, string>;

const ip = (ips: NodeIps, node: string): string => ips.get(node) ?? node;

function statusCell(volume: VolumeJson, ips: NodeIps): string {
  return volume.attached_on === ''
    ? `${volume.status} - detached`
    : `${volume.status} - attached on ${ip(ips, volume.attached_on)}`;
}

/** `pxctl volume list`, the newer shape (with HA-STATE), tab-padded as Go's tabwriter does. */
export function renderVolumeList(volumes: readonly VolumeJson[], ips: NodeIps): string {
  const header = ['ID', 'NAME', 'SIZE', 'HA', 'SHARED', 'ENCRYPTED', 'IO_PRIORITY', 'STATUS', 'HA-STATE'];
  const rows = volumes.map((volume) => [
    volume.id,
    volume.locator.name,
    formatBytes(Number(volume.spec.size)),
    volume.spec.ha_level,
    'no',
    'no',
    'LOW',
    statusCell(volume, ips),
    volume.replication_status,
  ]);
  return `${tabStops([header, ...rows]).join('\n')}\n`;
}

/** "Nov 12 20:06:04 UTC 2018", as pxctl prints a creation time (UTC). */
export function formatCreationTime(atMs: number): string {
  const date = new Date(atMs);
  if (Number.isNaN(date.getTime())) return String(atMs);
  const [, day = '', month = '', year = '', time = ''] = date.toUTCString().split(' ');
  return `${month} ${day} ${time} UTC ${year}`;
}

/** `pxctl volume inspect NAME`: the field lines of Portworx's inspect, for the facts the simulator has. */
export function renderVolumeInspect(volume: VolumeJson, ips: NodeIps): string {
  const field = (name: string, value: string): string => `\t${name.padEnd(21)}:  ${value}`;
  const attachedOn = volume.attached_on;
  const attached = attachedOn !== '';
  const labels = Object.entries(volume.locator.volume_labels);
  const current = new Set((volume.runtime_state[0]?.runtime_state.ReplicaSetCurrMid ?? '').split(','));
  const lines = [
    `Volume\t:  ${volume.id}`,
    field('Name', volume.locator.name),
    field('Size', formatBytes(Number(volume.spec.size))),
    field('HA', volume.spec.ha_level),
    field('IO Priority', 'LOW'),
    field('Creation time', formatCreationTime(volume.ctime)),
    field('Shared', 'no'),
    field('Status', volume.status),
    field('State', attached ? `Attached: ${attachedOn} (${ip(ips, attachedOn)})` : 'detached'),
    ...(attached ? [field('Device Path', `/dev/pxd/pxd${volume.id}`)] : []),
    ...(labels.length > 0 ? [field('Labels', labels.map(([key, value]) => `${key}=${value}`).join(','))] : []),
    field('Reads', String(volume.io.reads)),
    field('Bytes Read', String(volume.io.bytes_read)),
    field('Writes', String(volume.io.writes)),
    field('Bytes Written', String(volume.io.bytes_written)),
    field('IOs in progress', String(volume.io.in_progress)),
    field('Bytes used', formatBytes(Number(volume.usage))),
    '\tReplica sets on nodes:',
    ...volume.replica_sets.flatMap((set, index) => [
      `\t\tSet ${index}`,
      ...set.nodes.map((node) => {
        const removed = volume.runtime_state.length === 0 || current.has(node) ? '' : ' (not in the current set)';
        return `\t\t  Node\t\t : ${ip(ips, node)} (Pool 0)${removed}`;
      }),
    ]),
    field('Replication Status', volume.replication_status),
  ];
  return `${lines.join('\n')}\n`;
}
