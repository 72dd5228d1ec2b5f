import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findEtcdBinary } from '@pxsim/kvdb-client/etcd-process';
import {
  comparable,
  parseScenario,
  runScenarioReal,
  runScenarioVirtual,
  ScenarioError,
  type ScenarioRun,
} from '@pxsim/sim-harness';

const FILE = join(import.meta.dirname, '..', 'scenarios', 'seed-walkthrough.yaml');
const PX_NODE = join(import.meta.dirname, '..', '..', 'node-agent', 'bin', 'px-node');
const etcdAvailable = findEtcdBinary() !== undefined;
if (!etcdAvailable && process.env['CI'] === 'true') throw new Error('CI=true but no etcd binary on PATH');

describe('the seed walkthrough scenario file', () => {
  const scenario = parseScenario(readFileSync(FILE, 'utf8'), FILE);

  /** What every run of the walkthrough must show of its data, in either time. */
  const expectData = (run: ScenarioRun): void => {
    // Every step passed (a lost write fails its verify step); the checkers found nothing in the recorded operations.
    expect(run.io.findings).toEqual([]);
    expect(run.io.acknowledgedWrites).toBeGreaterThanOrEqual(32 + 256 + 8);
    // us-east-1a: in sync, not in sync while inactive, resyncing once active again, in sync.
    expect(run.sync['us-east-1a']).toEqual(['InSync', 'NotInSync', 'SyncInProgress', 'InSync']);
    expect(run.sync['us-east-1b']?.at(-1)).toBe('InSync');
  };

  it('runs in virtual time with the checkers on', async () => {
    const run = await runScenarioVirtual(scenario, 1);
    expect(run.timeline.filter((line) => line.startsWith('VIOLATION'))).toEqual([]);
    expectData(run);
    expect(comparable(run)['us-east-1a/1']).toEqual([
      'Out of Quorum',
      'Online',
      'crashed',
      'Out of Quorum',
      'Online',
      'Out of Quorum',
      'Online',
    ]);
    expect(comparable(run)['us-east-1b/1']).toEqual([
      'Out of Quorum',
      'Online',
      'Out of Quorum',
      'Online',
      'Out of Quorum',
      'Online',
    ]);
  });

  it.skipIf(!etcdAvailable)(
    'runs in real time against px-node processes and etcd, with the same state transitions',
    async () => {
      const virtual = await runScenarioVirtual(scenario, 1);
      const real = await runScenarioReal(scenario, { pxNode: PX_NODE, ipPrefix: '127.3' });
      console.info(`virtual timeline:\n${virtual.timeline.join('\n')}\nreal timeline:\n${real.timeline.join('\n')}`);
      expect(comparable(real)).toEqual(comparable(virtual));
      expectData(real);
      expect(real.sync).toEqual(virtual.sync);
    },
    300_000,
  );

  it('rejects a malformed scenario with a message naming the step', () => {
    expect(() => parseScenario('name: x\nsteps:\n  - explode: all\n', 'bad.yaml')).toThrow(ScenarioError);
    expect(() => parseScenario('name: x\nsteps:\n  - explode: all\n', 'bad.yaml')).toThrow(
      /bad\.yaml: step 1: unknown step "explode"/,
    );
    expect(() => parseScenario('steps:\n  - expect: { nodes: all, status: Happy, withinMs: 1 }\n', 'bad.yaml')).toThrow(
      /step 1: expect needs/,
    );
    expect(() => parseScenario(' a: 1\nb: 2\n', 'bad.yaml')).toThrow(/bad\.yaml: invalid YAML/);
    // Data steps: fields, ranges, groups and domains are checked before anything runs.
    const bad =
      (step: string): (() => void) =>
      () =>
        parseScenario(`steps:\n  - ${step}\n`, 'bad.yaml');
    expect(bad('write: { volume: v, blocks: 0 }')).toThrow(/step 1: "blocks" must be an integer from 1 to 4096/);
    expect(bad('volume: { name: v, repl: 4 }')).toThrow(/step 1: "repl" must be an integer from 1 to 3/);
    expect(bad('volume: { name: v, color: red }')).toThrow(
      /step 1: volume has no "color" \(it takes name, size, repl\)/,
    );
    expect(bad('sync: { domain: us-east-1a, status: Fine }')).toThrow(/sync status must be one of InSync, /);
    expect(bad('sync: { domain: mars, status: InSync }')).toThrow(/sync names domain "mars", not one of us-east-1a/);
    expect(bad('attach: { volume: v, on: mars }')).toThrow(/step 1: attach on "mars" is neither a domain nor a node/);
    expect(bad('verify: v')).toThrow(/step 1: verify takes a mapping/);
  });
});
