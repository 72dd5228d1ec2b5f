import { readFileSync } from 'node:fs';
import { ConfigError, parseAgentArgs, USAGE } from './config.js';
import { startNode } from './node.js';
import { realRuntime } from './runtime/real.js';

/** px-node: one node agent process. Exit codes: 0 clean stop, 1 runtime failure, 2 bad configuration. */
export async function main(argv: string[]): Promise<void> {
  let config;
  try {
    config = parseAgentArgs(argv, process.env, (path) => readFileSync(path, 'utf8'));
  } catch (error) {
    process.stderr.write(
      `px-node: ${error instanceof ConfigError || error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(2);
  }
  if (config === undefined) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const runtime = realRuntime(config.dataDir, config.ip);
  let node;
  try {
    node = await startNode(config, runtime, { listenApi: true });
  } catch (error) {
    process.stderr.write(`px-node: cannot start: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
  const running = node;
  running.agent.onFatal = (reason) => {
    process.stderr.write(`px-node: ${reason}\n`);
    void running.stop().finally(() => process.exit(1));
  };
  runtime.log(
    'info',
    `px-node ${running.agent.nodeId} (${config.clusterDomain}) API http://${config.ip}:${config.apiPort}, heartbeats ws://${config.ip}:${config.heartbeatPort}/heartbeat, kvdb ${config.kvdb}`,
  );
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    runtime.log('info', `${signal}: stopping (the registration stays)`);
    void running.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`px-node: error while stopping: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}
