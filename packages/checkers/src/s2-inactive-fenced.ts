import type { Finding } from './history.js';
import type { SafetyWatch } from './watch.js';

/**
 * S2, an inactive domain is fenced: once the bound has passed since the domain's key was made inactive in the kvdb
 * (the write's instant and revision, not when the operator's call returned), none of its nodes serves. `servingIn(domain)`: the domain's nodes that serve I/O (crashed and paused nodes never count).
 */
export function checkInactiveFenced(
  watch: SafetyWatch,
  nowMs: number,
  servingIn: (domain: string) => string[],
): Finding[] {
  const findings: Finding[] = [];
  for (const [domain, sinceMs] of watch.inactiveSinceMs) {
    if (nowMs <= sinceMs + watch.bounds.inactiveDomainMs) continue;
    const serving = servingIn(domain);
    if (serving.length === 0) continue;
    const revision = watch.inactiveRevision.get(domain);
    findings.push({
      check: 'S2',
      detail: `domain ${domain} inactive since ${sinceMs} ms${revision === undefined ? '' : ` (kvdb revision ${revision})`}, yet ${serving.join(',')} serve`,
    });
  }
  return findings;
}
