export * from './types.js';
export { QuorumInputError } from './errors.js';
export { evaluateQuorum, type QuorumDecision, type QuorumMathInput } from './quorum-math.js';
export {
  FAST_TIMING,
  PORTWORX_TIMING,
  TIMING_PROFILES,
  timingProblems,
  timingProfile,
  type QuorumTiming,
  type TimingProfileName,
} from './timing.js';
export { QuorumEngine, claimKey, safetyBounds, type QuorumEngineOptions, type SafetyBounds } from './engine.js';
