import type { Finding } from './history.js';
import type { HearingLog } from './hearing.js';

/** A node and its cluster domain. */
export interface DomainNode {
  node: string;
  domain: string;
}

/**
 * Which statement of S1 to check (see the package README for the argument):
 * - `any-pair`: two nodes serving at the same instant, one of which has heard nothing from the other for longer than
 *   the bound, is a split brain (the strictest statement; no quorum rule that keeps a majority serving through the
 *   loss of one link can meet it).
 * - `quorum-and-domains`: what the safe mode keeps. Two nodes serving at the same instant (1) have a node both have
 *   heard from within the bound (a node hears itself: their majorities intersect in what they actually heard), and
 *   (2) when they are in different domains, each has heard from some node of the other's domain within the bound.
 */
export type SplitBrainRule = 'any-pair' | 'quorum-and-domains';

export interface SplitBrainInput {
  nowMs: number;
  boundMs: number;
  hearing: HearingLog;
  /** The storage nodes that serve at this instant (a crashed or paused process serves nothing). */
  serving: readonly DomainNode[];
  /** Every node of the cluster (witness included): the nodes two serving nodes may have heard in common. */
  members: readonly DomainNode[];
  rule: SplitBrainRule;
}

/**
 * S1, no split brain, over who actually heard whom (the network's deliveries, not the faults' description), whatever
 * the fault's shape: halves, bridges, isolation, majorities rings, one-way cuts, latency, paused nodes. Returns the
 * first offending pair (in the order `serving` lists them): one is enough to fail a run, and its text stays the same
 * while the split lasts, so the violation log keeps it once.
 */
export function checkSplitBrain(input: SplitBrainInput): Finding[] {
  const { serving } = input;
  // What each serving node heard within the bound, once per check (not once per pair): `heard[i][k]` says whether
  // serving[i] heard members[k].
  const heard = serving.map((x) => input.hearing.hearsEach(x.node, input.members, input.nowMs, input.boundMs));
  // Every serving node is a member and heard every member within the bound (the usual case): no pair can break either
  // rule (each of a pair heard the other, so a node both heard and a node of the other's domain).
  if (
    heard.every((row) => !row.includes(false)) &&
    serving.every((x) => input.members.some((member) => member.node === x.node))
  )
    return [];
  for (let i = 0; i < serving.length; i++) {
    for (let j = i + 1; j < serving.length; j++) {
      const x = serving[i] as DomainNode;
      const y = serving[j] as DomainNode;
      const problem = pairProblem(input, x, y, heard[i] ?? [], heard[j] ?? []);
      if (problem !== undefined)
        return [{ check: 'S1', detail: `split brain: ${x.node} and ${y.node} serve, ${problem}` }];
    }
  }
  return [];
}

/** Why `x` and `y` may not both serve, given what each heard (`xHeard[k]`: x heard members[k] within the bound). */
function pairProblem(
  input: SplitBrainInput,
  x: DomainNode,
  y: DomainNode,
  xHeard: readonly boolean[],
  yHeard: readonly boolean[],
): string | undefined {
  const { nowMs, boundMs, hearing, members } = input;
  if (input.rule === 'any-pair') {
    for (const [receiver, sender] of [
      [x, y],
      [y, x],
    ] as const) {
      if (!hearing.hears(receiver.node, sender.node, nowMs, boundMs))
        return `yet ${receiver.node} has heard nothing from ${sender.node} since ${hearing.silentSinceMs(receiver.node, sender.node)} ms (bound ${boundMs} ms)`;
    }
    return undefined;
  }
  if (!members.some((_, k) => xHeard[k] === true && yHeard[k] === true))
    return `yet no node was heard by both within ${boundMs} ms (their majorities do not meet)`;
  if (x.domain === y.domain) return undefined;
  if (!members.some((z, k) => z.domain === y.domain && xHeard[k] === true))
    return `yet ${x.node} has heard no node of ${y.domain} within ${boundMs} ms`;
  if (!members.some((z, k) => z.domain === x.domain && yHeard[k] === true))
    return `yet ${y.node} has heard no node of ${x.domain} within ${boundMs} ms`;
  return undefined;
}
