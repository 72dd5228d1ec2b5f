import Fastify, { type FastifyInstance, type FastifySchemaCompiler } from 'fastify';
import { createRequire } from 'node:module';
import type { ValidatorFactory } from '@fastify/ajv-compiler';
import websocket from '@fastify/websocket';
import { schemaFailureMessage } from '../wire/names.js';
import { adminOnly } from './auth.js';
import { clientErrorHandler, replyNotFound, replyWithError, sendError } from './errors.js';
import { registerDomainRoutes } from './domain-routes.js';
import { registerEventsRoute } from './events-route.js';
import { registerFaultRoutes } from './fault-routes.js';
import { registerIoRoutes } from './io-routes.js';
import { registerMetricsRoute } from './metrics-route.js';
import type { AgentApiPort, ApiOptions } from './port.js';
import { registerHealthRoute, registerStatusRoutes } from './status-routes.js';
import { registerStorkRoutes } from './stork-routes.js';
import { registerVolumeRoutes } from './volume-routes.js';

type ValidatorFunction = ReturnType<FastifySchemaCompiler<unknown>>;

/** Longest URL answered (414 beyond); path parameters beyond PARAM_LENGTH_MAX are 414 as well. */
export const URL_LENGTH_MAX = 2048;
export const PARAM_LENGTH_MAX = 256;
const BODY_BYTES_MAX = 16 * 1024;

/**
 * Reject unknown fields instead of silently dropping them. The route schemas are the code's own, checked by the
 * tests: ajv's check of each against the JSON Schema meta-schema (compiling the meta-schema, ~70 ms per process start
 * in a profile) is left out.
 */
const AJV_OPTIONS = { customOptions: { removeAdditional: false, coerceTypes: false, validateSchema: false } };

/** What fastify's validator factory is called with and returns (its type declarations describe another shape). */
type ValidatorBuilder = (externalSchemas: unknown, ajvOptions: unknown) => FastifySchemaCompiler<unknown>;

/**
 * fastify's own validator factory (`@fastify/ajv-compiler`, the one fastify uses when given none), loaded on first
 * use: `createRequire`, so that the px-node bundle leaves it (and ajv) to node_modules until a request needs them.
 */
function loadAjvValidators(): ValidatorBuilder {
  const load = createRequire(import.meta.url);
  const factory = load('@fastify/ajv-compiler') as () => unknown;
  return factory() as ValidatorBuilder;
}

/**
 * fastify's validators, each compiled on its route's first request instead of at start: the same ajv-compiler,
 * options and schemas, only later (compiling every route's schemas took ~37 ms of each px-node start in a profile,
 * loading ajv ~17 ms more; a process that gets no request with parameters or a body never loads ajv at all).
 * `errors` is the compiled one's, as fastify reads it after a failed check.
 */
const lazyValidators: ValidatorBuilder = (externalSchemas, ajvOptions) => {
  let compiler: FastifySchemaCompiler<unknown> | undefined;
  return (route) => {
    let compiled: ValidatorFunction | undefined;
    const validate: ValidatorFunction = (data: unknown) => {
      compiler ??= loadAjvValidators()(externalSchemas, ajvOptions);
      compiled ??= compiler(route);
      const result = compiled(data);
      validate.errors = compiled.errors ?? null;
      return result;
    };
    return validate;
  };
};

/**
 * A fastify instance whose every error — its own included (bad percent-encoding, too-long URLs and parameters,
 * unparsable or empty JSON, a `__proto__` key, unknown routes, parser-level client errors) — answers in the one
 * shape `{ error: { code, message } }` with a code of `API_ERRORS`.
 */
export function createApiApp(logger: boolean): FastifyInstance {
  const app = Fastify({
    logger,
    bodyLimit: BODY_BYTES_MAX,
    routerOptions: { maxParamLength: PARAM_LENGTH_MAX },
    ajv: AJV_OPTIONS,
    // Given a factory, fastify does not load its default (ajv) at start either.
    schemaController: { compilersFactory: { buildValidator: lazyValidators as unknown as ValidatorFactory } },
    // A name that breaks its rule is refused naming the rule (wire/names.ts), not ajv's regular expression.
    schemaErrorFormatter: (failures, where) => new Error(schemaFailureMessage(failures, where)),
    frameworkErrors: (error, request, reply) => {
      replyWithError(error, request, reply);
    },
    clientErrorHandler,
    // Requests that arrive while closing are answered normally (fastify's own 503 has another shape).
    return503OnClosing: false,
  });
  app.addHook('onRequest', async (request, reply) => {
    if (request.url.length > URL_LENGTH_MAX)
      sendError(reply, 'URI_TOO_LONG', `the URL has ${request.url.length} characters; at most ${URL_LENGTH_MAX}`);
  });
  // As openstorage's REST gateway, a route without a body accepts an empty one even when labelled JSON.
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text === '') done(null, undefined);
    else void json(request, text, done); // the default parser answers through `done`, synchronously
  });
  app.setErrorHandler(replyWithError);
  app.setNotFoundHandler(replyNotFound);
  return app;
}

/** Builds the agent's REST and WebSocket API (fastify); tests call `inject()` on it without opening a socket. */
export async function buildApi(agent: AgentApiPort, options: ApiOptions): Promise<FastifyInstance> {
  const app = createApiApp(options.logger ?? false);
  await app.register(websocket, { options: { maxPayload: 4096 } });
  const admin = adminOnly(options.adminToken);
  registerStatusRoutes(app, agent);
  registerDomainRoutes(app, agent, admin);
  registerStorkRoutes(app, agent, admin);
  registerIoRoutes(app, agent);
  if (agent.volumes !== undefined) registerVolumeRoutes(app, agent.volumes, admin);
  const faults = options.faults;
  if (faults !== undefined) registerFaultRoutes(app, faults, () => agent.status().node.ip, admin);
  registerEventsRoute(app, agent);
  if (options.metrics !== undefined) registerMetricsRoute(app, options.metrics);
  return app;
}

/**
 * The app of Portworx's readiness port (9015, `READINESS_PORT`): `GET /health` only, the same answers as on the REST
 * port, and the one error shape for everything else.
 */
export function buildHealthApi(agent: Pick<AgentApiPort, 'status'>): FastifyInstance {
  const app = createApiApp(false);
  registerHealthRoute(app, agent);
  return app;
}
