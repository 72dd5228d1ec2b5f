import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import type { WebSocket } from 'ws';
import { sendError, type AgentEvent, type NodeAgent, type PreHandler } from '@pxsim/node-agent';
import { formatFault, isNetworkFault, type Fault } from '@pxsim/runtime';
import type { SimNodeSpec } from './sim.js';
import { DASHBOARD_HTML } from './dashboard-page.js';

/** What the dashboard reads from the running sim. */
export interface DashboardTarget {
  readonly specs: readonly SimNodeSpec[];
  readonly clusterId: string;
  readonly kvdbEndpoint: string;
  readonly adminToken: string;
  /** The agent of a running node. */
  agentOf(ip: string): NodeAgent | undefined;
}

/** Dashboard sockets at once (each holds one subscription per running agent). */
const DASHBOARD_SOCKETS_MAX = 16;
/** Pushes are coalesced: at most one state per socket per this many ms. */
const PUSH_EVERY_MS = 100;
/** How often a feed compares the state with what it last sent. */
const SWEEP_EVERY_MS = 1000;
/** A socket that does not send the token within this long is closed. */
const AUTH_WITHIN_MS = 5000;
/** A socket whose unread data exceeds this is closed (1013), never buffered without bound. */
const SOCKET_BUFFER_BYTES_MAX = 1024 * 1024;

export const dashboardStateSchema = z.object({
  clusterId: z.string(),
  kvdb: z.string(),
  atMs: z.number(),
  domains: z.array(z.object({ name: z.string(), state: z.string(), nodes: z.number() })),
  nodes: z.array(
    z.object({
      ip: z.string(),
      domain: z.string(),
      storageless: z.boolean(),
      running: z.boolean(),
      status: z.string(),
      reason: z.string(),
      gossipState: z.string(),
      serving: z.boolean(),
      quorum: z.object({ up: z.number(), needed: z.number(), total: z.number() }).optional(),
    }),
  ),
  faults: z.array(z.string()),
  volumes: z.array(z.object({ name: z.string(), state: z.string() })),
  applications: z.array(z.object({ name: z.string(), cluster: z.string(), state: z.string() })),
});
export type DashboardState = z.infer<typeof dashboardStateSchema>;

/** Network faults listed at most (older ones are dropped from the list, not from the sim). */
const FAULTS_LISTED_MAX = 100;

/**
 * The network and kvdb-link faults applied through the control API since the last heal, in the vocabulary's words
 * (`pxsim fault` and the dashboard's buttons both go through it).
 */
export class FaultList {
  readonly lines: string[] = [];

  applied(fault: Fault): void {
    if (fault.kind === 'heal') this.lines.length = 0;
    else if (isNetworkFault(fault) && this.lines.length < FAULTS_LISTED_MAX) this.lines.push(formatFault(fault));
  }
}

/** Each volume as the first running node sees it: replication status, where attached, its replicas' state. */
function volumesOf(target: DashboardTarget): DashboardState['volumes'] {
  const agent = target.specs.map((spec) => target.agentOf(spec.ip)).find((candidate) => candidate !== undefined);
  const ipOf = (id: string): string =>
    target.specs.find((spec) => target.agentOf(spec.ip)?.nodeId === id)?.ip ?? id.slice(0, 8);
  return (agent?.volumes.list() ?? []).map((view) => ({
    name: view.record.name,
    state:
      `${view.replicationStatus}, ${view.record.attachedOn === undefined ? 'detached' : `attached on ${ipOf(view.record.attachedOn)}`}; ` +
      `replicas ${view.replicas.map((replica) => `${ipOf(replica.nodeId)} ${replica.state}`).join(', ')}`,
  }));
}

/** The whole picture, as each running node reports itself (a node that is down is shown as down). */
export function dashboardState(target: DashboardTarget, faults: FaultList): DashboardState {
  const nodes = target.specs.map((spec) => {
    const status = target.agentOf(spec.ip)?.status();
    return {
      ip: spec.ip,
      domain: spec.domain,
      storageless: spec.storageless,
      running: status !== undefined,
      status: status?.node.status ?? 'down',
      reason: status === undefined ? 'process not running' : status.node.reason,
      gossipState: status?.node.gossipState ?? '',
      serving: status?.node.serving ?? false,
      ...(status === undefined
        ? {}
        : { quorum: { up: status.quorum.up, needed: status.quorum.needed, total: status.quorum.total } }),
    };
  });
  const first = target.specs.map((spec) => target.agentOf(spec.ip)?.status()).find((status) => status !== undefined);
  return {
    clusterId: target.clusterId,
    kvdb: target.kvdbEndpoint,
    atMs: Date.now(),
    domains: (first?.domains ?? []).map((domain) => ({ name: domain.name, state: domain.state, nodes: domain.nodes })),
    nodes,
    faults: [...faults.lines],
    volumes: volumesOf(target),
    applications: [],
  };
}

/**
 * Pushes the dashboard state to one socket whenever a running agent reports an event (or `changed()` is called after
 * a fault), coalesced to one push per `PUSH_EVERY_MS`.
 */
class DashboardFeed {
  private timer: NodeJS.Timeout | undefined;
  /** Volumes change without an agent event: the state is compared once a second and pushed when it differs. */
  private sweep: NodeJS.Timeout | undefined;
  private lastSent = '';
  private unsubscribes: Array<() => void> = [];

  constructor(
    private readonly target: DashboardTarget,
    private readonly socket: WebSocket,
    private readonly faults: FaultList,
  ) {}

