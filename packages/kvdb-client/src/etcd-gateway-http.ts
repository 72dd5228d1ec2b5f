import { Agent, request, type ClientRequest, type IncomingMessage } from 'node:http';
import type { Clock } from '@pxsim/runtime';
import { MalformedAnswerError } from './etcd-gateway-wire.js';

/** Largest answer (or watch message) read from etcd; a bigger one is refused, not buffered. */
export const GATEWAY_ANSWER_BYTES_MAX = 64 * 1024 * 1024;

/** Connection failures that prove the request was never sent: the next host may be tried, a write is not applied. */
const CONNECT_FAILURES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'EAI_AGAIN',
]);

/** The request never left this process (no connection to any host): nothing was applied. */
export class NotSentError extends Error {
  override readonly name = 'NotSentError';
}

export interface GatewayAnswer {
  status: number;
  /** The decoded JSON body; undefined when a failure status came with a body that is not JSON. */
  body: unknown;
}

interface Target {
  host: string;
  port: number;
  label: string;
}

/** `HOST:PORT`, `[V6]:PORT` or `http://HOST:PORT` as what `http.request` takes. */
export function parseTarget(endpoint: string): Target {
  const url = new URL(endpoint.includes('://') ? endpoint : `http://${endpoint}`);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = Number(url.port || 80);
  return { host, port, label: `${url.hostname}:${port}` };
}

