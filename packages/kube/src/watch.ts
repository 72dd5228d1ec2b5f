import type { FastifyReply, FastifyRequest } from 'fastify';
import { KubeError } from './errors.js';
import type { KubeObject } from './objects.js';
import { fieldSelector, labelSelector } from './selectors.js';
import type { ObjectStore } from './store.js';
import type { ResourceType } from './resources.js';
import { tableOf, wantsTable } from './table.js';
import type { Clock } from '@pxsim/runtime';

/** A watch ends on its own after this long (the apiserver's default is a random 30–60 min; clients re-watch). */
const WATCH_MAX_SECONDS = 1800;

interface WatchTarget {
  type: ResourceType;
  namespace: string | undefined;
}

/**
 * `GET …?watch=true`: a chunked stream of `{"type":"ADDED|MODIFIED|DELETED","object":…}` lines, one per change, from
 * `resourceVersion` on (none or "0": every existing object as ADDED first, then the changes). Tables when asked for
 * (kubectl `get -w`). Ends after `timeoutSeconds`, when the client goes, or with an ERROR event if the kvdb ends it.
 */
export async function serveWatch(
  options: { store: ObjectStore; clock: Clock },
  request: FastifyRequest,
  reply: FastifyReply,
  target: WatchTarget,
): Promise<void> {
  const query = request.query as Record<string, string | undefined>;
  const labels = labelSelector(query['labelSelector']);
  const fields = fieldSelector(query['fieldSelector'], target.type.kind);
  const given = query['resourceVersion'];
  if (given !== undefined && given !== '' && !/^\d+$/.test(given)) {
    throw new KubeError('BadRequest', `invalid resourceVersion ${JSON.stringify(given)}`);
  }
  const table = wantsTable(request.headers.accept);
  const render = (object: KubeObject): unknown =>
    table
      ? tableOf(target.type, [object], object.metadata.resourceVersion ?? '', options.clock.nowMs(), 'Metadata')
      : object;
  let from = Number(given ?? '0') + 1;
  const initial: KubeObject[] = [];
  if (given === undefined || given === '' || given === '0') {
    const list = await options.store.list(target.type, target.namespace);
    initial.push(...list.items);
    from = list.revision + 1;
  }
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
  const write = (type: string, object: unknown): void => {
    raw.write(`${JSON.stringify({ type, object })}\n`);
  };
  for (const object of initial) if (labels(object) && fields(object)) write('ADDED', render(object));
  let cancel = (): void => undefined;
  const finish = (): void => {
    cancel();
    timer.cancel();
    if (!raw.writableEnded) raw.end();
  };
  const seconds = Math.min(
    Number(query['timeoutSeconds'] ?? WATCH_MAX_SECONDS) || WATCH_MAX_SECONDS,
    WATCH_MAX_SECONDS,
  );
  const timer = options.clock.setTimer(seconds * 1000, finish);
  cancel = options.store.watch(
    target.type,
    target.namespace,
    from,
    (event) => {
      if (labels(event.object) && fields(event.object)) write(event.type, render(event.object));
    },
    (reason) => {
      const status = new KubeError('InternalError', `watch ended: ${reason}`).toStatus();
      write('ERROR', status);
      finish();
    },
  );
  request.raw.on('close', finish);
}
