import type { FastifyInstance } from 'fastify';
import { parseFault, type Fault, type LinkFaults, type NetworkFault } from '@pxsim/runtime';
import type { PreHandler } from './auth.js';
import { sendError } from './errors.js';

/** The fault kinds one node applies on its own sending side (its frames to peers, its kvdb link). */
export const NODE_FAULT_KINDS = ['cut', 'latency', 'loss', 'duplicate', 'kvdb-cut', 'kvdb-heal', 'heal'] as const;

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
/** Who "this node" may be called in a target group. */
const SELF_WORDS = new Set(['*', 'all']);

/** A fault the node refuses; the message names the kind or the target and says why. */
export class NodeFaultError extends Error {
  override name = 'NodeFaultError';
}

function peerIps(group: string[], field: string, allowAny: boolean): string[] {
  for (const target of group) {
    if (IPV4.test(target) || (allowAny && target === '*')) continue;
    throw new NodeFaultError(
      `${field}: "${target}" is not a peer IP${allowAny ? " or '*'" : ''} (a node knows its peers by IP; groups such as domains are resolved by the sim's control API)`,
    );
  }
  return group;
}

function mustBeSelf(group: string[] | undefined, field: string, self: string): void {
  if (group === undefined) return;
  for (const target of group) {
    if (target === self || SELF_WORDS.has(target)) continue;
    throw new NodeFaultError(
      `${field}: "${target}" is not this node (${self}); a node applies faults on its own sending side only`,
    );
  }
}

/**
 * The one vocabulary's fault, as this node at `self` can apply it on its sending side: its resolved LinkFaults fault.
 * Throws NodeFaultError naming the kind (or the target) for the rest.
 */
export function nodeFault(fault: Fault, self: string): NetworkFault {
  switch (fault.kind) {
    case 'cut':
      mustBeSelf(fault.from, 'fault.from', self);
      return { kind: 'cut', from: [self], to: peerIps(fault.to, 'fault.to', false) };
    case 'latency':
    case 'loss': {
      mustBeSelf(fault.from, 'fault.from', self);
      // This node's LinkFaults only ever sees its own frames: the rule needs no `from`.
      const to = fault.to === undefined ? {} : { to: peerIps(fault.to, 'fault.to', true) };
      return fault.kind === 'latency'
        ? { kind: 'latency', ms: fault.ms, jitterMs: fault.jitterMs, ...to }
        : { kind: 'loss', percent: fault.percent, ...to };
    }
    case 'kvdb-cut':
    case 'kvdb-heal':
      mustBeSelf(fault.nodes, 'fault.nodes', self);
      return { kind: fault.kind, nodes: [self] };
    case 'duplicate':
    case 'heal':
      return fault;
    default:
      throw new NodeFaultError(
        `fault kind "${fault.kind}" cannot be applied by one node on its sending side (this API takes: ${NODE_FAULT_KINDS.join(', ')}); use the sim's control API (pxsim fault) for it`,
      );
  }
}

/**
 * `GET/POST /v1/debug/faults` (admin): the faults in force, and injecting one fault of the one vocabulary (JSON as
 * `@pxsim/runtime`'s `faultSchema`); both answer the fault summary.
 */
export function registerFaultRoutes(
  app: FastifyInstance,
  faults: LinkFaults,
  selfIp: () => string,
  admin: PreHandler,
): void {
  app.get('/v1/debug/faults', { preHandler: admin }, async () => faults.summary());
  app.post('/v1/debug/faults', { preHandler: admin }, async (request, reply) => {
    const parsed = parseFault(request.body);
    if (!parsed.ok) return sendError(reply, 'BAD_FAULT', parsed.error);
    try {
      faults.apply(nodeFault(parsed.fault, selfIp()));
    } catch (error) {
      return sendError(reply, 'BAD_FAULT', error instanceof Error ? error.message : String(error));
    }
    return faults.summary();
  });
}
