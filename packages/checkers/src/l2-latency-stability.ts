import { eventText, type Finding, type HistoryEvent } from './history.js';

/**
 * L2, stability: latency alone (within the metro limit, no other fault) never takes a formed node out of UP. `since`:
 * the history after the cluster formed and the latency was applied; any state change in it breaks L2.
 */
export function checkLatencyStability(since: readonly HistoryEvent[]): Finding | undefined {
  const left = since.find((event) => event.kind === 'state');
  if (left === undefined) return undefined;
  return { check: 'L2', detail: `${left.node ?? '?'} left UP under latency alone: ${eventText(left)}` };
}
