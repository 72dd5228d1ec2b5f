export {
  describeFault,
  eventText,
  historyLine,
  CHECK_NAMES,
  type CheckName,
  type CheckEvent,
  type FaultEvent,
  type Finding,
  type HistoryEvent,
  type OperatorEvent,
  type StateEvent,
  type Violation,
} from './history.js';
export { SafetyWatch, ViolationLog, type SafetyBoundsMs } from './watch.js';
export { HearingLog } from './hearing.js';
export { checkSplitBrain, type DomainNode, type SplitBrainInput, type SplitBrainRule } from './s1-split-brain.js';
export { checkInactiveFenced } from './s2-inactive-fenced.js';
export { checkWriteAcknowledgement } from './s3-write-ack.js';
export { checkLiveness } from './l1-liveness.js';
export { checkLatencyStability } from './l2-latency-stability.js';
export {
  checkLinearizable,
  checkNoLostWrites,
  checkNoPhantomReads,
  LIN_STEPS_MAX,
  type BlockOp,
  type LinearizabilityResult,
} from './linearizability.js';
