import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, eventually as eventuallyHolds, SimProcess } from './sim-process.js';

const EXAMPLES = join(import.meta.dirname, '..', 'examples');
/** This test's own loopback range, apart from the node-agent process tests (127.0.x.x). */
const PREFIX = '127.1';
const A1 = `${PREFIX}.1.1`;
const B1 = `${PREFIX}.2.1`;

describe('the sim and the CLI, end to end through the real commands on loopback', () => {
  let state: string;
  let sim: SimProcess;

  const cli = (tool: string, ...args: string[]) => {
    const result = spawnSync(join(BIN, tool), args, {
      env: { ...process.env, PXSIM_STATE_DIR: state },
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  };
  const eventually = (what: string, check: () => boolean, withinMs = 30_000): Promise<void> =>
    eventuallyHolds(
      what,
      check,
      withinMs,
      () => `cluster now:\n${cli('pxctl', 'cluster', 'list', '--node', A1).stdout}`,
    );
  const nodeStatus = (ip: string): string => {
    const result = cli('pxctl', 'status', '--node', ip, '-o', 'json');
    if (result.code !== 0) return `error: ${result.stderr}`;
    return (JSON.parse(result.stdout) as { node: { status: string } }).node.status;
  };

  const usedBytesOf = (ip: string): number =>
    (JSON.parse(cli('pxctl', 'status', '--node', ip, '-o', 'json').stdout) as { node: { usedBytes: number } }).node
      .usedBytes;

  beforeAll(async () => {
    sim = await SimProcess.start(PREFIX, 'e2e');
    state = sim.state;
  });

  afterAll(async () => {
    await sim.stop();
  });

  it('prints where every node listens, the admin token and what to try next', () => {
    expect(sim.output).toContain(`us-east-1a   ${A1}  API http://${A1}:9001  heartbeats ws://${A1}:9002/heartbeat`);
    expect(sim.output).toContain(`admin token: ${join(state, 'admin-token')}`);
    expect(sim.output).toContain('pnpm exec pxctl status');
  });

  it('pxctl volume create, list, inspect, attach, detach and delete against the sim; used capacity; syncStatus', async () => {
    const created = cli('pxctl', 'volume', 'create', 'e2e-vol', '--size', '2', '--repl', '2');
    expect(created.stderr).toBe('');
    expect(created.stdout).toMatch(/^Volume successfully created: \d{18}\n$/);
    const list = cli('pxctl', 'volume', 'list');
    expect(list.stdout).toMatch(/e2e-vol\s+2 GiB\s+2\s+no\s+no\s+LOW\s+up - detached\s+Detached/);
    const inspect = cli('pxctl', 'volume', 'inspect', 'e2e-vol');
    const replicaIps = [...inspect.stdout.matchAll(/Node\t\t : (\S+) \(Pool 0\)/g)].map((match) => match[1]);
    expect(replicaIps.map((ip) => ip?.split('.')[2]).sort()).toEqual(['1', '2']);
    const onA = replicaIps.find((ip) => ip?.split('.')[2] === '1') ?? A1;
    const usedBefore = usedBytesOf(onA);
    expect(cli('pxctl', 'volume', 'attach', 'e2e-vol', '--node', onA).stdout).toBe(
      `Volume e2e-vol successfully attached on ${onA}.\n`,
    );
    for (const block of [0, 1, 2]) {
      const written = await fetch(`http://${onA}:9001/v1/volumes/e2e-vol/blocks/${block}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ data: Buffer.from(`block ${block}`).toString('base64') }),
      });
      expect(await written.json()).toMatchObject({ acknowledged: true });
    }
    // pxctl status: the replica's three 4 KiB blocks are used capacity on the node that holds them.
    expect(usedBytesOf(onA) - usedBefore).toBe(3 * 4096);
    const cds = JSON.parse(cli('storkctl', 'get', 'cds', '-o', 'json').stdout) as {
      status: { clusterDomainInfos: Array<{ name: string; syncStatus: string }> };
    };
    expect(cds.status.clusterDomainInfos.map((info) => `${info.name} ${info.syncStatus}`)).toEqual([
      'us-east-1a InSync',
      'us-east-1b InSync',
    ]);
    expect(cli('pxctl', 'volume', 'delete', 'e2e-vol', '-f').code).not.toBe(0); // attached
    expect(cli('pxctl', 'volume', 'detach', 'e2e-vol', '--node', onA).stdout).toBe(
      'Volume e2e-vol successfully detached.\n',
    );
    expect(cli('pxctl', 'volume', 'delete', 'e2e-vol').code).toBe(2);
    expect(cli('pxctl', 'volume', 'delete', 'e2e-vol', '-f').stdout).toBe('Volume e2e-vol successfully deleted.\n');
    expect(cli('pxctl', 'volume', 'inspect', 'e2e-vol').code).not.toBe(0);
  });

  it('pxctl status and cluster list, in the seed format and as JSON', async () => {
    // Every node reports itself Online before the first node has heard each of them say so (≤ one heartbeat later).
    await eventually('the first node sees all six online', () => cli('pxctl', 'status').stdout.includes('(6 online)'));
    const status = cli('pxctl', 'status');
    expect(status.code).toBe(0);
    const lines = status.stdout.split('\n');
    expect(lines[0]).toBe('Status: PX is operational');
    expect(lines).toContain('        Nodes: 6 node(s) with storage (6 online)');
    expect(lines.filter((line) => line.includes('Up (This node)'))).toHaveLength(1);
    expect(lines).toContain('        Total Capacity  :  900 GiB');
    const json = JSON.parse(cli('pxctl', 'status', '-o', 'json').stdout) as {
      nodes: unknown[];
      cluster: { id: string };
    };
    expect(json.cluster.id).toBe('px-dr-cluster');
    expect(json.nodes).toHaveLength(6);
    const list = cli('pxctl', 'cluster', 'list');
    expect(list.stdout.split('\n').filter((line) => line.includes('us-east-1'))).toHaveLength(6);
  });

  it("applies the seed's two ClusterDomainUpdates: the domain goes Inactive (Out of Quorum) and back Active (all Online)", async () => {
    expect(cli('storkctl', 'get', 'clusterdomainsstatus').stdout).toMatch(
      /^NAME {12}ACTIVE {20}INACTIVE {3}CREATED\npx-dr-cluster {3}\[us-east-1a us-east-1b\] {3}\[\] {9}\d\d \w{3} \d\d \d\d:\d\d \w+\n$/,
    );
    const deactivate = cli('pxsim', 'create', '-f', join(EXAMPLES, 'deactivate-us-east-1a.yaml'));
    expect(deactivate.stdout).toBe(
      'clusterdomainupdate.stork.libopenstorage.org/deactivate-us-east-1a created (Successful)\n',
    );
    expect(deactivate.code).toBe(0);
    await eventually('us-east-1a Out of Quorum', () => nodeStatus(A1) === 'Out of Quorum');
    expect(cli('storkctl', 'get', 'cds').stdout).toMatch(/px-dr-cluster {3}\[us-east-1b\] {3}\[us-east-1a\] {3}/);
    const outOfQuorum = cli('pxctl', 'status', '--node', A1);
    expect(outOfQuorum.stdout.split('\n').slice(0, 3)).toEqual([
      'Status: PX is not in quorum',
      'Reason: domain us-east-1a is inactive',
      'Node Up but not in Quorum.',
    ]);
    await eventually('survivors Online', () => nodeStatus(B1) === 'Online');
    const again = cli('pxsim', 'create', '-f', join(EXAMPLES, 'deactivate-us-east-1a.yaml'));
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('"deactivate-us-east-1a" already exists');
    expect(cli('pxsim', 'apply', '-f', join(EXAMPLES, 'activate-us-east-1a.yaml')).code).toBe(0);
    await eventually('all Online', () => [A1, B1].every((ip) => nodeStatus(ip) === 'Online'));
    const updates = cli('storkctl', 'get', 'clusterdomainupdate');
    expect(updates.stdout).toMatch(/^NAME\s+CLUSTER-DOMAIN\s+ACTION\s+STATUS\s+CREATED\n/);
    expect(updates.stdout).toMatch(/deactivate-us-east-1a\s+us-east-1a\s+Deactivate\s+Successful/);
    expect(updates.stdout).toMatch(/activate-us-east-1a\s+us-east-1a\s+Activate\s+Successful/);
    expect(JSON.parse(cli('storkctl', 'get', 'cdu', '-o', 'json').stdout)).toMatchObject({ kind: 'List' });
    expect(cli('storkctl', 'get', 'cds', '-o', 'yaml').stdout).toContain('kind: ClusterDomainsStatus');
  });

  it('every error path: one clear line and a non-zero exit', () => {
    const seed = cli('pxsim', 'apply', '-f', join(EXAMPLES, 'seed-as-printed-invalid.yaml'));
    expect(seed.code).toBe(1);
    expect(seed.stderr).toMatch(
      /^pxsim: .*seed-as-printed-invalid\.yaml:2:1: invalid YAML: .*likely cause: line 1 is indented 1 space\(s\) deeper than line 2/,
    );
    const kind = join(state, 'configmap.yaml');
    writeFileSync(kind, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n');
    expect(cli('pxsim', 'create', '-f', kind).stderr).toContain('unsupported kind "ConfigMap"');
    const unknown = cli('storkctl', 'deactivate', 'clusterdomain', 'eu-west-1');
    expect(unknown.code).toBe(1);
    // Checked first against the ClusterDomainsStatus, as storkctl does (through the sim's kubeconfig)…
    expect(unknown.stderr.trim()).toBe(
      'storkctl: provided cluster domain eu-west-1 not found (cluster domains: us-east-1a, us-east-1b)',
    );
    // …and against the px node's domains with --node.
    expect(cli('storkctl', 'deactivate', 'clusterdomain', 'eu-west-1', '--node', B1).stderr).toContain(
      'provided cluster domain eu-west-1 not found',
    );
    expect(cli('storkctl', 'deactivate', 'clusterdomain').stderr).toContain(
      'exactly one cluster domain name needs to be provided to the deactivate command',
    );
    const wrongToken = join(state, 'wrong-token');
    writeFileSync(wrongToken, 'not-the-token\n');
    const forbidden = cli('storkctl', 'deactivate', 'clusterdomain', 'us-east-1a', '--token-file', wrongToken);
    expect(forbidden.code).toBe(1);
    expect(forbidden.stderr.trim()).toBe(`storkctl: http://${A1}:9001: forbidden: admin endpoint: wrong token`);
    const unreachable = cli('pxctl', 'status', '--node', `${PREFIX}.7.7`);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr.trim()).toBe(
      `pxctl: cannot reach http://${PREFIX}.7.7:9001 (ECONNREFUSED); is the sim running? start it with: pnpm sim`,
    );
    const badFlag = cli('pxctl', 'status', '--bogus');
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr.trim()).toBe("pxctl: unknown option '--bogus'");
    const latency = cli('pxsim', 'fault', 'latency', '800');
    expect(latency.code).toBe(2);
    expect(latency.stderr).toContain('exceeds the metro limit of 500 ms');
    expect(cli('pxsim', 'fault', 'partition', 'us-east-1a', 'nowhere').stderr).toContain(
      '"nowhere" is neither a domain',
    );
    const faults = cli('pxsim', 'check', '--runs', '1', '--faults', 'witness-bridge,meteor');
    expect(faults.code).toBe(2);
    expect(faults.stderr).toMatch(/^pxsim: --faults: unknown "meteor"; known: domain-split, witness-bridge, /);
    expect(cli('pxsim', 'check', '--runs', '1', '--fail-on', 'S9').stderr).toMatch(
      /--fail-on: unknown "S9"; known: S1/,
    );
    expect(cli('pxsim', 'replay', '--seed', '1', '--path', '0', '--witness', 'maybe').stderr).toContain(
      '--witness maybe: use yes or no',
    );
    for (const tool of ['pxsim', 'pxctl', 'storkctl']) {
      const help = cli(tool, '--help');
      expect(help.code, tool).toBe(0);
      expect(help.stdout).toContain('Usage:');
    }
  });

  it('pxsim scenario run: the walkthrough file with data in virtual time; a missing file is a usage error', () => {
    const walkthrough = join(import.meta.dirname, '..', '..', 'sim-harness', 'scenarios', 'seed-walkthrough.yaml');
    const run = cli('pxsim', 'scenario', 'run', walkthrough);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('us-east-1a     InSync -> NotInSync -> SyncInProgress -> InSync');
    expect(run.stdout).toMatch(
      /I\/O: \d+ block operation\(s\), \d+ write\(s\) acknowledged; checks LIN, RPO, PHANTOM: passed/,
    );
    const missing = cli('pxsim', 'scenario', 'run', join(state, 'nope.yaml'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read');
  });

  it('every command answers --version and -V with the package version', () => {
    for (const tool of ['pxsim', 'pxctl', 'storkctl']) {
      for (const flag of ['--version', '-V']) {
        const version = cli(tool, flag);
        expect(version.code, `${tool} ${flag}`).toBe(0);
        expect(version.stdout).toBe('0.1.0\n');
      }
    }
    const badLevel = cli('pxsim', 'up', '--log-level', 'loud');
    expect(badLevel.code).toBe(2);
    expect(badLevel.stderr.trim()).toBe('pxsim: --log-level loud: use debug, info, warn, error, silent');
  });

  it("the sim's control API needs the admin token and answers every error as {error: {code, message}}", async () => {
    const control = `http://${PREFIX}.0.1:9020`;
    const token = readFileSync(join(state, 'admin-token'), 'utf8').trim();
    const send = async (path: string, request: { body?: string; token?: string; method?: string }) => {
      const response = await fetch(`${control}${path}`, {
        method: request.method ?? 'POST',
        headers: {
          ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(request.token === undefined ? {} : { authorization: `Bearer ${request.token}` }),
        },
        ...(request.body === undefined ? {} : { body: request.body }),
      });
      const body: unknown = await response.json();
      return { status: response.status, body };
    };
    const post = async (path: string, request: unknown) => send(path, { body: JSON.stringify(request), token });
    const error = (code: string, message: unknown = expect.any(String)) => ({ error: { code, message } });
    const heal = JSON.stringify({ kind: 'heal' });
    // No token, a wrong token: refused before anything is done, the read-only route included.
    expect(await send('/faults', { body: heal })).toEqual({ status: 401, body: error('UNAUTHORIZED') });
    expect(await send('/faults', { body: heal, token: 'not-the-token' })).toEqual({
      status: 403,
      body: error('FORBIDDEN'),
    });
    expect(await send('/sim', { method: 'GET' })).toEqual({ status: 401, body: error('UNAUTHORIZED') });
    expect((await send('/sim', { method: 'GET', token })).status).toBe(200);
    expect(await post('/faults', { kind: 'partition', a: ['us-east-1a'], b: ['nowhere'] })).toEqual({
      status: 400,
      body: error('BAD_FAULT', expect.stringContaining('"nowhere" is neither a domain')),
    });
    expect(await post('/faults', { kind: 'loss', percent: 'lots' })).toEqual({
      status: 400,
      body: error('BAD_FAULT', expect.stringContaining('fault.percent')),
    });
    expect(await post('/faults', { kind: 'pause', nodes: ['all'] })).toEqual({
      status: 400,
      body: error('BAD_FAULT', expect.stringContaining('fault kind "pause" is not supported by the live sim')),
    });
    expect(await post('/faults/explode', {})).toEqual({
      status: 404,
      body: error('NOT_FOUND', 'no route POST /faults/explode'),
    });
    // Fastify's own errors: bad percent-encoding, an over-long URL, a __proto__ body, unparsable JSON.
    expect(await send('/fa%zzults', { body: heal, token })).toEqual({ status: 400, body: error('BAD_URL') });
    expect(await send(`/faults/${'x'.repeat(300)}`, { body: heal, token })).toEqual({
      status: 404,
      body: error('NOT_FOUND'),
    });
    expect(await send(`/faults?${'x'.repeat(3000)}`, { body: heal, token })).toEqual({
      status: 414,
      body: error('URI_TOO_LONG'),
    });
    expect(await send('/faults', { body: '{"__proto__": {"kind": "heal"}}', token })).toEqual({
      status: 400,
      body: error('INVALID_JSON'),
    });
    expect(await send('/faults', { body: '{"kind": ', token })).toEqual({ status: 400, body: error('INVALID_JSON') });
    // Nothing above changed the sim.
    expect((await post('/faults', { kind: 'heal' })).status).toBe(200);
  });

  it('pxsim fault: the text form, the old spellings, the vocabulary in --help, usage errors exit 2', () => {
    const help = cli('pxsim', 'fault', '--help');
    expect(help.code).toBe(0);
    for (const word of ['partition GROUP GROUP', 'kvdb-cut GROUP', 'duplicate PERCENT%', 'crash GROUP (alias: kill)'])
      expect(help.stdout).toContain(word);
    const loss = cli('pxsim', 'fault', 'loss', '5%', `from=${A1}`);
    expect(loss.code, loss.stderr).toBe(0);
    expect(loss.stdout).toContain(`applied: loss 5% from=${A1}`);
    const oldLoss = cli('pxsim', 'fault', 'loss', '5', '--to', 'us-east-1b');
    expect(oldLoss.stdout).toContain(`applied: loss 5% to=${B1},${PREFIX}.2.2,${PREFIX}.2.3`);
    const oneway = cli('pxsim', 'fault', 'partition', A1, B1, '--oneway');
    expect(oneway.stdout).toContain(`applied: cut ${A1} ${B1}`);
    const unknown = cli('pxsim', 'fault', 'explode', 'all');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown fault "explode"; known: partition, cut');
    const badPercent = cli('pxsim', 'fault', 'loss', 'lots');
    expect(badPercent.code).toBe(2);
    expect(badPercent.stderr).toContain('"lots" is not a percentage');
    const noToken = join(state, 'missing-token');
    const unreadable = cli('pxsim', 'fault', 'heal', '--token-file', noToken);
    expect(unreadable.code).toBe(2);
    expect(unreadable.stderr).toContain(`cannot read --token-file ${noToken}`);
    const wrongToken = join(state, 'wrong-fault-token');
    writeFileSync(wrongToken, 'not-the-token\n');
    const forbidden = cli('pxsim', 'fault', 'heal', '--token-file', wrongToken);
    expect(forbidden.code).toBe(1);
    expect(forbidden.stderr.trim()).toBe(`pxsim: http://${PREFIX}.0.1:9020: forbidden: admin endpoint: wrong token`);
    expect(cli('pxsim', 'fault', 'heal').code).toBe(0);
  });

  it('pxsim fault partition, latency and heal against the running sim', async () => {
    expect(cli('pxsim', 'fault', 'latency', '200', '--jitter', '100').code).toBe(0);
    expect(cli('pxsim', 'fault', 'partition', 'us-east-1a', 'us-east-1b').code).toBe(0);
    await eventually(
      'both sides Out of Quorum (3 of 6 each)',
      () => nodeStatus(A1) === 'Out of Quorum' && nodeStatus(B1) === 'Out of Quorum',
    );
    expect(cli('pxsim', 'fault', 'heal').code).toBe(0);
    await eventually('all Online after heal', () => nodeStatus(A1) === 'Online' && nodeStatus(B1) === 'Online');
  });

  it("serves each domain's Kubernetes API to the real kubectl: Nodes Ready with the px nodes, NotReady while one is crashed", async () => {
    const config = join(state, 'kubeconfig');
    expect(sim.output).toContain(`kubernetes   http://${PREFIX}.2.254:6443  (context us-east-1b)`);
    expect(sim.output).toContain(`kubeconfig:  ${config}`);
    const kubectl = (...args: string[]) => {
      const result = spawnSync('kubectl', ['--kubeconfig', config, '--cache-dir', join(state, 'kube-cache'), ...args], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      return { code: result.status, stdout: result.stdout, stderr: result.stderr };
    };
    // Nodes follow their px nodes within a second (the sim's node sync).
    await eventually('three Ready nodes in us-east-1b', () => {
      const listed = kubectl('--context', 'us-east-1b', 'get', 'nodes', '--no-headers').stdout;
      return (listed.match(/ Ready /g) ?? []).length === 3;
    });
    const wide = kubectl('--context', 'us-east-1b', 'get', 'nodes', '-o', 'wide');
    expect(wide.stderr).toBe('');
    const rows = wide.stdout.trim().split('\n');
    expect(rows[0]).toMatch(/^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\s+INTERNAL-IP\s+EXTERNAL-IP\s+OS-IMAGE/);
    expect(rows.slice(1).map((row) => row.split(/\s+/).slice(0, 2).join(' '))).toEqual([
      'ip-127-1-2-1.pxsim.internal Ready',
      'ip-127-1-2-2.pxsim.internal Ready',
      'ip-127-1-2-3.pxsim.internal Ready',
    ]);
    expect(wide.stdout).toContain(`${PREFIX}.2.1 `);
    // The other context is the other domain's cluster: its own nodes only.
    expect(kubectl('--context', 'us-east-1a', 'get', 'nodes', '-o', 'name').stdout).toBe(
      ['1', '2', '3'].map((n) => `node/ip-127-1-1-${n}.pxsim.internal\n`).join(''),
    );
    expect(cli('pxsim', 'fault', 'crash', `${PREFIX}.2.3`).code).toBe(0);
    const readiness = (): string =>
      kubectl('--context', 'us-east-1b', 'get', 'node', 'ip-127-1-2-3.pxsim.internal', '--no-headers').stdout;
    await eventually('the crashed node NotReady', () => readiness().includes(' NotReady '));
    expect(cli('pxsim', 'fault', 'start', `${PREFIX}.2.3`).code).toBe(0);
    await eventually('Ready again once its px node is Online', () => /\sReady\s/.test(readiness()), 60_000);
    // A StatefulSet with a claim: a pxsim volume (one replica per domain) attached where its pod runs.
    const manifest = join(state, 'pg.yaml');
    writeFileSync(
      manifest,
      [
        'apiVersion: apps/v1',
        'kind: StatefulSet',
        'metadata: {name: pg}',
        'spec:',
        '  replicas: 1',
        '  selector: {matchLabels: {app: pg}}',
        '  template:',
        '    metadata: {labels: {app: pg}}',
        '    spec: {containers: [{name: postgres, image: "postgres:16"}]}',
        '  volumeClaimTemplates:',
        '    - metadata: {name: data}',
        '      spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}',
        '',
      ].join('\n'),
    );
    expect(kubectl('--context', 'us-east-1a', 'apply', '-f', manifest).stdout).toBe('statefulset.apps/pg created\n');
    const podLine = (): string =>
      kubectl(
        '--context',
        'us-east-1a',
        'get',
        'pod',
        'pg-0',
        '--no-headers',
        '-o',
        'custom-columns=S:.status.phase,N:.spec.nodeName',
      ).stdout;
    await eventually('pg-0 Running with its volume', () => podLine().startsWith('Running'));
    const node = podLine().trim().split(/\s+/)[1] ?? '';
    const volume = kubectl(
      '--context',
      'us-east-1a',
      'get',
      'pvc',
      'data-pg-0',
      '-o',
      'jsonpath={.spec.volumeName}',
    ).stdout;
    const nodeIp = node
      .replace(/^ip-/, '')
      .replace(/\.pxsim\.internal$/, '')
      .replaceAll('-', '.');
    expect(cli('pxctl', 'volume', 'list').stdout).toMatch(
      new RegExp(`${volume}\\s+1 GiB\\s+2\\s.*attached on ${nodeIp.replaceAll('.', '\\.')}`),
    );
    expect(kubectl('--context', 'us-east-1a', 'delete', 'statefulset', 'pg').code).toBe(0);
  });

  it('names: every flag refuses a name that breaks its rule, naming the rule, before anything starts (exit 2)', () => {
    const clusterId = cli('pxsim', 'up', '--cluster-id', 'px/dr');
    expect(clusterId.code).toBe(2);
    expect(clusterId.stderr.trim()).toBe(
      "pxsim: --cluster-id: \"px/dr\" is not allowed as a cluster ID: use 1–63 letters, digits, '-' or '_', starting and ending with a letter or digit (a DNS-1123-label-like name)",
    );
    expect(clusterId.stderr + clusterId.stdout).not.toContain('starting 6 nodes');
    expect(cli('pxsim', 'up', '--cluster-id', 'px..rel').stderr).toContain('"px..rel" is not allowed as a cluster ID');
    const domains = cli('pxsim', 'up', '--domains', 'us east,us-west');
    expect(domains.code).toBe(2);
    expect(domains.stderr).toContain('--domains: "us east" is not allowed as a cluster domain: use 1–63 letters');
    const long = cli('storkctl', 'activate', 'clusterdomain', 'd'.repeat(300));
    expect(long.code).toBe(2);
    expect(long.stderr).toContain('(300 characters) is not allowed as a cluster domain: use 1–63 letters');
    expect(long.stderr).not.toContain('object name');
    const dots = cli('storkctl', 'deactivate', 'clusterdomain', '..');
    expect(dots.code).toBe(2);
    expect(dots.stderr).toContain('clusterdomain ".." is not allowed as a cluster domain');
    for (const node of [`${PREFIX}.1.999`, `${PREFIX}.1.1:70000`, 'localhost']) {
      const result = cli('pxctl', 'status', '--node', node);
      expect(result.code, node).toBe(2);
      expect(result.stderr, node).toContain(`--node ${node} is not IP or IP:PORT`);
    }
  });

  it('a second sim on taken addresses fails and leaves nothing it created in its state dir', () => {
    const up = (dir: string) =>
      spawnSync(join(BIN, 'pxsim'), ['up', '--ip-prefix', PREFIX], {
        env: { ...process.env, PXSIM_STATE_DIR: dir },
        encoding: 'utf8',
        timeout: 60_000,
      });
    const fresh = join(state, 'second');
    const first = up(fresh);
    expect(first.status, first.stderr).toBe(1);
    expect(first.stderr).toContain('EADDRINUSE');
    expect(existsSync(fresh)).toBe(false);
    // A state dir that was there before keeps what it had: its files, and the admin token it held.
    const used = join(state, 'used');
    mkdirSync(used);
    writeFileSync(join(used, 'notes.txt'), 'mine\n');
    writeFileSync(join(used, 'admin-token'), 'old-token-123\n');
    const second = up(used);
    expect(second.status, second.stderr).toBe(1);
    expect(readdirSync(used).sort()).toEqual(['admin-token', 'notes.txt']);
    expect(readFileSync(join(used, 'admin-token'), 'utf8')).toBe('old-token-123\n');
    // The running sim is untouched.
    expect(nodeStatus(A1)).toBe('Online');
  });

  it('stops cleanly on Ctrl-C', async () => {
    sim.process.kill('SIGINT');
    expect(await sim.exit).toBe(0);
    expect(existsSync(join(state, 'sim.json'))).toBe(false);
    expect(sim.output).toContain('pxsim: stopped');
  });
});
