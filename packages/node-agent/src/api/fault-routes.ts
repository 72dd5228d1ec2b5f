import type { FastifyInstance } from 'fastify';
import type { LinkFaults } from '@pxsim/runtime';
import type { PreHandler } from './auth.js';
import { sendError } from './errors.js';

/** The body of `POST /v1/debug/faults` (the agent's own fault words, until the shared vocabulary replaces them). */
export interface FaultRequest {
  op: 'cut' | 'latency' | 'loss' | 'kvdb-cut' | 'heal';
  to?: string[];
  ms?: number;
  jitterMs?: number;
  percent?: number;
}

const ipList = { type: 'array', maxItems: 256, items: { type: 'string', pattern: '^[0-9.]+$|^kvdb$' } } as const;
const faultBody = {
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
} as const;

/** Applies one fault request on `self`'s sending side; throws (with the reason) when LinkFaults refuses it. */
export function applyFault(faults: LinkFaults, self: string, body: FaultRequest): void {
  const to = body.to === undefined ? {} : { to: body.to };
  if (body.op === 'cut') faults.cut([self], body.to ?? []);
  else if (body.op === 'latency') faults.addLatency({ ms: body.ms ?? 0, jitterMs: body.jitterMs ?? 0, ...to });
  else if (body.op === 'loss') faults.addLoss({ percent: body.percent ?? 0, ...to });
  else if (body.op === 'kvdb-cut') faults.cutKvdb([self]);
  else faults.heal();
}

/** `GET/POST /v1/debug/faults` (admin): the faults in force, and injecting one; both answer the fault summary. */
export function registerFaultRoutes(
  app: FastifyInstance,
  faults: LinkFaults,
  selfIp: () => string,
  admin: PreHandler,
): void {
  app.get('/v1/debug/faults', { preHandler: admin }, async () => faults.summary());
  app.post<{ Body: FaultRequest }>(
    '/v1/debug/faults',
    { preHandler: admin, schema: { body: faultBody } },
    async (request, reply) => {
      try {
        applyFault(faults, selfIp(), request.body);
      } catch (error) {
        return sendError(reply, 'BAD_FAULT', error instanceof Error ? error.message : String(error));
      }
      return faults.summary();
    },
  );
}
