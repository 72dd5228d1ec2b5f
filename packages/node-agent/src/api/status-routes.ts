import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';
import type { AgentApiPort } from './port.js';
import type { nodeHealthSchema, nodeLivenessSchema } from './schemas.js';

/** `GET /health`: readiness, 200 when the node runs and is Online, else 503 with the reason. */
export function registerHealthRoute(app: FastifyInstance, agent: Pick<AgentApiPort, 'status'>): void {
  app.get('/health', async (_request, reply) => {
    const status = agent.status();
    const ready = status.phase === 'running' && status.node.status === 'Online';
    const body: z.infer<typeof nodeHealthSchema> = { ready, status: status.node.status, reason: status.node.reason };
    return reply.code(ready ? 200 : 503).send(body);
  });
}

/** `GET /status` (liveness), `GET /health` (readiness), `GET /v1/cluster` (the whole snapshot). */
export function registerStatusRoutes(app: FastifyInstance, agent: AgentApiPort): void {
  app.get('/status', async (): Promise<z.infer<typeof nodeLivenessSchema>> => {
    const status = agent.status();
    return {
      nodeId: status.node.id,
      phase: status.phase,
      status: status.node.status,
      reason: status.phase === 'running' ? status.node.reason : status.phaseReason,
    };
  });
  registerHealthRoute(app, agent);
  app.get('/v1/cluster', async () => agent.status());
}
