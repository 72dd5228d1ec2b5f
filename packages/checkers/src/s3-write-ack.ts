import type { Finding } from './history.js';

/** S3, only a serving node acknowledges a write: an acknowledgement from a node whose state is not Online. */
export function checkWriteAcknowledgement(node: string, state: string): Finding | undefined {
  return state === 'Online' ? undefined : { check: 'S3', detail: `${node} acknowledged a write while ${state}` };
}
