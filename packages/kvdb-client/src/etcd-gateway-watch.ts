import type { Clock, Timer } from '@pxsim/runtime';
import { KvdbError } from './errors.js';
import type { GatewayHttp } from './etcd-gateway-http.js';
import {
  checkAnswer,
  MalformedAnswerError,
  prefixEnd,
  toBase64,
  toKeyValue,
  watchMessage,
  type GatewayWatchEvent,
} from './etcd-gateway-wire.js';
import type { Watch, WatchBatch, WatchEvent, WatchOptions } from './types.js';
import { WatchDelivery } from './watch-delivery.js';

/** Reconnect delays of a watch stream: doubling from the first to the cap. */
const RECONNECT_FIRST_MS = 100;
const RECONNECT_CAP_MS = 2000;

export interface GatewayWatchOptions {
  http: GatewayHttp;
  clock: Clock;
  fullPrefix: Buffer;
  namespaceLength: number;
  options: WatchOptions;
  /** Deadline for a stream's first answer. */
  connectTimeoutMs: number;
  /** A watch that has not (re)connected for this long ends with Unavailable. */
  reconnectForMs: number;
  onStop: () => void;
}

/**
 * One watch over the gateway's streamed `/v3/watch`. When the stream ends (etcd restarted, connection lost) it is
 * opened again after a delay (100 ms doubling to 2 s), from just after the last revision accepted, so events written
 * meanwhile come from etcd's history; the shared delivery drops anything seen twice. After `reconnectForMs` without a
 * stream the watch ends with Unavailable (the caller decides whether to watch again).
 */
export class GatewayWatch implements Watch {
  private readonly delivery: WatchDelivery;
  private stream: { close: () => void } | undefined;
  private retryTimer: Timer | undefined;
  private reconnectDelayMs = RECONNECT_FIRST_MS;
  private downSinceMs: number | undefined;
  private connectedOnce = false;

  constructor(private readonly setup: GatewayWatchOptions) {
    this.delivery = new WatchDelivery(setup.options, () => {
      setup.onStop();
      this.retryTimer?.cancel();
      this.stream?.close();
    });
    this.connect();
  }

  get lastRevision(): number {
    return this.delivery.lastRevision;
  }

  cancel(): void {
    this.delivery.cancel();
  }

  private connect(): void {
    const { fullPrefix } = this.setup;
    const resumeAfter = this.delivery.resumeAfterRevision;
    const create: Record<string, unknown> = {
      key: toBase64(fullPrefix),
      range_end: toBase64(prefixEnd(fullPrefix)),
      prev_kv: true,
      ...(resumeAfter > 0 ? { start_revision: String(resumeAfter + 1) } : {}),
    };
    this.stream = this.setup.http.openStream('/v3/watch', { create_request: create }, this.setup.connectTimeoutMs, {
      onMessage: (value) => this.onMessage(value),
      onEnd: (error) => this.onEnd(error),
    });
  }

  private onMessage(value: unknown): void {
    if (!this.delivery.active) return;
    let message;
    try {
      message = checkAnswer(watchMessage, value, 'watch');
    } catch (error) {
      const text = error instanceof MalformedAnswerError ? error.message : String(error);
      this.delivery.fail(new KvdbError('Unavailable', text, { cause: error }));
      return;
    }
    const result = message.result;
    if (result === undefined) {
      this.onEnd(new Error(`watch: etcd ended the stream: ${message.error?.message ?? 'no reason given'}`));
      return;
    }
    if (result.created === true) this.onCreated(result.header?.revision);
    if (result.canceled === true) {
      this.onCanceled(result.compact_revision, result.cancel_reason);
      return;
    }
    for (const batch of this.toBatches(result.events ?? [])) this.delivery.accept(batch);
  }

  private onCreated(revision: number | undefined): void {
    // Without a start revision, "from now" means after the revision the watch was created at.
    if (!this.connectedOnce && this.setup.options.fromRevision === undefined && revision !== undefined) {
      this.delivery.advanceTo(revision);
    }
    this.connectedOnce = true;
    this.downSinceMs = undefined;
    this.reconnectDelayMs = RECONNECT_FIRST_MS;
  }

  private onCanceled(compactRevision: number | undefined, reason: string | undefined): void {
    const wanted = this.delivery.resumeAfterRevision + 1;
    if (compactRevision !== undefined && compactRevision > 0) {
      this.delivery.fail(
        new KvdbError('Compacted', `watch from revision ${wanted}: compacted (oldest kept: ${compactRevision})`, {
          revision: compactRevision,
        }),
      );
      return;
    }
    this.delivery.fail(
      new KvdbError('Unavailable', `watch from revision ${wanted} cancelled by etcd: ${reason ?? ''}`),
    );
  }

  private onEnd(error: Error): void {
    this.stream?.close();
    this.stream = undefined;
    if (!this.delivery.active) return;
    const nowMs = this.setup.clock.nowMs();
    this.downSinceMs ??= nowMs;
    if (nowMs - this.downSinceMs >= this.setup.reconnectForMs) {
      this.delivery.fail(
        new KvdbError('Unavailable', `watch: no stream for ${this.setup.reconnectForMs} ms (${error.message})`, {
          cause: error,
        }),
      );
      return;
    }
    const delayMs = this.reconnectDelayMs;
    this.reconnectDelayMs = Math.min(RECONNECT_CAP_MS, delayMs * 2);
    this.retryTimer = this.setup.clock.setTimer(delayMs, () => {
      this.retryTimer = undefined;
      if (this.delivery.active) this.connect();
    });
  }

  private toBatches(events: GatewayWatchEvent[]): WatchBatch[] {
    const batches: WatchBatch[] = [];
    for (const event of events) {
      const revision = event.kv.mod_revision ?? 0;
      const converted: WatchEvent = {
        type: event.type === 'DELETE' ? 'delete' : 'put',
        kv: toKeyValue(event.kv, this.setup.namespaceLength),
      };
      if (event.prev_kv !== undefined) converted.prev = toKeyValue(event.prev_kv, this.setup.namespaceLength);
      const last = batches[batches.length - 1];
      if (last !== undefined && last.revision === revision) last.events.push(converted);
      else batches.push({ revision, events: [converted] });
    }
    return batches;
  }
}
