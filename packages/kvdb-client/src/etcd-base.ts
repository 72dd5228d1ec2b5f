import { realClock, type Clock } from '@pxsim/runtime';
import { TxnKvdb } from './base.js';
import { KvdbError } from './errors.js';
import type { LeaseHandle } from './lease-handle.js';
import type { Watch } from './types.js';

/** What both etcd clients take. */
export interface EtcdBaseOptions {
  /** `host:port` or `http://host:port` of each etcd member. */
  hosts: string[];
  /** Every key this client reads or writes lives under this prefix (one per cluster). Must not be empty. */
  namespace: string;
  /** Deadline of each unary call. Default 2,000 ms. */
  requestTimeoutMs?: number;
  /** Deadline of a lease keep-alive round trip. Default 2,000 ms. */
  keepAliveTimeoutMs?: number;
  /** Used for deadlines, lease keep-alives and watch reconnects. Default: the wall clock. */
  clock?: Clock;
}

/** The state both etcd clients keep: namespace, deadlines, clock, the leases and watches to stop on close. */
export abstract class EtcdBase<W extends Watch> extends TxnKvdb {
  readonly description: string;
  protected readonly namespace: Buffer;
  protected readonly requestTimeoutMs: number;
  protected readonly keepAliveTimeoutMs: number;
  protected readonly clock: Clock;
  protected readonly handles = new Set<LeaseHandle>();
  protected readonly watches = new Set<W>();
  protected closed = false;

  constructor(options: EtcdBaseOptions) {
    super();
    if (options.hosts.length === 0) throw new KvdbError('InvalidArgument', 'etcd needs at least one endpoint');
    if (options.namespace.length === 0) throw new KvdbError('InvalidArgument', 'etcd namespace must not be empty');
    this.namespace = Buffer.from(options.namespace);
    this.requestTimeoutMs = options.requestTimeoutMs ?? 2000;
    this.keepAliveTimeoutMs = options.keepAliveTimeoutMs ?? 2000;
    this.clock = options.clock ?? realClock;
    this.description = `etcd:${options.hosts.join(',')} (namespace ${options.namespace})`;
  }

  protected full(key: string): Buffer {
    return Buffer.concat([this.namespace, Buffer.from(key)]);
  }

  protected assertOpen(): void {
    if (this.closed) throw new KvdbError('Closed', 'the kvdb client is closed');
  }

  /** Marks the client closed and stops every lease keep-alive and watch; false when it was already closed. */
  protected closeAll(): boolean {
    if (this.closed) return false;
    this.closed = true;
    for (const handle of this.handles) handle.stop();
    this.handles.clear();
    for (const watch of [...this.watches]) watch.cancel();
    return true;
  }
}
