import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AgentStatus, NodeStatusEntry } from '@pxsim/node-agent';
import {
  formatBytes,
  formatGoDate,
  clusterDomainsStatus,
  renderClusterDomainsStatus,
  renderClusterDomainUpdates,
  renderPxctlStatus,
} from '@pxsim/cli';

/** The Portworx metro walkthrough's text (the excerpts we compare against; origin in the file's first line). */
const SEED = readFileSync(join(import.meta.dirname, 'fixtures', 'portworx-metro-walkthrough.txt'), 'utf8');

/** The seed's lines from `first` up to (not including) `end`. */
function seedBlock(first: string, end: string): string {
  const lines = SEED.split('\n');
  const start = lines.findIndex((line) => line.startsWith(first));
  const stop = lines.findIndex((line, index) => index > start && line.startsWith(end));
  return `${lines.slice(start, stop).join('\n')}\n`;
}

const GiB = 1024 ** 3;
const SEED_NODES: Array<[string, string, string]> = [
  ['172.20.33.100', 'c665fe35-57d9-4302-b6f7-a978f17cd020', 'us-east-1a'],
  ['172.40.50.47', 'bbb2f11d-c6ad-46e7-a52f-530f313869f3', 'us-east-1b'],
  ['172.40.34.140', 'a888a08e-0596-43a5-8d02-6faf19e8724c', 'us-east-1b'],
  ['172.20.36.212', '7a83c652-ffaf-452f-978c-82b0da1d2580', 'us-east-1a'],
  ['172.20.59.248', '11e0656a-45a5-4a5b-b4e6-51e130959644', 'us-east-1a'],
  ['172.40.40.230', '04de0858-4081-47c3-a2ab-f0835b788738', 'us-east-1b'],
];

/** The seed's cluster as the agent's status (what GET /v1/cluster returns). */
function seedStatus(): AgentStatus {
  const nodes: NodeStatusEntry[] = SEED_NODES.map(([ip, id, domain]) => ({
    id,
    ip,
    schedulerNodeName: `ip-${ip.replaceAll('.', '-')}.ec2.internal`,
    domain,
    status: 'Online',
    gossipState: 'UP',
    storageStatus: 'Up',
    reason: '',
    usedBytes: 0,
    capacityBytes: 150 * GiB,
    version: '2.1.0.0-cb23fd1',
    storageless: false,
    thisNode: id.startsWith('04de0858'),
  }));
  const self = nodes[5] as NodeStatusEntry;
  return {
    phase: 'running',
    phaseReason: '',
    nowMs: Date.UTC(2019, 3, 9, 22, 57),
    node: { ...self, apiPort: 9001, heartbeatPort: 9002, replicationPort: 9003, serving: true },
    cluster: {
      id: 'px-dr-cluster',
      uuid: '27558ed9-7ddd-4424-92d4-5dfe2af572e0',
      createdAtMs: Date.UTC(2019, 3, 10, 0, 12),
      scheduler: 'kubernetes',
      kvdb: 'etcd:http://100.26.199.167:2379',
      kvdbRevision: 7,
    },
    quorum: { mode: 'safe', total: 6, up: 6, needed: 4, activeDomains: ['us-east-1a', 'us-east-1b'] },
    nodes,
    domains: [
      { name: 'us-east-1a', state: 'Active', nodes: 3, updatedAtMs: 0 },
      { name: 'us-east-1b', state: 'Active', nodes: 3, updatedAtMs: 0 },
    ],
    counters: {
      framesReceived: 0,
      framesDropped: 0,
      framesFromOtherClusters: 0,
      framesUnauthenticated: 0,
      framesSent: 0,
      kvdbValuesRejected: 0,
    },
  };
}

const SEED_HOST = {
  license: 'Trial (expires in 31 days)',
  kernel: '4.9.0-7-amd64',
  os: 'Debian GNU/Linux 9 (stretch)',
  devicePath: '/dev/xvdf',
  lastScanMs: Date.UTC(2019, 3, 9, 22, 57),
  region: 'us-east-1',
  timeZone: 'UTC',
};

/** Fields that differ run to run, or that the seed's own output fills in from outside pxctl. */
function normalise(text: string): string {
  return text.replace(/^(\s+0\s+LOW\s+raid0\s+150 GiB )\S+ \S+\s+(Online|Offline)/m, '$1<USED> $2');
}

describe('pxctl status (golden: the Portworx walkthrough text)', () => {
  it('renders the seed cluster exactly as the seed prints it, volatile fields aside', () => {
    const expected = seedBlock('Status: PX is operational', 'root@aditya-dev');
    expect(normalise(renderPxctlStatus(seedStatus(), SEED_HOST))).toBe(normalise(expected));
  });

  it('says so when out of quorum, with the reason', () => {
    const status = seedStatus();
    status.node = {
      ...status.node,
      status: 'Out of Quorum',
      storageStatus: 'Down',
      reason: 'domain us-east-1b is inactive',
    };
    const text = renderPxctlStatus(status, SEED_HOST);
    expect(text.split('\n').slice(0, 3)).toEqual([
      'Status: PX is not in quorum',
      'Reason: domain us-east-1b is inactive',
      'Node Up but not in Quorum.',
    ]);
  });
});

