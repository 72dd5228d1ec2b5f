import type { AcceptedFrames, DecodeResult, HeartbeatFrame } from '../wire/frames.js';

/** Which counter a received frame moves; an accepted frame also carries the heartbeat the engine is told of. */
export type FrameVerdict =
  | { counter: 'framesDropped' | 'framesFromOtherClusters' | 'framesUnauthenticated'; frame?: undefined }
  | { counter: 'framesReceived'; frame: HeartbeatFrame };

export interface FrameFilterContext {
  clusterId: string;
  selfId: string;
  /** Running, and not draining frames queued during a pause. */
  listening: () => boolean;
  accepted: AcceptedFrames;
}

/**
 * The rules a received heartbeat frame passes, in order: well-formed, of this cluster, from another node while this
 * one listens, authentic and not a replay (the replay window is updated only for an authentic frame).
 */
export function frameVerdict(decoded: DecodeResult, context: FrameFilterContext): FrameVerdict {
  if (!decoded.ok) return { counter: 'framesDropped' };
  const frame = decoded.frame;
  if (frame.clusterId !== context.clusterId) return { counter: 'framesFromOtherClusters' };
  if (frame.nodeId === context.selfId || !context.listening()) return { counter: 'framesDropped' };
  if (!decoded.authentic || !context.accepted.isNew(frame)) return { counter: 'framesUnauthenticated' };
  return { counter: 'framesReceived', frame };
}
