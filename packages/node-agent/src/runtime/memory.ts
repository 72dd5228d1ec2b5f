import type { Clock } from '@pxsim/runtime';
import type { HeartbeatTransport, PeerAddress } from './types.js';

/**
 * In-process heartbeat delivery on an injected clock: each frame arrives `latencyMs` later through the clock's timers,
 * so a run on a manual or virtual clock is deterministic. Cuts drop frames between two IPs in one direction.
 */
export class MemoryNetwork {
  latencyMs = 1;
  private readonly endpoints = new Map<string, (bytes: Uint8Array) => void>();
  private readonly cuts = new Set<string>();

  constructor(private readonly clock: Clock) {}

  /** A transport for the node that owns `ip`. */
  transport(ip: string): HeartbeatTransport {
    let listening: string | undefined;
    return {
      listen: async (address, onFrame) => {
        const key = `${address.ip}:${address.port}`;
        if (this.endpoints.has(key)) throw new Error(`address in use: ${key}`);
        this.endpoints.set(key, onFrame);
        listening = key;
      },
      send: (to: PeerAddress, bytes: Uint8Array) => {
        if (this.cuts.has(`${ip}>${to.ip}`)) return;
        const copy = new Uint8Array(bytes);
        this.clock.setTimer(this.latencyMs, () => this.endpoints.get(`${to.ip}:${to.port}`)?.(copy));
      },
      close: async () => {
        if (listening !== undefined) this.endpoints.delete(listening);
        listening = undefined;
      },
    };
  }

  cut(fromIps: string[], toIps: string[]): void {
    for (const from of fromIps) for (const to of toIps) this.cuts.add(`${from}>${to}`);
  }

  heal(): void {
    this.cuts.clear();
  }
}
