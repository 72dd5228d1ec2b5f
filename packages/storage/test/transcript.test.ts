import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BLOCK_BYTES, GIB, storageTiming, type OpResult, type VolumeRecord } from '../src/index.js';
import {
  durationMs,
  parseArgs,
  required,
  rewriteRequested,
  runTranscriptFile,
  transcriptFiles,
} from '@pxsim/runtime/datadriven';
import { TestWorld, type JournalEntry } from './net.js';

const TESTDATA = join(import.meta.dirname, 'testdata');
/** Longest `run` one command may ask for (virtual time; keeps every transcript bounded). */
const RUN_MS_MAX = 600_000;

const list = (text: string): string[] => (text === '' || text === '-' ? [] : text.split(','));
const quote = (bytes: Uint8Array): string => {
  const text = new TextDecoder().decode(bytes);
  return text.length > 24 ? `${JSON.stringify(text.slice(0, 12))}… (${bytes.length} bytes)` : JSON.stringify(text);
};

function formatRecord(record: VolumeRecord, revision: number): string {
  return (
    `${record.name} (${record.id}) rev ${revision}: attached on ${record.attachedOn ?? '-'}, epoch ` +
    `${record.attachEpoch}, create [${record.createSet.join(',')}], current [${record.currentSet.join(',')}]`
  );
}

function formatResult(result: OpResult): string {
  if (!result.ok) return `${result.outcome} ${result.code}: ${result.reason}`;
  const version = result.version === undefined ? '' : ` @${result.version.epoch}.${result.version.seq}`;
  return result.payload === undefined ? `ok${version}` : `ok ${quote(result.payload)}${version}`;
}

/** One command's interpreter over a TestWorld; `lines()` returns what the command made happen. */
class Transcript {
  private world: TestWorld | undefined;
  private shown = 0;
  /** opId → what the client asked, for the answer lines. */
  private readonly ops = new Map<number, string>();

  private need(): TestWorld {
    if (this.world === undefined) throw new Error('no world yet: start with "world mode=… nodes=…"');
    return this.world;
  }

  private volumeName(volumeId: string): string {
    return this.need().records.get(volumeId)?.record.name ?? volumeId;
  }

  /** The journal since the last command, one line each, with its virtual time. */
  private happened(): string[] {
    const world = this.need();
    const lines = world.journal.slice(this.shown).map((entry: JournalEntry) => {
      const at = String(entry.atMs).padStart(6);
      switch (entry.kind) {
        case 'event':
          return `${at} ${entry.node}: ${this.volumeName(entry.volumeId)}: ${entry.what}`;
        case 'answer':
          return `${at} ${entry.node}: op ${entry.opId} ${this.ops.get(entry.opId) ?? '?'} -> ${formatResult(entry.result)}`;
        case 'record':
          return `${at} kvdb: ${formatRecord(entry.record, entry.revision)} (by ${entry.node})`;
      }
    });
    this.shown = world.journal.length;
    return lines;
  }

  private op(what: string, send: (world: TestWorld) => number): string[] {
    const opId = send(this.need());
    this.ops.set(opId, what);
    const lines = this.happened();
    return lines.length === 0 ? [`op ${opId} sent`] : lines;
  }

