import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DomainState } from '@pxsim/quorum';
import { isKvdbError } from '@pxsim/kvdb-client';
import type { z } from 'zod';
import { DomainNotFoundError } from '../agent.js';
import { DomainNotEmptyError, LastActiveDomainError } from '../shell/domains.js';
import { DOMAIN_NAME_RULE, nameJsonSchema } from '../wire/names.js';
import type { PreHandler } from './auth.js';
import { API_ERRORS, sendError } from './errors.js';
import type { AgentApiPort } from './port.js';
import type { clusterDomainInspectSchema, clusterDomainsEnumerateSchema } from './schemas.js';

/** A cluster domain name in a path: the one domain rule (`wire/names.ts`), as `--cluster-domain`. */
export const domainNameParams = {
  type: 'object',
  required: ['name'],
  properties: { name: nameJsonSchema(DOMAIN_NAME_RULE) },
} as const;

type NameRequest = FastifyRequest<{ Params: { name: string } }>;

/** A failed kvdb call: unknown outcome (504), or nothing changed (503), with the kvdb's message. */
export function kvdbFailure(reply: FastifyReply, error: unknown): FastifyReply {
  if (isKvdbError(error, 'Indeterminate')) return sendError(reply, 'KVDB_INDETERMINATE');
  if (isKvdbError(error, 'Modified')) return sendError(reply, 'CONFLICT');
  const detail = error instanceof Error ? error.message : String(error);
  return sendError(reply, 'KVDB_UNAVAILABLE', `${API_ERRORS.KVDB_UNAVAILABLE.message}: ${detail}`);
}

function unknownDomain(reply: FastifyReply, name: string, known: string[]): FastifyReply {
  return sendError(reply, 'DOMAIN_NOT_FOUND', new DomainNotFoundError(name, known).message, known);
}

/** Activate or deactivate: openstorage answers an empty object. */
function domainAction(agent: AgentApiPort, state: DomainState) {
  return async (request: NameRequest, reply: FastifyReply) => {
    try {
      await agent.setDomainState(request.params.name, state);
      return {};
    } catch (error) {
      if (error instanceof DomainNotFoundError) return unknownDomain(reply, error.domain, error.known);
      return kvdbFailure(reply, error);
    }
  };
}

/**
 * Removes an empty domain: `{}`; refused with DOMAIN_NOT_FOUND, DOMAIN_NOT_EMPTY, LAST_ACTIVE_DOMAIN (nothing
 * changed), or the kvdb's failure (CONFLICT when the domains changed meanwhile).
 */
function removeAction(agent: AgentApiPort) {
  return async (request: NameRequest, reply: FastifyReply) => {
    try {
      await agent.removeDomain(request.params.name);
      return {};
    } catch (error) {
      if (error instanceof DomainNotFoundError) return unknownDomain(reply, error.domain, error.known);
      if (error instanceof DomainNotEmptyError) return sendError(reply, 'DOMAIN_NOT_EMPTY', error.message);
      if (error instanceof LastActiveDomainError) return sendError(reply, 'LAST_ACTIVE_DOMAIN', error.message);
      return kvdbFailure(reply, error);
    }
  };
}

/**
 * openstorage's SDK REST gateway for cluster domains (`OpenStorageClusterDomains`), at its paths with its JSON
 * names: enumerate, inspect (from the status snapshot) and the admin-only activate / deactivate (no body). The
 * gateway has no way to remove a domain; `DELETE /v1/clusterdomains/{name}` (admin only) follows its convention for
 * deleting an object by name (as `DELETE /v1/volumes/{volume_id}`) and removes an empty one.
 */
export function registerDomainRoutes(app: FastifyInstance, agent: AgentApiPort, admin: PreHandler): void {
  app.get('/v1/clusterdomains', async (): Promise<z.infer<typeof clusterDomainsEnumerateSchema>> => ({
    cluster_domain_names: agent.status().domains.map((domain) => domain.name),
  }));
  app.get<{ Params: { name: string } }>(
    '/v1/clusterdomains/inspect/:name',
    { schema: { params: domainNameParams } },
    async (request, reply): Promise<z.infer<typeof clusterDomainInspectSchema> | FastifyReply> => {
      const domains = agent.status().domains;
      const found = domains.find((domain) => domain.name === request.params.name);
      if (found === undefined) {
        const known = domains.map((domain) => domain.name).sort();
        return unknownDomain(reply, request.params.name, known);
      }
      return { cluster_domain_name: found.name, is_active: found.state === 'Active' };
    },
  );
  const options = { schema: { params: domainNameParams }, preHandler: admin };
  app.post<{ Params: { name: string } }>('/v1/clusterdomains/activate/:name', options, domainAction(agent, 'Active'));
  app.post<{ Params: { name: string } }>(
    '/v1/clusterdomains/deactivate/:name',
    options,
    domainAction(agent, 'Inactive'),
  );
  app.delete<{ Params: { name: string } }>('/v1/clusterdomains/:name', options, removeAction(agent));
}
