import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, eventually, SimProcess } from './sim-process.js';

/** This test's own loopback range (its sim's nodes, control API and Kubernetes APIs). */
const PREFIX = '127.7';
const SEED = readFileSync(join(import.meta.dirname, 'fixtures', 'portworx-metro-stork.txt'), 'utf8');
const NAMESPACE = 'migrationnamespace';

/** The seed's `index`th code block that declares `kind`, as printed. */
function seedDocument(kind: string, index = 0): string {
  const blocks = SEED.split('```').filter((block) => block.includes(`kind: ${kind}`));
  const block = blocks[index];
  if (block === undefined) throw new Error(`no ${kind} in the seed`);
  return `${block.replace(/^\n/, '').trimEnd()}\n`;
}

const APPLICATION = [
  'apiVersion: v1',
  'kind: Namespace',
  `metadata: {name: ${NAMESPACE}}`,
  '---',
  'apiVersion: v1',
  'kind: PersistentVolumeClaim',
  `metadata: {name: mysql-data, namespace: ${NAMESPACE}}`,
  'spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 2Gi}}}',
  '---',
  'apiVersion: apps/v1',
  'kind: Deployment',
  `metadata: {name: mysql, namespace: ${NAMESPACE}}`,
  'spec:',
  '  replicas: 1',
  '  selector: {matchLabels: {app: mysql}}',
  '  template:',
  '    metadata: {labels: {app: mysql}}',
  '    spec:',
  '      containers: [{name: mysql, image: "mysql:5.7"}]',
  '      volumes: [{name: data, persistentVolumeClaim: {claimName: mysql-data}}]',
  '',
].join('\n');