  run(command: string): string[] {
    const { name, args, flags } = parseArgs(command);
    const node = (): string => {
      const id = required(args, 'node');
      if (!this.need().nodes.has(id)) throw new Error(`no node ${id}`);
      return id;
    };
    const after = (lines: string[]): string[] => [...lines, ...this.happened()];
    switch (name) {
      case 'world': {
        const mode = required(args, 'mode');
        if (mode !== 'safe' && mode !== 'reference') throw new Error('mode must be safe or reference');
        this.world = new TestWorld(list(required(args, 'nodes')), mode);
        this.world.linkDelayMs = durationMs(args.get('link') ?? '1ms');
        this.shown = 0;
        this.ops.clear();
        const timing = storageTiming('fast');
        return [
          `${mode} mode; retransmit ${timing.retransmitMs} ms, replica timeout ${timing.replicaTimeoutMs} ms; ` +
            `link ${this.world.linkDelayMs} ms, kvdb ${this.world.kvdbDelayMs} ms each way`,
        ];
      }
      case 'volume': {
        const nodes = list(required(args, 'nodes'));
        const haLevel = nodes.length;
        if (haLevel !== 1 && haLevel !== 2 && haLevel !== 3) throw new Error('1 to 3 nodes');
        const id = required(args, 'id');
        const sizeGib = Number(args.get('size') ?? '1');
        this.need().create({ id, name: required(args, 'name'), sizeBytes: sizeGib * GIB, haLevel, createSet: nodes });
        const entry = this.need().records.get(id);
        return after(entry === undefined ? [] : [formatRecord(entry.record, entry.revision)]);
      }
      case 'quorum': {
        // Every node serves except those named in off=; each serving node sees every serving node online.
        const off = new Set(list(args.get('off') ?? ''));
        for (const id of this.need().nodes.keys()) this.need().serving.set(id, !off.has(id));
        this.need().quorum();
        return after([]);
      }
      case 'sees':
        this.need().sees(node(), list(required(args, 'online')));
        return after([]);
      case 'partition':
        this.need().partition(list(required(args, 'left')), list(required(args, 'right')));
        return ['ok'];
      case 'cut':
        this.need().cuts.add(`${required(args, 'from')}>${required(args, 'to')}`);
        return ['ok'];
      case 'heal':
        this.need().heal();
        return ['ok'];
      case 'kvdb':
        if (flags.has('down')) this.need().kvdbDown = true;
        else if (flags.has('up')) this.need().kvdbDown = false;
        else throw new Error('kvdb down|up');
        return ['ok'];
      case 'watch': {
        // watch node=a off: a no longer sees record changes; on: it reads them all again.
        const id = node();
        if (flags.has('off')) this.need().blind.add(id);
        else {
          this.need().blind.delete(id);
          this.need().publish();
        }
        return after([]);
      }
      case 'restart':
        this.need().restart(node());
        return after([]);
      case 'attach':
      case 'detach': {
        const volume = required(args, 'vol');
        return this.op(`${name} ${volume}`, (world) => world.op(node(), { type: name, volume }));
      }
      case 'write': {
        const volume = required(args, 'vol');
        const block = Number(required(args, 'block'));
        const bytes = args.get('bytes');
        const text = bytes === undefined ? required(args, 'value') : 'x'.repeat(Number(bytes));
        return this.op(`write ${volume}[${block}]`, (world) => world.write(node(), volume, block, text));
      }
      case 'read': {
        const volume = required(args, 'vol');
        const block = Number(required(args, 'block'));
        return this.op(`read ${volume}[${block}]`, (world) => world.read(node(), volume, block));
      }
      case 'run': {
        const ms = durationMs(required(args, 'for'));
        if (ms > RUN_MS_MAX) throw new Error(`run for at most ${RUN_MS_MAX} ms`);
        this.need().run(ms);
        const lines = this.happened();
        return lines.length === 0 ? [`${this.need().nowMs}: nothing happened`] : lines;
      }
      case 'record': {
        const entry = [...this.need().records.values()].find(({ record }) => record.name === required(args, 'vol'));
        return [entry === undefined ? 'none' : formatRecord(entry.record, entry.revision)];
      }
      case 'status':
        return this.status(required(args, 'vol'));
      case 'stored':
        return this.stored(required(args, 'vol'));
      default:
        throw new Error(`unknown command ${name}`);
    }
  }

  /** Each node's view of a volume: replication status, whether it coordinates, replicas, I/O counters. */
  private status(volume: string): string[] {
    return [...this.need().nodes].map(([id, storage]) => {
      const view = storage.volume(volume);
      if (view === undefined) return `${id}: no volume ${volume}`;
      const replicas = view.replicas.map((replica) => `${replica.nodeId}=${replica.state}`).join(' ');
      const { io } = view;
      return (
        `${id}: ${view.replicationStatus}${view.coordinatorOpen ? ', coordinator open' : ''}; ` +
        `epoch ${view.record.attachEpoch} rev ${view.revision}; replicas ${replicas}; ` +
        `io w${io.writes} r${io.reads} in progress ${io.inProgress}; ${view.usedBytes / BLOCK_BYTES} block(s) here`
      );
    });
  }

  /** Each node's stored blocks of a volume with their versions, and the highest epoch its replica has seen. */
  private stored(volume: string): string[] {
    const entry = [...this.need().records.values()].find(({ record }) => record.name === volume);
    if (entry === undefined) throw new Error(`no volume ${volume}`);
    const volumeId = entry.record.id;
    return [...this.need().stores].map(([id, store]) => {
      const blocks = store.digest(volumeId).map(([block, version]) => {
        const payload = store.get(volumeId, block)?.payload ?? new Uint8Array(0);
        return `${block}=${quote(payload)}@${version.epoch}.${version.seq}`;
      });
      return `${id}: epoch seen ${store.epochSeen(volumeId)}; ${blocks.length === 0 ? 'no blocks' : blocks.join(' ')}`;
    });
  }
}

describe('storage transcripts (testdata/*.txt; REWRITE=1 regenerates)', () => {
  it.each(transcriptFiles(TESTDATA))('%s', (file) => {
    const transcript = new Transcript();
    const results = runTranscriptFile(join(TESTDATA, file), (command) => transcript.run(command), 'ok');
    if (rewriteRequested) return;
    for (const result of results) {
      expect(result.actual, `${file}: ${result.command}`).toBe(result.expected);
    }
  });
});
