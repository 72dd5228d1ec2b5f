import type { FastifyInstance } from 'fastify';
import type { Kvdb } from '@pxsim/kvdb-client';
import { NodeAgent, type AgentStatus } from './agent.js';
import type { ClusterDomainUpdate } from './wire/layout.js';
import { buildApi, buildHealthApi } from './api/index.js';
import { READINESS_PORT, type AgentConfig } from './config.js';
import { AgentMetrics, meterKvdb } from './metrics.js';
import type { AgentRuntime } from './runtime/types.js';

export interface RunningNode {
  agent: NodeAgent;
  api: FastifyInstance;
  /** Stops serving, closes sockets; the registration stays in the kvdb. `crash`: as SIGKILL (see NodeAgent.stop). */
  stop(options?: { crash?: boolean }): Promise<void>;
}

export interface StartNodeOptions {
  /**
   * Open the REST API on `config.ip:config.apiPort` and the readiness endpoint (`GET /health`) on
   * `config.ip:9015`, as Portworx does (real runtime). Without it, use `api.inject()`.
   */
  listenApi?: boolean;
}

/** Listens, or throws an error naming the address and what it is for (e.g. EADDRINUSE: another process has it). */
async function listenOn(app: FastifyInstance, host: string, port: number, what: string): Promise<void> {
  try {
    await app.listen({ host, port });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`cannot listen on ${host}:${port} (${what}): ${reason}`, { cause: error });
  }
}

/**
 * Starts one node agent and its API. A port that cannot be opened (e.g. 9015 held by another process) stops the
 * agent again and rejects with `cannot listen on IP:PORT (…): …`; px-node prints it and exits 1.
 */
export async function startNode(
  config: AgentConfig,
  runtime: AgentRuntime,
  options: StartNodeOptions = {},
): Promise<RunningNode> {
  // The metrics read the agent at each scrape; the agent's kvdb calls are timed into them as they happen.
  const metrics: AgentMetrics = new AgentMetrics({
    status: (): AgentStatus => agent.status(),
    listClusterDomainUpdates: (): Promise<ClusterDomainUpdate[]> => agent.listClusterDomainUpdates(),
    volumes: () => agent.volumes.list(),
  });
  const agent: NodeAgent = new NodeAgent(config, {
    ...runtime,
    openKvdb: (endpoints, namespace): Kvdb => meterKvdb(runtime.openKvdb(endpoints, namespace), metrics, runtime.clock),
  });
  const api = await buildApi(agent, {
    adminToken: config.adminToken,
    metrics,
    ...(runtime.faults === undefined ? {} : { faults: runtime.faults }),
  });
  const health = options.listenApi === true ? buildHealthApi(agent) : undefined;
  await agent.start();
  if (health !== undefined) {
    try {
      await listenOn(api, config.ip, config.apiPort, 'REST API');
      await listenOn(health, config.ip, READINESS_PORT, "readiness, Portworx's /health port");
    } catch (error) {
      await Promise.all([api.close(), health.close()]);
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
      await Promise.all([api.close(), health?.close()]);
      await agent.stop(stopOptions);
    },
  };
}
