import type { FastifyInstance } from 'fastify';
import websocket from '@fastify/websocket';
import { z } from 'zod';
import {
  FAULT_KINDS,
  formatFault,
  isNetworkFault,
  mapTargets,
  parseFault,
  faultSchema,
  type Fault,
  type FaultKind,
  type LinkFaults,
} from '@pxsim/runtime';
import { adminOnly, createApiApp, faultSummarySchema, sendError } from '@pxsim/node-agent';
import type { SimNodeSpec } from './sim.js';
import { registerDashboard, type DashboardTarget } from './dashboard.js';

/** What the control API drives: the running sim's faults, nodes and topology. */
export interface ControlTarget extends DashboardTarget {
  readonly faults: LinkFaults;
  readonly specs: readonly SimNodeSpec[];
  readonly kvdbEndpoint: string;
  readonly clusterId: string;
  /** The sim's admin token: every control route needs it (`Authorization: Bearer <token>`). */
  readonly adminToken: string;
  isRunning(ip: string): boolean;
  /** The IPs a group names (a domain, an IP, `all`, or a comma list); throws with the reason if it names none. */
  group(text: string): string[];
  killNode(ip: string): Promise<void>;
  startNode(ip: string): Promise<void>;
}

/** The fault kinds the live sim applies: every network and kvdb-link fault, and crashing/(re)starting nodes. */
export const CONTROL_FAULT_KINDS: readonly FaultKind[] = FAULT_KINDS.filter(
  (kind) => !['pause', 'resume', 'kvdb-down', 'kvdb-up', 'hide-members', 'deactivate', 'activate'].includes(kind),
);

/** Why the live sim refuses a kind of the vocabulary, and what to use instead. */
const UNSUPPORTED: Partial<Record<FaultKind, string>> = {
  pause: 'the live sim cannot pause an in-process agent; use crash and start',
  resume: 'the live sim cannot pause an in-process agent; use crash and start',
  'kvdb-down': 'the live sim cannot stop its kvdb; use kvdb-cut all',
  'kvdb-up': 'the live sim cannot stop its kvdb; use kvdb-heal all',
  'hide-members': 'hiding registrations exists only in the virtual-time simulator (pxsim check)',
  deactivate: 'a domain is deactivated by a ClusterDomainUpdate: storkctl deactivate clusterdomain NAME',
  activate: 'a domain is activated by a ClusterDomainUpdate: storkctl activate clusterdomain NAME',
};

/** `GET /sim`: the topology, which nodes run, and the faults in force. */
export const simStateSchema = z.object({
  clusterId: z.string(),
  kvdb: z.string(),
  nodes: z.array(z.object({ ip: z.string(), domain: z.string(), storageless: z.boolean(), running: z.boolean() })),
  faults: faultSummarySchema,
});
export type SimState = z.infer<typeof simStateSchema>;

/** `POST /faults`: the fault as applied (its groups resolved to node IPs), its text form, and the state after. */
export const controlFaultAnswerSchema = z.object({
  applied: faultSchema,
  text: z.string(),
  running: z.array(z.string()),
  faults: faultSummarySchema,
});
export type ControlFaultAnswer = z.infer<typeof controlFaultAnswerSchema>;

function simState(target: ControlTarget): SimState {
  return {
    clusterId: target.clusterId,
    kvdb: target.kvdbEndpoint,
    nodes: target.specs.map((spec) => ({ ...spec, running: target.isRunning(spec.ip) })),
    faults: target.faults.summary(),
  };
}

/** Applies one fault of the vocabulary, its groups already resolved; throws with the reason when it cannot. */
async function applyControlFault(target: ControlTarget, fault: Fault, allowOverMetroLimit: boolean): Promise<void> {
  if (isNetworkFault(fault)) {
    target.faults.apply(fault, { allowOverMetroLimit });
    return;
  }
  switch (fault.kind) {
    case 'crash':
      for (const ip of fault.nodes) await target.killNode(ip);
      return;
    case 'start':
      for (const ip of fault.nodes) await target.startNode(ip);
      return;
    case 'restart':
      for (const ip of fault.nodes) {
        await target.killNode(ip);
        await target.startNode(ip);
      }
      return;
    default:
      throw new Error(`fault kind "${fault.kind}" is not supported by the live sim: ${UNSUPPORTED[fault.kind] ?? ''}`);
  }
}

const ALL_WORDS = new Set(['*', 'all']);

/** Groups → node IPs (`*` and `all`: every node), so that LinkFaults and the node operations see IPs only. */
function resolveGroups(target: ControlTarget, fault: Fault): Fault {
  return mapTargets(fault, (groups) =>
    groups.some((group) => ALL_WORDS.has(group))
      ? target.specs.map((spec) => spec.ip)
      : [...new Set(groups.flatMap((group) => target.group(group)))],
  );
}

/**
 * The sim's control API (what `pxsim fault` and `pxsim scenario` talk to): its topology and its faults, in the one
 * fault vocabulary (`POST /faults` takes `@pxsim/runtime`'s Fault JSON). Every route needs the sim's admin token — the
 * topology and fault state too: they tell a local process where to aim and are not needed without the token — and
 * every error is the agents' one `{error:{code,message}}` shape (the same fastify set-up as the agents' API). It also
 * serves the live dashboard (`GET /`, see `dashboard.ts`), whose data routes need the token as well.
 */
export function buildControlApi(target: ControlTarget): FastifyInstance {
  const app = createApiApp(false);
  const admin = adminOnly(target.adminToken);
  void app.register(websocket, { options: { maxPayload: 4096 } });
  const feeds = registerDashboard(app, target, admin);
  app.get('/sim', { preHandler: admin }, async () => simState(target));
  app.post<{ Querystring: { allowOverMetroLimit?: string } }>(
    '/faults',
    {
      preHandler: admin,
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { allowOverMetroLimit: { type: 'string', enum: ['true', 'false'] } },
        },
      },
    },
    async (request, reply) => {
      const parsed = parseFault(request.body);
      if (!parsed.ok) return sendError(reply, 'BAD_FAULT', parsed.error);
      try {
        const applied = resolveGroups(target, parsed.fault);
        await applyControlFault(target, applied, request.query.allowOverMetroLimit === 'true');
        feeds.faultApplied(parsed.fault); // as asked (its groups' names), the clearer line on the dashboard
        const state = simState(target);
        const running = state.nodes.filter((node) => node.running).map((node) => node.ip);
        const answer: ControlFaultAnswer = { applied, text: formatFault(applied), running, faults: state.faults };
        return answer;
      } catch (error) {
        return sendError(reply, 'BAD_FAULT', error instanceof Error ? error.message : String(error));
      }
    },
  );
  return app;
}