  start(): void {
    this.resubscribe();
    this.push();
    this.sweep = setInterval(() => this.push(), SWEEP_EVERY_MS);
  }

  /** Something changed (an agent event, a fault, a node started or killed): push soon. */
  changed(): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.resubscribe();
      this.push();
    }, PUSH_EVERY_MS);
  }

  /** Listens to the agents running now (a node started or killed since has another agent). */
  private resubscribe(): void {
    for (const unsubscribe of this.unsubscribes) unsubscribe();
    this.unsubscribes = [];
    for (const spec of this.target.specs) {
      const agent = this.target.agentOf(spec.ip);
      if (agent === undefined) continue;
      try {
        this.unsubscribes.push(agent.subscribe((_event: AgentEvent) => this.changed()));
      } catch {
        // The agent bounds its listeners; the next push still reads its status.
      }
    }
  }

  private push(): void {
    if (this.socket.readyState !== this.socket.OPEN) return;
    if (this.socket.bufferedAmount > SOCKET_BUFFER_BYTES_MAX) {
      this.socket.close(1013, 'dashboard consumer too slow');
      return;
    }
    const state = dashboardState(this.target, this.faults);
    const text = JSON.stringify({ ...state, atMs: 0 });
    if (text === this.lastSent) return;
    this.lastSent = text;
    this.socket.send(JSON.stringify(state));
  }

  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.sweep !== undefined) clearInterval(this.sweep);
    for (const unsubscribe of this.unsubscribes) unsubscribe();
    this.unsubscribes = [];
  }
}

/** Every feed, so that a fault applied through the control API is pushed at once. */
export class DashboardFeeds {
  private readonly feeds = new Set<DashboardFeed>();
  readonly faults = new FaultList();

  get size(): number {
    return this.feeds.size;
  }

  add(feed: DashboardFeed): void {
    this.feeds.add(feed);
  }

  delete(feed: DashboardFeed): void {
    this.feeds.delete(feed);
  }

  changed(): void {
    for (const feed of this.feeds) feed.changed();
  }

  /** A fault was applied through the control API: list it and push. */
  faultApplied(fault: Fault): void {
    this.faults.applied(fault);
    this.changed();
  }
}

/** `WS /dashboard/events`: the first message must be `{"token": "<admin token>"}`; then a state per change. */
function onDashboardSocket(target: DashboardTarget, feeds: DashboardFeeds, socket: WebSocket): void {
  if (feeds.size >= DASHBOARD_SOCKETS_MAX) {
    socket.close(1013, `too many dashboards (at most ${DASHBOARD_SOCKETS_MAX})`);
    return;
  }
  let feed: DashboardFeed | undefined;
  const deadline = setTimeout(() => socket.close(1008, 'no token sent'), AUTH_WITHIN_MS);
  socket.on('message', (data: Buffer) => {
    if (feed !== undefined) return;
    clearTimeout(deadline);
    let token: unknown;
    try {
      token = (JSON.parse(data.toString('utf8')) as { token?: unknown } | null)?.token;
    } catch {
      token = undefined;
    }
    if (token !== target.adminToken) {
      socket.close(1008, 'wrong or missing admin token');
      return;
    }
    feed = new DashboardFeed(target, socket, feeds.faults);
    feeds.add(feed);
    feed.start();
  });
  socket.on('close', () => {
    clearTimeout(deadline);
    if (feed !== undefined) {
      feed.stop();
      feeds.delete(feed);
    }
  });
}

/** A ClusterDomainUpdate from the dashboard's button, through a running agent (as `storkctl` would). */
async function domainAction(
  target: DashboardTarget,
  reply: FastifyReply,
  name: string,
  action: string,
): Promise<unknown> {
  if (action !== 'activate' && action !== 'deactivate')
    return sendError(reply, 'BAD_REQUEST', `action "${action}": use activate or deactivate`);
  const via = target.specs.map((spec) => target.agentOf(spec.ip)).find((agent) => agent !== undefined);
  if (via === undefined) return sendError(reply, 'NOT_READY', 'no node is running to apply a ClusterDomainUpdate');
  const update = await via.applyClusterDomainUpdate(
    {
      name: `dashboard-${action}-${name}-${Date.now().toString(36)}`,
      clusterDomain: name,
      active: action === 'activate',
    },
    'create',
  );
  return update;
}

/** The dashboard's routes on the control API: the page, its state, its push feed and the domain buttons. */
export function registerDashboard(app: FastifyInstance, target: DashboardTarget, admin: PreHandler): DashboardFeeds {
  const feeds = new DashboardFeeds();
  app.get('/', async (_request, reply) =>
    reply.header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-store').send(DASHBOARD_HTML),
  );
  app.get('/dashboard/state', { preHandler: admin }, async () => dashboardState(target, feeds.faults));
  app.post<{ Params: { name: string; action: string } }>(
    '/dashboard/domains/:name/:action',
    { preHandler: admin },
    async (request, reply) => {
      try {
        const result = await domainAction(target, reply, request.params.name, request.params.action);
        feeds.changed();
        return result;
      } catch (error) {
        return sendError(reply, 'BAD_REQUEST', error instanceof Error ? error.message : String(error));
      }
    },
  );
  app.register(async (scoped) => {
    scoped.get('/dashboard/events', { websocket: true }, (socket) => onDashboardSocket(target, feeds, socket));
  });
  return feeds;
}
