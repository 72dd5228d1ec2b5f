import {
  KvdbError,
  LeaseHandle,
  type Kvdb,
  type Lease,
  type Watch,
  type WatchBatch,
  type WatchOptions,
} from '@pxsim/kvdb-client';
import type { Clock, LinkFaults, Timer } from '@pxsim/runtime';
import type { HeartbeatTransport, PeerAddress } from './types.js';

/** Wraps a transport so that frames from `ownIp` obey the link faults (dropped, or delayed on the clock). */
export function faultyTransport(
  inner: HeartbeatTransport,
  ownIp: string,
  faults: LinkFaults,
  clock: Clock,
  random: () => number,
): HeartbeatTransport {
  return {
    listen: (address, onFrame) => inner.listen(address, onFrame),
    send(to: PeerAddress, bytes: Uint8Array) {
      const delayMs = faults.delivery(ownIp, to.ip, random);
      if (delayMs === undefined) return;
      // A duplicated frame is sent twice; no random draw at all while duplication is off.
      const copies = faults.duplicatePercent > 0 && random() * 100 < faults.duplicatePercent ? 2 : 1;
      for (let copy = 0; copy < copies; copy += 1) {
        if (delayMs === 0) inner.send(to, bytes);
        else clock.setTimer(delayMs, () => inner.send(to, bytes));
      }
    },
    close: () => inner.close(),
  };
}

/**
 * The error of a call cut off by an injected fault. Its stack would only point into this layer and simulations make
 * many of them (every read of every cut-off node), so none is captured.
 */
function injectedUnavailable(ownIp: string): KvdbError {
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new KvdbError('Unavailable', `kvdb unreachable from ${ownIp} (injected fault)`);
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
}

/** Runs one kvdb call through the fault layer. */
type Guard = <T>(work: () => Promise<T>) => Promise<T>;

/**
 * While `ownIp` is cut from the kvdb a call fails as Unavailable (nothing applied) after `timeoutMs`; otherwise the
 * request travels to the kvdb (`delayMs`), is served there, and the answer (or the error) travels back.
 */
function kvdbGuard(
  ownIp: string,
  faults: LinkFaults,
  clock: Clock,
  timeoutMs: number,
  delayMs: (() => number) | undefined,
): Guard {
  return <T>(work: () => Promise<T>): Promise<T> => {
    if (!faults.kvdbReachable(ownIp)) {
      return new Promise((_resolve, reject) => {
        clock.setTimer(timeoutMs, () => reject(injectedUnavailable(ownIp)));
      });
    }
    if (delayMs === undefined) return work();
    // Timer callbacks rather than awaits: a simulation makes several of these per node and second.
    return new Promise<T>((resolve, reject) => {
      clock.setTimer(delayMs(), () => {
        let answer: Promise<T>;
        try {
          answer = work();
        } catch (error) {
          answer = Promise.reject(error instanceof Error ? error : new Error(String(error)));
        }
        answer.then(
          (result) => clock.setTimer(delayMs(), () => resolve(result)),
          (error: unknown) =>
            clock.setTimer(delayMs(), () => reject(error instanceof Error ? error : new Error(String(error)))),
        );
      });
    });
  };
}

/** How often a watch holding batches back looks whether its node reaches the kvdb again. */
const HELD_WATCH_POLL_MS = 100;

/**
 * A watch whose batches are held back while `reachable()` is false and delivered, in order, once it is true again:
 * what an etcd watch does across a cut link (the stream breaks, the client resumes from the revision after the last
 * one it got: nothing is lost, it only comes late).
 */
function heldWatch(inner: Kvdb, prefix: string, options: WatchOptions, reachable: () => boolean, clock: Clock): Watch {
  const held: WatchBatch[] = [];
  let poll: Timer | undefined;
  let flushing = false;
  let cancelled = false;
  const flush = async (): Promise<void> => {
    poll = undefined;
    if (cancelled) return;
    if (!reachable()) {
      poll = clock.setTimer(HELD_WATCH_POLL_MS, () => void flush());
      return;
    }
    flushing = true;
    // One at a time, in order (a handler's promise is waited for, as the kvdb's own watch does).
    for (let batch = held.shift(); batch !== undefined && !cancelled; batch = held.shift())
      await options.onBatch(batch);
    flushing = false;
  };
  const watch = inner.watch(prefix, {
    ...options,
    onBatch: (batch) => {
      if (held.length === 0 && !flushing && reachable()) return options.onBatch(batch);
      held.push(batch);
      if (!flushing) poll ??= clock.setTimer(HELD_WATCH_POLL_MS, () => void flush());
      return undefined;
    },
  });
  return {
    get lastRevision() {
      return watch.lastRevision;
    },
    cancel() {
      cancelled = true;
      poll?.cancel();
      watch.cancel();
    },
  };
}

/**
 * Wraps a kvdb client so that while `ownIp` is cut from the kvdb every call fails as Unavailable (nothing applied)
 * after `timeoutMs`, and watch batches are held back until the link is back (as an etcd watch resumes).
 */
export function faultyKvdb(
  inner: Kvdb,
  ownIp: string,
  faults: LinkFaults,
  clock: Clock,
  options: { timeoutMs?: number; delayMs?: () => number } = {},
): Kvdb {
  const innerKvdb = inner;
  const guard = kvdbGuard(ownIp, faults, clock, options.timeoutMs ?? 1000, options.delayMs);
  return {
    get description() {
      return inner.description;
    },
    get: (key) => guard(() => inner.get(key)),
    range: (prefix, options) => guard(() => inner.range(prefix, options)),
    prefixVersion: (prefix) => guard(() => inner.prefixVersion(prefix)),
    put: (key, value, options) => guard(() => inner.put(key, value, options)),
    create: (key, value, options) => guard(() => inner.create(key, value, options)),
    update: (key, value, options) => guard(() => inner.update(key, value, options)),
    delete: (key, options) => guard(() => inner.delete(key, options)),
    txn: (request) => guard(() => inner.txn(request)),
    // Keep-alives go through the fault layer too: a node cut off from the kvdb stops renewing, and its leases expire
    // as they would on a real etcd.
    grantLease: (ttlMs, options) =>
      guard(async () => {
        const inner: Lease = await innerKvdb.grantLease(ttlMs, { autoKeepAlive: false });
        return new LeaseHandle({
          id: inner.id,
          ttlMs: inner.ttlMs,
          clock,
          autoKeepAlive: options?.autoKeepAlive ?? true,
          backend: {
            keepAliveOnce: () => guard(() => inner.keepAlive()),
            revoke: () => guard(() => inner.revoke()),
          },
        });
      }),
    watch: (prefix, options) => heldWatch(inner, prefix, options, () => faults.kvdbReachable(ownIp), clock),
    compact: (revision) => guard(() => inner.compact(revision)),
    currentRevision: () => guard(() => inner.currentRevision()),
    close: () => inner.close(),
  };
}