describe('the seed walkthrough through the real kubectl and storkctl: pair, migrate, fail over, fail back, data kept', () => {
  let state: string;
  let sim: SimProcess;

  const run = (command: string, args: string[]) => {
    const result = spawnSync(command, args, {
      env: { ...process.env, PXSIM_STATE_DIR: state, KUBECONFIG: join(state, 'kubeconfig') },
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  };
  const kubectl = (context: string, ...args: string[]) =>
    run('kubectl', ['--context', context, '--cache-dir', join(state, 'kube-cache'), ...args]);
  const storkctl = (...args: string[]) => run(join(BIN, 'storkctl'), args);
  const pxsim = (...args: string[]) => run(join(BIN, 'pxsim'), args);
  const file = (name: string, text: string): string => {
    const path = join(state, name);
    writeFileSync(path, text);
    return path;
  };
  /** The pod of the app in a context: `phase hostIP`. */
  const pod = (context: string): string =>
    kubectl(
      context,
      'get',
      'pods',
      '-n',
      NAMESPACE,
      '--no-headers',
      '-o',
      'custom-columns=P:.status.phase,H:.status.hostIP',
    ).stdout.trim();
  const block = async (ip: string, volume: string, index: number, data?: string): Promise<unknown> => {
    const url = `http://${ip}:9001/v1/volumes/${volume}/blocks/${index}`;
    const answer =
      data === undefined
        ? await fetch(url)
        : await fetch(url, {
            method: 'PUT',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ data: Buffer.from(data).toString('base64') }),
          });
    const body = (await answer.json()) as { data?: string; acknowledged?: boolean };
    return body.data === undefined ? body : Buffer.from(body.data, 'base64').toString();
  };

  beforeAll(async () => {
    sim = await SimProcess.start(PREFIX, 'walkthrough');
    state = sim.state;
  });

  afterAll(async () => {
    await sim.stop();
  });

  it('runs the whole story', { timeout: 300_000 }, async () => {
    // The application on the source (us-east-1a), its volume written to.
    expect(kubectl('us-east-1a', 'apply', '-f', file('app.yaml', APPLICATION)).code).toBe(0);
    await eventually('the app Running on us-east-1a', () => pod('us-east-1a').startsWith('Running'));
    const sourceIp = pod('us-east-1a').split(/\s+/)[1] ?? '';
    expect(sourceIp).toMatch(/^127\.7\.1\.\d$/);
    const volume = kubectl(
      'us-east-1a',
      'get',
      'pvc',
      'mysql-data',
      '-n',
      NAMESPACE,
      '-o',
      'jsonpath={.spec.volumeName}',
    ).stdout;
    expect(await block(sourceIp, volume, 7, 'written before the disaster')).toMatchObject({ acknowledged: true });

    // Pair: generated against the destination, applied on the source without the storage options line.
    const generated = storkctl('generate', 'clusterpair', '-n', NAMESPACE, 'remotecluster', '--context', 'us-east-1b');
    expect(generated.stderr).toBe('');
    expect(generated.stdout).toContain(
      'kind: ClusterPair\nmetadata:\n  creationTimestamp: null\n  name: remotecluster\n',
    );
    expect(generated.stdout).toContain(`server: http://${PREFIX}.2.254:6443`);
    expect(generated.stdout).toContain(
      '  options:\n    insert_storage_options_here: ""\nstatus:\n  remoteStorageId: ""',
    );
    const pairFile = file('clusterpair.yaml', generated.stdout.replace(/^.*insert_storage_options_here.*\n/m, ''));
    expect(kubectl('us-east-1a', 'apply', '-f', pairFile).stdout).toBe(
      'clusterpair.stork.libopenstorage.org/remotecluster created\n',
    );
    await eventually('the pair Ready', () =>
      /^remotecluster\s+NotProvided\s+Ready\s+\d\d \w{3} \d\d/m.test(
        storkctl('get', 'clusterpair', '-n', NAMESPACE, '--context', 'us-east-1a').stdout,
      ),
    );

    // Migrate with the seed's Migration: the destination gets the app at 0 replicas.
    const migration = seedDocument('Migration');
    expect(migration).toContain('startApplications: false');
    expect(kubectl('us-east-1a', 'apply', '-f', file('migration.yaml', migration)).stdout).toBe(
      'migration.stork.libopenstorage.org/mysqlmigration created\n',
    );
    await eventually('the migration Successful', () =>
      /^mysqlmigration\s+remotecluster\s+Final\s+Successful\s+0\/0\s+3\/3\s/m.test(
        storkctl('get', 'migration', '-n', NAMESPACE, '--context', 'us-east-1a').stdout,
      ),
    );
    expect(kubectl('us-east-1b', 'get', 'deployments', '-n', NAMESPACE, '--no-headers').stdout).toMatch(
      /^mysql\s+0\/0\s+0\s+0\s/,
    );
    expect(
      kubectl('us-east-1b', 'get', 'deployment', 'mysql', '-n', NAMESPACE, '-o', 'jsonpath={.metadata.annotations}')
        .stdout,
    ).toContain('"stork.libopenstorage.org/migrationReplicas":"1"');

    // Disaster: us-east-1a is lost. The seed's ClusterDomainUpdate, as printed, is not valid YAML: kubectl refuses it.
    expect(pxsim('fault', 'kill', 'us-east-1a').code).toBe(0);
    const printed = seedDocument('ClusterDomainUpdate');
    const refused = kubectl('us-east-1b', 'create', '-f', file('cdu-as-printed.yaml', printed));
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/yaml|YAML/);
    const fixed = printed.replace(/^ apiVersion/, 'apiVersion');
    expect(kubectl('us-east-1b', 'create', '-f', file('cdu.yaml', fixed)).stdout).toBe(
      'clusterdomainupdate.stork.libopenstorage.org/deactivate-us-east-1a created\n',
    );
    await eventually(
      'the update Successful',
      () =>
        kubectl('us-east-1b', 'get', 'cdu', 'deactivate-us-east-1a', '-o', 'jsonpath={.status.status}').stdout ===
        'Successful',
    );
    expect(storkctl('get', 'clusterdomainsstatus', '--node', `${PREFIX}.2.1`).stdout).toMatch(
      /^px-dr-cluster\s+\[us-east-1b\]\s+\[us-east-1a\]\s/m,
    );
    await eventually('the ClusterDomainsStatus object follows', () =>
      /Inactive:\s+us-east-1a/.test(kubectl('us-east-1b', 'describe', 'clusterdomainsstatus', 'px-dr-cluster').stdout),
    );

    // storkctl's own way to an update: the domain checked, an update created and followed to its end (--wait).
    const again = storkctl(
      'deactivate',
      'clusterdomain',
      'us-east-1a',
      '--name',
      'deactivate-again',
      '--wait',
      '--context',
      'us-east-1b',
    );
    expect(again.stderr).toBe('');
    expect(again.stdout).toMatch(
      /^Cluster Domain deactivate operation started successfully for us-east-1a\nDeactivating\.\.(\.\.\w*)*\.\.Successful\nCluster Domain us-east-1a updated successfully\n$/,
    );
    expect(storkctl('get', 'cdu', '--node', `${PREFIX}.2.1`).stdout).toMatch(
      /deactivate-again\s+us-east-1a\s+Deactivate\s+Successful/,
    );

    // Asked of the lost domain's own cluster, the update fails: no px node there can carry it out (a Warning event).
    const lost = storkctl(
      'deactivate',
      'clusterdomain',
      'us-east-1a',
      '--name',
      'from-the-lost-side',
      '--wait',
      '--context',
      'us-east-1a',
    );
    expect(lost.code).toBe(1);
    expect(lost.stderr).toBe(
      'storkctl: Failed to update ClusterDomain, Reason : unable to deactivate cluster domain: no px node of us-east-1a is running\n',
    );
    expect(kubectl('us-east-1a', 'get', 'events', '-n', 'default').stdout).toMatch(
      /Warning\s+Failed\s+clusterdomainupdate\/from-the-lost-side\s+unable to deactivate cluster domain/,
    );

    // Fail over: start the migrated app on us-east-1b; its volume attaches there with the data written before.
    expect(storkctl('activate', 'migrations', '-n', NAMESPACE, '--context', 'us-east-1b').stdout).toBe(
      `Updated replicas for deployment ${NAMESPACE}/mysql to 1\n`,
    );
    await eventually('the app Running on us-east-1b', () => pod('us-east-1b').startsWith('Running'));
    const survivorIp = pod('us-east-1b').split(/\s+/)[1] ?? '';
    expect(survivorIp).toMatch(/^127\.7\.2\.\d$/);
    expect(await block(survivorIp, volume, 7)).toBe('written before the disaster');
    expect(await block(survivorIp, volume, 8, 'written during the disaster')).toMatchObject({ acknowledged: true });

    // Fail back: us-east-1a returns and is activated; once in sync, the app moves back and finds every write.
    expect(pxsim('fault', 'start', 'us-east-1a').code).toBe(0);
    const activate = seedDocument('ClusterDomainUpdate', 1).replace(/^ apiVersion/, 'apiVersion');
    expect(activate).toContain('name: activate-us-east-1a');
    expect(kubectl('us-east-1b', 'create', '-f', file('cdu-activate.yaml', activate)).stdout).toBe(
      'clusterdomainupdate.stork.libopenstorage.org/activate-us-east-1a created\n',
    );
    await eventually(
      'both domains Active and InSync',
      () => {
        const infos = kubectl(
          'us-east-1b',
          'get',
          'cds',
          'px-dr-cluster',
          '-o',
          'jsonpath={.status.clusterDomainInfos}',
        ).stdout;
        return (infos.match(/"state":"Active","syncStatus":"InSync"/g) ?? []).length === 2;
      },
      90_000,
    );
    expect(storkctl('deactivate', 'migrations', '-n', NAMESPACE, '--context', 'us-east-1b').stdout).toBe(
      `Updated replicas for deployment ${NAMESPACE}/mysql to 0\n`,
    );
    await eventually('the app Running on us-east-1a again', () => pod('us-east-1a').startsWith('Running'), 60_000);
    expect(pod('us-east-1b')).toBe('');
    const backIp = pod('us-east-1a').split(/\s+/)[1] ?? '';
    expect(await block(backIp, volume, 7)).toBe('written before the disaster');
    expect(await block(backIp, volume, 8)).toBe('written during the disaster');
  });
});
