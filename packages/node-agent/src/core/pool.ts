import type { WriteResult } from './types.js';

/** Why a pool write is refused before its size is looked at: the agent is not running, or this node does not serve. */
export function writeRefusal(
  self: { phase: string; phaseReason: string },
  view: { serving: boolean; status: string; reason: string },
): WriteResult | undefined {
  if (self.phase !== 'running') return { ok: false, code: 'NOT_READY', reason: self.phaseReason || self.phase };
  if (!view.serving) return { ok: false, code: 'FENCED', reason: `storage fenced: ${view.status}: ${view.reason}` };
  return undefined;
}

/**
 * The node's storage pool accounting: bytes written through the pool write route (restored from the node entry at
 * join) plus the bytes its volume replicas hold (told by the shell). Both count as used capacity.
 */
export class PoolUsage {
  private writtenBytes = 0;
  private volumeBytes = 0;

  constructor(readonly capacityBytes: number) {}

  get usedBytes(): number {
    return this.writtenBytes + this.volumeBytes;
  }

  /** The pool write route's bytes as registered (a restart keeps them). */
  restore(writtenBytes: number): void {
    this.writtenBytes = writtenBytes;
  }

  /** Takes `bytes` if they fit: `POOL_FULL` otherwise. */
  write(bytes: number): WriteResult {
    const used = this.usedBytes;
    if (used + bytes > this.capacityBytes)
      return { ok: false, code: 'POOL_FULL', reason: `pool full: ${used} + ${bytes} > ${this.capacityBytes} bytes` };
    this.writtenBytes += bytes;
    return { ok: true, usedBytes: this.usedBytes };
  }

  /** The replicas now hold `bytes`; whether that changed anything. */
  noteVolumes(bytes: number): boolean {
    if (bytes === this.volumeBytes) return false;
    this.volumeBytes = bytes;
    return true;
  }
}
