import type { FastifyInstance } from 'fastify';
import type { AgentEvent, AgentStatus } from '../agent.js';
import type { AgentApiPort } from './port.js';

/** A consumer that lets more than this pile up unread is disconnected (1013) rather than buffered without bound. */
const EVENT_BUFFER_BYTES_MAX = 1024 * 1024;
/** Events held back until the hello is sent (one turn of the event loop); more closes the socket (1013). */
const EVENTS_BEFORE_HELLO_MAX = 1024;

type EventMessage = AgentEvent | { type: 'hello'; status: AgentStatus };

/**
 * `WS /v1/events`: a `hello` with the status at the moment of connecting, then every AgentEvent from that moment on,
 * as JSON (`agentEventMessageSchema`).
 */
export function registerEventsRoute(app: FastifyInstance, agent: AgentApiPort): void {
  app.get('/v1/events', { websocket: true }, (socket) => {
    const write = (message: EventMessage): void => {
      if (socket.bufferedAmount > EVENT_BUFFER_BYTES_MAX) {
        socket.close(1013, 'event consumer too slow');
        return;
      }
      socket.send(JSON.stringify(message));
    };
    const hello: EventMessage = { type: 'hello', status: agent.status() };
    let pending: AgentEvent[] | undefined = [];
    const send = (event: AgentEvent): void => {
      if (pending === undefined) write(event);
      else if (pending.length < EVENTS_BEFORE_HELLO_MAX) pending.push(event);
      else socket.close(1013, 'event consumer too slow');
    };
    let unsubscribe: () => void = () => undefined;
    try {
      unsubscribe = agent.subscribe(send);
    } catch (error) {
      // The agent bounds its listeners; over the bound, this consumer is told so.
      socket.close(1013, error instanceof Error ? error.message : 'busy');
      return;
    }
    // After the upgrade completes, so that a client attaching its listener right away sees the hello first.
    setImmediate(() => {
      const queued = pending ?? [];
      pending = undefined;
      write(hello);
      for (const event of queued) write(event);
    });
    socket.on('close', unsubscribe);
    socket.on('message', () => undefined);
  });
}
