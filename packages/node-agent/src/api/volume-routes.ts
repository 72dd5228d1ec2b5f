import type { FastifyInstance, FastifyReply } from 'fastify';
import type { OpResult, VolumeView } from '@pxsim/storage';
import { VolumeError, type VolumeShell } from '../shell/volumes.js';
import { OBJECT_NAME_RULE, nameJsonSchema } from '../wire/names.js';
import type { PreHandler } from './auth.js';
import { kvdbFailure } from './domain-routes.js';
import { API_ERRORS, errorBody, sendError, type ApiErrorCode } from './errors.js';

/** Block data travels as base64 in JSON: 4096 bytes are 5,464 characters, under the API's 16 KiB body limit. */
const BASE64_CHARS_MAX = 5464;

const volumeParams = {
  type: 'object',
  required: ['volume'],
  properties: { volume: { type: 'string', minLength: 1, maxLength: 253 } },
} as const;
const blockParams = {
  type: 'object',
  required: ['volume', 'block'],
  properties: {
    volume: { type: 'string', minLength: 1, maxLength: 253 },
    block: { type: 'string', pattern: '^[0-9]{1,12}$' },
  },
} as const;

/** A volume as the API shows it, after `pxctl --json volume list` where it can (see the README). */
export function volumeJson(view: VolumeView): Record<string, unknown> {
  const { record } = view;
  return {
    id: record.id,
    locator: { name: record.name, volume_labels: record.labels },
    ctime: record.createdAtMs,
    spec: { size: String(record.sizeBytes), ha_level: String(record.haLevel), block_size: '4096' },
    usage: String(view.usedBytes),
    status: view.replicationStatus === 'Not in quorum' ? 'down' : 'up',
    state: record.attachedOn === undefined ? 'detached' : 'attached',
    attached_on: record.attachedOn ?? '',
    attach_epoch: record.attachEpoch,
    replica_sets: [{ nodes: record.createSet }],
    runtime_state: [
      {
        runtime_state: {
          ReplicaSetCreateMid: record.createSet.join(','),
          ReplicaSetCurrMid: record.currentSet.join(','),
        },
      },
    ],
    replication_status: view.replicationStatus,
    replicas: view.replicas.map((replica) => ({
      node: replica.nodeId,
      in_current_set: replica.inCurrentSet,
      state: replica.state,
    })),
    io: {
      reads: view.io.reads,
      writes: view.io.writes,
      bytes_read: view.io.bytesRead,
      bytes_written: view.io.bytesWritten,
      in_progress: view.io.inProgress,
    },
  };
}

function codeOf(code: string): ApiErrorCode {
  return code in API_ERRORS ? (code as ApiErrorCode) : 'INTERNAL';
}

/** A failed operation: its code's status, and whether it may still take effect (`outcome: unknown`). */
function sendOutcome(reply: FastifyReply, result: Extract<OpResult, { ok: false }>): FastifyReply {
  const code = codeOf(result.code);
  const body = errorBody(code, result.reason);
  return reply.code(API_ERRORS[code].statusCode).send({ error: { ...body.error, outcome: result.outcome } });
}

function answer(start: (done: (result: OpResult) => void) => void): Promise<OpResult> {
  return new Promise((resolve) => start(resolve));
}

/**
 * Volumes: `POST /v1/volumes` (admin) creates one (placement over this node's view), `GET /v1/volumes[/:volume]`
 * lists or inspects, `DELETE /v1/volumes/:volume` (admin) deletes a detached one, `POST .../attach|detach` (admin)
 * on the node that becomes (or was) the coordinator, `PUT|GET .../blocks/:block` writes or reads one block (data in
 * base64). An I/O error carries `outcome`: `failed` (it took no effect) or `unknown` (it may yet).
 */
export function registerVolumeRoutes(app: FastifyInstance, volumes: VolumeShell, admin: PreHandler): void {
  app.get('/v1/volumes', async () => ({ volumes: volumes.list().map(volumeJson) }));
  app.get<{ Params: { volume: string } }>(
    '/v1/volumes/:volume',
    { schema: { params: volumeParams } },
    async (request, reply) => {
      const view = volumes.inspect(request.params.volume);
      return view === undefined
        ? sendError(reply, 'VOLUME_NOT_FOUND', `no volume ${request.params.volume}`)
        : volumeJson(view);
    },
  );
  registerVolumeCommands(app, volumes, admin);
  registerBlockRoutes(app, volumes);
}

