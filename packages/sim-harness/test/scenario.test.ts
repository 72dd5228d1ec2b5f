import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findEtcdBinary } from '@pxsim/kvdb-client/etcd-process';
import { comparable, parseScenario, runScenarioReal, runScenarioVirtual, ScenarioError } from '@pxsim/sim-harness';

const FILE = join(import.meta.dirname, '..', 'scenarios', 'seed-walkthrough.yaml');
const PX_NODE = join(import.meta.dirname, '..', '..', 'node-agent', 'bin', 'px-node');
const etcdAvailable = findEtcdBinary() !== undefined;
if (!etcdAvailable && process.env['CI'] === 'true') throw new Error('CI=true but no etcd binary on PATH');

describe('the seed walkthrough scenario file', () => {
  const scenario = parseScenario(readFileSync(FILE, 'utf8'), FILE);

  it('runs in virtual time with the checkers on', async () => {
    const run = await runScenarioVirtual(scenario, 1);
    expect(run.timeline.filter((line) => line.startsWith('VIOLATION'))).toEqual([]);
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
  });
});
