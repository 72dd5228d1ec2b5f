import type { OperatorEvent } from '@pxsim/checkers';
import type { NodeLifecycle } from './lifecycle.js';
import type { SimNetwork } from './network.js';

/** How long a ClusterDomainUpdate may take, in virtual time, before the run fails. */
const UPDATE_WITHIN_MS = 30_000;

export interface OperatorHost {
  nowMs(): number;
  /** Waits for work that itself needs virtual time to pass, running the clock meanwhile. */
  settle<T>(work: Promise<T>, withinMs: number): Promise<T>;
  record(event: OperatorEvent): void;
  /** The update took effect (the checkers' bookkeeping and the liveness phase read it). */
  domainChanged(domain: string, active: boolean): void;
}

/**
 * The operator: ClusterDomainUpdates (activate or deactivate a domain) applied through a running node's agent that
 * can reach the kvdb, as the API would.
 */
export class Operator {
  constructor(
    private readonly lifecycle: NodeLifecycle,
    private readonly network: SimNetwork,
    private readonly host: OperatorHost,
  ) {}

  async setDomain(domain: string, active: boolean): Promise<string> {
    const action: OperatorEvent['action'] = active ? 'activate' : 'deactivate';
    const via = [...this.lifecycle.nodes.values()].find(
      (node) =>
        node.agent !== undefined && node.clock?.paused !== true && this.network.faults.kvdbReachable(node.spec.ip),
    );
    const at = { atMs: this.host.nowMs(), kind: 'operator' as const, action, domain };
    if (via?.agent === undefined) {
      this.host.record({ ...at, via: undefined, outcome: 'Failed', reason: '' });
      return 'Failed';
    }
    const update = await this.host.settle(
      via.agent.applyClusterDomainUpdate(
        { name: `${action}-${domain}-${this.host.nowMs()}`, clusterDomain: domain, active },
        'apply',
      ),
      UPDATE_WITHIN_MS,
    );
    this.host.record({
      ...at,
      atMs: this.host.nowMs(),
      via: via.spec.ip,
      outcome: update.status,
      reason: update.reason,
    });
    if (update.status === 'Successful') this.host.domainChanged(domain, active);
    return update.status;
  }
}
