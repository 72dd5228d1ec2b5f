import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';
import { CduExistsError } from '../agent.js';
import type { ClusterDomainUpdateSpec } from '../wire/layout.js';
import { DOMAIN_NAME_RULE, nameJsonSchema, OBJECT_NAME_RULE } from '../wire/names.js';
import type { PreHandler } from './auth.js';
import { kvdbFailure } from './domain-routes.js';
import { sendError } from './errors.js';
import type { AgentApiPort } from './port.js';
import type { clusterDomainUpdateListSchema } from './schemas.js';

const cduBody = {
  type: 'object',
  required: ['name', 'clusterDomain', 'active'],
  additionalProperties: false,
  properties: {
    name: nameJsonSchema(OBJECT_NAME_RULE),
    clusterDomain: nameJsonSchema(DOMAIN_NAME_RULE),
    active: { type: 'boolean' },
  },
} as const;

const modeQuery = {
  type: 'object',
  properties: { mode: { type: 'string', enum: ['create', 'apply'] } },
  additionalProperties: false,
} as const;

/**
 * Stork's ClusterDomainUpdates: `GET` lists them; `POST` (admin) records one and carries it out, `?mode=create`
 * refusing an existing name (409) as kubectl create does, `apply` (default) replacing it. Answers 201 with the record.
 */
export function registerStorkRoutes(app: FastifyInstance, agent: AgentApiPort, admin: PreHandler): void {
  app.get('/v1/stork/clusterdomainupdates', async (_request, reply) => {
    try {
      const list: z.infer<typeof clusterDomainUpdateListSchema> = { items: await agent.listClusterDomainUpdates() };
      return list;
    } catch (error) {
      return kvdbFailure(reply, error);
    }
  });
  app.post<{ Body: ClusterDomainUpdateSpec; Querystring: { mode?: 'create' | 'apply' } }>(
    '/v1/stork/clusterdomainupdates',
    { preHandler: admin, schema: { querystring: modeQuery, body: cduBody } },
    async (request, reply) => {
      try {
        const result = await agent.applyClusterDomainUpdate(request.body, request.query.mode ?? 'apply');
        return reply.code(201).send(result);
      } catch (error) {
        if (error instanceof CduExistsError) return sendError(reply, 'ALREADY_EXISTS', error.message);
        return kvdbFailure(reply, error);
      }
    },
  );
}
