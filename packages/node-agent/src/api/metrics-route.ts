import type { FastifyInstance } from 'fastify';
import type { AgentMetrics } from '../metrics.js';

/** `GET /metrics`: the agent's metrics in Prometheus's text exposition format (for a scraper; no token needed). */
export function registerMetricsRoute(app: FastifyInstance, metrics: AgentMetrics): void {
  app.get('/metrics', async (_request, reply) => {
    const text = await metrics.text();
    return reply.type(metrics.contentType).send(text);
  });
}
