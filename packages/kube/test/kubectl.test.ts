import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemKvdb, MemStore } from '@pxsim/kvdb-client';
import { realClock } from '@pxsim/runtime';
import type { FastifyInstance } from 'fastify';
import {
  buildKubeApi,
  ensureSystemNamespaces,
  kubeConfig,
  ObjectStore,
  reconcileWorkloads,
  syncNodes,
} from '../src/index.js';

/** This test's own address (the e2e sims use <prefix>.<domain>.254). */
const HOST = '127.6.1.254';
const PORT = 6443;

describe('the real kubectl (v1.32 on PATH) against the API', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pxsim-kubectl-'));
  const config = join(dir, 'kubeconfig');
  let app: FastifyInstance;
  let store: ObjectStore;
  /** One pass of the workload controllers (the sim runs them every second). */
  const reconcile = async () => reconcileWorkloads(store, { clock: realClock, random: Math.random });

  /** kubectl in a child process, asynchronously: the server answers from this same process. */
  const kubectl = async (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((resolve, reject) => {
      execFile(
        'kubectl',
        ['--kubeconfig', config, '--cache-dir', join(dir, 'cache'), ...args],
        { encoding: 'utf8', timeout: 30_000 },
        (error, stdout, stderr) => {
          if (error !== null && typeof error.code !== 'number') {
            reject(new Error(`kubectl could not run (${error.message}): it is needed on PATH`));
            return;
          }
          resolve({ code: error === null ? 0 : Number(error.code), stdout, stderr });
        },
      );
    });

  beforeAll(async () => {
    const kvdb = new MemKvdb({ store: new MemStore({ clock: realClock }), namespace: 'k/' });
    store = new ObjectStore(kvdb, { clock: realClock, random: Math.random });
    await ensureSystemNamespaces(store);
    const view = { domain: 'us-east-1a', running: true, status: 'Online', reason: '' };
    await syncNodes(store, [{ ...view, name: 'ip-127-6-1-1.pxsim.internal', ip: '127.6.1.1' }], realClock.nowMs());
    app = buildKubeApi({ store, clock: realClock, serverAddress: `${HOST}:${PORT}` });
    await app.listen({ host: HOST, port: PORT });
    writeFileSync(config, kubeConfig([{ name: 'us-east-1a', server: `http://${HOST}:${PORT}` }]));
  });
  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('get nodes -o wide prints the server-side table, priority columns included', async () => {
    const result = await kubectl('get', 'nodes', '-o', 'wide');
    expect(result.stderr).toBe('');
    const [header, row] = result.stdout.trim().split('\n');
    expect(header?.split(/\s{2,}/)).toEqual([
      'NAME',
      'STATUS',
      'ROLES',
      'AGE',
      'VERSION',
      'INTERNAL-IP',
      'EXTERNAL-IP',
      'OS-IMAGE',
      'KERNEL-VERSION',
      'CONTAINER-RUNTIME',
    ]);
    expect(row?.split(/\s{2,}/).filter((_, index) => index !== 3)).toEqual([
      'ip-127-6-1-1.pxsim.internal',
      'Ready',
      '<none>',
      'v1.32.0',
      '127.6.1.1',
      '<none>',
      'pxsim simulated node',
      '6.1.0-pxsim',
      'pxsim://0.1.0',
    ]);
  });

  it('apply -f creates, then is unchanged, then configures; create -f of it again is AlreadyExists; delete', async () => {
    const manifest = (team: string) => {
      const file = join(dir, `ns-${team}.yaml`);
      writeFileSync(file, `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: demo\n  labels:\n    team: ${team}\n`);
      return file;
    };
    expect((await kubectl('apply', '-f', manifest('dr'))).stdout).toBe('namespace/demo created\n');
    expect((await kubectl('apply', '-f', manifest('dr'))).stdout).toBe('namespace/demo unchanged\n');
    expect((await kubectl('apply', '-f', manifest('metro'))).stdout).toBe('namespace/demo configured\n');
    expect((await kubectl('get', 'ns', 'demo', '-o', 'jsonpath={.metadata.labels.team} {.status.phase}')).stdout).toBe(
      'metro Active',
    );
    const again = await kubectl('create', '-f', manifest('metro'));
    expect([again.code, again.stderr.trim()]).toEqual([
      1,
      `Error from server (AlreadyExists): error when creating "${manifest('metro')}": namespaces "demo" already exists`,
    ]);
    expect((await kubectl('delete', 'ns', 'demo')).stdout).toBe('namespace "demo" deleted\n');
    const gone = await kubectl('get', 'ns', 'demo');
    expect([gone.code, gone.stderr.trim()]).toEqual([1, 'Error from server (NotFound): namespaces "demo" not found']);
  });

  it('a Deployment: apply, its pods Running on the node, kubectl scale, describe node lists them', async () => {
    const file = join(dir, 'web.yaml');
    writeFileSync(
      file,
      [
        'apiVersion: apps/v1',
        'kind: Deployment',
        'metadata: {name: web}',
        'spec:',
        '  replicas: 2',
        '  selector: {matchLabels: {app: web}}',
        '  template:',
        '    metadata: {labels: {app: web}}',
        '    spec: {containers: [{name: nginx, image: "nginx:1.27"}]}',
        '',
      ].join('\n'),
    );
    expect((await kubectl('apply', '-f', file)).stdout).toBe('deployment.apps/web created\n');
    await reconcile();
    const listed = await kubectl(
      'get',
      'pods',
      '--no-headers',
      '-o',
      'custom-columns=NAME:.metadata.name,STATUS:.status.phase,NODE:.spec.nodeName',
    );
    expect(listed.stdout.trim().split('\n')).toHaveLength(2);
    for (const row of listed.stdout.trim().split('\n'))
      expect(row).toMatch(/^web-\S+\s+Running\s+ip-127-6-1-1.pxsim.internal$/);
    expect((await kubectl('scale', 'deployment', 'web', '--replicas=3')).stdout).toBe('deployment.apps/web scaled\n');
    await reconcile();
    expect((await kubectl('get', 'deployment', 'web', '--no-headers')).stdout).toMatch(/^web\s+3\/3\s+3\s+3\s+/);
    const described = await kubectl('describe', 'node', 'ip-127-6-1-1.pxsim.internal');
    expect(described.stderr).toBe('');
    expect(described.stdout).toContain('Non-terminated Pods:          (3 in total)');
    expect((await kubectl('delete', 'deployment', 'web')).stdout).toBe('deployment.apps "web" deleted\n');
    await reconcile();
    expect((await kubectl('get', 'pods')).stderr.trim()).toBe('No resources found in default namespace.');
  });

  it('an invalid name is refused by the server with the field and the rule', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: Bad_Name\n');
    const result = await kubectl('create', '-f', file);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'The Namespace "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 label',
    );
  });

  it('get -w shows a namespace created while it watches', async () => {
    const watcher = spawn(
      'kubectl',
      ['--kubeconfig', config, '--cache-dir', join(dir, 'cache'), 'get', 'ns', '-w', '--request-timeout', '20s'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    watcher.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      for (let turn = 0; turn < 100 && !output.includes('kube-system'); turn++)
        await new Promise((resolve) => setTimeout(resolve, 100));
      const file = join(dir, 'watched.yaml');
      writeFileSync(file, 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: watched\n');
      expect((await kubectl('create', '-f', file)).code).toBe(0);
      for (let turn = 0; turn < 100 && !output.includes('watched'); turn++)
        await new Promise((resolve) => setTimeout(resolve, 100));
      expect(output).toMatch(/\nwatched\s+Active\s+\d+s\n/);
    } finally {
      watcher.kill('SIGTERM');
    }
  });
});
