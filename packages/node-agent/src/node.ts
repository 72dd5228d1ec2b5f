import type { FastifyInstance } from 'fastify';
import { NodeAgent } from './agent.js';
import { buildApi } from './api.js';
import type { AgentConfig } from './config.js';
import type { AgentRuntime } from './runtime/types.js';

export interface RunningNode {
  agent: NodeAgent;
  api: FastifyInstance;
  /** Stops serving, closes sockets; the registration stays in the kvdb. `crash`: as SIGKILL (see NodeAgent.stop). */
  stop(options?: { crash?: boolean }): Promise<void>;
}

export interface StartNodeOptions {
  /** Open the REST API on `config.ip:config.apiPort` (real runtime). Without it, use `api.inject()`. */
  listenApi?: boolean;
}

/** Starts one node agent and its API. */
export async function startNode(
  config: AgentConfig,
  runtime: AgentRuntime,
  options: StartNodeOptions = {},
): Promise<RunningNode> {
  const agent = new NodeAgent(config, runtime);
  const api = await buildApi(agent, {
    adminToken: config.adminToken,
    ...(runtime.faults === undefined ? {} : { faults: runtime.faults }),
  });
  await agent.start();
  if (options.listenApi === true) {
    try {
      await api.listen({ host: config.ip, port: config.apiPort });
    } catch (error) {
      await agent.stop();
      throw error;
    }
  }
  let stopped = false;
  return {
    agent,
    api,
    async stop(stopOptions = {}) {
      if (stopped) return;
      stopped = true;
      await api.close();
      await agent.stop(stopOptions);
    },
  };
}
