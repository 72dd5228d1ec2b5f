import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GIB } from '../src/index.js';
import { durationMs, parseArgs, readCases, required, rewrite, rewriteRequested } from '@pxsim/runtime/datadriven';
import { TestWorld } from './net.js';

/**
 * Transcripts of the replication state machine, in the manner of the quorum transcripts (etcd-io/raft's datadriven
 * files): the real `StorageNode`s in the `TestWorld` (a record store with revisions, a network with delays and cuts,
 * virtual time), driven by commands; each block's output is what an operator would want to see. `REWRITE=1` rewrites
 * the files with the actual output, to be reviewed as a diff.
 *
 * Commands:
 *   world nodes=a,b,c [mode=safe|reference]    a new world; every node serves and sees every other online
 *   create id=ID name=NAME on=a,b              a 1 GiB volume record whose create (and current) set is `on`
 *   attach|detach node=N vol=NAME               client requests (answer shown when it comes)
 *   write node=N vol=NAME block=B value=TEXT    a client write of TEXT (the op's number is shown)
 *   read node=N vol=NAME block=B                a client read
 *   run DURATION                                time passes: node events, then answers that came, in order
 *   partition a,b | c   cut a>b   heal           network faults
 *   kvdb down|up   blind node=N   delay link=MS kvdb=MS
 *   serving node=N on|off                       quorum changes, then every node's view is refreshed
 *   sees node=N online=a,b                      one node's view of who is online
 *   show [vol=ID]                               the record, then every node's view and stored blocks
 */

const TESTDATA = join(import.meta.dirname, 'testdata');

const list = (text: string): string[] => text.split(',').filter((item) => item !== '');

/** One transcript's state between commands: the world, the ops issued, what was already shown. */
class Transcript {
  private world: TestWorld | undefined;
  private readonly ops = new Map<number, string>();
  private readonly shown = new Set<number>();
  private logShown = 0;

  private need(): TestWorld {
    if (this.world === undefined) throw new Error('no world yet: start with "world nodes=…"');
    return this.world;
  }

  run(command: string): string[] {
    const { name, args, flags } = parseArgs(command);
    switch (name) {
      case 'world': {
        const mode = args.get('mode') ?? 'safe';
        if (mode !== 'safe' && mode !== 'reference') throw new Error(`mode ${mode}`);
        this.world = new TestWorld(list(required(args, 'nodes')), mode);
        this.world.quorum();
        this.ops.clear();
        this.shown.clear();
        this.logShown = 0;
        return ['ok'];
      }
      case 'create': {
        const on = list(required(args, 'on'));
        const haLevel = on.length;
        if (haLevel !== 1 && haLevel !== 2 && haLevel !== 3) throw new Error(`on= names ${haLevel} nodes (1 to 3)`);
        this.need().create({
          id: required(args, 'id'),
          name: required(args, 'name'),
          sizeBytes: GIB,
          haLevel,
          createSet: on,
        });
        return this.record(required(args, 'id'));
      }
      case 'attach':
      case 'detach':
      case 'write':
      case 'read':
        return this.client(name, args);
      case 'run':
        this.need().run(durationMs(command.split(/\s+/)[1] ?? ''));
        return this.news();
      default:
        return this.fault(name, command, args, flags);
    }
  }

  private fault(name: string, command: string, args: Map<string, string>, flags: Set<string>): string[] {
    const world = this.need();
    switch (name) {
      case 'partition': {
        const [left = '', right = ''] = command.slice('partition'.length).split('|');
        world.partition(list(left.trim()), list(right.trim()));
        return ['ok'];
      }
      case 'cut':
        world.cuts.add(command.split(/\s+/)[1] ?? '');
        return ['ok'];
      case 'heal':
        world.heal();
        return ['ok'];
      case 'kvdb':
        world.kvdbDown = flags.has('down');
        if (flags.has('up')) world.publish(); // the watch catches up
        return ['ok'];
      case 'blind':
        world.blind.add(required(args, 'node'));
        return ['ok'];
      case 'delay':
        world.linkDelayMs = Number(args.get('link') ?? world.linkDelayMs);
        world.kvdbDelayMs = Number(args.get('kvdb') ?? world.kvdbDelayMs);
        return ['ok'];
      case 'serving':
        world.serving.set(required(args, 'node'), flags.has('on'));
        world.quorum();
        return this.news();
      case 'sees':
        world.sees(required(args, 'node'), list(args.get('online') ?? ''));
        return this.news();
      case 'show':
        return this.show(args.get('vol'));
      default:
        throw new Error(`unknown command "${name}"`);
    }
  }