function registerVolumeCommands(app: FastifyInstance, volumes: VolumeShell, admin: PreHandler): void {
  app.post<{ Body: { name: string; size?: number; repl?: number; nodes?: string[]; labels?: Record<string, string> } }>(
    '/v1/volumes',
    {
      preHandler: admin,
      schema: {
        body: {
          type: 'object',
          required: ['name'],
          additionalProperties: false,
          properties: {
            name: nameJsonSchema(OBJECT_NAME_RULE),
            size: { type: 'integer' },
            repl: { type: 'integer' },
            nodes: { type: 'array', maxItems: 3, items: { type: 'string', minLength: 1, maxLength: 64 } },
            labels: { type: 'object', additionalProperties: { type: 'string', maxLength: 253 } },
          },
        },
      },
    },
    async (request, reply) => {
      const { name, size = 1, repl = 1, nodes, labels } = request.body;
      try {
        const view = await volumes.create({
          name,
          sizeGiB: size,
          haLevel: repl,
          ...(nodes === undefined ? {} : { nodes }),
          ...(labels === undefined ? {} : { labels }),
        });
        return reply.code(201).send(volumeJson(view));
      } catch (error) {
        if (error instanceof VolumeError) return sendError(reply, codeOf(error.code), error.message);
        return kvdbFailure(reply, error);
      }
    },
  );
  app.delete<{ Params: { volume: string } }>(
    '/v1/volumes/:volume',
    { preHandler: admin, schema: { params: volumeParams } },
    async (request, reply) => {
      try {
        await volumes.delete(request.params.volume);
        return { deleted: request.params.volume };
      } catch (error) {
        if (error instanceof VolumeError) return sendError(reply, codeOf(error.code), error.message);
        return kvdbFailure(reply, error);
      }
    },
  );
  for (const action of ['attach', 'detach'] as const) {
    app.post<{ Params: { volume: string } }>(
      `/v1/volumes/:volume/${action}`,
      { preHandler: admin, schema: { params: volumeParams } },
      async (request, reply) => {
        const volume = request.params.volume;
        const result = await answer((done) =>
          action === 'attach' ? volumes.attach(volume, done) : volumes.detach(volume, done),
        );
        if (!result.ok) return sendOutcome(reply, result);
        const view = volumes.inspect(volume);
        return view === undefined ? { [action]: volume } : volumeJson(view);
      },
    );
  }
}

function registerBlockRoutes(app: FastifyInstance, volumes: VolumeShell): void {
  app.put<{ Params: { volume: string; block: string }; Body: { data: string } }>(
    '/v1/volumes/:volume/blocks/:block',
    {
      schema: {
        params: blockParams,
        body: {
          type: 'object',
          required: ['data'],
          additionalProperties: false,
          properties: { data: { type: 'string', maxLength: BASE64_CHARS_MAX, pattern: '^[A-Za-z0-9+/]*={0,2}$' } },
        },
      },
    },
    async (request, reply) => {
      const { volume } = request.params;
      const block = Number(request.params.block);
      const payload = Buffer.from(request.body.data, 'base64');
      const result = await answer((done) => volumes.write(volume, block, payload, done));
      if (!result.ok) return sendOutcome(reply, result);
      return { acknowledged: true, version: result.version };
    },
  );
  app.get<{ Params: { volume: string; block: string } }>(
    '/v1/volumes/:volume/blocks/:block',
    { schema: { params: blockParams } },
    async (request, reply) => {
      const { volume } = request.params;
      const block = Number(request.params.block);
      const result = await answer((done) => volumes.read(volume, block, done));
      if (!result.ok) return sendOutcome(reply, result);
      return {
        block,
        data: Buffer.from(result.payload ?? new Uint8Array(0)).toString('base64'),
        version: result.version,
      };
    },
  );
}
