import type { AcceptedFrames, DecodeResult, HeartbeatFrame } from '../wire/frames.js';

/** Which counter a received frame moves; an accepted frame also carries the heartbeat the engine is told of. */
export type FrameVerdict =
  | { counter: 'framesDropped' | 'framesFromOtherClusters' | 'framesUnauthenticated'; frame?: undefined }
  | { counter: 'framesReceived'; frame: HeartbeatFrame };

/** What the filter asks of the receiving core (the core itself: no object is made per frame). */
export interface FrameFilterContext {
  readonly clusterId: string;
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
  if (!decoded.ok) return { counter: 'framesDropped' };
  const frame = decoded.frame;
  if (frame.clusterId !== context.clusterId) return { counter: 'framesFromOtherClusters' };
  if (frame.nodeId === context.nodeId || !context.listening(atMs)) return { counter: 'framesDropped' };
  if (!decoded.authentic || !context.accepted.isNew(frame)) return { counter: 'framesUnauthenticated' };
  return { counter: 'framesReceived', frame };
}
