import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import websocket from '@fastify/websocket';
import { timingSafeEqual } from 'node:crypto';
import type { DomainState } from '@pxsim/quorum';
import { CduExistsError, DomainNotFoundError, type AgentEvent, type AgentStatus, type WriteResult } from './agent.js';
import type { ClusterDomainUpdate, ClusterDomainUpdateSpec } from './wire/layout.js';
import type { LinkFaults } from './runtime/faults.js';

/** What the API needs from an agent: a status snapshot, two commands and an event feed — never its internals. */
export interface AgentApiPort {
  status(): AgentStatus;
  setDomainState(name: string, state: DomainState): Promise<{ name: string; state: DomainState; revision: number }>;
  write(bytes: number): WriteResult;
  applyClusterDomainUpdate(spec: ClusterDomainUpdateSpec, mode: 'create' | 'apply'): Promise<ClusterDomainUpdate>;
  listClusterDomainUpdates(): Promise<ClusterDomainUpdate[]>;
  subscribe(listener: (event: AgentEvent) => void): () => void;
}

/** Every error the API answers with: one code, one HTTP status, defined here. */
export const API_ERRORS = {
  UNAUTHORIZED: { statusCode: 401, message: 'admin endpoint: send Authorization: Bearer <token>' },
  FORBIDDEN: { statusCode: 403, message: 'admin endpoint: wrong token' },
  ADMIN_DISABLED: {
    statusCode: 403,
    message: 'admin endpoints are disabled: the node was started without an admin token',
  },
  DOMAIN_NOT_FOUND: { statusCode: 404, message: 'unknown cluster domain' },
  FENCED: { statusCode: 503, message: 'storage fenced: the node is not in quorum' },
  NOT_READY: { statusCode: 503, message: 'the node is not running yet' },
  POOL_FULL: { statusCode: 507, message: 'the storage pool is full' },
  KVDB_UNAVAILABLE: { statusCode: 503, message: 'the kvdb could not be reached; nothing was changed' },
  KVDB_INDETERMINATE: {
    statusCode: 504,
    message: 'the kvdb write may or may not have been applied; read the state again',
  },
  CONFLICT: { statusCode: 409, message: 'the domain changed concurrently; retry' },
  ALREADY_EXISTS: { statusCode: 409, message: 'the object already exists' },
} as const;
export type ApiErrorCode = keyof typeof API_ERRORS;

function sendError(
  reply: FastifyReply,
  code: ApiErrorCode,
  detail?: string,
  extra: Record<string, unknown> = {},
): FastifyReply {
  const { statusCode, message } = API_ERRORS[code];
  return reply.code(statusCode).send({ error: { code, message: detail ?? message, ...extra } });
}

const EVENT_BUFFER_BYTES_MAX = 1024 * 1024;

export interface ApiOptions {
  adminToken: string | undefined;
  /** When given, admins can inject faults on this node's sending side (POST /v1/debug/faults). */
  faults?: LinkFaults;
  logger?: boolean;
}

