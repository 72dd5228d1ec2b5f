import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { WebSocket, WebSocketServer } from 'ws';
import { createKvdb } from '@pxsim/kvdb-client';
import { LinkFaults, realClock, type Clock } from '@pxsim/runtime';
import type { LogLevelSetting } from '../config.js';
import { FRAME_BYTES_MAX } from '../wire/frames.js';
import { REPLICATION_FRAME_BYTES_MAX } from '../wire/replication.js';
import { FileBlockStore } from './file-blocks.js';
import { faultyKvdb, faultyTransport } from './faults.js';
import type { AgentRuntime, HeartbeatTransport, IdentityStore, NodeIdentity, PeerAddress } from './types.js';

/** Keeps the node identity in `<dataDir>/node.json`, written atomically. */
export function fileIdentityStore(dataDir: string): IdentityStore {
  const path = join(dataDir, 'node.json');
  return {
    load() {
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch {
        return undefined;
      }
      const value: unknown = JSON.parse(text);
      if (
        typeof value !== 'object' ||
        value === null ||
        typeof (value as Record<string, unknown>)['nodeId'] !== 'string' ||
        typeof (value as Record<string, unknown>)['clusterId'] !== 'string'
      ) {
        throw new Error(`${path} is not a node identity file ({"nodeId", "clusterId"})`);
      }
      const record = value as Record<string, unknown>;
      const identity: NodeIdentity = { nodeId: String(record['nodeId']), clusterId: String(record['clusterId']) };
      for (const field of ['clusterDomain', 'clusterUuid'] as const) {
        const fieldValue = record[field];
        if (fieldValue === undefined) continue;
        if (typeof fieldValue !== 'string') throw new Error(`${path}: ${field} must be a string`);
        identity[field] = fieldValue;
      }
      return identity;
    },
    save(identity: NodeIdentity) {
      mkdirSync(dataDir, { recursive: true });
      writeFileSync(`${path}.tmp`, `${JSON.stringify(identity)}\n`);
      renameSync(`${path}.tmp`, path);
    },
  };
}

/** Connections to peers are kept per address and retried with a bounded backoff. */
const SEND_QUEUE_MAX = 4;
const RECONNECT_DELAY_MS_MAX = 2000;

interface PeerConnection {
  socket: WebSocket | undefined;
  queue: Uint8Array[];
  nextAttemptMs: number;
  delayMs: number;
}

/** A channel of WebSocket frames: its URL path and the largest frame it takes. */
export interface ChannelOptions {
  path: string;
  maxPayloadBytes: number;
}

export const HEARTBEAT_CHANNEL: ChannelOptions = { path: '/heartbeat', maxPayloadBytes: FRAME_BYTES_MAX * 4 };
/** Volume replication: a block of 4 KiB with its header, or a digest of 1,024 entries. */
export const REPLICATION_CHANNEL: ChannelOptions = {
  path: '/replication',
  maxPayloadBytes: REPLICATION_FRAME_BYTES_MAX,
};

/** Frames over WebSocket: a server on the channel's port, one client connection per peer. */
export class WebSocketTransport implements HeartbeatTransport {
  private server: WebSocketServer | undefined;
  private readonly peers = new Map<string, PeerConnection>();
  private closed = false;

  constructor(
    private readonly clock: Clock = realClock,
    private readonly channel: ChannelOptions = HEARTBEAT_CHANNEL,
  ) {}

