import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from './errors.js';

function tokenMatches(expected: string, given: string): boolean {
  const left = Buffer.from(expected);
  const right = Buffer.from(given);
  return left.length === right.length && timingSafeEqual(left, right);
}

export type PreHandler = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

/**
 * The admin rule every mutating admin route runs as a preHandler: `Authorization: Bearer <token>`; without a
 * configured token the admin routes are disabled. Answering here ends the request before the handler. (Not a helper
 * to await inside handlers: a sent FastifyReply is thenable, and awaiting it yields undefined.)
 */
export function adminOnly(adminToken: string | undefined): PreHandler {
  return async (request, reply) => {
    if (adminToken === undefined) {
      sendError(reply, 'ADMIN_DISABLED');
      return;
    }
    const header = request.headers.authorization;
    if (header === undefined || !header.startsWith('Bearer ')) {
      sendError(reply, 'UNAUTHORIZED');
      return;
    }
    if (!tokenMatches(adminToken, header.slice('Bearer '.length).trim())) sendError(reply, 'FORBIDDEN');
  };
}
