import { createRequire } from 'node:module';
import type * as CockatielModule from 'cockatiel';
import type * as Etcd3Module from 'etcd3';
import type { Etcd3, IKeyValue, IRequestOp, IResponseOp, Watcher } from 'etcd3';
import type { Timer } from '@pxsim/runtime';
import { KvdbError, type KvdbErrorKind } from './errors.js';
import { prefixEnd } from './etcd-gateway-wire.js';
import { EtcdBase, type EtcdBaseOptions } from './etcd-base.js';
import { LeaseHandle } from './lease-handle.js';
import type {
  Compare,
  GrantLeaseOptions,
  KeyValue,
  Lease,
  PrefixVersion,
  RangeOptions,
  RangeResult,
  TxnOp,
  TxnOpResult,
  TxnRequest,
  TxnResult,
  Watch,
  WatchBatch,
  WatchEvent,
  WatchOptions,
} from './types.js';
import { WatchDelivery } from './watch-delivery.js';

/**
 * etcd3 brings gRPC and protobufjs (about 150 ms and tens of MiB per process to load), so it is loaded when the
 * first `EtcdKvdb` is built, never by importing this package: a node on the embedded kvdb does not pay for it.
 * Both are CommonJS packages, loaded synchronously so that the constructor stays synchronous.
 */
function etcdLibraries(): { etcd3: typeof Etcd3Module; cockatiel: typeof CockatielModule } {
  // Resolved from this module's own URL when called (not at import: px-node's start-up snapshot is built elsewhere).
  const loadCommonJs = createRequire(import.meta.url);
  return {
    etcd3: loadCommonJs('etcd3') as typeof Etcd3Module,
    cockatiel: loadCommonJs('cockatiel') as typeof CockatielModule,
  };
}

/** An etcd3 client with retries off and a deadline on every unary call. */
function connectEtcd(hosts: string[], requestTimeoutMs: number): Etcd3 {
  const { etcd3, cockatiel } = etcdLibraries();
  const { noop, ExponentialBackoff } = cockatiel;
  return new etcd3.Etcd3({
    hosts,
    dialTimeout: requestTimeoutMs,
    // Never retry behind the caller's back: a retried put or txn can be applied twice.
    faultHandling: {
      global: noop,
      host: () => noop,
      watchBackoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: 2000 }).next(),
    },
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: new Date(Date.now() + requestTimeoutMs) }),
  });
}

export type EtcdKvdbOptions = EtcdBaseOptions;

function toKeyValue(kv: IKeyValue, namespaceLength: number, withValue = true): KeyValue {
  const result: KeyValue = {
    key: kv.key.subarray(namespaceLength).toString(),
    value: withValue ? kv.value.toString() : '',
    createRevision: Number(kv.create_revision),
    modRevision: Number(kv.mod_revision),
    version: Number(kv.version),
  };
  if (kv.lease !== undefined && kv.lease !== '0' && kv.lease !== '') result.leaseId = String(kv.lease);
  return result;
}

const COMPARE_RESULT = { '==': 'Equal', '!=': 'NotEqual', '<': 'Less', '>': 'Greater' } as const;

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Maps an etcd3 / gRPC failure to the shared error kinds. A write whose request may have reached the server is
 * Indeterminate; only a failure to connect at all proves that nothing was applied.
 */
export function classifyEtcdError(error: unknown, write: boolean, what: string): KvdbError {
  const message = describeError(error);
  const name = error instanceof Error ? error.constructor.name : '';
  const kind = ((): KvdbErrorKind => {
    if (message.includes('requested lease not found') || name === 'EtcdLeaseInvalidError') return 'NotFound';
    if (message.includes('required revision has been compacted')) return 'Compacted';
    if (
      message.includes('duplicate key given in txn request') ||
      message.includes('is a future revision') ||
      message.includes('key is not provided') ||
      message.includes('too many operations in txn request') ||
      message.includes('request is too large') ||
      name === 'GRPCInvalidArgumentError'
    ) {
      return 'InvalidArgument';
    }
    if (name === 'ClientClosedError') return 'Closed';
    const neverSent =
      message.includes('No connection established') ||
      message.includes('ECONNREFUSED') ||
      message.includes('circuit breaker is open') ||
      name === 'GRPCConnectFailedError';
    if (!write || neverSent) return 'Unavailable';
    return 'Indeterminate';
  })();
  return new KvdbError(kind, `${what}: ${message}`, { cause: error });
}