describe('storkctl tables (golden: the Portworx walkthrough text)', () => {
  it('get clusterdomainsstatus, both domains active and after the failover', () => {
    const status = seedStatus();
    status.cluster.createdAtMs = Date.UTC(2019, 3, 10, 0, 12);
    expect(renderClusterDomainsStatus(status, [], false, 'America/Los_Angeles')).toBe(
      'NAME            ACTIVE                    INACTIVE   CREATED\npx-dr-cluster   [us-east-1a us-east-1b]   []         09 Apr 19 17:12 PDT\n',
    );
    status.domains = [
      { name: 'us-east-1a', state: 'Inactive', nodes: 3, updatedAtMs: 0 },
      { name: 'us-east-1b', state: 'Active', nodes: 3, updatedAtMs: 0 },
    ];
    expect(renderClusterDomainsStatus(status, [], false, 'America/Los_Angeles')).toBe(
      'NAME            ACTIVE         INACTIVE       CREATED\npx-dr-cluster   [us-east-1b]   [us-east-1a]   09 Apr 19 17:12 PDT\n',
    );
    expect(renderClusterDomainsStatus(status, [], true, 'UTC')).toBe(
      'NAME            LOCAL-DOMAIN   ACTIVE                INACTIVE                 CREATED\n' +
        'px-dr-cluster   us-east-1b     us-east-1b (InSync)   us-east-1a (NotInSync)   10 Apr 19 00:12 UTC\n',
    );
  });

  it("the ClusterDomainsStatus is named as stork names it: lower case, other characters than [a-z0-9.-] as '-'", () => {
    const status = seedStatus();
    status.cluster.id = 'PX_DR.Cluster-1';
    expect(clusterDomainsStatus(status, []).metadata.name).toBe('px-dr.cluster-1');
  });

  it("syncStatus follows stork's rule over the volumes' replica sets", () => {
    const status = seedStatus();
    const [a, b] = ['us-east-1a', 'us-east-1b'].map((domain) =>
      status.nodes.filter((node) => node.domain === domain).map((node) => node.id),
    );
    const a1 = a?.[0] ?? '';
    const b1 = b?.[0] ?? '';
    const infos = (volumes: Parameters<typeof clusterDomainsStatus>[1]): string[] =>
      clusterDomainsStatus(status, volumes).status.clusterDomainInfos.map((info) => `${info.name} ${info.syncStatus}`);
    // A create-set replica of us-east-1a missing from the current set: us-east-1a still resyncs.
    expect(infos([{ createSet: [a1, b1], currentSet: [b1] }])).toEqual([
      'us-east-1a SyncInProgress',
      'us-east-1b InSync',
    ]);
    expect(infos([{ createSet: [a1, b1], currentSet: [b1, a1] }])).toEqual(['us-east-1a InSync', 'us-east-1b InSync']);
    // Stork compares the sets' lengths only: equal lengths are skipped even when the members differ.
    expect(infos([{ createSet: [a1, b1], currentSet: [b1, 'elsewhere'] }])).toEqual([
      'us-east-1a InSync',
      'us-east-1b InSync',
    ]);
    // The volumes could not be listed: unknown, as stork answers when its enumeration fails.
    expect(infos(undefined)).toEqual(['us-east-1a SyncStatusUnknown', 'us-east-1b SyncStatusUnknown']);
    // An inactive domain's missing replica is no sync in progress: it stays NotInSync.
    status.domains = [
      { name: 'us-east-1a', state: 'Inactive', nodes: 3, updatedAtMs: 0 },
      { name: 'us-east-1b', state: 'Active', nodes: 3, updatedAtMs: 0 },
    ];
    expect(infos([{ createSet: [a1, b1], currentSet: [b1] }])).toEqual(['us-east-1a NotInSync', 'us-east-1b InSync']);
  });

  it('get clusterdomainupdate', () => {
    expect(
      renderClusterDomainUpdates(
        [
          {
            name: 'deactivate-us-east-1a',
            clusterDomain: 'us-east-1a',
            active: false,
            status: 'Successful',
            reason: '',
            createdAtMs: Date.UTC(2019, 3, 10, 0, 12),
            updatedAtMs: 0,
          },
        ],
        'UTC',
      ),
    ).toBe(
      'NAME                    CLUSTER-DOMAIN   ACTION       STATUS       CREATED\ndeactivate-us-east-1a   us-east-1a       Deactivate   Successful   10 Apr 19 00:12 UTC\n',
    );
    expect(renderClusterDomainUpdates([])).toBe('No resources found.\n');
  });

  it('formats sizes and dates as Portworx and Go do', () => {
    expect([0, 1023, 1024, 150 * GiB, 9 * GiB + GiB / 10, 900 * GiB].map(formatBytes)).toEqual([
      '0 B',
      '1023 B',
      '1 KiB',
      '150 GiB',
      '9.1 GiB',
      '900 GiB',
    ]);
    expect(formatGoDate(Date.UTC(2019, 3, 9, 22, 57), 'UTC')).toBe('09 Apr 19 22:57 UTC');
  });
});