function tokenMatches(expected: string, given: string): boolean {
  const left = Buffer.from(expected);
  const right = Buffer.from(given);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** Builds the agent's REST and WebSocket API (fastify); tests call `inject()` on it without opening a socket. */
export async function buildApi(agent: AgentApiPort, options: ApiOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: 16 * 1024,
    // Reject unknown fields instead of silently dropping them.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false } },
  });
  await app.register(websocket, { options: { maxPayload: 4096 } });

  /**
   * Admin routes run this as a preHandler: answering here ends the request before the handler. (Not a helper to
   * await inside handlers: a sent FastifyReply is thenable, and awaiting it yields undefined.)
   */
  const adminOnly = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (options.adminToken === undefined) {
      sendError(reply, 'ADMIN_DISABLED');
      return;
    }
    const header = request.headers.authorization;
    if (header === undefined || !header.startsWith('Bearer ')) {
      sendError(reply, 'UNAUTHORIZED');
      return;
    }
    if (!tokenMatches(options.adminToken, header.slice('Bearer '.length).trim())) sendError(reply, 'FORBIDDEN');
  };

  app.get('/status', async () => {
    const status = agent.status();
    return {
      nodeId: status.node.id,
      phase: status.phase,
      status: status.node.status,
      reason: status.phase === 'running' ? status.node.reason : status.phaseReason,
    };
  });

  app.get('/health', async (_request, reply) => {
    const status = agent.status();
    const ready = status.phase === 'running' && status.node.status === 'Online';
    return reply.code(ready ? 200 : 503).send({ ready, status: status.node.status, reason: status.node.reason });
  });

  app.get('/v1/cluster', async () => agent.status());

  app.get('/v1/clusterdomains', async () => {
    const status = agent.status();
    return { clusterId: status.cluster.id, localDomain: status.node.domain, domains: status.domains };
  });

  const domainRoute =
    (state: DomainState) => async (request: FastifyRequest<{ Params: { name: string } }>, reply: FastifyReply) => {
      try {
        return await agent.setDomainState(request.params.name, state);
      } catch (error) {
        if (error instanceof DomainNotFoundError)
          return sendError(reply, 'DOMAIN_NOT_FOUND', error.message, { known: error.known });
        const kind = (error as { kind?: unknown }).kind;
        if (kind === 'Indeterminate') return sendError(reply, 'KVDB_INDETERMINATE');
        if (kind === 'Modified') return sendError(reply, 'CONFLICT');
        return sendError(
          reply,
          'KVDB_UNAVAILABLE',
          `${API_ERRORS.KVDB_UNAVAILABLE.message}: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    };
  const nameParams = {
    type: 'object',
    required: ['name'],
    properties: { name: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._-]+$' } },
  } as const;
  app.post<{ Params: { name: string } }>(
    '/v1/clusterdomains/activate/:name',
    { schema: { params: nameParams }, preHandler: adminOnly },
    domainRoute('Active'),
  );
  app.post<{ Params: { name: string } }>(
    '/v1/clusterdomains/deactivate/:name',
    { schema: { params: nameParams }, preHandler: adminOnly },
    domainRoute('Inactive'),
  );

  const kvdbFailure = (reply: FastifyReply, error: unknown): FastifyReply => {
    const kind = (error as { kind?: unknown }).kind;
    if (kind === 'Indeterminate') return sendError(reply, 'KVDB_INDETERMINATE');
    return sendError(
      reply,
      'KVDB_UNAVAILABLE',
      `${API_ERRORS.KVDB_UNAVAILABLE.message}: ${error instanceof Error ? error.message : String(error)}`,
    );
  };

  app.get('/v1/stork/clusterdomainupdates', async (_request, reply) => {
    try {
      return { items: await agent.listClusterDomainUpdates() };
    } catch (error) {
      return kvdbFailure(reply, error);
    }
  });

  app.post<{ Body: ClusterDomainUpdateSpec; Querystring: { mode?: 'create' | 'apply' } }>(
    '/v1/stork/clusterdomainupdates',
    {
      preHandler: adminOnly,
      schema: {
        querystring: {
          type: 'object',
          properties: { mode: { type: 'string', enum: ['create', 'apply'] } },
          additionalProperties: false,
        },
        body: {
          type: 'object',
          required: ['name', 'clusterDomain', 'active'],
          additionalProperties: false,
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 253, pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$' },
            clusterDomain: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._-]+$' },
            active: { type: 'boolean' },
          },
        },
      },
    },
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

  app.post<{ Body: { bytes: number } }>(
    '/v1/io/write',
    {
      schema: {
        body: {
          type: 'object',
          required: ['bytes'],
          additionalProperties: false,
          properties: { bytes: { type: 'integer', minimum: 1, maximum: 1024 * 1024 * 1024 } },
        },
      },
    },
    async (request, reply) => {
      const result = agent.write(request.body.bytes);
      if (result.ok) return { acknowledged: true, usedBytes: result.usedBytes };
      return sendError(reply, result.code, result.reason);
    },
  );

  const faults = options.faults;
  if (faults !== undefined) {
    const ipList = { type: 'array', maxItems: 256, items: { type: 'string', pattern: '^[0-9.]+$|^kvdb$' } } as const;
    app.get('/v1/debug/faults', { preHandler: adminOnly }, async () => faults.summary());
    app.post<{
      Body: {
        op: 'cut' | 'latency' | 'loss' | 'kvdb-cut' | 'heal';
        to?: string[];
        ms?: number;
        jitterMs?: number;
        percent?: number;
      };
    }>(
      '/v1/debug/faults',
      {
        preHandler: adminOnly,
        schema: {
          body: {
            type: 'object',
            required: ['op'],
            additionalProperties: false,
            properties: {
              op: { type: 'string', enum: ['cut', 'latency', 'loss', 'kvdb-cut', 'heal'] },
              to: ipList,
              ms: { type: 'number', minimum: 0 },
              jitterMs: { type: 'number', minimum: 0 },
              percent: { type: 'number', minimum: 0, maximum: 100 },
            },
          },
        },
      },
      async (request, reply) => {
        const body = request.body;
        const self = agent.status().node.ip;
        try {
          if (body.op === 'cut') faults.cut([self], body.to ?? []);
          else if (body.op === 'latency')
            faults.addLatency({
              ms: body.ms ?? 0,
              jitterMs: body.jitterMs ?? 0,
              ...(body.to === undefined ? {} : { to: body.to }),
            });
          else if (body.op === 'loss')
            faults.addLoss({ percent: body.percent ?? 0, ...(body.to === undefined ? {} : { to: body.to }) });
          else if (body.op === 'kvdb-cut') faults.cutKvdb([self]);
          else faults.heal();
        } catch (error) {
          return reply
            .code(400)
            .send({ error: { code: 'BAD_FAULT', message: error instanceof Error ? error.message : String(error) } });
        }
        return faults.summary();
      },
    );
  }

  app.get('/v1/events', { websocket: true }, (socket) => {
    const send = (event: AgentEvent | { type: 'hello'; status: AgentStatus }): void => {
      if (socket.bufferedAmount > EVENT_BUFFER_BYTES_MAX) {
        socket.close(1013, 'event consumer too slow');
        return;
      }
      socket.send(JSON.stringify(event));
    };
    let unsubscribe: () => void = () => undefined;
    try {
      unsubscribe = agent.subscribe(send);
    } catch (error) {
      socket.close(1013, error instanceof Error ? error.message : 'busy');
      return;
    }
    // After the upgrade completes, so that a client attaching its listener right away sees it.
    setImmediate(() => send({ type: 'hello', status: agent.status() }));
    socket.on('close', unsubscribe);
    socket.on('message', () => undefined);
  });

  app.setErrorHandler((error: { statusCode?: number; message: string; validation?: unknown }, _request, reply) => {
    const statusCode = error.statusCode ?? 500;
    if (statusCode >= 500) return reply.code(statusCode).send({ error: { code: 'INTERNAL', message: error.message } });
    return reply.code(statusCode).send({
      error: { code: error.validation === undefined ? 'BAD_REQUEST' : 'INVALID_REQUEST', message: error.message },
    });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no route ${request.method} ${request.url}` } }),
  );
  return app;
}
