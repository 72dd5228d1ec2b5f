/**
 * Typed kvdb errors. Both backends raise the same kind for the same failure, so callers switch on `kind`
 * and never on a backend's message text.
 */
export const KVDB_ERROR_KINDS = [
  /** The key (or lease) does not exist. */
  'NotFound',
  /** `create` found the key already present. */
  'Exists',
  /** A compare-and-set guard failed: the key's mod revision is not the one given. */
  'Modified',
  /** The store could not be reached; nothing was applied. */
  'Unavailable',
  /** A write was sent but its outcome is unknown: it may or may not have been applied. */
  'Indeterminate',
  /** The revision asked for was compacted away. */
  'Compacted',
  /** The request itself is malformed (empty key, bad TTL, duplicate keys in a transaction, …). */
  'InvalidArgument',
  /** A watcher fell behind its bounded queue and was cancelled; resume from `resumeRevision`. */
  'Lagged',
  /** The client was closed. */
  'Closed',
] as const;

export type KvdbErrorKind = (typeof KVDB_ERROR_KINDS)[number];

export interface KvdbErrorDetails {
  key?: string;
  /** For Compacted: the oldest revision still available. For Lagged: where to resume from. */
  revision?: number;
  cause?: unknown;
}

export class KvdbError extends Error {
  readonly kind: KvdbErrorKind;
  readonly key: string | undefined;
  readonly revision: number | undefined;

  constructor(kind: KvdbErrorKind, message: string, details: KvdbErrorDetails = {}) {
    super(`${kind}: ${message}`, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'KvdbError';
    this.kind = kind;
    this.key = details.key;
    this.revision = details.revision;
  }
}

export function isKvdbError(error: unknown, kind?: KvdbErrorKind): error is KvdbError {
  return error instanceof KvdbError && (kind === undefined || error.kind === kind);
}
