import { EtcdBase, type EtcdBaseOptions } from './etcd-base.js';
import { KvdbError } from './errors.js';
import { GatewayHttp, NotSentError } from './etcd-gateway-http.js';
import { GatewayWatch } from './etcd-gateway-watch.js';
import {
  checkAnswer,
  classifyGatewayFailure,
  headerAnswer,
  leaseGrantAnswer,
  leaseKeepAliveAnswer,
  MalformedAnswerError,
  prefixEnd,
  prefixVersionAnswer,
  rangeAnswer,
  toBase64,
  toKeyValue,
  txnAnswer,
  type GatewayKv,
  type GatewayTxnResponse,
} from './etcd-gateway-wire.js';
import { LeaseHandle } from './lease-handle.js';
import type {
  Compare,
  GrantLeaseOptions,
  Lease,
  PrefixVersion,
  RangeOptions,
  RangeResult,
  TxnOp,
  TxnOpResult,
  TxnRequest,
  TxnResult,
  Watch,
  WatchOptions,
} from './types.js';
import type { z } from 'zod';

export interface EtcdGatewayKvdbOptions extends EtcdBaseOptions {
  /** How long a watch keeps reconnecting without success before it ends with Unavailable. Default 60,000 ms. */
  watchReconnectForMs?: number;
}

const COMPARE_RESULT = { '==': 'EQUAL', '!=': 'NOT_EQUAL', '<': 'LESS', '>': 'GREATER' } as const;
const COMPARE_TARGET = { value: 'VALUE', modRevision: 'MOD', createRevision: 'CREATE', version: 'VERSION' } as const;
const COMPARE_FIELD = {
  value: 'value',
  modRevision: 'mod_revision',
  createRevision: 'create_revision',
  version: 'version',
} as const;

