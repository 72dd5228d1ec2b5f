import { KvdbError } from './errors.js';
import type {
  Compare,
  CreateResult,
  DeleteOptions,
  DeleteResult,
  GetResult,
  GrantLeaseOptions,
  KeyValue,
  Kvdb,
  Lease,
  PrefixVersion,
  PutOptions,
  PutResult,
  RangeOptions,
  RangeResult,
  TxnOp,
  TxnOpResult,
  TxnRequest,
  TxnResult,
  UpdateOptions,
  Watch,
  WatchOptions,
} from './types.js';
import {
  validateKey,
  validateLeaseId,
  validatePrefix,
  validateRangeOptions,
  validateRevision,
  validateTtlMs,
  validateTxn,
  validateValue,
} from './validation.js';

function putOp(key: string, value: string, leaseId: string | undefined): TxnOp {
  return leaseId === undefined ? { type: 'put', key, value } : { type: 'put', key, value, leaseId };
}

function presenceGuard(key: string, ifModRevision: number | undefined): Compare {
  return ifModRevision === undefined
    ? { key, target: 'version', op: '>', value: 0 }
    : { key, target: 'modRevision', op: '==', value: ifModRevision };
}

function guardFailure(key: string, current: TxnOpResult | undefined, ifModRevision: number | undefined): KvdbError {
  const kv = current?.type === 'get' ? current.kv : undefined;
  if (kv === undefined) return new KvdbError('NotFound', `key ${key} not found`, { key });
  return new KvdbError(
    'Modified',
    `key ${key} was modified: its mod revision is ${kv.modRevision}, expected ${String(ifModRevision)}`,
    { key, revision: kv.modRevision },
  );
}

function previous(result: TxnOpResult | undefined): { prev?: KeyValue } {
  return result !== undefined && result.type !== 'get' && result.prev !== undefined ? { prev: result.prev } : {};
}

/**
 * What both backends share: input validation, and every single-key operation expressed as one transaction, so
 * that the same guard gives the same typed error on every backend.
 */
export abstract class TxnKvdb implements Kvdb {
  abstract readonly description: string;

  /** Runs a validated transaction. */
  protected abstract executeTxn(request: TxnRequest): Promise<TxnResult>;
  protected abstract executeRange(prefix: string, options: RangeOptions): Promise<RangeResult>;
  protected abstract executePrefixVersion(prefix: string): Promise<PrefixVersion>;
  protected abstract executeGrantLease(ttlMs: number, options: GrantLeaseOptions): Promise<Lease>;
  protected abstract executeWatch(prefix: string, options: WatchOptions): Watch;
  protected abstract executeCompact(revision: number): Promise<void>;
  abstract currentRevision(): Promise<number>;
  abstract close(): Promise<void>;

  /** Runs `work`, turning a synchronous validation throw into a rejected promise. */
  protected guarded<T>(work: () => Promise<T>): Promise<T> {
    try {
      return work();
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  get(key: string): Promise<GetResult> {
    return this.guarded(async () => {
      validateKey(key);
      const result = await this.executeTxn({ compare: [], success: [{ type: 'get', key }] });
      const first = result.results[0];
      if (first?.type !== 'get' || first.kv === undefined)
        throw new KvdbError('NotFound', `key ${key} not found`, { key });
      return { revision: result.revision, kv: first.kv };
    });
  }

  range(prefix: string, options: RangeOptions = {}): Promise<RangeResult> {
    return this.guarded(() => {
      validatePrefix(prefix);
      validateRangeOptions(options);
      return this.executeRange(prefix, options);
    });
  }

  prefixVersion(prefix: string): Promise<PrefixVersion> {
    return this.guarded(() => {
      validatePrefix(prefix);
      return this.executePrefixVersion(prefix);
    });
  }

  put(key: string, value: string, options: PutOptions = {}): Promise<PutResult> {
    return this.guarded(async () => {
      validateKey(key);
      validateValue(value, key);
      validateLeaseId(options.leaseId);
      const result = await this.executeTxn({ compare: [], success: [putOp(key, value, options.leaseId)] });
      return { revision: result.revision, ...previous(result.results[0]) };
    });
  }

  create(key: string, value: string, options: PutOptions = {}): Promise<CreateResult> {
    return this.guarded(async () => {
      validateKey(key);
      validateValue(value, key);
      validateLeaseId(options.leaseId);
      const result = await this.executeTxn({
        compare: [{ key, target: 'createRevision', op: '==', value: 0 }],
        success: [putOp(key, value, options.leaseId)],
      });
      if (!result.succeeded) throw new KvdbError('Exists', `key ${key} already exists`, { key });
      const kv: KeyValue = { key, value, createRevision: result.revision, modRevision: result.revision, version: 1 };
      if (options.leaseId !== undefined) kv.leaseId = options.leaseId;
      return { revision: result.revision, kv };
    });
  }

  update(key: string, value: string, options: UpdateOptions = {}): Promise<PutResult> {
    return this.guarded(async () => {
      validateKey(key);
      validateValue(value, key);
      validateLeaseId(options.leaseId);
      if (options.ifModRevision !== undefined) validateRevision(options.ifModRevision, 'ifModRevision');
      const result = await this.executeTxn({
        compare: [presenceGuard(key, options.ifModRevision)],
        success: [putOp(key, value, options.leaseId)],
        failure: [{ type: 'get', key }],
      });
      if (!result.succeeded) throw guardFailure(key, result.results[0], options.ifModRevision);
      return { revision: result.revision, ...previous(result.results[0]) };
    });
  }

  delete(key: string, options: DeleteOptions = {}): Promise<DeleteResult> {
    return this.guarded(async () => {
      validateKey(key);
      if (options.ifModRevision !== undefined) validateRevision(options.ifModRevision, 'ifModRevision');
      const result = await this.executeTxn({
        compare: [presenceGuard(key, options.ifModRevision)],
        success: [{ type: 'delete', key }],
        failure: [{ type: 'get', key }],
      });
      const first = result.results[0];
      if (!result.succeeded) throw guardFailure(key, first, options.ifModRevision);
      if (first?.type !== 'delete' || first.prev === undefined) {
        // The guard saw the key and the same transaction deleted it: the store broke atomicity.
        throw new Error(`kvdb invariant broken: guarded delete of ${key} succeeded without a previous value`);
      }
      return { revision: result.revision, prev: first.prev };
    });
  }

  txn(request: TxnRequest): Promise<TxnResult> {
    return this.guarded(() => {
      validateTxn(request);
      return this.executeTxn(request);
    });
  }

  grantLease(ttlMs: number, options: GrantLeaseOptions = {}): Promise<Lease> {
    return this.guarded(() => {
      validateTtlMs(ttlMs);
      return this.executeGrantLease(ttlMs, options);
    });
  }

  watch(prefix: string, options: WatchOptions): Watch {
    validatePrefix(prefix);
    if (options.fromRevision !== undefined) validateRevision(options.fromRevision, 'fromRevision');
    return this.executeWatch(prefix, options);
  }

  compact(revision: number): Promise<void> {
    return this.guarded(() => {
      validateRevision(revision, 'revision');
      return this.executeCompact(revision);
    });
  }
}