function readAll(response: IncomingMessage, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    response.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > GATEWAY_ANSWER_BYTES_MAX) {
        response.destroy(new MalformedAnswerError(`${what}: answer larger than ${GATEWAY_ANSWER_BYTES_MAX} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    response.on('end', () => resolve(Buffer.concat(chunks).toString()));
    response.on('error', reject);
    response.on('aborted', () => reject(new Error(`${what}: the answer was cut off`)));
  });
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new MalformedAnswerError(`${what}: the etcd gateway answered malformed JSON (${String(error)})`);
  }
}

/** Tracks whether the request's socket ever connected, so a failure can be told "never sent" from "in doubt". */
function connectedFlag(req: ClientRequest): () => boolean {
  let connected = false;
  req.on('socket', (socket) => {
    if (socket.connecting) socket.once('connect', () => (connected = true));
    else connected = true;
  });
  return () => connected;
}

function asNotSent(error: unknown, connected: boolean, label: string): unknown {
  const code = error instanceof Error && 'code' in error ? String(error.code) : '';
  if (!connected && CONNECT_FAILURES.has(code)) return new NotSentError(`cannot connect to etcd at ${label}: ${code}`);
  return error;
}

/**
 * JSON over HTTP/1.1 to etcd's gateway with one keep-alive agent (at most `SOCKETS_MAX` connections per host). A
 * unary call tries each host at most once, moving on only when the connection was refused (nothing sent); every call
 * has a deadline on the injected clock.
 */
export class GatewayHttp {
  private static readonly SOCKETS_MAX = 8;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: GatewayHttp.SOCKETS_MAX, scheduling: 'lifo' });
  private readonly targets: Target[];
  private current = 0;

  constructor(
    hosts: readonly string[],
    private readonly clock: Clock,
  ) {
    this.targets = hosts.map(parseTarget);
  }

  async post(path: string, payload: unknown, timeoutMs: number): Promise<GatewayAnswer> {
    let lastError: unknown;
    for (let attempt = 0; attempt < this.targets.length; attempt++) {
      const index = (this.current + attempt) % this.targets.length;
      try {
        const answer = await this.postTo(this.targets[index] as Target, path, payload, timeoutMs);
        this.current = index;
        return answer;
      } catch (error) {
        if (!(error instanceof NotSentError)) throw error;
        lastError = error;
      }
    }
    throw lastError;
  }

  private postTo(target: Target, path: string, payload: unknown, timeoutMs: number): Promise<GatewayAnswer> {
    return new Promise((resolve, reject) => {
      const body = JSON.stringify(payload);
      const what = `POST ${target.label}${path}`;
      const req = request(
        { host: target.host, port: target.port, path, method: 'POST', agent: this.agent, headers: jsonHeaders(body) },
        (response) => {
          readAll(response, what).then((text) => {
            timer.cancel();
            const status = response.statusCode ?? 0;
            if (status === 200) {
              try {
                resolve({ status, body: parseJson(text, what) });
              } catch (error) {
                reject(error instanceof Error ? error : new Error(String(error)));
              }
              return;
            }
            let decoded: unknown;
            try {
              decoded = JSON.parse(text) as unknown;
            } catch {
              decoded = undefined;
            }
            resolve({ status, body: decoded });
          }, fail);
        },
      );
      const connected = connectedFlag(req);
      const timer = this.clock.setTimer(timeoutMs, () =>
        req.destroy(new Error(`${what}: no answer within ${timeoutMs} ms`)),
      );
      function fail(error: unknown): void {
        timer.cancel();
        const mapped = asNotSent(error, connected(), target.label);
        reject(mapped instanceof Error ? mapped : new Error(String(mapped)));
      }
      req.on('error', fail);
      req.end(body);
    });
  }

  /**
   * Opens a streamed call (the watch): `onMessage` gets each newline-delimited JSON message, `onEnd` once when the
   * stream ends for any reason other than `close()`. Until the answer's head arrives the call has the deadline of a
   * unary call; then it may stay quiet for as long as nothing changes.
   */
  openStream(
    path: string,
    payload: unknown,
    timeoutMs: number,
    handlers: { onMessage: (value: unknown) => void; onEnd: (error: Error) => void },
  ): { close: () => void } {
    const target = this.targets[this.current] as Target;
    this.current = (this.current + 1) % this.targets.length;
    const what = `stream ${target.label}${path}`;
    const body = JSON.stringify(payload);
    let ended = false;
    const end = (error: Error): void => {
      if (ended) return;
      ended = true;
      timer.cancel();
      req.destroy();
      handlers.onEnd(error);
    };
    const req = request(
      { host: target.host, port: target.port, path, method: 'POST', agent: false, headers: jsonHeaders(body) },
      (response) => {
        timer.cancel();
        if (response.statusCode !== 200) {
          end(new Error(`${what}: HTTP ${String(response.statusCode)}`));
          return;
        }
        readLines(response, what, handlers.onMessage, end, () => ended);
      },
    );
    const timer = this.clock.setTimer(timeoutMs, () => end(new Error(`${what}: no answer within ${timeoutMs} ms`)));
    req.on('error', (error) => end(error));
    req.end(body);
    return {
      close: () => {
        ended = true;
        timer.cancel();
        req.destroy();
      },
    };
  }

  close(): void {
    this.agent.destroy();
  }
}

function jsonHeaders(body: string): Record<string, string | number> {
  return { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
}

/** Splits a response into newline-delimited JSON messages; a line over the bound or not JSON ends the stream. */
function readLines(
  response: IncomingMessage,
  what: string,
  onMessage: (value: unknown) => void,
  end: (error: Error) => void,
  isEnded: () => boolean,
): void {
  let pending = '';
  response.setEncoding('utf8');
  response.on('data', (chunk: string) => {
    pending += chunk;
    let newline = pending.indexOf('\n');
    while (newline >= 0 && !isEnded()) {
      const line = pending.slice(0, newline).trim();
      pending = pending.slice(newline + 1);
      if (line !== '') {
        let value: unknown;
        try {
          value = parseJson(line, what);
        } catch (error) {
          end(error instanceof Error ? error : new Error(String(error)));
          return;
        }
        onMessage(value);
      }
      newline = pending.indexOf('\n');
    }
    if (pending.length > GATEWAY_ANSWER_BYTES_MAX) {
      end(new MalformedAnswerError(`${what}: a message longer than ${GATEWAY_ANSWER_BYTES_MAX} bytes`));
    }
  });
  response.on('end', () => end(new Error(`${what}: the stream ended`)));
  response.on('error', (error) => end(error));
  response.on('aborted', () => end(new Error(`${what}: the stream was cut off`)));
}
