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

/**
 * Whether a read shows that the kvdb no longer holds the cluster this agent has run in (its data was lost, or it is
 * another kvdb): the cluster record is gone or has another UUID, or the revision went backwards. Undefined when not.
 * Such a read is not a view to act on: the core hands the engine a failed read instead, so the view goes stale (the
 * node fences) and the status says why, as of the latest read (not the first error ever seen).
 */
export function kvdbLostProblem(seen: ParsedCluster | undefined, read: ParsedCluster): string | undefined {
  const uuid = seen?.info?.clusterUuid;
  if (seen === undefined || uuid === undefined) return undefined;
  let what: string | undefined;
  if (read.info === undefined) what = 'it holds no cluster record';
  else if (read.info.clusterUuid !== uuid) what = `it holds cluster UUID ${read.info.clusterUuid}`;
  else if (read.revision < seen.revision) what = `its revision ${read.revision} is below ${seen.revision}, seen before`;
  if (what === undefined) return undefined;
  return `the kvdb no longer holds cluster UUID ${uuid} (${what}): its data was lost or it is another kvdb; restore it, or restart the nodes with --allow-new-cluster-uuid to re-create the cluster and re-register`;
}