/** `Kvdb` on a real etcd v3 through the `etcd3` client, with retries off and a deadline on every call. */
export class EtcdKvdb extends EtcdBase<EtcdWatch> {
  private readonly hosts: string[];
  private clientInstance: Etcd3 | undefined;

  constructor(options: EtcdKvdbOptions) {
    super(options);
    this.hosts = [...options.hosts];
  }

  /**
   * The etcd3 client, made on first use: loading etcd3 and gRPC is paid when the first request is sent, not when the
   * kvdb is opened (a node answers its REST API while it connects).
   */
  private get client(): Etcd3 {
    this.clientInstance ??= connectEtcd(this.hosts, this.requestTimeoutMs);
    return this.clientInstance;
  }

  private toKeyValue(kv: IKeyValue, withValue = true): KeyValue {
    return toKeyValue(kv, this.namespace.length, withValue);
  }

  private async call<T>(write: boolean, what: string, work: () => Promise<T>): Promise<T> {
    this.assertOpen();
    try {
      return await work();
    } catch (error) {
      throw error instanceof KvdbError ? error : classifyEtcdError(error, write, what);
    }
  }

  private requestOp(op: TxnOp): IRequestOp {
    const key = this.full(op.key);
    switch (op.type) {
      case 'get':
        return { request_range: { key } };
      case 'delete':
        return { request_delete_range: { key, prev_kv: true } };
      case 'put':
        return { request_put: { key, value: Buffer.from(op.value), prev_kv: true, lease: op.leaseId ?? 0 } };
    }
  }

  private compare(compare: Compare): {
    key: Buffer;
    result: (typeof COMPARE_RESULT)[Compare['op']];
    target: 'Value' | 'Mod' | 'Create' | 'Version';
    value?: Buffer;
    mod_revision?: number;
    create_revision?: number;
    version?: number;
  } {
    const base = { key: this.full(compare.key), result: COMPARE_RESULT[compare.op] };
    switch (compare.target) {
      case 'value':
        return { ...base, target: 'Value', value: Buffer.from(compare.value) };
      case 'modRevision':
        return { ...base, target: 'Mod', mod_revision: compare.value };
      case 'createRevision':
        return { ...base, target: 'Create', create_revision: compare.value };
      case 'version':
        return { ...base, target: 'Version', version: compare.value };
    }
  }

  private responseOp(op: TxnOp, response: IResponseOp | undefined): TxnOpResult {
    if (op.type === 'get') {
      const kv = response?.response_range?.kvs[0];
      return kv === undefined ? { type: 'get' } : { type: 'get', kv: this.toKeyValue(kv) };
    }
    if (op.type === 'put') {
      const prev = response?.response_put?.prev_kv;
      return prev ? { type: 'put', prev: this.toKeyValue(prev) } : { type: 'put' };
    }
    const deleted = response?.response_delete_range;
    const prev = deleted?.prev_kvs[0];
    const count = Number(deleted?.deleted ?? 0);
    return prev === undefined
      ? { type: 'delete', deleted: count }
      : { type: 'delete', deleted: count, prev: this.toKeyValue(prev) };
  }

  protected executeTxn(request: TxnRequest): Promise<TxnResult> {
    const failure = request.failure ?? [];
    const write = [...request.success, ...failure].some((op) => op.type !== 'get');
    return this.call(write, 'txn', async () => {
      const response = await this.client.kv.txn({
        compare: request.compare.map((compare) => this.compare(compare)),
        success: request.success.map((op) => this.requestOp(op)),
        failure: failure.map((op) => this.requestOp(op)),
      });
      const ops = response.succeeded ? request.success : failure;
      return {
        revision: Number(response.header.revision),
        succeeded: response.succeeded,
        results: ops.map((op, index) => this.responseOp(op, response.responses[index])),
      };
    });
  }

