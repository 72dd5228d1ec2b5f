import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { MemoryBlockStore, type BlockStore, type BlockVersion } from '@pxsim/storage';

/** Log lines appended to a volume's file before it is rewritten from memory (bounds the file to ~2× its data). */
const COMPACT_AFTER_LINES = 10_000;
const VOLUME_FILE = /^(\d{1,20})\.log$/;

type Line = { t: 'put'; b: number; e: number; s: number; p: string } | { t: 'epoch'; e: number };

/**
 * A real node's disk for its volumes: one append-only log per volume in the data dir (`blocks/<volumeId>.log`,
 * JSON lines, written before the replica acknowledges: write-through), replayed into memory at start. A restarted
 * px-node finds its replicas and the epochs it has seen. A line that does not parse (a torn last write) is skipped.
 */
export class FileBlockStore implements BlockStore {
  private readonly memory = new MemoryBlockStore();
  private readonly appended = new Map<string, number>();

  /** Reads what the directory holds; it is made only when something is first written (a start that fails leaves none). */
  constructor(private readonly dir: string) {
    if (!existsSync(dir)) return;
    for (const file of readdirSync(dir)) {
      const volumeId = VOLUME_FILE.exec(file)?.[1];
      if (volumeId !== undefined) this.load(volumeId);
    }
  }

  private file(volumeId: string): string {
    return join(this.dir, `${volumeId}.log`);
  }

  private load(volumeId: string): void {
    for (const text of readFileSync(this.file(volumeId), 'utf8').split('\n')) {
      if (text === '') continue;
      let line: Line;
      try {
        line = JSON.parse(text) as Line;
      } catch {
        continue;
      }
      if (line.t === 'epoch' && Number.isInteger(line.e)) this.memory.setEpochSeen(volumeId, line.e);
      else if (line.t === 'put' && Number.isInteger(line.b) && typeof line.p === 'string')
        this.memory.put(volumeId, line.b, { epoch: line.e, seq: line.s }, Buffer.from(line.p, 'base64'));
    }
  }

  private append(volumeId: string, line: Line): void {
    mkdirSync(this.dir, { recursive: true });
    appendFileSync(this.file(volumeId), `${JSON.stringify(line)}\n`);
    const count = (this.appended.get(volumeId) ?? 0) + 1;
    this.appended.set(volumeId, count);
    if (count >= COMPACT_AFTER_LINES) this.compact(volumeId);
  }

  /** Rewrites a volume's file from what memory holds (atomically, through a rename). */
  private compact(volumeId: string): void {
    const lines: Line[] = [{ t: 'epoch', e: this.memory.epochSeen(volumeId) }];
    for (const [block] of this.memory.digest(volumeId)) {
      const stored = this.memory.get(volumeId, block);
      if (stored !== undefined)
        lines.push({
          t: 'put',
          b: block,
          e: stored.version.epoch,
          s: stored.version.seq,
          p: Buffer.from(stored.payload).toString('base64'),
        });
    }
    const path = this.file(volumeId);
    writeFileSync(`${path}.tmp`, lines.map((line) => `${JSON.stringify(line)}\n`).join(''));
    renameSync(`${path}.tmp`, path);
    this.appended.set(volumeId, 0);
  }

  get(volumeId: string, block: number): { version: BlockVersion; payload: Uint8Array } | undefined {
    return this.memory.get(volumeId, block);
  }

  put(volumeId: string, block: number, version: BlockVersion, payload: Uint8Array): void {
    const before = this.memory.get(volumeId, block)?.version;
    this.memory.put(volumeId, block, version, payload);
    if (this.memory.get(volumeId, block)?.version === before) return; // an older version: nothing changed
    this.append(volumeId, {
      t: 'put',
      b: block,
      e: version.epoch,
      s: version.seq,
      p: Buffer.from(payload).toString('base64'),
    });
  }

  digest(volumeId: string): Array<[number, BlockVersion]> {
    return this.memory.digest(volumeId);
  }

  epochSeen(volumeId: string): number {
    return this.memory.epochSeen(volumeId);
  }

  setEpochSeen(volumeId: string, epoch: number): void {
    if (epoch <= this.memory.epochSeen(volumeId)) return;
    this.memory.setEpochSeen(volumeId, epoch);
    this.append(volumeId, { t: 'epoch', e: epoch });
  }

  drop(volumeId: string): void {
    this.memory.drop(volumeId);
    this.appended.delete(volumeId);
    if (existsSync(this.file(volumeId))) rmSync(this.file(volumeId));
  }

  usedBytes(): number {
    return this.memory.usedBytes();
  }
}
