import type { ParsedCluster } from '../wire/layout.js';
import type { PeerAddress } from './core.js';

/** Where heartbeats go: every other node not decommissioned (kept while the cluster read is the same). */
export class PeerList {
  private last: { cluster: ParsedCluster; addresses: readonly PeerAddress[] } | undefined;

  constructor(private readonly selfId: string) {}

  of(cluster: ParsedCluster): readonly PeerAddress[] {
    if (this.last?.cluster === cluster) return this.last.addresses;
    const addresses: PeerAddress[] = [];
    for (const node of cluster.nodes) {
      if (node.id === this.selfId || node.decommissioned) continue;
      addresses.push({ ip: node.mgmtIp, port: node.heartbeatPort });
    }
    this.last = { cluster, addresses };
    return addresses;
  }
}

/** Rejected keys logged (and counted) at most this many, once each. */
const REJECTED_KEYS_LOGGED_MAX = 64;

/** Which rejected kvdb values were reported: each key and problem once, at most `REJECTED_KEYS_LOGGED_MAX`. */
export class RejectionLog {
  private readonly logged = new Set<string>();

  /** The message to log for a rejected value, or undefined when it was reported already (or the log is full). */
  note(key: string, problem: string, consequence: string): string | undefined {
    const what = `${key}: ${problem}`;
    if (this.logged.has(what) || this.logged.size >= REJECTED_KEYS_LOGGED_MAX) return undefined;
    this.logged.add(what);
    return `rejected kvdb value ${what}${consequence === '' ? '' : `; ${consequence}`}`;
  }
}