  protected executeRange(prefix: string, options: RangeOptions): Promise<RangeResult> {
    return this.call(false, `range ${prefix}`, async () => {
      const key = this.full(prefix);
      const response = await this.client.kv.range({
        key,
        range_end: prefixEnd(key),
        limit: options.limit ?? 0,
        keys_only: options.keysOnly ?? false,
      });
      return {
        revision: Number(response.header.revision),
        kvs: response.kvs.map((kv) => this.toKeyValue(kv, options.keysOnly !== true)),
        more: response.more,
      };
    });
  }

  /** The newest key by mod revision, keys only, and the count of all (etcd counts past the limit). */
  protected executePrefixVersion(prefix: string): Promise<PrefixVersion> {
    return this.call(false, `prefix version ${prefix}`, async () => {
      const key = this.full(prefix);
      const response = await this.client.kv.range({
        key,
        range_end: prefixEnd(key),
        limit: 1,
        // The numbers etcd3's own builder sends (SortOrder.Descend, SortTarget.Mod): proto enums by value.
        sort_order: 2,
        sort_target: 3,
        keys_only: true,
      });
      const newest = response.kvs[0];
      return {
        revision: Number(response.header.revision),
        count: Number(response.count),
        newestModRevision: newest === undefined ? 0 : Number(newest.mod_revision),
      };
    });
  }

  protected executeGrantLease(ttlMs: number, options: GrantLeaseOptions): Promise<Lease> {
    return this.call(true, 'lease grant', async () => {
      const response = await this.client.leaseClient.leaseGrant({ TTL: Math.ceil(ttlMs / 1000) });
      const handle: LeaseHandle = new LeaseHandle({
        id: String(response.ID),
        ttlMs: Number(response.TTL) * 1000,
        clock: this.clock,
        autoKeepAlive: options.autoKeepAlive ?? true,
        backend: {
          keepAliveOnce: (leaseId) =>
            this.call(false, `lease ${leaseId} keep-alive`, () => this.keepAliveOnce(leaseId)),
          revoke: (leaseId) =>
            this.call(true, `lease ${leaseId} revoke`, async () => {
              this.handles.delete(handle);
              await this.client.leaseClient.leaseRevoke({ ID: leaseId });
            }),
        },
      });
      this.handles.add(handle);
      return handle;
    });
  }

  private async keepAliveOnce(leaseId: string): Promise<void> {
    const stream = await this.client.leaseClient.leaseKeepAlive();
    let timer: Timer | undefined;
    try {
      const response = await new Promise<{ TTL: string }>((resolve, reject) => {
        timer = this.clock.setTimer(this.keepAliveTimeoutMs, () =>
          reject(new Error(`no keep-alive answer within ${this.keepAliveTimeoutMs} ms`)),
        );
        stream.on('data', resolve);
        stream.on('error', reject);
        stream.write({ ID: leaseId });
      });
      if (response.TTL === '0' || Number(response.TTL) <= 0) {
        throw new KvdbError('NotFound', `lease ${leaseId} not found (expired or revoked)`);
      }
    } finally {
      timer?.cancel();
      stream.end();
    }
  }

  protected executeWatch(prefix: string, options: WatchOptions): Watch {
    this.assertOpen();
    const watch = new EtcdWatch(this.client, this.full(prefix), this.namespace.length, options, () =>
      this.watches.delete(watch),
    );
    this.watches.add(watch);
    return watch;
  }

  protected executeCompact(revision: number): Promise<void> {
    return this.call(true, `compact to ${revision}`, async () => {
      await this.client.kv.compact({ revision, physical: true });
    });
  }