  async listen(address: PeerAddress, onFrame: (bytes: Uint8Array) => void): Promise<void> {
    const server = new WebSocketServer({
      host: address.ip,
      port: address.port,
      maxPayload: this.channel.maxPayloadBytes,
      path: this.channel.path,
    });
    this.server = server;
    server.on('connection', (socket) => {
      socket.on('message', (data, isBinary) => {
        if (!isBinary) return;
        const bytes = Array.isArray(data)
          ? Buffer.concat(data)
          : data instanceof ArrayBuffer
            ? new Uint8Array(data)
            : data;
        onFrame(bytes);
      });
      socket.on('error', () => socket.terminate());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
  }

  send(to: PeerAddress, bytes: Uint8Array): void {
    if (this.closed) return;
    const key = `${to.ip}:${to.port}`;
    let peer = this.peers.get(key);
    if (peer === undefined) {
      peer = { socket: undefined, queue: [], nextAttemptMs: 0, delayMs: 100 };
      this.peers.set(key, peer);
    }
    const socket = peer.socket;
    if (socket !== undefined && socket.readyState === WebSocket.OPEN) {
      socket.send(bytes, { binary: true });
      return;
    }
    if (peer.queue.length < SEND_QUEUE_MAX) peer.queue.push(bytes);
    if (socket === undefined && this.clock.nowMs() >= peer.nextAttemptMs) this.connect(key, peer, to);
  }

  private connect(key: string, peer: PeerConnection, to: PeerAddress): void {
    const socket = new WebSocket(`ws://${to.ip}:${to.port}${this.channel.path}`, { handshakeTimeout: 1000 });
    peer.socket = socket;
    socket.on('open', () => {
      peer.delayMs = 100;
      for (const bytes of peer.queue.splice(0)) socket.send(bytes, { binary: true });
    });
    const drop = (): void => {
      if (peer.socket !== socket) return;
      peer.socket = undefined;
      peer.queue.length = 0;
      peer.nextAttemptMs = this.clock.nowMs() + peer.delayMs;
      peer.delayMs = Math.min(RECONNECT_DELAY_MS_MAX, peer.delayMs * 2);
    };
    socket.on('error', drop);
    socket.on('close', drop);
    socket.on('message', () => socket.terminate()); // peers never answer on this channel
    void key;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const peer of this.peers.values()) peer.socket?.terminate();
    this.peers.clear();
    const server = this.server;
    if (server === undefined) return;
    for (const client of server.clients) client.terminate();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/**
 * px-node's logger (pino, as fastify uses): one JSON object per line on stderr, with `level` ("info", …), `time`
 * (ISO 8601), the node's `ip` and `msg`. Written synchronously, so a line logged just before exit is not lost.
 */
export function stderrLogger(level: LogLevelSetting, ownIp: string): Logger {
  return pino(
    {
      level,
      base: { ip: ownIp },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    pino.destination({ fd: 2, sync: true }),
  );
}

export interface RealRuntimeOptions {
  /** Lines below this level are dropped (default info). */
  logLevel?: LogLevelSetting;
  /** Where lines go instead of stderr (tests). */
  logger?: Logger;
}

/**
 * The runtime of a real px-node process: wall clock, Math.random, WebSockets, files, etcd, and the stderr logger.
 * Heartbeats and kvdb calls pass through a fault layer that is empty unless an admin injects faults
 * (POST /v1/debug/faults).
 */
export function realRuntime(dataDir: string, ownIp: string, options: RealRuntimeOptions = {}): AgentRuntime {
  const faults = new LinkFaults();
  const logger = options.logger ?? stderrLogger(options.logLevel ?? 'info', ownIp);
  return {
    clock: realClock,
    random: Math.random,
    transport: faultyTransport(new WebSocketTransport(realClock), ownIp, faults, realClock, Math.random),
    replicationTransport: faultyTransport(
      new WebSocketTransport(realClock, REPLICATION_CHANNEL),
      ownIp,
      faults,
      realClock,
      Math.random,
    ),
    blocks: new FileBlockStore(join(dataDir, 'blocks')),
    identity: fileIdentityStore(dataDir),
    openKvdb: (endpoints, namespace) =>
      faultyKvdb(createKvdb(endpoints, { namespace, clock: realClock }), ownIp, faults, realClock),
    log: (level, message) => logger[level](message),
    faults,
  };
}
