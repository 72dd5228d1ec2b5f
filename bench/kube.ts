/**
 * `pnpm bench kube`: the Kubernetes layer as a user meets it, against `pxsim up` (compiled commands, fast timing,
 * embedded kvdb) on its own loopback range, through the real kubectl and storkctl.
 * - `kube.apply_ms`: one `kubectl apply -f` of a Deployment, process start to exit (median; kubectl's own start-up
 *   is in it, as the user waits for it too);
 * - `kube.failover_to_running_ms`: the migrated application's pod Running on the survivor, counted from the
 *   ClusterDomainUpdate that deactivates the lost domain (then `storkctl activate migrations`), read from the API.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Figure } from './figures.js';

const BIN = join(import.meta.dirname, '..', 'packages', 'cli', 'bin');
/** The bench's own loopback range (apart from the tests' and the agent bench's). */
const PREFIX = '127.8';
const APPLY_RUNS = 7;
const WAIT_MAX_MS = 120_000;
const NAMESPACE = 'benchapp';

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

async function until(what: string, check: () => Promise<boolean> | boolean, everyMs = 50): Promise<void> {
  const deadline = Date.now() + WAIT_MAX_MS;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  throw new Error(`kube bench: ${what} not within ${WAIT_MAX_MS} ms`);
}

/** Runs one of the commands; throws with its stderr when it fails. */
function command(state: string, tool: string, args: string[]): string {
  const result = spawnSync(tool, args, {
    env: { ...process.env, PXSIM_STATE_DIR: state, KUBECONFIG: join(state, 'kubeconfig') },
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (result.status !== 0) throw new Error(`${tool} ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

/** The phase of the namespace's first pod in a domain's cluster, straight from its API (no kubectl start-up). */
async function podPhase(domainIndex: number): Promise<string> {
  const answer = await fetch(`http://${PREFIX}.${domainIndex}.254:6443/api/v1/namespaces/${NAMESPACE}/pods`);
  const list = (await answer.json()) as { items?: Array<{ status?: { phase?: string } }> };
  return list.items?.[0]?.status?.phase ?? '';
}

const application = (replicas: number, name: string): string =>
  [
    'apiVersion: apps/v1',
    'kind: Deployment',
    `metadata: {name: ${name}, namespace: ${NAMESPACE}}`,
    'spec:',
    `  replicas: ${replicas}`,
    `  selector: {matchLabels: {app: ${name}}}`,
    '  template:',
    `    metadata: {labels: {app: ${name}}}`,
    '    spec:',
    `      containers: [{name: ${name}, image: "mysql:5.7"}]`,
    `      volumes: [{name: data, persistentVolumeClaim: {claimName: ${name}-data}}]`,
    '---',
    'apiVersion: v1',
    'kind: PersistentVolumeClaim',
    `metadata: {name: ${name}-data, namespace: ${NAMESPACE}}`,
    'spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}',
    '',
  ].join('\n');

async function applyMs(state: string): Promise<number> {
  const runs: number[] = [];
  for (let run = 0; run < APPLY_RUNS; run++) {
    const file = join(state, `apply-${run}.yaml`);
    writeFileSync(file, application(1, `web${run}`));
    const started = performance.now();
    command(state, 'kubectl', ['--context', 'us-east-1a', 'apply', '-f', file]);
    runs.push(performance.now() - started);
  }
  return median(runs);
}

async function failoverMs(state: string): Promise<{ deactivated: number; created: number; running: number }> {
  const storkctl = join(BIN, 'storkctl');
  const pair = command(state, storkctl, [
    'generate',
    'clusterpair',
    '-n',
    NAMESPACE,
    'remote',
    '--context',
    'us-east-1b',
  ]);
  const pairFile = join(state, 'pair.yaml');
  writeFileSync(pairFile, pair.replace(/^.*insert_storage_options_here.*\n/m, ''));
  command(state, 'kubectl', ['--context', 'us-east-1a', 'apply', '-f', pairFile]);
  await until('the app Running on us-east-1a', async () => (await podPhase(1)) === 'Running');
  command(state, storkctl, [
    'create',
    'migration',
    'bench',
    '--clusterPair',
    'remote',
    '--namespaces',
    NAMESPACE,
    '--startApplications=false',
    '-n',
    NAMESPACE,
    '--context',
    'us-east-1a',
  ]);
  await until('the migration', () =>
    /Final\s+Successful/.test(
      command(state, storkctl, ['get', 'migration', '-n', NAMESPACE, '--context', 'us-east-1a']),
    ),
  );
  command(state, join(BIN, 'pxsim'), ['fault', 'kill', 'us-east-1a']);
  const started = performance.now();
  command(state, storkctl, ['deactivate', 'clusterdomain', 'us-east-1a', '--wait', '--context', 'us-east-1b']);
  const deactivated = performance.now() - started;
  command(state, storkctl, ['activate', 'migrations', '-n', NAMESPACE, '--context', 'us-east-1b']);
  await until('the pod on us-east-1b', async () => (await podPhase(2)) !== '', 20);
  const created = performance.now() - started;
  await until('the app Running on us-east-1b', async () => (await podPhase(2)) === 'Running', 20);
  return { deactivated, created, running: performance.now() - started };
}

export async function kubeFigures(): Promise<Figure[]> {
  const state = mkdtempSync(join(tmpdir(), 'pxsim-bench-kube-'));
  let output = '';
  const sim: ChildProcess = spawn(join(BIN, 'pxsim'), ['up', '--ip-prefix', PREFIX, '--log-level', 'silent'], {
    env: { ...process.env, PXSIM_STATE_DIR: state },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  sim.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise((resolve) => sim.once('exit', resolve));
  try {
    await until('the sim', () => output.includes('all 6 nodes Online'), 100);
    const namespace = join(state, 'namespace.yaml');
    writeFileSync(namespace, `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${NAMESPACE}}\n`);
    command(state, 'kubectl', ['--context', 'us-east-1a', 'apply', '-f', namespace]);
    const apply = await applyMs(state);
    for (let run = 1; run < APPLY_RUNS; run++)
      command(state, 'kubectl', ['--context', 'us-east-1a', 'delete', 'deployment', `web${run}`, '-n', NAMESPACE]);
    const failover = await failoverMs(state);
    return [
      { name: 'kube.apply_ms', value: apply, unit: 'ms', note: `median of ${APPLY_RUNS}, kubectl start-up included` },
      {
        name: 'kube.failover_to_running_ms',
        value: failover.running,
        unit: 'ms',
        note: 'deactivate (storkctl --wait) + activate migrations → pod Running on us-east-1b; fast timing',
      },
      {
        name: 'kube.failover_deactivated_ms',
        value: failover.deactivated,
        unit: 'ms',
        note: 'of which: the ClusterDomainUpdate Successful (the 1 s controller pass)',
      },
      {
        name: 'kube.failover_pod_created_ms',
        value: failover.created,
        unit: 'ms',
        note: 'of which: the pod created; the rest is its volume attach (the survivors serving again, then the attach)',
      },
    ];
  } finally {
    sim.kill('SIGINT');
    await exited;
    rmSync(state, { recursive: true, force: true });
  }
}