  currentRevision(): Promise<number> {
    return this.call(false, 'revision', async () => {
      const response = await this.client.kv.range({ key: this.namespace, limit: 1, keys_only: true });
      return Number(response.header.revision);
    });
  }

  close(): Promise<void> {
    if (this.closeAll()) this.clientInstance?.close();
    return Promise.resolve();
  }
}

/**
 * One watch on etcd. The etcd3 client reconnects the stream by itself; before each reconnect we reset its start
 * revision to just after the last revision we accepted, and the shared delivery drops anything seen twice.
 */
class EtcdWatch implements Watch {
  private readonly delivery: WatchDelivery;
  private readonly watcher: Watcher;
  private firstConnect = true;

  constructor(
    client: Etcd3,
    fullPrefix: Buffer,
    private readonly namespaceLength: number,
    options: WatchOptions,
    onStop: () => void,
  ) {
    this.delivery = new WatchDelivery(options, () => {
      onStop();
      void this.watcher.cancel().catch(() => undefined);
    });
    let builder = client.watch().prefix(fullPrefix).withPreviousKV();
    if (options.fromRevision !== undefined) builder = builder.startRevision(String(options.fromRevision));
    this.watcher = builder.watcher();
    this.watcher.on('connected', (response: { header: { revision: string } }) => {
      // Without a start revision, "from now" means after the revision the watch was created at.
      if (this.firstConnect && options.fromRevision === undefined && this.delivery.resumeAfterRevision === 0) {
        this.delivery.advanceTo(Number(response.header.revision));
      }
      this.firstConnect = false;
    });
    this.watcher.on('disconnected', () => {
      const resumeAfter = this.delivery.resumeAfterRevision;
      if (resumeAfter > 0) this.watcher.request.start_revision = String(resumeAfter + 1);
    });
    this.watcher.on('data', (response: { events: Array<{ type: string; kv: IKeyValue; prev_kv?: IKeyValue }> }) => {
      for (const batch of this.toBatches(response.events)) this.delivery.accept(batch);
    });
    this.watcher.on('error', (error: unknown) => {
      void this.failWith(client, fullPrefix, error);
    });
  }

  /**
   * etcd 3.4 cancels a watch on a compacted start revision with an empty reason (the client drops the compact
   * revision), so ask the store directly whether the revision we need is still there.
   */
  private async failWith(client: Etcd3, fullPrefix: Buffer, error: unknown): Promise<void> {
    const wanted = this.delivery.resumeAfterRevision + 1;
    const message = describeError(error);
    if (message.includes('compacted')) {
      this.delivery.fail(new KvdbError('Compacted', `watch from revision ${wanted}: ${message}`));
      return;
    }
    try {
      await client.kv.range({ key: fullPrefix, revision: wanted, limit: 1, keys_only: true });
    } catch (probeError) {
      const probe = classifyEtcdError(probeError, false, `watch from revision ${wanted}`);
      if (probe.kind === 'Compacted') {
        this.delivery.fail(probe);
        return;
      }
    }
    this.delivery.fail(classifyEtcdError(error, false, 'watch'));
  }

  get lastRevision(): number {
    return this.delivery.lastRevision;
  }

  cancel(): void {
    this.delivery.cancel();
  }

  private toBatches(events: Array<{ type: string; kv: IKeyValue; prev_kv?: IKeyValue }>): WatchBatch[] {
    const batches: WatchBatch[] = [];
    for (const event of events) {
      const revision = Number(event.kv.mod_revision);
      const converted: WatchEvent = {
        type: event.type === 'Delete' || event.type === 'DELETE' ? 'delete' : 'put',
        kv: toKeyValue(event.kv, this.namespaceLength),
      };
      if (event.prev_kv) converted.prev = toKeyValue(event.prev_kv, this.namespaceLength);
      const last = batches[batches.length - 1];
      if (last !== undefined && last.revision === revision) last.events.push(converted);
      else batches.push({ revision, events: [converted] });
    }
    return batches;
  }
}
