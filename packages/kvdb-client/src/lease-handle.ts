import type { Clock, Timer } from '@pxsim/runtime';
import { KvdbError, isKvdbError } from './errors.js';
import type { Lease } from './types.js';

/** What a backend provides for one lease; the keep-alive policy around it is shared. */
export interface LeaseBackend {
  keepAliveOnce(leaseId: string): Promise<void>;
  revoke(leaseId: string): Promise<void>;
}

export interface LeaseHandleOptions {
  id: string;
  ttlMs: number;
  clock: Clock;
  backend: LeaseBackend;
  autoKeepAlive: boolean;
}

/**
 * A granted lease as its holder sees it. With auto keep-alive it renews every TTL/3 on the injected clock; it is
 * lost when the store says the lease is gone, or when no renewal has succeeded for a whole TTL (the store may
 * already have deleted the keys: trust the watch, not this flag, for what the store holds).
 */
export class LeaseHandle implements Lease {
  readonly id: string;
  readonly ttlMs: number;
  private readonly clock: Clock;
  private readonly backend: LeaseBackend;
  private lastRenewedMs: number;
  private timer: Timer | undefined;
  private lostReason: KvdbError | undefined;
  private stopped = false;
  private readonly listeners: Array<(reason: KvdbError) => void> = [];

  constructor(options: LeaseHandleOptions) {
    this.id = options.id;
    this.ttlMs = options.ttlMs;
    this.clock = options.clock;
    this.backend = options.backend;
    this.lastRenewedMs = this.clock.nowMs();
    if (options.autoKeepAlive) this.scheduleKeepAlive();
  }

  get lost(): boolean {
    return this.lostReason !== undefined;
  }

  onLost(listener: (reason: KvdbError) => void): void {
    if (this.lostReason !== undefined) {
      const reason = this.lostReason;
      queueMicrotask(() => listener(reason));
      return;
    }
    this.listeners.push(listener);
  }

  async keepAlive(): Promise<void> {
    if (this.lostReason !== undefined) throw this.lostReason;
    try {
      await this.backend.keepAliveOnce(this.id);
      this.lastRenewedMs = this.clock.nowMs();
    } catch (error) {
      if (isKvdbError(error, 'NotFound')) this.markLost(error);
      throw error;
    }
  }

  async revoke(): Promise<void> {
    this.stop();
    try {
      await this.backend.revoke(this.id);
    } catch (error) {
      if (!isKvdbError(error, 'NotFound')) throw error;
    }
  }

  /** Stops renewing without revoking (the client is closing). */
  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** Marks the lease lost (a backend that learns of the expiry directly calls this). */
  markLost(reason: KvdbError): void {
    if (this.lostReason !== undefined || this.stopped) return;
    this.lostReason = reason;
    this.stop();
    for (const listener of this.listeners.splice(0)) listener(reason);
  }

  private scheduleKeepAlive(): void {
    if (this.stopped) return;
    const intervalMs = Math.max(1, Math.floor(this.ttlMs / 3));
    this.timer = this.clock.setTimer(intervalMs, () => {
      this.timer = undefined;
      this.keepAlive().then(
        () => this.scheduleKeepAlive(),
        (error: unknown) => {
          if (this.lostReason !== undefined) return;
          if (this.clock.nowMs() - this.lastRenewedMs >= this.ttlMs) {
            this.markLost(
              new KvdbError('Unavailable', `lease ${this.id} was not renewed for its whole TTL of ${this.ttlMs} ms`, {
                cause: error,
              }),
            );
            return;
          }
          this.scheduleKeepAlive();
        },
      );
    });
  }
}
