import { KvdbError, LeaseHandle, type Clock, type Kvdb, type Lease } from '@pxsim/kvdb-client';
import type { HeartbeatTransport, PeerAddress } from './types.js';

/** The metro limit: a latency above this is refused unless explicitly allowed. */
export const METRO_LATENCY_MS_MAX = 500;

export interface LatencyRule {
  /** Source IPs ('*' or absent: any). */
  from?: string[];
  /** Destination IPs ('*' or absent: any). */
  to?: string[];
  ms: number;
  jitterMs: number;
}

export interface LossRule {
  from?: string[];
  to?: string[];
  /** 0–100. */
  percent: number;
}

export interface FaultSummary {
  cuts: string[];
  kvdbCut: string[];
  latency: LatencyRule[];
  loss: LossRule[];
}

const RULES_MAX = 256;

function matches(list: string[] | undefined, ip: string): boolean {
  return list === undefined || list.length === 0 || list.includes('*') || list.includes(ip);
}

/**
 * The network faults in force between node IPs, and between each node and the kvdb: one-way cuts, latency with
 * jitter, loss. Consulted by the fault-injecting transport and kvdb wrappers below; user space, no netem.
 */
export class LinkFaults {
  /** from IP → destination IPs it cannot reach. */
  private readonly cuts = new Map<string, Set<string>>();
  private readonly kvdbCut = new Set<string>();
  private latencyRules: LatencyRule[] = [];
  private lossRules: LossRule[] = [];

  cut(from: string[], to: string[]): void {
    for (const a of from) {
      let targets = this.cuts.get(a);
      if (targets === undefined) {
        targets = new Set();
        this.cuts.set(a, targets);
      }
      for (const b of to) if (a !== b) targets.add(b);
    }
  }

  isCut(from: string, to: string): boolean {
    return this.cuts.get(from)?.has(to) === true;
  }

  cutKvdb(ips: string[]): void {
    for (const ip of ips) this.kvdbCut.add(ip);
  }

  kvdbReachable(ip: string): boolean {
    return !this.kvdbCut.has(ip);
  }

  addLatency(rule: LatencyRule, options: { allowOverMetroLimit?: boolean } = {}): void {
    if (!Number.isFinite(rule.ms) || rule.ms < 0 || !Number.isFinite(rule.jitterMs) || rule.jitterMs < 0) {
      throw new RangeError(`latency must be 0 ms or more, got ${rule.ms} ± ${rule.jitterMs} ms`);
    }
    if (rule.ms + rule.jitterMs > METRO_LATENCY_MS_MAX && options.allowOverMetroLimit !== true) {
      throw new RangeError(
        `latency ${rule.ms} ± ${rule.jitterMs} ms exceeds the metro limit of ${METRO_LATENCY_MS_MAX} ms one way; allow it explicitly to see what the limit protects against`,
      );
    }
    if (this.latencyRules.length >= RULES_MAX) throw new RangeError(`at most ${RULES_MAX} latency rules`);
    this.latencyRules.push(rule);
  }

  addLoss(rule: LossRule): void {
    if (!(rule.percent >= 0 && rule.percent <= 100)) throw new RangeError(`loss must be 0–100 %, got ${rule.percent}`);
    if (this.lossRules.length >= RULES_MAX) throw new RangeError(`at most ${RULES_MAX} loss rules`);
    this.lossRules.push(rule);
  }

  /** Delay for one message from → to, or undefined when it is lost or cut. `random` is uniform in [0, 1). */
  delivery(from: string, to: string, random: () => number): number | undefined {
    if (this.isCut(from, to)) return undefined;
    for (const rule of this.lossRules) {
      if (matches(rule.from, from) && matches(rule.to, to) && random() * 100 < rule.percent) return undefined;
    }
    let delayMs = 0;
    for (const rule of this.latencyRules) {
      if (matches(rule.from, from) && matches(rule.to, to))
        delayMs = Math.max(delayMs, rule.ms + random() * rule.jitterMs);
    }
    return Math.round(delayMs);
  }

  heal(): void {
    this.cuts.clear();
    this.kvdbCut.clear();
    this.latencyRules = [];
    this.lossRules = [];
  }

  summary(): FaultSummary {
    const cuts = [...this.cuts].flatMap(([from, targets]) => [...targets].map((to) => `${from}>${to}`));
    return {
      cuts: cuts.sort(),
      kvdbCut: [...this.kvdbCut].sort(),
      latency: [...this.latencyRules],
      loss: [...this.lossRules],
    };
  }
}

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
      if (delayMs === 0) inner.send(to, bytes);
      else clock.setTimer(delayMs, () => inner.send(to, bytes));
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
  const timeoutMs = options.timeoutMs ?? 1000;
  const delayMs = options.delayMs;
  const innerKvdb = inner;
  const guard = <T>(work: () => Promise<T>): Promise<T> => {
    if (!faults.kvdbReachable(ownIp)) {
      return new Promise((_resolve, reject) => {
        clock.setTimer(timeoutMs, () => reject(injectedUnavailable(ownIp)));
      });
    }
    if (delayMs === undefined) return work();
    // The request travels to the kvdb, is served there, and the answer (or the error) travels back. Timer callbacks
    // rather than awaits: a simulation makes several of these per node and second.
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
