import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  comparable,
  parseScenario,
  runScenarioReal,
  runScenarioVirtual,
  ScenarioError,
  type ScenarioRun,
} from '@pxsim/sim-harness';
import { CliError } from './client.js';
import type { Io } from './commands.js';

/** px-node's launcher in this checkout (the real run starts one process per node). */
const PX_NODE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'node-agent', 'bin', 'px-node');

function printRun(io: Io, run: ScenarioRun, kubernetes: boolean): void {
  io.out(`${run.timeline.filter((line) => !line.startsWith('VIOLATION')).join('\n')}\n`);
  io.out('node states:\n');
  for (const [label, states] of Object.entries(comparable(run)))
    io.out(`  ${label.padEnd(14)} ${states.join(' -> ')}\n`);
  io.out('syncStatus:\n');
  for (const [domain, statuses] of Object.entries(run.sync))
    io.out(`  ${domain.padEnd(14)} ${statuses.join(' -> ')}\n`);
  io.out(
    `I/O: ${run.io.operations} block operation(s), ${run.io.acknowledgedWrites} write(s) acknowledged; ` +
      `checks LIN, RPO, PHANTOM${kubernetes ? ', K1' : ''}: ${run.io.findings.length === 0 ? 'passed' : `${run.io.findings.length} finding(s)`}\n`,
  );
}

/** `pxsim scenario run FILE`: every step must pass and nothing be found, or the exit code is 1. */
export async function runScenarioFile(
  io: Io,
  file: string,
  options: { seed: string; real?: boolean; ipPrefix: string },
): Promise<void> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`, 2);
  }
  const seed = Number(options.seed);
  if (!Number.isInteger(seed)) throw new CliError(`--seed ${options.seed} is not a whole number`, 2);
  if (!/^127\.\d{1,3}$/.test(options.ipPrefix)) throw new CliError(`--ip-prefix ${options.ipPrefix}: use 127.N`, 2);
  try {
    const scenario = parseScenario(text, file);
    io.err(`running ${scenario.name} in ${options.real === true ? 'real' : 'virtual'} time…\n`);
    const run =
      options.real === true
        ? await runScenarioReal(scenario, { pxNode: PX_NODE, ipPrefix: options.ipPrefix })
        : await runScenarioVirtual(scenario, seed);
    printRun(
      io,
      run,
      scenario.steps.some((step) => 'kube' in step),
    );
    const violations = run.timeline.filter((line) => line.startsWith('VIOLATION'));
    if (violations.length > 0) throw new CliError(`${violations.length} violation(s):\n${violations.join('\n')}`);
  } catch (error) {
    if (error instanceof ScenarioError) throw new CliError(error.message);
    throw error;
  }
}
