import { isNetworkFault, type Fault } from '@pxsim/runtime';
import type { NodeLifecycle } from './lifecycle.js';
import type { SimNetwork } from './network.js';

/** Applies a fault that takes no virtual time (targets resolved to IPs): network faults, or a node's process. */
export function applyInstantFault(fault: Fault, network: SimNetwork, lifecycle: NodeLifecycle): void {
  if (isNetworkFault(fault)) return network.apply(fault);
  switch (fault.kind) {
    case 'start':
      return lifecycle.start(fault.nodes);
    case 'crash':
      return lifecycle.crash(fault.nodes);
    case 'pause':
      return lifecycle.pause(fault.nodes);
    case 'resume':
      return lifecycle.resume(fault.nodes);
    default:
      throw new RangeError(`the simulator applies "${fault.kind}" through apply(), not at an instant`);
  }
}

/** The nodes of `active` that are not Online, each with why (its status and reason as its agent says them). */
export function stuckNodes(active: readonly string[], lifecycle: NodeLifecycle): Array<{ node: string; why: string }> {
  const why = (ip: string): string => {
    const node = lifecycle.node(ip);
    const status = node.agent?.status();
    if (status === undefined) return node.state;
    return `${status.node.status}: ${status.phase === 'running' ? status.node.reason : status.phaseReason}`;
  };
  return active.filter((ip) => lifecycle.node(ip).state !== 'Online').map((node) => ({ node, why: why(node) }));
}
