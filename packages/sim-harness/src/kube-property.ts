import fc from 'fast-check';
import type { KubeObject, VolumeDriver as KubeVolumeDriver } from '@pxsim/kube';
import { pxVolumeDriver } from './kube-drivers.js';
import { VIRTUAL_SERVER_PREFIX, VirtualKube } from './kube-virtual.js';
import { scheduleArbitraryFor, replayPathOf } from './property.js';
import { typeOfObject } from './scenario-kube.js';
import { Simulation } from './simulation.js';

const NAMESPACE = 'app';
const VOLUME = 'app-vol';

/** The application, wanted in a cluster: its namespace, the volume's PersistentVolume, the claim naming it, 1 replica. */
function application(): KubeObject[] {
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } },
    {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: VOLUME },
      spec: {
        capacity: { storage: '1Gi' },
        accessModes: ['ReadWriteOnce'],
        storageClassName: 'px-csi-replicated',
        csi: { driver: 'pxd.portworx.com', volumeHandle: VOLUME },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'data', namespace: NAMESPACE },
      spec: { accessModes: ['ReadWriteOnce'], volumeName: VOLUME, resources: { requests: { storage: '1Gi' } } },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'db', namespace: NAMESPACE },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'db' } },
        template: {
          metadata: { labels: { app: 'db' } },
          spec: {
            containers: [{ name: 'db', image: 'postgres:16' }],
            volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }],
          },
        },
      },
    },
  ];
}

export interface KubeCheckOptions {
  numRuns: number;
  /** fast-check's seed; with `path` and `replayPath` (both printed with a failure), the replay of one shrunk schedule. */
  seed: number;
  path?: string;
  replayPath?: string;
  /** A change to the claims' driver (the sensitivity test breaks it on purpose). */
  wrapVolumeDriver?: (driver: KubeVolumeDriver) => KubeVolumeDriver;
  /**
   * How the application comes to be wanted in both clusters: `migrated` (default) applies it in the first and lets
   * Stork migrate it to the second (a ClusterPair, a Migration with `startApplications: true`), `in-both` applies it
   * in both directly (the setup the seed-11 regressions were found with).
   */
  application?: 'migrated' | 'in-both';
  /** Called with a progress line every `progressEveryMs` (default 5,000) of wall time. */
  onProgress?: (line: string) => void;
  progressEveryMs?: number;
}

/** The pair and the migration that copy the application to `to`, started there. */
function migration(to: string): KubeObject[] {
  return [
    {
      apiVersion: 'stork.libopenstorage.org/v1alpha1',
      kind: 'ClusterPair',
      metadata: { name: 'remote', namespace: NAMESPACE },
      spec: {
        config: {
          clusters: { [to]: { server: `${VIRTUAL_SERVER_PREFIX}${to}` } },
          contexts: { [to]: { cluster: to } },
          'current-context': to,
        },
      },
    },
    {
      apiVersion: 'stork.libopenstorage.org/v1alpha1',
      kind: 'Migration',
      metadata: { name: 'app', namespace: NAMESPACE },
      spec: {
        clusterPair: 'remote',
        namespaces: [NAMESPACE],
        includeResources: true,
        includeVolumes: false,
        startApplications: true,
      },
    },
  ];
}

export type KubeCheckResult =
  | { ok: true; schedules: number }
  | {
      ok: false;
      schedules: number;
      message: string;
      seed: number;
      path: string | undefined;
      replayPath: string | undefined;
    };

/**
 * The application fenced across the two Kubernetes clusters under random fault schedules: one volume (repl 2, a
 * replica per domain) whose application runs in the first cluster and is migrated by Stork to the second with
 * `startApplications: true`, so that both want it at once (as a failover whose source comes back does); the
 * migration runs in the schedule's first second, the faults from then on; the controllers of both clusters run every
 * second through the faults (partitions, crashes, kvdb cuts, latency, deactivate/activate, …). K1 must never fire:
 * at no time do Running pods in both clusters use the volume from serving px nodes. A failure is shrunk and comes
 * with the fast-check seed and path that replay it.
 */
export async function checkKubeSchedules(options: KubeCheckOptions): Promise<KubeCheckResult> {
  let schedules = 0;
  const started = Date.now();
  let lastProgress = started;
  const property = fc.asyncProperty(
    scheduleArbitraryFor(options.replayPath, undefined, false),
    async ({ seed, commands }) => {
      const sim = new Simulation({ seed, witness: false, quorumMode: 'safe', volumeIo: false, writeIntervalMs: 0 });
      const domains = [...new Set(sim.specs.map((spec) => spec.domain))];
      const kube = new VirtualKube(sim, domains, seed, options.wrapVolumeDriver);
      try {
        await kube.start();
        sim.start(sim.group('all'));
        await sim.run(4000);
        const created = await pxVolumeDriver(kube.access, domains[0] ?? '').create({
          name: VOLUME,
          sizeGiB: 1,
          repl: 2,
        });
        if (!created.ok) throw new Error(`the application's volume: ${created.reason}`);
        const [first = '', second = ''] = domains;
        await kube.apply(first, application(), typeOfObject);
        if (options.application === 'in-both') await kube.apply(second, application(), typeOfObject);
        else await kube.apply(first, migration(second), typeOfObject);
        await sim.run(3000);
        await fc.asyncModelRun(() => ({ model: {}, real: sim }), commands);
        await sim.run(sim.bounds.detectionBoundMs + 1000);
      } finally {
        await sim.dispose();
      }
      schedules += 1;
      const now = Date.now();
      if (options.onProgress !== undefined && now - lastProgress >= (options.progressEveryMs ?? 5000)) {
        lastProgress = now;
        const rate = schedules / ((now - started) / 1000);
        options.onProgress(`schedules: ${schedules}/${options.numRuns}, ${rate.toFixed(1)}/s`);
      }
      if (kube.findings.length > 0)
        throw new Error(kube.findings.map((finding) => `${finding.check}: ${finding.detail}`).join('\n'));
    },
  );
  const details = await fc.check(property, {
    numRuns: options.numRuns,
    seed: options.seed,
    ...(options.path === undefined ? {} : { path: options.path }),
    endOnFailure: false,
  });
  if (!details.failed) return { ok: true, schedules };
  const counterexample = details.counterexample?.[0] as { commands?: { toString(): string } } | undefined;
  const replayPath = replayPathOf(counterexample?.commands);
  const path = details.counterexamplePath ?? undefined;
  const error = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
  const replay = { numRuns: 1, seed: details.seed, path, replayPath };
  return {
    ok: false,
    schedules,
    seed: details.seed,
    path,
    replayPath,
    message: `${error}\nreplay: checkKubeSchedules(${JSON.stringify(replay)})`,
  };
}
