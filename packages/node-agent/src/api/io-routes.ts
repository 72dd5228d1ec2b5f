import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';
import { sendError } from './errors.js';
import type { AgentApiPort } from './port.js';
import type { writeAckSchema } from './schemas.js';

const WRITE_BYTES_MAX = 1024 * 1024 * 1024;

/** `POST /v1/io/write {bytes}`: a write to the simulated pool, acknowledged only while the node serves. */
export function registerIoRoutes(app: FastifyInstance, agent: AgentApiPort): void {
  app.post<{ Body: { bytes: number } }>(
    '/v1/io/write',
    {
      schema: {
        body: {
          type: 'object',
          required: ['bytes'],
          additionalProperties: false,
          properties: { bytes: { type: 'integer', minimum: 1, maximum: WRITE_BYTES_MAX } },
        },
      },
    },
    async (request, reply) => {
      const result = agent.write(request.body.bytes);
      if (!result.ok) return sendError(reply, result.code, result.reason);
      const ack: z.infer<typeof writeAckSchema> = { acknowledged: true, usedBytes: result.usedBytes };
      return ack;
    },
  );
}
