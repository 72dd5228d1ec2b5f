import { KvdbError, LeaseHandle, type Kvdb, type Lease } from '@pxsim/kvdb-client';
import type { Clock, LinkFaults } from '@pxsim/runtime';
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

/**
 * Wraps a kvdb client so that while `ownIp` is cut from the kvdb every call fails as Unavailable (nothing applied)
 * after `timeoutMs`, and watch batches are held back (the agent re-reads everything once it can).
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
    watch: (prefix, options) =>
      inner.watch(prefix, {
        ...options,
        onBatch: (batch) => (faults.kvdbReachable(ownIp) ? options.onBatch(batch) : undefined),
      }),
    compact: (revision) => guard(() => inner.compact(revision)),
    currentRevision: () => guard(() => inner.currentRevision()),
    close: () => inner.close(),
  };
}
