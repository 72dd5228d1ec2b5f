import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * Every error code the API answers with, its HTTP status and what it means: the ONE table. Fastify's own errors
 * (bad URLs, unparsable bodies, unknown routes, …) are translated to these codes too, so every error body is
 * `{ error: { code, message } }` (see `apiErrorSchema`).
 */
export const API_ERRORS = {
  UNAUTHORIZED: { statusCode: 401, message: 'admin endpoint: send Authorization: Bearer <token>' },
  FORBIDDEN: { statusCode: 403, message: 'admin endpoint: wrong token' },
  ADMIN_DISABLED: {
    statusCode: 403,
    message: 'admin endpoints are disabled: the node was started without an admin token',
  },
  DOMAIN_NOT_FOUND: { statusCode: 404, message: 'unknown cluster domain' },
  DOMAIN_NOT_EMPTY: {
    statusCode: 409,
    message: 'the cluster domain still has nodes; only a domain with no nodes can be removed',
  },
  LAST_ACTIVE_DOMAIN: {
    statusCode: 409,
    message: 'the last Active cluster domain cannot be removed; activate another domain first',
  },
  FENCED: { statusCode: 503, message: 'storage fenced: the node is not in quorum' },
  NOT_READY: { statusCode: 503, message: 'the node is not running yet' },
  POOL_FULL: { statusCode: 507, message: 'the storage pool is full' },
  KVDB_UNAVAILABLE: { statusCode: 503, message: 'the kvdb could not be reached; nothing was changed' },
  KVDB_INDETERMINATE: {
    statusCode: 504,
    message: 'the kvdb write may or may not have been applied; read the state again',
  },
  CONFLICT: { statusCode: 409, message: 'the cluster domains changed concurrently; retry' },
  ALREADY_EXISTS: { statusCode: 409, message: 'the object already exists' },
  BAD_FAULT: { statusCode: 400, message: 'the fault cannot be applied' },
  INVALID_REQUEST: { statusCode: 400, message: 'the request does not match the route schema' },
  BAD_REQUEST: { statusCode: 400, message: 'the request is malformed' },
  INVALID_JSON: {
    statusCode: 400,
    message: 'the body is not valid JSON (keys "__proto__" and "constructor.prototype" are refused as well)',
  },
  BAD_URL: { statusCode: 400, message: 'the URL is not validly percent-encoded' },
  NOT_FOUND: { statusCode: 404, message: 'no such route' },
  PAYLOAD_TOO_LARGE: { statusCode: 413, message: 'the request body is too large' },
  URI_TOO_LONG: { statusCode: 414, message: 'the URL or one of its parameters is too long' },
  UNSUPPORTED_MEDIA_TYPE: { statusCode: 415, message: 'unsupported content type: send application/json' },
  HEADERS_TOO_LARGE: { statusCode: 431, message: 'the request headers are too large' },
  REQUEST_TIMEOUT: { statusCode: 408, message: 'the request was not received in time' },
  INTERNAL: { statusCode: 500, message: 'internal error' },
  VOLUME_NOT_FOUND: { statusCode: 404, message: 'no such volume' },
  INVALID_VOLUME: { statusCode: 400, message: 'the volume request is not valid' },
  PLACEMENT_FAILED: { statusCode: 409, message: 'the replicas cannot be placed' },
  VOLUME_ATTACHED: { statusCode: 409, message: 'the volume is attached; detach it first' },
  BLOCK_OUT_OF_RANGE: { statusCode: 400, message: 'the block index is outside the volume' },
  NOT_ATTACHED_HERE: { statusCode: 409, message: 'the volume is not attached on this node' },
  ATTACHED_ELSEWHERE: { statusCode: 409, message: 'the volume is attached on another node that is online' },
  NOT_IN_CURRENT_SET: { statusCode: 409, message: 'this node holds no up-to-date replica of the volume' },
  VOLUME_NOT_OPEN: { statusCode: 503, message: 'the volume is still opening on this node' },
  BUSY: { statusCode: 503, message: 'too many operations wait on the volume' },
  DISPLACED: { statusCode: 503, message: 'another node took the volume over' },
} as const satisfies Record<string, { statusCode: number; message: string }>;
export type ApiErrorCode = keyof typeof API_ERRORS;