  private client(name: 'attach' | 'detach' | 'write' | 'read', args: Map<string, string>): string[] {
    const world = this.need();
    const node = required(args, 'node');
    const volume = required(args, 'vol');
    let opId: number;
    let what: string;
    if (name === 'write') {
      const block = Number(required(args, 'block'));
      const repeat = Number(args.get('repeat') ?? 1);
      const value = required(args, 'value').repeat(repeat);
      opId = world.write(node, volume, block, value);
      what = `write ${volume}[${block}]=${repeat === 1 ? value : `${value.length} bytes`} via ${node}`;
    } else if (name === 'read') {
      const block = Number(required(args, 'block'));
      opId = world.read(node, volume, block);
      what = `read ${volume}[${block}] via ${node}`;
    } else {
      opId = world.op(node, { type: name, volume });
      what = `${name} ${volume} on ${node}`;
    }
    this.ops.set(opId, what);
    return [`#${opId} ${what}`, ...this.news()];
  }

  /** Node events and answers since the last output. */
  private news(): string[] {
    const world = this.need();
    const lines = world.log.slice(this.logShown).map((line) => {
      const [atMs = '', node = '', ...rest] = line.split(' ');
      return `${atMs.padStart(6)} ${node}: ${rest.join(' ')}`;
    });
    this.logShown = world.log.length;
    for (const [opId, what] of this.ops) {
      if (this.shown.has(opId)) continue;
      const text = world.answer(opId);
      if (text === 'pending') continue;
      const answer = text === 'ok ' ? 'ok (empty: never written)' : text;
      this.shown.add(opId);
      lines.push(`#${opId} ${what}: ${answer}`);
    }
    const pending = [...this.ops.keys()].filter((opId) => !this.shown.has(opId));
    if (pending.length > 0) lines.push(`pending: ${pending.map((opId) => `#${opId}`).join(' ')}`);
    return lines.length === 0 ? ['ok'] : lines;
  }

  private record(id: string): string[] {
    const entry = this.need().records.get(id);
    if (entry === undefined) return [`no record ${id}`];
    const { record, revision } = entry;
    return [
      `record ${id} rev ${revision}: attached ${record.attachedOn ?? '-'} epoch ${record.attachEpoch}, ` +
        `create [${record.createSet.join(',')}] current [${record.currentSet.join(',')}]`,
    ];
  }

  private show(volumeId: string | undefined): string[] {
    const world = this.need();
    const lines: string[] = [];
    for (const id of volumeId === undefined ? [...world.records.keys()] : [volumeId]) {
      lines.push(...this.record(id));
      for (const [node, storage] of world.nodes) {
        const view = storage.volume(id);
        const store = world.stores.get(node);
        const blocks = (store?.digest(id) ?? [])
          .sort(([left], [right]) => left - right)
          .map(([block, version]) => `${block}=${world.stored(node, id, block)}@${version.epoch}.${version.seq}`);
        lines.push(
          `  ${node}: ${view?.replicationStatus ?? 'unknown'}${view?.coordinatorOpen === true ? ' (coordinator)' : ''}` +
            `${blocks.length === 0 ? '' : ` ${blocks.join(' ')}`}`,
        );
      }
    }
    return lines;
  }
}

function runTranscript(path: string): Array<{ command: string; expected: string; comments: string[]; actual: string }> {
  const transcript = new Transcript();
  return readCases(path).map((testCase) => {
    let output: string[];
    try {
      output = transcript.run(testCase.command);
    } catch (error) {
      output = [`error: ${error instanceof Error ? error.message : String(error)}`];
    }
    return { ...testCase, actual: output.join('\n') };
  });
}

describe('replication transcripts (testdata/*.txt)', () => {
  const files = readdirSync(TESTDATA).filter((file) => file.endsWith('.txt'));
  it('has transcripts', () => {
    expect(files.length).toBeGreaterThan(0);
  });
  for (const file of files) {
    it(file, () => {
      const path = join(TESTDATA, file);
      const cases = runTranscript(path);
      if (rewriteRequested) rewrite(path, cases);
      for (const testCase of cases)
        expect(`${testCase.command}\n${testCase.actual}`).toBe(`${testCase.command}\n${testCase.expected}`);
    });
  }
});
