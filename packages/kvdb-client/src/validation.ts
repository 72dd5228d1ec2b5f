import { KvdbError } from './errors.js';
import type { Compare, RangeOptions, TxnOp, TxnRequest } from './types.js';

/** Limits shared by both backends, so that a request one accepts the other accepts too. */
export const KVDB_LIMITS = {
  keyBytesMax: 4096,
  valueBytesMax: 1024 * 1024,
  /** etcd's default `--max-txn-ops`. */
  txnOpsMax: 128,
  leaseTtlMsMin: 1,
  leaseTtlMsMax: 9_000_000_000_000,
  rangeLimitMax: 1_000_000,
} as const;

const encoder = new TextEncoder();

export function validateKey(key: unknown, what = 'key'): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new KvdbError('InvalidArgument', `${what} must be a non-empty string, got ${JSON.stringify(key)}`);
  }
  if (utf8Length(key) > KVDB_LIMITS.keyBytesMax) {
    throw new KvdbError('InvalidArgument', `${what} is longer than ${KVDB_LIMITS.keyBytesMax} bytes`, { key });
  }
}

/** UTF-8 byte length, without encoding when the string is short enough to be within any limit here. */
function utf8Length(text: string): number {
  return text.length * 3 <= KVDB_LIMITS.keyBytesMax ? text.length : encoder.encode(text).length;
}

export function validatePrefix(prefix: unknown): asserts prefix is string {
  if (typeof prefix !== 'string') {
    throw new KvdbError('InvalidArgument', `prefix must be a string, got ${typeof prefix}`);
  }
  if (utf8Length(prefix) > KVDB_LIMITS.keyBytesMax) {
    throw new KvdbError('InvalidArgument', `prefix is longer than ${KVDB_LIMITS.keyBytesMax} bytes`);
  }
}

export function validateValue(value: unknown, key: string): asserts value is string {
  if (typeof value !== 'string') {
    throw new KvdbError('InvalidArgument', `value for ${key} must be a string, got ${typeof value}`, { key });
  }
  if (
    value.length > KVDB_LIMITS.valueBytesMax ||
    (value.length * 3 > KVDB_LIMITS.valueBytesMax && encoder.encode(value).length > KVDB_LIMITS.valueBytesMax)
  ) {
    throw new KvdbError('InvalidArgument', `value for ${key} is larger than ${KVDB_LIMITS.valueBytesMax} bytes`, {
      key,
    });
  }
}

export function validateRevision(revision: unknown, what: string): asserts revision is number {
  if (typeof revision !== 'number' || !Number.isSafeInteger(revision) || revision < 1) {
    throw new KvdbError('InvalidArgument', `${what} must be a whole number of 1 or more, got ${String(revision)}`);
  }
}

export function validateLeaseId(leaseId: unknown): asserts leaseId is string | undefined {
  if (leaseId === undefined) return;
  if (typeof leaseId !== 'string' || !/^[1-9][0-9]{0,18}$/.test(leaseId)) {
    throw new KvdbError('InvalidArgument', `lease id must be a decimal id, got ${JSON.stringify(leaseId)}`);
  }
}

export function validateTtlMs(ttlMs: unknown): asserts ttlMs is number {
  if (
    typeof ttlMs !== 'number' ||
    !Number.isSafeInteger(ttlMs) ||
    ttlMs < KVDB_LIMITS.leaseTtlMsMin ||
    ttlMs > KVDB_LIMITS.leaseTtlMsMax
  ) {
    throw new KvdbError(
      'InvalidArgument',
      `lease TTL must be a whole number of ms from ${KVDB_LIMITS.leaseTtlMsMin} to ${KVDB_LIMITS.leaseTtlMsMax}, got ${String(ttlMs)}`,
    );
  }
}

export function validateRangeOptions(options: RangeOptions): void {
  const limit = options.limit;
  if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 0 || limit > KVDB_LIMITS.rangeLimitMax)) {
    throw new KvdbError(
      'InvalidArgument',
      `range limit must be a whole number from 0 to ${KVDB_LIMITS.rangeLimitMax}, got ${String(limit)}`,
    );
  }
}

function validateCompare(compare: Compare): void {
  validateKey(compare.key, 'compare key');
  if (!['==', '!=', '<', '>'].includes(compare.op)) {
    throw new KvdbError('InvalidArgument', `compare operator must be ==, !=, < or >, got ${String(compare.op)}`);
  }
  if (compare.target === 'value') {
    validateValue(compare.value, compare.key);
    return;
  }
  if (!['modRevision', 'createRevision', 'version'].includes(compare.target)) {
    throw new KvdbError('InvalidArgument', `compare target must be value, modRevision, createRevision or version`);
  }
  if (!Number.isSafeInteger(compare.value) || compare.value < 0) {
    throw new KvdbError('InvalidArgument', `compare on ${compare.target} needs a whole number of 0 or more`, {
      key: compare.key,
    });
  }
}

function validateOps(ops: TxnOp[], branch: string): void {
  const written = new Set<string>();
  for (const op of ops) {
    validateKey(op.key, `${branch} op key`);
    if (op.type === 'put') {
      validateValue(op.value, op.key);
      validateLeaseId(op.leaseId);
    } else if (op.type !== 'delete' && op.type !== 'get') {
      throw new KvdbError('InvalidArgument', `transaction op type must be put, delete or get`);
    }
    if (op.type === 'get') continue;
    if (written.has(op.key)) {
      throw new KvdbError('InvalidArgument', `duplicate key given in transaction ${branch}: ${op.key}`, {
        key: op.key,
      });
    }
    written.add(op.key);
  }
}

export function validateTxn(request: TxnRequest): void {
  const failure = request.failure ?? [];
  const total = request.compare.length + request.success.length + failure.length;
  if (
    request.compare.length > KVDB_LIMITS.txnOpsMax ||
    Math.max(request.success.length, failure.length) > KVDB_LIMITS.txnOpsMax
  ) {
    throw new KvdbError(
      'InvalidArgument',
      `too many operations in transaction (${total}); at most ${KVDB_LIMITS.txnOpsMax} per list`,
    );
  }
  request.compare.forEach(validateCompare);
  validateOps(request.success, 'success');
  validateOps(failure, 'failure');
}