/** The one error body. `known` lists the known cluster domains on DOMAIN_NOT_FOUND. */
export interface ApiErrorBody {
  error: { code: ApiErrorCode; message: string; known?: string[] };
}

export function errorBody(code: ApiErrorCode, message?: string, known?: string[]): ApiErrorBody {
  return { error: { code, message: message ?? API_ERRORS[code].message, ...(known === undefined ? {} : { known }) } };
}

/** Answers `code` with its HTTP status and the one error shape. */
export function sendError(reply: FastifyReply, code: ApiErrorCode, message?: string, known?: string[]): FastifyReply {
  return reply.code(API_ERRORS[code].statusCode).send(errorBody(code, message, known));
}

/** Fastify's own error codes, and which of ours each becomes. */
const FASTIFY_CODES: Record<string, ApiErrorCode> = {
  FST_ERR_VALIDATION: 'INVALID_REQUEST',
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
  FST_ERR_BAD_URL: 'BAD_URL',
  FST_ERR_MAX_PARAM_LENGTH: 'URI_TOO_LONG',
  FST_ERR_NOT_FOUND: 'NOT_FOUND',
};

interface FrameworkError {
  code?: string;
  statusCode?: number;
  message: string;
  validation?: unknown;
}

/** Which code a thrown error answers with: fastify's codes by the table above, else by HTTP status. */
export function codeOfError(error: FrameworkError): ApiErrorCode {
  const byCode = error.code === undefined ? undefined : FASTIFY_CODES[error.code];
  if (byCode !== undefined) return byCode;
  if (error.validation !== undefined) return 'INVALID_REQUEST';
  const statusCode = error.statusCode ?? 500;
  if (statusCode >= 500) return 'INTERNAL';
  if (statusCode === 404) return 'NOT_FOUND';
  if (statusCode === 413) return 'PAYLOAD_TOO_LARGE';
  if (statusCode === 414) return 'URI_TOO_LONG';
  if (statusCode === 415) return 'UNSUPPORTED_MEDIA_TYPE';
  return 'BAD_REQUEST';
}

/** Message for an error: validation and parse messages say what was wrong; a 500 says what failed. */
function messageOfError(code: ApiErrorCode, error: FrameworkError): string {
  if (code === 'INVALID_REQUEST') return error.message;
  if (code === 'BAD_URL' || code === 'URI_TOO_LONG') return `${API_ERRORS[code].message}: ${error.message}`;
  if (code === 'INTERNAL') return `${API_ERRORS.INTERNAL.message}: ${error.message}`;
  return API_ERRORS[code].message;
}

/** Fastify's error handler and `frameworkErrors` hook: every error in the one shape. */
export function replyWithError(error: FrameworkError, _request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const code = codeOfError(error);
  return sendError(reply, code, messageOfError(code, error));
}

export function replyNotFound(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendError(reply, 'NOT_FOUND', `no route ${request.method} ${request.url.slice(0, 256)}`);
}

/**
 * Errors found by Node's HTTP parser before fastify sees a request (headers too large, garbage, timeouts): answered
 * on the raw socket in the one shape, then the socket is closed (as fastify's default handler does).
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const code: ApiErrorCode =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? 'HEADERS_TOO_LARGE'
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? 'REQUEST_TIMEOUT'
        : 'BAD_REQUEST';
  const { statusCode } = API_ERRORS[code];
  const body = JSON.stringify(errorBody(code));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${statusCode} ${STATUS_CODES[statusCode] ?? 'Error'}\r\nConnection: close\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
