import type { Finding } from './history.js';

/**
 * L1, liveness: once the faults stop, every node of an active domain serves within the bound. `stuck`: the nodes
 * still not Online when the bound ran out, each with why (its state and the agent's reason).
 */
export function checkLiveness(
  stuck: ReadonlyArray<{ node: string; why: string }>,
  boundMs: number,
): Finding | undefined {
  if (stuck.length === 0) return undefined;
  return {
    check: 'L1',
    detail: `${stuck.map(({ node, why }) => `${node} (${why})`).join(', ')} not serving ${boundMs} ms after the faults stopped`,
  };
}
