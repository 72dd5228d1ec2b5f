import { LinkFaults, type NetworkFault, type Scheduler } from '@pxsim/runtime';
import type { HeartbeatTransport, PeerAddress } from '@pxsim/node-agent';
import type { NodeClock } from './node-clock.js';

/** Where the network delivers a node's frames: its clock (crashed, paused or running) and its transport's listener. */
export interface Endpoint {
  clock: NodeClock | undefined;
  onFrame: ((bytes: Uint8Array) => void) | undefined;
  /** The replication port's listener (volume replication goes through the same link faults as heartbeats). */
  onReplication?: ((bytes: Uint8Array) => void) | undefined;
}

/** Which of a node's ports a frame is for: only heartbeats count as "heard from" for the checkers. */
export type Channel = 'heartbeat' | 'replication';

interface Frame {
  channel: Channel;
  from: string;
  to: string;
  sentAtMs: number;
  bytes: Uint8Array;
}

/** A node took a frame (the checkers' "heard from" facts): receiver, sender, when the frame was sent. */
export type DeliveryListener = (to: string, from: string, sentAtMs: number) => void;

/**
 * The virtual network between the agents, and the delay of each agent's kvdb link: the link faults in force (cuts,
 * latency with jitter, loss, duplication, kvdb cuts) applied to every frame, one seeded random stream for all draws.
 */
export class SimNetwork {
  readonly faults = new LinkFaults();
  framesSent = 0;
  /** Bytes of the heartbeat frames sent, each destination counted (benchmarks: bytes per node per second). */
  heartbeatBytesSent = 0;
  framesDropped = 0;
  /** Latency above the metro limit is refused unless this is set (to show what the limit protects against). */
  allowLatencyOverMetroLimit = false;
  /**
   * The delivery event last set, while it may still take more frames: one sent for the same instant with no other
   * timer set in between joins it. Private to `send`.
   */
  private deliveryBatch: { atMs: number; timersSet: number; frames: Frame[] } | undefined;
  /** Told of every frame a node takes (when it takes it: a paused node's on resume). */
  onDelivered: DeliveryListener = () => undefined;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly random: () => number,
    private readonly baseLatencyMs: number,
    private readonly endpoints: ReadonlyMap<string, Endpoint>,
  ) {
    this.faults.addLatency({ ms: baseLatencyMs, jitterMs: 0 });
  }

  /** Applies a network fault (targets resolved to IPs); `heal` keeps the base latency. */
  apply(fault: NetworkFault): void {
    this.faults.apply(fault, { allowOverMetroLimit: this.allowLatencyOverMetroLimit });
    if (fault.kind === 'heal') this.faults.addLatency({ ms: this.baseLatencyMs, jitterMs: 0 });
  }

  transport(ip: string, endpoint: Endpoint, channel: Channel = 'heartbeat'): HeartbeatTransport {
    let listener: ((bytes: Uint8Array) => void) | undefined;
    return {
      listen: async (_address: PeerAddress, onFrame) => {
        listener = onFrame;
        if (channel === 'heartbeat') endpoint.onFrame = onFrame;
        else endpoint.onReplication = onFrame;
      },
      send: (to, bytes) => this.send(ip, to, bytes, channel),
      // Only its own listener: a crashed process's late close must not silence its successor's.
      close: async () => {
        if (channel === 'heartbeat' && endpoint.onFrame === listener) endpoint.onFrame = undefined;
        if (channel === 'replication' && endpoint.onReplication === listener) endpoint.onReplication = undefined;
      },
    };
  }

  /** One-way delay of a kvdb request or answer of `ip`: the link latency plus the faults' delay on the kvdb link. */
  kvdbDelayMs(ip: string, kvdbLatencyMs: number, random: () => number): () => number {
    return () => kvdbLatencyMs + (this.faults.delivery(ip, 'kvdb', random) ?? 0);
  }

  private send(fromIp: string, to: PeerAddress, bytes: Uint8Array, channel: Channel): void {
    if (channel === 'heartbeat') {
      this.framesSent += 1;
      this.heartbeatBytesSent += bytes.length;
    }
    const duplicatePercent = this.faults.duplicatePercent;
    const copies = duplicatePercent > 0 && this.random() * 100 < duplicatePercent ? 2 : 1;
    for (let copy = 0; copy < copies; copy++) {
      const delayMs = this.faults.delivery(fromIp, to.ip, this.random);
      if (delayMs === undefined) {
        this.framesDropped += 1;
        continue;
      }
      const atMs = this.scheduler.nowMs() + delayMs;
      const batch = this.deliveryBatch;
      // Frames sent one after another for the same instant (a heartbeat to every peer): one event delivers them in
      // the order sent, exactly as one event each would, since no other timer was set in between.
      if (batch !== undefined && batch.atMs === atMs && batch.timersSet === this.scheduler.timersSet) {
        batch.frames.push({ channel, from: fromIp, to: to.ip, sentAtMs: this.scheduler.nowMs(), bytes });
        continue;
      }
      const frames: Frame[] = [{ channel, from: fromIp, to: to.ip, sentAtMs: this.scheduler.nowMs(), bytes }];
      this.scheduler.setTimer(delayMs, () => this.deliver(frames));
      this.deliveryBatch = { atMs, timersSet: this.scheduler.timersSet, frames };
    }
  }

  private deliver(frames: readonly Frame[]): void {
    for (const frame of frames) {
      const target = this.endpoints.get(frame.to);
      const clock = target?.clock;
      if (target === undefined || clock === undefined) continue;
      if (frame.channel === 'replication') {
        if (target.onReplication === undefined) continue;
        clock.run(() => target.onReplication?.(frame.bytes));
        continue;
      }
      if (target.onFrame === undefined) continue;
      const { from, to, sentAtMs, bytes } = frame;
      if (clock.running) {
        this.onDelivered(to, from, sentAtMs);
        target.onFrame(bytes);
      } else {
        clock.run(() => {
          if (target.onFrame === undefined) return;
          this.onDelivered(to, from, sentAtMs);
          target.onFrame(bytes);
        });
      }
    }
  }
}
