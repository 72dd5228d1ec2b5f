import { afterEach, describe, expect, it } from 'vitest';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { ADMIN_TOKEN, VirtualCluster } from './virtual-cluster.js';

const ADMIN = { authorization: `Bearer ${ADMIN_TOKEN}` };
const A1 = '127.0.1.1';
const SIX = ['127.0.1.1', '127.0.1.2', '127.0.1.3', '127.0.2.1', '127.0.2.2', '127.0.2.3'];

interface Sample {
  labels?: Record<string, string>;
  value?: string;
  buckets?: Record<string, string>;
  count?: string;
}
interface Family {
  name: string;
  type: string;
  metrics: Sample[];
}

/** Scrapes `GET /metrics` and parses it with a Prometheus text-format parser (so the format itself is checked). */
async function scrape(cluster: VirtualCluster, ip: string): Promise<Map<string, Family> & { text: string }> {
  const response = await cluster.node(ip).api.inject({ method: 'GET', url: '/metrics' });
  expect(response.statusCode).toBe(200);
  expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  const families = parsePrometheusTextFormat(response.body) as Family[];
  return Object.assign(new Map(families.map((family) => [family.name, family])), { text: response.body });
}

/**
 * A histogram's `_count` for one label value, read from the text (the parser folds a histogram's labelled series into
 * one: it checks the format, not the per-label counts).
 */
