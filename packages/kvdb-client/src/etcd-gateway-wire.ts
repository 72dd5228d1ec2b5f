import { z } from 'zod';
import { KvdbError, type KvdbErrorKind } from './errors.js';
import type { KeyValue } from './types.js';

/**
 * The shapes etcd 3.4's v3 JSON gateway (grpc-gateway over the gRPC API) answers with, checked before use: an answer
 * that does not fit is rejected with a message naming the field, never trusted. int64 fields arrive as decimal
 * strings, bytes as base64, and fields at their default value (0, false, empty) are left out.
 */

/** A non-negative int64 that fits a JS number (revisions, versions, counts, TTLs). */
const count = z
  .union([z.string().regex(/^[0-9]{1,16}$/), z.number().int().nonnegative()])
  .transform(Number)
  .refine(Number.isSafeInteger, 'not a safe integer');
/** Lease IDs are int64 beyond 2^53: kept as decimal strings. "0" means none. */
const leaseId = z.string().regex(/^-?[0-9]{1,19}$/, 'not a decimal int64');
const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'not base64');

const headerSchema = z.object({ revision: count });

const kvSchema = z.object({
  key: base64,
  value: base64.optional(),
  create_revision: count.optional(),
  mod_revision: count.optional(),
  version: count.optional(),
  lease: leaseId.optional(),
});
export type GatewayKv = z.infer<typeof kvSchema>;

export const rangeAnswer = z.object({
  header: headerSchema,
  kvs: z.array(kvSchema).optional(),
  more: z.boolean().optional(),
});

/** A range of at most one key that asked for the count too (`prefixVersion`): `count` ignores the limit. */
export const prefixVersionAnswer = z.object({
  header: headerSchema,
  kvs: z.array(kvSchema).optional(),
  count: count.optional(),
});

export const txnAnswer = z.object({
  header: headerSchema,
  succeeded: z.boolean().optional(),
  responses: z
    .array(
      z.object({
        response_range: z.object({ kvs: z.array(kvSchema).optional() }).optional(),
        response_put: z.object({ prev_kv: kvSchema.optional() }).optional(),
        response_delete_range: z
          .object({ deleted: count.optional(), prev_kvs: z.array(kvSchema).optional() })
          .optional(),
      }),
    )
    .optional(),
});
export type GatewayTxnResponse = NonNullable<z.infer<typeof txnAnswer>['responses']>[number];

export const leaseGrantAnswer = z.object({ header: headerSchema, ID: leaseId, TTL: count.optional() });
export const leaseKeepAliveAnswer = z.object({ result: z.object({ ID: leaseId.optional(), TTL: count.optional() }) });
export const headerAnswer = z.object({ header: headerSchema });

const watchEventSchema = z.object({
  type: z.enum(['PUT', 'DELETE']).optional(),
  kv: kvSchema,
  prev_kv: kvSchema.optional(),
});
export type GatewayWatchEvent = z.infer<typeof watchEventSchema>;

/** One message of the watch stream: a result, or the error that ended the stream. */
export const watchMessage = z.object({
  result: z
    .object({
      header: z.object({ revision: count.optional() }).optional(),
      created: z.boolean().optional(),
      canceled: z.boolean().optional(),
      compact_revision: count.optional(),
      cancel_reason: z.string().optional(),
      events: z.array(watchEventSchema).optional(),
    })
    .optional(),
  error: z.object({ message: z.string().optional(), code: z.number().optional() }).optional(),
});

/** The error body of a failed unary call (HTTP 4xx/5xx). */
const errorBody = z.object({ error: z.string().optional(), message: z.string().optional(), code: z.number() });

/** Checks a decoded JSON answer against its shape; a misfit names the path and the problem. */
export function checkAnswer<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue === undefined || issue.path.length === 0 ? 'the answer' : issue.path.join('.');
  throw new MalformedAnswerError(
    `${what}: the etcd gateway answered an unexpected shape (${where}: ${issue?.message ?? 'invalid'})`,
  );
}

/** An answer that is not JSON or not of the expected shape: the request reached etcd, its outcome is unknown. */
export class MalformedAnswerError extends Error {
  override readonly name = 'MalformedAnswerError';
}

export function fromBase64(value: string | undefined): string {
  return value === undefined ? '' : Buffer.from(value, 'base64').toString();
}

export function toBase64(value: string | Buffer): string {
  return (typeof value === 'string' ? Buffer.from(value) : value).toString('base64');
}

/** A gateway key-value as a `KeyValue`, with the client's namespace taken off the key. */
export function toKeyValue(kv: GatewayKv, namespaceLength: number, withValue = true): KeyValue {
  const result: KeyValue = {
    key: Buffer.from(kv.key, 'base64').subarray(namespaceLength).toString(),
    value: withValue ? fromBase64(kv.value) : '',
    createRevision: kv.create_revision ?? 0,
    modRevision: kv.mod_revision ?? 0,
    version: kv.version ?? 0,
  };
  if (kv.lease !== undefined && kv.lease !== '0') result.leaseId = kv.lease;
  return result;
}

/** gRPC status codes the gateway passes on (google.golang.org/grpc/codes). */
const GRPC_INVALID_ARGUMENT = 3;
const GRPC_NOT_FOUND = 5;

/**
 * Maps a failed unary call's HTTP status and body to the shared kinds. A write that reached etcd and failed for any
 * reason other than a definite refusal (bad request, lease not found, compacted) is Indeterminate.
 */
export function classifyGatewayFailure(status: number, body: unknown, write: boolean, what: string): KvdbError {
  const parsed = errorBody.safeParse(body);
  const message = parsed.success
    ? (parsed.data.message ?? parsed.data.error ?? `gRPC code ${parsed.data.code}`)
    : `HTTP ${status} with an unexpected body`;
  const code = parsed.success ? parsed.data.code : undefined;
  const kind = ((): KvdbErrorKind => {
    if (message.includes('requested lease not found') || code === GRPC_NOT_FOUND) return 'NotFound';
    if (message.includes('required revision has been compacted')) return 'Compacted';
    if (message.includes('is a future revision') || code === GRPC_INVALID_ARGUMENT) return 'InvalidArgument';
    return write ? 'Indeterminate' : 'Unavailable';
  })();
  return new KvdbError(kind, `${what}: ${message} (HTTP ${status})`);
}

/** The smallest key greater than every key that starts with `prefix` (etcd's range end for a prefix). */
export function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let index = end.length - 1; index >= 0; index--) {
    if ((end[index] as number) < 0xff) {
      end[index] = (end[index] as number) + 1;
      return end.subarray(0, index + 1);
    }
  }
  return Buffer.from([0]);
}
