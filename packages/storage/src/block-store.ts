import { BLOCK_BYTES, compareVersions, type BlockStore, type BlockVersion } from './types.js';

/** Volumes one store keeps at most (a node's volumes, with room for those being removed). */
export const STORE_VOLUMES_MAX = 2048;

interface StoredVolume {
  blocks: Map<number, { version: BlockVersion; payload: Uint8Array }>;
  epochSeen: number;
}

/**
 * A node's disk in memory: for the simulator (one per simulated node, kept across its restarts) and tests. `put`
 * keeps the newer version only, so replicas converge whatever order writes arrive in.
 */
export class MemoryBlockStore implements BlockStore {
  private readonly volumes = new Map<string, StoredVolume>();
  private blocksStored = 0;

  private volume(volumeId: string): StoredVolume {
    let volume = this.volumes.get(volumeId);
    if (volume === undefined) {
      if (this.volumes.size >= STORE_VOLUMES_MAX)
        throw new RangeError(`a block store keeps at most ${STORE_VOLUMES_MAX} volumes`);
      volume = { blocks: new Map(), epochSeen: 0 };
      this.volumes.set(volumeId, volume);
    }
    return volume;
  }

  get(volumeId: string, block: number): { version: BlockVersion; payload: Uint8Array } | undefined {
    return this.volumes.get(volumeId)?.blocks.get(block);
  }

  put(volumeId: string, block: number, version: BlockVersion, payload: Uint8Array): void {
    const blocks = this.volume(volumeId).blocks;
    const stored = blocks.get(block);
    if (stored !== undefined && compareVersions(stored.version, version) >= 0) return;
    if (stored === undefined) this.blocksStored += 1;
    blocks.set(block, { version: { ...version }, payload: payload.slice() });
  }

  digest(volumeId: string): Array<[number, BlockVersion]> {
    const blocks = this.volumes.get(volumeId)?.blocks;
    if (blocks === undefined) return [];
    return [...blocks]
      .map(([block, stored]): [number, BlockVersion] => [block, stored.version])
      .sort((a, b) => a[0] - b[0]);
  }

  epochSeen(volumeId: string): number {
    return this.volumes.get(volumeId)?.epochSeen ?? 0;
  }

  setEpochSeen(volumeId: string, epoch: number): void {
    const volume = this.volume(volumeId);
    volume.epochSeen = Math.max(volume.epochSeen, epoch);
  }

  drop(volumeId: string): void {
    this.blocksStored -= this.volumes.get(volumeId)?.blocks.size ?? 0;
    this.volumes.delete(volumeId);
  }

  usedBytes(): number {
    return this.blocksStored * BLOCK_BYTES;
  }

  /** Bytes stored for one volume. */
  volumeBytes(volumeId: string): number {
    return (this.volumes.get(volumeId)?.blocks.size ?? 0) * BLOCK_BYTES;
  }
}
