import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseScenario, runScenarioReal, runScenarioVirtual, ScenarioError } from '@pxsim/sim-harness';

const FILE = join(import.meta.dirname, '..', 'scenarios', 'seed-walkthrough-kubernetes.yaml');

describe('the walkthrough on the two Kubernetes clusters, in virtual time', () => {
  const scenario = parseScenario(readFileSync(FILE, 'utf8'), FILE);

  it('pairs, migrates, fails over and back with the same volume; every write kept; K1 never fires', async () => {
    const run = await runScenarioVirtual(scenario, 1);
    expect(run.timeline.filter((line) => line.startsWith('VIOLATION'))).toEqual([]);
    expect(run.io.findings).toEqual([]);
    // 32 writes before the disaster and 64 on the survivor, all acknowledged and read back (verify) after each move.
    expect(run.io.acknowledgedWrites).toBe(96);
    expect(run.sync['us-east-1a']).toEqual(['InSync', 'NotInSync', 'SyncInProgress', 'InSync']);
  });

  it('is deterministic: one seed, one timeline', async () => {
    const first = await runScenarioVirtual(scenario, 7);
    const second = await runScenarioVirtual(scenario, 7);
    expect(second.timeline).toEqual(first.timeline);
    expect(second.transitions).toEqual(first.transitions);
  });

  it('refuses a Kubernetes step naming an unknown cluster or a kind pxsim does not serve, and real time', async () => {
    const text = readFileSync(FILE, 'utf8');
    expect(() =>
      parseScenario(
        text.replace('      cluster: us-east-1b\n      yaml', '      cluster: us-east-1c\n      yaml'),
        'x.yaml',
      ),
    ).toThrow(/kubeApply names cluster "us-east-1c", not one of the domains us-east-1a, us-east-1b/);
    expect(() => parseScenario(text.replace('kind: Namespace', 'kind: ConfigMap'), 'x.yaml')).toThrow(
      /yaml document 1: v1 ConfigMap is not served/,
    );
    await expect(runScenarioReal(scenario, { pxNode: 'unused' } as never)).rejects.toThrow(ScenarioError);
  });
});

/**
 * K1 must catch a Kubernetes layer that lets an application run in both clusters at once: here, a claims driver
 * that reports every attach as done (a pod starts without its volume attached where it runs). The same story with
 * the real driver keeps the second cluster's pod waiting (the volume is attached on a node that is online).
 */
describe('K1 catches an application running in both clusters', () => {
  // The walkthrough up to its migration, with startApplications: true: the application is started in both clusters.
  const upToMigration = readFileSync(FILE, 'utf8')
    .replace('  startApplications: false\n', '  startApplications: true\n')
    .replace(/ {2}- pods: \{ cluster: us-east-1b[\s\S]*$/, '  - wait: 5000\n');

  it('finds nothing with the real driver: the destination pod waits for the volume', async () => {
    const waits = parseScenario(
      `${upToMigration}  - pods: { cluster: us-east-1b, namespace: migrationnamespace, running: 0, withinMs: 0 }\n`,
      'both.yaml',
    );
    const run = await runScenarioVirtual(waits, 3);
    expect(run.io.findings).toEqual([]);
  });

  it('finds the double run when attaches are not checked', async () => {
    const run = await runScenarioVirtual(parseScenario(upToMigration, 'both.yaml'), 3, {
      wrapKubeVolumeDriver: (driver) => ({
        ...driver,
        attach: async (volume, node) => {
          await driver.attach(volume, node);
          return { ok: true };
        },
      }),
    });
    const k1 = run.io.findings.filter((finding) => finding.check === 'K1');
    expect(k1.length).toBeGreaterThan(0);
    expect(k1[0]?.detail).toMatch(
      /volume mysql-vol is used by Running pods in 2 clusters at once, each on a serving px node, for two controller passes in a row \(us-east-1a: pod mysql-\S+ on ip-127-0-1-\d\.sim\.internal; us-east-1b: pod mysql-\S+ on ip-127-0-2-\d\.sim\.internal\)/,
    );
  });
});
