import type { Finding } from './history.js';
import type { SafetyWatch } from './watch.js';

/**
 * S1, no split brain: of two domains cut off from each other both ways for longer than the bound, the nodes of at
 * most one are UP. `upIn(domain)`: the domain's nodes whose engine says UP (crashed and paused nodes never count).
 */
export function checkSplitBrain(watch: SafetyWatch, nowMs: number, upIn: (domain: string) => string[]): Finding[] {
  const findings: Finding[] = [];
  for (const [pair, sinceMs] of watch.pairCutSinceMs) {
    if (nowMs <= sinceMs + watch.bounds.splitBrainMs) continue;
    const [a, b] = pair.split('|') as [string, string];
    const upA = upIn(a);
    if (upA.length === 0) continue;
    const upB = upIn(b);
    if (upB.length === 0) continue;
    findings.push({
      check: 'S1',
      detail: `split brain: ${a} and ${b} cut off both ways since ${sinceMs} ms, yet ${upA.join(',')} and ${upB.join(',')} are UP`,
    });
  }
  return findings;
}
