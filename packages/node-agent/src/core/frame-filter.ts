import type { GossipState } from '@pxsim/quorum';
import type { AcceptedFrames, DecodeResult, HeartbeatFrame } from '../wire/frames.js';

/**
 * An accepted frame (it moves the `framesReceived` counter and its heartbeat goes to the engine), or the counter a
 * refused frame moves. No object is made per frame: frames are most of what an agent receives.
 */
export type FrameVerdict = HeartbeatFrame | 'framesDropped' | 'framesFromOtherClusters' | 'framesUnauthenticated';

/** What the filter asks of the receiving core (the core itself: no object is made per frame). */
export interface FrameFilterContext {
  /** `clusterTagOf` the cluster's ID. */
  readonly clusterTag: string;
  readonly nodeId: string;
  /** Running, and not draining frames queued during a pause. */
  listening(atMs: number): boolean;
  readonly accepted: AcceptedFrames;
}

/**
 * The rules a received heartbeat frame passes, in order: well-formed, of this cluster, from another node while this
 * one listens, authentic and not a replay (the replay window is updated only for an authentic frame).
 */
export function frameVerdict(decoded: DecodeResult, context: FrameFilterContext, atMs: number): FrameVerdict {
  if (!decoded.ok) return 'framesDropped';
  const frame = decoded.frame;
  if (frame.clusterTag !== context.clusterTag) return 'framesFromOtherClusters';
  if (frame.nodeId === context.nodeId || !context.listening(atMs)) return 'framesDropped';
  if (!decoded.authentic || !context.accepted.isNew(frame)) return 'framesUnauthenticated';
  return frame;
}

/** The frame a node sends about itself (a state its peers can hear: UP, suspecting, or not in quorum). */
export function outgoingFrame(
  clusterTag: string,
  nodeId: string,
  generation: number,
  sequence: number,
  sentAtMs: number,
  gossipState: GossipState,
): HeartbeatFrame {
  const state = gossipState === 'UP' || gossipState === 'SUSPECT_NOT_IN_QUORUM' ? gossipState : 'NOT_IN_QUORUM';
  return { v: 2, clusterTag, nodeId, generation, sequence, sentAtMs, state };
}
