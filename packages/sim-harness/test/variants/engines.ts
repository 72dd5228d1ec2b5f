import { evaluateQuorum, QuorumEngine, type QuorumDecision, type QuorumMathInput } from '@pxsim/quorum';

/**
 * Deliberately broken quorum engines (test-only, in the manner of FoundationDB's BUGGIFY): each changes one rule of
 * the safe mode, through the engine's protected rules, so that the sensitivity test can show the random properties
 * catch it. Never used outside tests.
 */

/** Quorum with `floor(total / 2)` instead of `floor(total / 2) + 1`: two halves both "in quorum". */
class HalfThresholdEngine extends QuorumEngine {
  protected override decide(input: QuorumMathInput): QuorumDecision {
    const decision = evaluateQuorum(input);
    const needed = Math.floor(decision.total / 2);
    const self = input.members.some((member) => member.nodeId === input.selfId);
    return { ...decision, needed, inQuorum: !decision.selfDomainInactive && self && decision.up >= needed };
  }
}

/** A partition claim usable as soon as it is seen (no wait of F for older holders' snapshots to go stale). */
class EagerClaimEngine extends QuorumEngine {
  protected override claimUsableFromMs(seenMs: number): number {
    return seenMs;
  }
}

/** No activation hold: a node serves as soon as it sees its domain Active. */
class NoActivationHoldEngine extends QuorumEngine {
  protected override activationHoldEndsMs(activeSinceMs: number): number {
    return activeSinceMs;
  }
}

type EngineOptions = ConstructorParameters<typeof QuorumEngine>[0];

export const BROKEN_ENGINES: ReadonlyArray<{ name: string; make: (options: EngineOptions) => QuorumEngine }> = [
  { name: 'quorum threshold floor(total / 2)', make: (options) => new HalfThresholdEngine(options) },
  { name: 'partition claim usable at once', make: (options) => new EagerClaimEngine(options) },
  { name: 'activation hold removed', make: (options) => new NoActivationHoldEngine(options) },
];