function histogramCount(text: string, name: string, label: string, labelValue: string): number {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name}_count{${label}="${labelValue}"}`));
  return Number(line?.split(' ').at(-1) ?? Number.NaN);
}

/** The value of the family's sample whose labels include `labels`. */
function value(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  const family = families.get(name);
  if (family === undefined) throw new Error(`no metric ${name}`);
  const sample = family.metrics.find((candidate) =>
    Object.entries(labels).every(([key, wanted]) => candidate.labels?.[key] === wanted),
  );
  if (sample === undefined) throw new Error(`no sample of ${name} with ${JSON.stringify(labels)}`);
  return Number(sample.value ?? sample.count);
}

describe('GET /metrics (Prometheus text format, prom-client)', () => {
  let cluster: VirtualCluster;
  afterEach(async () => {
    cluster.faults.heal(); // a node stopping releases its registration through the kvdb
    await cluster.stopAll();
  });

  it('shows status, gossip state, quorum counts, heartbeats by direction and reason, kvdb latency and errors, CDUs', async () => {
    cluster = new VirtualCluster();
    await cluster.start(SIX);
    await cluster.advance(6000);
    await scrape(cluster, A1); // starts the ClusterDomainUpdates read a later scrape shows
    await cluster.advance(100);
    let metrics = await scrape(cluster, A1);
    expect(metrics.get('pxsim_node_status')?.type).toBe('GAUGE');
    expect(value(metrics, 'pxsim_node_status', { status: 'Online' })).toBe(1);
    expect(value(metrics, 'pxsim_node_status', { status: 'Out of Quorum' })).toBe(0);
    expect(value(metrics, 'pxsim_node_gossip_state', { state: 'UP' })).toBe(1);
    expect(value(metrics, 'pxsim_node_serving')).toBe(1);
    expect(value(metrics, 'pxsim_quorum_up')).toBe(6);
    expect(value(metrics, 'pxsim_quorum_total')).toBe(6);
    expect(value(metrics, 'pxsim_quorum_needed')).toBe(4);
    expect(metrics.get('pxsim_heartbeat_frames_received_total')?.type).toBe('COUNTER');
    const received = value(metrics, 'pxsim_heartbeat_frames_received_total');
    expect(received).toBeGreaterThan(0);
    expect(value(metrics, 'pxsim_heartbeat_frames_sent_total')).toBeGreaterThan(0);
    expect(value(metrics, 'pxsim_heartbeat_frames_dropped_total', { reason: 'other_cluster' })).toBe(0);
    expect(metrics.get('pxsim_kvdb_operation_seconds')?.type).toBe('HISTOGRAM');
    expect(histogramCount(metrics.text, 'pxsim_kvdb_operation_seconds', 'operation', 'range')).toBeGreaterThan(0);
    expect(histogramCount(metrics.text, 'pxsim_kvdb_operation_seconds', 'operation', 'create')).toBeGreaterThan(0);
    expect(value(metrics, 'pxsim_cluster_domain_updates', { status: 'Successful' })).toBe(0);

    // A ClusterDomainUpdate deactivating us-east-1b: counted by status; the survivor domain keeps serving.
    const cdu = await cluster.node(A1).api.inject({
      method: 'POST',
      url: '/v1/stork/clusterdomainupdates',
      headers: ADMIN,
      payload: { name: 'deactivate-b', clusterDomain: 'us-east-1b', active: false },
    });
    expect(cdu.statusCode).toBeLessThan(300);
    await cluster.advance(3000);
    await scrape(cluster, A1);
    await cluster.advance(100);
    metrics = await scrape(cluster, A1);
    expect(value(metrics, 'pxsim_cluster_domain_updates', { status: 'Successful' })).toBe(1);
    expect(value(metrics, 'pxsim_quorum_total')).toBe(3);
    // Counters only grow between scrapes.
    expect(value(metrics, 'pxsim_heartbeat_frames_received_total')).toBeGreaterThan(received);

    // The kvdb link cut: calls fail, counted by kind; the node fences once its view is stale.
    cluster.faults.cutKvdb([A1]);
    await cluster.advance(10_000);
    metrics = await scrape(cluster, A1);
    const errors = metrics.get('pxsim_kvdb_errors_total')?.metrics ?? [];
    expect(errors.reduce((sum, sample) => sum + Number(sample.value), 0)).toBeGreaterThan(0);
    expect(errors.every((sample) => sample.labels?.['kind'] !== undefined)).toBe(true);
    expect(value(metrics, 'pxsim_node_serving')).toBe(0);
    expect(value(metrics, 'pxsim_node_status', { status: 'Online' })).toBe(0);
    // The ClusterDomainUpdates cannot be read now: the scrape still answers, with the counts last read.
    expect(value(metrics, 'pxsim_cluster_domain_updates', { status: 'Successful' })).toBe(1);
  });

  it('shows volume I/O and replication status per volume, on the node the volume is attached on', async () => {
    cluster = new VirtualCluster();
    await cluster.start(SIX);
    const agent = cluster.node(A1).agent;
    const formed = (): boolean =>
      agent.status().node.serving && agent.status().nodes.every((node) => node.status === 'Online');
    for (let waited = 0; !formed(); waited += 100) {
      if (waited > 30_000) throw new Error('the cluster did not form');
      await cluster.advance(100);
    }
    await agent.volumes.create({ name: 'metrics-vol', sizeGiB: 1, haLevel: 1, nodes: [agent.nodeId] });
    const answer = async (start: (done: (result: { ok: boolean }) => void) => void): Promise<boolean> => {
      let result: { ok: boolean } | undefined;
      start((value) => (result = value));
      for (let waited = 0; result === undefined && waited < 10_000; waited += 50) await cluster.advance(50);
      return result?.ok === true;
    };
    await cluster.advance(200);
    expect(await answer((done) => agent.volumes.attach('metrics-vol', done))).toBe(true);
    expect(await answer((done) => agent.volumes.write('metrics-vol', 3, new Uint8Array(100), done))).toBe(true);
    expect(await answer((done) => agent.volumes.read('metrics-vol', 3, done))).toBe(true);
    const metrics = await scrape(cluster, A1);
    const volume = { volume: 'metrics-vol' };
    expect(value(metrics, 'pxsim_volume_writes_total', volume)).toBe(1);
    expect(value(metrics, 'pxsim_volume_reads_total', volume)).toBe(1);
    expect(value(metrics, 'pxsim_volume_written_bytes_total', volume)).toBe(100);
    expect(value(metrics, 'pxsim_volume_used_bytes', volume)).toBe(4096);
    expect(value(metrics, 'pxsim_volume_replication_status', volume)).toBe(0);
  });
});