/** Any failure of a call as the shared kinds: only a call that never left this process proves nothing was applied. */
function classifyFailure(error: unknown, write: boolean, what: string): KvdbError {
  if (error instanceof KvdbError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const kind = error instanceof NotSentError || !write ? 'Unavailable' : 'Indeterminate';
  return new KvdbError(kind, `${what}: ${message}`, { cause: error });
}

/**
 * `Kvdb` on a real etcd v3 through its JSON gateway (`/v3/kv/*`, `/v3/lease/*`, `/v3/watch`) over `node:http` with
 * a keep-alive agent: no gRPC or protobuf to load. Every call is sent once, with a deadline; every answer is
 * checked against its expected shape before use (a misfit is Unavailable for a read, Indeterminate for a write).
 */
export class EtcdGatewayKvdb extends EtcdBase<GatewayWatch> {
  private readonly http: GatewayHttp;
  private readonly watchReconnectForMs: number;

  constructor(options: EtcdGatewayKvdbOptions) {
    super(options);
    this.watchReconnectForMs = options.watchReconnectForMs ?? 60_000;
    this.http = new GatewayHttp(options.hosts, this.clock);
  }

  private toKeyValue(kv: GatewayKv, withValue = true) {
    return toKeyValue(kv, this.namespace.length, withValue);
  }

  /** One unary call: sent once, its failure typed, its answer checked against `schema`. */
  private async call<T>(
    write: boolean,
    what: string,
    path: string,
    payload: unknown,
    schema: z.ZodType<T>,
    timeoutMs = this.requestTimeoutMs,
  ): Promise<T> {
    this.assertOpen();
    let answer;
    try {
      answer = await this.http.post(path, payload, timeoutMs);
    } catch (error) {
      throw this.closed
        ? new KvdbError('Closed', `${what}: the kvdb client was closed`)
        : classifyFailure(error, write, what);
    }
    if (answer.status !== 200) throw classifyGatewayFailure(answer.status, answer.body, write, what);
    try {
      return checkAnswer(schema, answer.body, what);
    } catch (error) {
      if (error instanceof MalformedAnswerError) throw classifyFailure(error, write, what);
      throw error;
    }
  }

  private requestOp(op: TxnOp): Record<string, unknown> {
    const key = toBase64(this.full(op.key));
    switch (op.type) {
      case 'get':
        return { request_range: { key } };
      case 'delete':
        return { request_delete_range: { key, prev_kv: true } };
      case 'put':
        return {
          request_put: { key, value: toBase64(op.value), prev_kv: true, ...(op.leaseId ? { lease: op.leaseId } : {}) },
        };
    }
  }

  private compare(compare: Compare): Record<string, unknown> {
    const value = compare.target === 'value' ? toBase64(compare.value) : String(compare.value);
    return {
      key: toBase64(this.full(compare.key)),
      result: COMPARE_RESULT[compare.op],
      target: COMPARE_TARGET[compare.target],
      [COMPARE_FIELD[compare.target]]: value,
    };
  }

  private responseOp(op: TxnOp, response: GatewayTxnResponse | undefined): TxnOpResult {
    if (op.type === 'get') {
      const kv = response?.response_range?.kvs?.[0];
      return kv === undefined ? { type: 'get' } : { type: 'get', kv: this.toKeyValue(kv) };
    }
    if (op.type === 'put') {
      const prev = response?.response_put?.prev_kv;
      return prev === undefined ? { type: 'put' } : { type: 'put', prev: this.toKeyValue(prev) };
    }
    const deleted = response?.response_delete_range;
    const prev = deleted?.prev_kvs?.[0];
    const count = deleted?.deleted ?? 0;
    return prev === undefined
      ? { type: 'delete', deleted: count }
      : { type: 'delete', deleted: count, prev: this.toKeyValue(prev) };
  }

  protected async executeTxn(request: TxnRequest): Promise<TxnResult> {
    const failure = request.failure ?? [];
    const write = [...request.success, ...failure].some((op) => op.type !== 'get');
    const payload = {
      compare: request.compare.map((compare) => this.compare(compare)),
      success: request.success.map((op) => this.requestOp(op)),
      failure: failure.map((op) => this.requestOp(op)),
    };
    const answer = await this.call(write, 'txn', '/v3/kv/txn', payload, txnAnswer);
    const succeeded = answer.succeeded ?? false;
    const ops = succeeded ? request.success : failure;
    const responses = answer.responses ?? [];
    if (responses.length !== ops.length) {
      throw classifyFailure(
        new MalformedAnswerError(`the etcd gateway answered ${responses.length} results for ${ops.length} operations`),
        write,
        'txn',
      );
    }
    return {
      revision: answer.header.revision,
      succeeded,
      results: ops.map((op, index) => this.responseOp(op, responses[index])),
    };
  }

  protected async executeRange(prefix: string, options: RangeOptions): Promise<RangeResult> {
    const key = this.full(prefix);
    const payload = {
      key: toBase64(key),
      range_end: toBase64(prefixEnd(key)),
      limit: String(options.limit ?? 0),
      keys_only: options.keysOnly ?? false,
    };
    const answer = await this.call(false, `range ${prefix}`, '/v3/kv/range', payload, rangeAnswer);
    return {
      revision: answer.header.revision,
      kvs: (answer.kvs ?? []).map((kv) => this.toKeyValue(kv, options.keysOnly !== true)),
      more: answer.more ?? false,
    };
  }

  /** The newest key by mod revision, keys only, and the count of all (etcd counts past the limit). */
  protected async executePrefixVersion(prefix: string): Promise<PrefixVersion> {
    const key = this.full(prefix);
    const payload = {
      key: toBase64(key),
      range_end: toBase64(prefixEnd(key)),
      limit: '1',
      sort_order: 'DESCEND',
      sort_target: 'MOD',
      keys_only: true,
    };
    const answer = await this.call(false, `prefix version ${prefix}`, '/v3/kv/range', payload, prefixVersionAnswer);
    return {
      revision: answer.header.revision,
      count: answer.count ?? 0,
      newestModRevision: answer.kvs?.[0]?.mod_revision ?? 0,
    };
  }

  protected async executeGrantLease(ttlMs: number, options: GrantLeaseOptions): Promise<Lease> {
    const ttlS = Math.ceil(ttlMs / 1000);
    const answer = await this.call(true, 'lease grant', '/v3/lease/grant', { TTL: String(ttlS) }, leaseGrantAnswer);
    const handle: LeaseHandle = new LeaseHandle({
      id: answer.ID,
      ttlMs: (answer.TTL ?? ttlS) * 1000,
      clock: this.clock,
      autoKeepAlive: options.autoKeepAlive ?? true,
      backend: {
        keepAliveOnce: (leaseId) => this.keepAliveOnce(leaseId),
        revoke: async (leaseId) => {
          this.handles.delete(handle);
          await this.call(true, `lease ${leaseId} revoke`, '/v3/lease/revoke', { ID: leaseId }, headerAnswer);
        },
      },
    });
    this.handles.add(handle);
    return handle;
  }

  /** The gateway's keep-alive is a stream; one request in the body gets one answer, then the stream ends. */
  private async keepAliveOnce(leaseId: string): Promise<void> {
    const what = `lease ${leaseId} keep-alive`;
    const path = '/v3/lease/keepalive';
    const answer = await this.call(false, what, path, { ID: leaseId }, leaseKeepAliveAnswer, this.keepAliveTimeoutMs);
    if ((answer.result.TTL ?? 0) <= 0) {
      throw new KvdbError('NotFound', `lease ${leaseId} not found (expired or revoked)`);
    }
  }

  protected executeWatch(prefix: string, options: WatchOptions): Watch {
    this.assertOpen();
    const watch = new GatewayWatch({
      http: this.http,
      clock: this.clock,
      fullPrefix: this.full(prefix),
      namespaceLength: this.namespace.length,
      options,
      connectTimeoutMs: this.requestTimeoutMs,
      reconnectForMs: this.watchReconnectForMs,
      onStop: () => this.watches.delete(watch),
    });
    this.watches.add(watch);
    return watch;
  }

  protected async executeCompact(revision: number): Promise<void> {
    const payload = { revision: String(revision), physical: true };
    await this.call(true, `compact to ${revision}`, '/v3/kv/compaction', payload, headerAnswer);
  }

  async currentRevision(): Promise<number> {
    const payload = { key: toBase64(this.namespace), limit: '1', keys_only: true };
    const answer = await this.call(false, 'revision', '/v3/kv/range', payload, headerAnswer);
    return answer.header.revision;
  }

  close(): Promise<void> {
    if (this.closeAll()) this.http.close();
    return Promise.resolve();
  }
}
