import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type { LinkFaults } from '@pxsim/runtime';
import type { SimNodeSpec } from './sim.js';

/** What the control API drives: the running sim's faults, nodes and topology. */
export interface ControlTarget {
  readonly faults: LinkFaults;
  readonly specs: readonly SimNodeSpec[];
  readonly kvdbEndpoint: string;
  readonly clusterId: string;
  isRunning(ip: string): boolean;
  /** The IPs a group names (a domain, an IP, or a comma list); throws with the reason if it names none. */
  group(text: string): string[];
  killNode(ip: string): Promise<void>;
  startNode(ip: string): Promise<void>;
}

/** Every error the control API answers has this one shape, as the agents' REST API does. */
export interface ControlError {
  error: { code: 'BAD_FAULT' | 'INVALID_REQUEST' | 'BAD_REQUEST' | 'NOT_FOUND' | 'INTERNAL'; message: string };
}

const GROUP = { type: 'string', minLength: 1, maxLength: 512 } as const;

function bodySchema(properties: Record<string, unknown>, required: string[]) {
  return { body: { type: 'object', required, additionalProperties: false, properties } } as const;
}

/** A link fault's body: the fault's own fields, optionally limited to traffic from and to groups. */
function linkSchema(extra: Record<string, unknown>, required: string[]) {
  return bodySchema({ from: GROUP, to: GROUP, ...extra }, required);
}

const NODES_SCHEMA = bodySchema({ nodes: GROUP }, ['nodes']);

/** A fault route's work; a group or value it cannot use is answered 400 BAD_FAULT with the reason. */
function faultRoute<Body>(work: (body: Body) => unknown) {
  return async (request: { body: Body }, reply: FastifyReply): Promise<unknown> => {
    try {
      return await work(request.body);
    } catch (error) {
      const body: ControlError = {
        error: { code: 'BAD_FAULT', message: error instanceof Error ? error.message : String(error) },
      };
      return reply.code(400).send(body);
    }
  };
}

function optionalGroups(target: ControlTarget, body: { from?: string; to?: string }) {
  return {
    ...(body.from === undefined ? {} : { from: target.group(body.from) }),
    ...(body.to === undefined ? {} : { to: target.group(body.to) }),
  };
}

type LatencyBody = { ms: number; jitterMs?: number; from?: string; to?: string; allowOverMetroLimit?: boolean };
type LossBody = { percent: number; from?: string; to?: string };

/** Partitions, latency and loss: faults on the links between nodes. */
function addLinkRoutes(app: FastifyInstance, target: ControlTarget): void {
  app.post<{ Body: { a: string; b: string; oneway?: boolean } }>(
    '/faults/partition',
    { schema: bodySchema({ a: GROUP, b: GROUP, oneway: { type: 'boolean' } }, ['a', 'b']) },
    faultRoute((body: { a: string; b: string; oneway?: boolean }) => {
      const a = target.group(body.a);
      const b = target.group(body.b);
      target.faults.cut(a, b);
      if (body.oneway !== true) target.faults.cut(b, a);
      return { cut: body.oneway === true ? `${a.join(',')} -> ${b.join(',')}` : `${a.join(',')} <-> ${b.join(',')}` };
    }),
  );
  const latencyFields = {
    ms: { type: 'number', minimum: 0 },
    jitterMs: { type: 'number', minimum: 0 },
    allowOverMetroLimit: { type: 'boolean' },
  };
  app.post<{ Body: LatencyBody }>(
    '/faults/latency',
    { schema: linkSchema(latencyFields, ['ms']) },
    faultRoute((body: LatencyBody) => {
      target.faults.addLatency(
        { ms: body.ms, jitterMs: body.jitterMs ?? 0, ...optionalGroups(target, body) },
        { allowOverMetroLimit: body.allowOverMetroLimit === true },
      );
      return { latency: target.faults.summary().latency };
    }),
  );
  app.post<{ Body: LossBody }>(
    '/faults/loss',
    { schema: linkSchema({ percent: { type: 'number', minimum: 0, maximum: 100 } }, ['percent']) },
    faultRoute((body: LossBody) => {
      target.faults.addLoss({ percent: body.percent, ...optionalGroups(target, body) });
      return { loss: target.faults.summary().loss };
    }),
  );
}

/** Kill, restart and kvdb cuts: faults on nodes; and heal, which clears every network and kvdb fault. */
function addNodeRoutes(app: FastifyInstance, target: ControlTarget): void {
  app.post<{ Body: { nodes: string } }>(
    '/faults/kill',
    { schema: NODES_SCHEMA },
    faultRoute(async (body: { nodes: string }) => {
      const ips = target.group(body.nodes);
      for (const ip of ips) await target.killNode(ip);
      return { killed: ips };
    }),
  );
  app.post<{ Body: { nodes: string } }>(
    '/faults/restart',
    { schema: NODES_SCHEMA },
    faultRoute(async (body: { nodes: string }) => {
      const ips = target.group(body.nodes);
      for (const ip of ips) {
        await target.killNode(ip);
        await target.startNode(ip);
      }
      return { restarted: ips };
    }),
  );
  app.post<{ Body: { nodes: string } }>(
    '/faults/kvdb-cut',
    { schema: NODES_SCHEMA },
    faultRoute((body: { nodes: string }) => {
      const ips = target.group(body.nodes);
      target.faults.cutKvdb(ips);
      return { kvdbCut: ips };
    }),
  );
  app.post('/faults/heal', async () => {
    target.faults.heal();
    return { healed: true };
  });
}

/** Schema failures, unknown routes and anything unexpected: answered in the one `{error:{code,message}}` shape. */
function addErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: { statusCode?: number; message: string; validation?: unknown }, _request, reply) => {
    const statusCode = error.statusCode ?? 500;
    const code = statusCode >= 500 ? 'INTERNAL' : error.validation === undefined ? 'BAD_REQUEST' : 'INVALID_REQUEST';
    const body: ControlError = { error: { code, message: error.message } };
    return reply.code(statusCode).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    const body: ControlError = { error: { code: 'NOT_FOUND', message: `no route ${request.method} ${request.url}` } };
    return reply.code(404).send(body);
  });
}

/** The sim's control API (what `pxsim fault` and `pxsim scenario` talk to): its topology and its faults. */
export function buildControlApi(target: ControlTarget): FastifyInstance {
  const app = Fastify({ ajv: { customOptions: { removeAdditional: false, coerceTypes: false } } });
  addErrorHandlers(app);
  app.get('/sim', async () => ({
    clusterId: target.clusterId,
    kvdb: target.kvdbEndpoint,
    nodes: target.specs.map((spec) => ({ ...spec, running: target.isRunning(spec.ip) })),
    faults: target.faults.summary(),
  }));
  addLinkRoutes(app, target);
  addNodeRoutes(app, target);
  return app;
}
