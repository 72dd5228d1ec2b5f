import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError, parseAgentArgs, READINESS_PORT, USAGE, type AgentArgs, type AgentConfig } from './config.js';
import { startNode, type RunningNode } from './node.js';
import { realRuntime } from './runtime/real.js';
import type { AgentRuntime } from './runtime/types.js';

/** This tool's own version, from the package's package.json (one directory above both src/ and dist/). */
export function toolVersion(): string {
  const text = readFileSync(new URL('../package.json', import.meta.url), 'utf8');
  return z.object({ version: z.string() }).parse(JSON.parse(text)).version;
}

function parseOrExit(argv: string[]): AgentArgs {
  try {
    return parseAgentArgs(argv, process.env, (path) => readFileSync(path, 'utf8'));
  } catch (error) {
    process.stderr.write(
      `px-node: ${error instanceof ConfigError || error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(2);
  }
}

/** SIGTERM / SIGINT: stop serving, keep the registration, exit 0 (1 if stopping fails). */
function exitOnSignals(running: RunningNode, runtime: AgentRuntime): void {
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    runtime.log('info', `${signal}: stopping (the registration stays)`);
    void running.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        runtime.log('error', `error while stopping: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

async function run(config: AgentConfig, runtime: AgentRuntime): Promise<void> {
  let running: RunningNode;
  try {
    running = await startNode(config, runtime, { listenApi: true });
  } catch (error) {
    runtime.log('error', `cannot start: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
  running.agent.onFatal = (reason) => {
    runtime.log('error', reason);
    void running.stop().finally(() => process.exit(1));
  };
  runtime.log(
    'info',
    `px-node ${running.agent.nodeId} (${config.clusterDomain}) API http://${config.ip}:${config.apiPort}, ` +
      `readiness http://${config.ip}:${READINESS_PORT}/health, heartbeats ws://${config.ip}:${config.heartbeatPort}/heartbeat, ` +
      `kvdb ${config.kvdb}`,
  );
  exitOnSignals(running, runtime);
}

/**
 * px-node: one node agent process. Exit codes: 0 clean stop (and --help, --version), 1 runtime failure, 2 bad
 * command line (one line on stderr naming the flag, the value and the rule). Logs: JSON lines on stderr. Resolves
 * once the node listens (`serving`), or at once for --help and --version (`answered`).
 */
export async function main(argv: string[]): Promise<'answered' | 'serving'> {
  const args = parseOrExit(argv);
  if (args.kind === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 'answered';
  }
  if (args.kind === 'version') {
    process.stdout.write(`px-node ${toolVersion()}\n`);
    return 'answered';
  }
  await run(args.config, realRuntime(args.config.dataDir, args.config.ip, { logLevel: args.logLevel }));
  return 'serving';
}
