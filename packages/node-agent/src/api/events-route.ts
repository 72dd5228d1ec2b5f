import type { FastifyInstance } from 'fastify';
import type { AgentEvent, AgentStatus } from '../agent.js';
import type { AgentApiPort } from './port.js';

/** A consumer that lets more than this pile up unread is disconnected (1013) rather than buffered without bound. */
const EVENT_BUFFER_BYTES_MAX = 1024 * 1024;

/** `WS /v1/events`: a `hello` with the status, then every AgentEvent as JSON (`agentEventMessageSchema`). */
export function registerEventsRoute(app: FastifyInstance, agent: AgentApiPort): void {
  app.get('/v1/events', { websocket: true }, (socket) => {
    const send = (event: AgentEvent | { type: 'hello'; status: AgentStatus }): void => {
      if (socket.bufferedAmount > EVENT_BUFFER_BYTES_MAX) {
        socket.close(1013, 'event consumer too slow');
        return;
      }
      socket.send(JSON.stringify(event));
    };
    let unsubscribe: () => void = () => undefined;
    try {
      unsubscribe = agent.subscribe(send);
    } catch (error) {
      // The agent bounds its listeners; over the bound, this consumer is told so.
      socket.close(1013, error instanceof Error ? error.message : 'busy');
      return;
    }
    // After the upgrade completes, so that a client attaching its listener right away sees it.
    setImmediate(() => send({ type: 'hello', status: agent.status() }));
    socket.on('close', unsubscribe);
    socket.on('message', () => undefined);
  });
}
