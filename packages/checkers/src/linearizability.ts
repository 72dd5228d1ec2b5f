import type { Finding } from './history.js';

/** One client operation on one block of a volume, as the workload recorded it. */
export interface BlockOp {
  id: number;
  client: string;
  volume: string;
  block: number;
  kind: 'read' | 'write';
  /** A write: the value written (unique per write). A read: the value returned ('' = never written). */
  value: string;
  invokeMs: number;
  /** Undefined when the outcome is unknown (no answer before the client's timeout). */
  completeMs?: number;
  outcome: 'ok' | 'failed' | 'unknown';
  /** The node the client sent it to (the coordinator it knew), when recorded. */
  via?: string;
}

export type LinearizabilityResult =
  | { ok: true }
  | { ok: false; volume: string; block: number; slice: BlockOp[]; explanation: string }
  | { ok: 'unknown'; reason: string };

/** Search steps per block before the checker gives up with `unknown` (a history this hard is itself a finding). */
export const LIN_STEPS_MAX = 2_000_000;
/** Removal attempts when shrinking a failing slice. */
const SHRINK_ATTEMPTS_MAX = 300;

interface Entry {
  op: BlockOp;
  index: number;
  call: boolean;
  timeMs: number;
  match: Entry | undefined;
  prev: Entry | undefined;
  next: Entry | undefined;
}

/**
 * The operations of one register that constrain it: writes that may have happened (ok, or unknown: those "return"
 * at infinity, as Porcupine treats them), reads that answered. Definite failures took no effect; a read without an
 * answer says nothing.
 */
function relevant(ops: readonly BlockOp[]): BlockOp[] {
  return ops.filter((op) => (op.kind === 'write' ? op.outcome !== 'failed' : op.outcome === 'ok'));
}

/**
 * The doubly linked list of call and return entries in time order; at the same instant calls come first (an operation
 * answered in the instant it was invoked, and intervals that touch, count as overlapping).
 */
function entriesOf(ops: readonly BlockOp[]): Entry | undefined {
  const first = ops[0];
  if (first === undefined) return undefined;
  const entries: Entry[] = [];
  ops.forEach((op, index) => {
    const call: Entry = {
      op,
      index,
      call: true,
      timeMs: op.invokeMs,
      match: undefined,
      prev: undefined,
      next: undefined,
    };
    const ret: Entry = {
      op,
      index,
      call: false,
      timeMs: op.completeMs ?? Number.POSITIVE_INFINITY,
      match: undefined,
      prev: undefined,
      next: undefined,
    };
    call.match = ret;
    entries.push(call, ret);
  });
  entries.sort((a, b) => a.timeMs - b.timeMs || Number(b.call) - Number(a.call) || a.index - b.index);
  // A sentinel before the first entry (never lifted), so that lifting the first entry needs no special case.
  const head: Entry = {
    op: first,
    index: -1,
    call: false,
    timeMs: -1,
    match: undefined,
    prev: undefined,
    next: undefined,
  };
  let last = head;
  for (const entry of entries) {
    last.next = entry;
    entry.prev = last;
    last = entry;
  }
  return head;
}

function lift(entry: Entry): void {
  if (entry.prev !== undefined) entry.prev.next = entry.next;
  if (entry.next !== undefined) entry.next.prev = entry.prev;
  const match = entry.match;
  if (match === undefined) return;
  if (match.prev !== undefined) match.prev.next = match.next;
  if (match.next !== undefined) match.next.prev = match.prev;
}

function unlift(entry: Entry): void {
  const match = entry.match;
  if (match !== undefined) {
    if (match.prev !== undefined) match.prev.next = match;
    if (match.next !== undefined) match.next.prev = match;
  }
  if (entry.prev !== undefined) entry.prev.next = entry;
  if (entry.next !== undefined) entry.next.prev = entry;
}

/**
 * Wing & Gong's search with Lowe's memoisation (as Porcupine does it) for one register: linearize a pending call
 * whose effect the register allows, backtrack at a return that nothing linearized; a (set of linearized operations,
 * value) pair seen before is not explored again. True, false, or undefined when the step budget ran out.
 */
function linearizable(ops: readonly BlockOp[], budget: number): boolean | undefined {
  const head = entriesOf(ops);
  if (head === undefined) return true;
  const words = new Uint32Array(Math.ceil(ops.length / 32) + 1);
  const seen = new Set<string>();
  const stack: Array<{ entry: Entry; state: string }> = [];
  let state = '';
  let entry = head.next;
  for (let steps = 0; entry !== undefined; steps++) {
    if (steps > budget) return undefined;
    if (entry.call) {
      const op = entry.op;
      const allowed = op.kind === 'write' || op.value === state;
      if (allowed) {
        const next = op.kind === 'write' ? op.value : state;
        words[entry.index >>> 5] = (words[entry.index >>> 5] ?? 0) ^ (1 << (entry.index & 31));
        const key = `${words.join(',')}|${next}`;
        if (!seen.has(key)) {
          seen.add(key);
          stack.push({ entry, state });
          state = next;
          lift(entry);
          entry = head.next;
          continue;
        }
        words[entry.index >>> 5] = (words[entry.index >>> 5] ?? 0) ^ (1 << (entry.index & 31));
      }
      entry = entry.next;
      continue;
    }
    const top = stack.pop();
    if (top === undefined) return false;
    state = top.state;
    words[top.entry.index >>> 5] = (words[top.entry.index >>> 5] ?? 0) ^ (1 << (top.entry.index & 31));
    unlift(top.entry);
    entry = top.entry.next;
  }
  return true;
}

/** The smallest prefix (by invocation) that fails, then without every earlier operation it still fails without. */
function shrink(ops: readonly BlockOp[], budget: number): BlockOp[] {
  const sorted = [...ops].sort((a, b) => a.invokeMs - b.invokeMs || a.id - b.id);
  let low = 1;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (linearizable(sorted.slice(0, middle), budget) === false) high = middle;
    else low = middle + 1;
  }
  let slice = sorted.slice(0, high);
  for (let index = slice.length - 2, attempts = 0; index >= 0 && attempts < SHRINK_ATTEMPTS_MAX; index--, attempts++) {
    const without = [...slice.slice(0, index), ...slice.slice(index + 1)];
    if (linearizable(without, budget) === false) slice = without;
  }
  return slice;
}

const through = (op: BlockOp): string => (op.via === undefined ? '' : ` through ${op.via}`);

function describe(op: BlockOp): string {
  const when =
    op.completeMs === undefined
      ? `invoked at ${op.invokeMs} ms, no answer (outcome unknown)`
      : `invoked at ${op.invokeMs} ms, answered at ${op.completeMs} ms`;
  return op.kind === 'write'
    ? `write #${op.id} of "${op.value}" by ${op.client}${through(op)} (${when})`
    : `read #${op.id} by ${op.client}${through(op)} returned "${op.value === '' ? '(never written)' : op.value}" (${when})`;
}

/** Words for a failing slice: what its last operation saw, and the operations no order of which explains it. */
function explain(volume: string, block: number, slice: readonly BlockOp[]): string {
  const last = slice[slice.length - 1];
  const lines = slice.map((op) => `  ${describe(op)}`).join('\n');
  return (
    `block ${block} of volume ${volume} is not linearizable: no order of these ${slice.length} operation(s), each ` +
    `taking effect between its invocation and its answer, explains ${last === undefined ? 'them' : `${last.kind} #${last.id}`}:\n${lines}`
  );
}

/**
 * Linearizability of block reads and writes (each block a register), checked per (volume, block) in the manner of
 * Porcupine; a failure comes with the shortest failing slice found of that block's history and the reason in words.
 */
export function checkLinearizable(ops: readonly BlockOp[], options: { budget?: number } = {}): LinearizabilityResult {
  const budget = options.budget ?? LIN_STEPS_MAX;
  const partitions = new Map<string, BlockOp[]>();
  for (const op of relevant(ops)) {
    const key = `${op.volume}\u0000${op.block}`;
    const list = partitions.get(key) ?? [];
    list.push(op);
    partitions.set(key, list);
  }
  let unknown: string | undefined;
  for (const partition of partitions.values()) {
    const first = partition[0];
    if (first === undefined) continue;
    const verdict = linearizable(partition, budget);
    if (verdict === undefined) {
      unknown = `block ${first.block} of ${first.volume}: ${partition.length} operations, search budget ${budget} spent`;
      continue;
    }
    if (verdict) continue;
    const slice = shrink(partition, budget);
    return {
      ok: false,
      volume: first.volume,
      block: first.block,
      slice,
      explanation: explain(first.volume, first.block, slice),
    };
  }
  return unknown === undefined ? { ok: true } : { ok: 'unknown', reason: unknown };
}

/**
 * Zero RPO: the final read of each block (after every fault healed) returns the last acknowledged write, or a write
 * not acknowledged before it. Lost: it returns a value (or nothing) that an acknowledged write had replaced, i.e.
 * some acknowledged write was invoked after the returned value's write was answered, and answered before the read.
 */
export function checkNoLostWrites(ops: readonly BlockOp[], finalReads: readonly BlockOp[]): Finding[] {
  const findings: Finding[] = [];
  for (const read of finalReads) {
    if (read.outcome !== 'ok') continue;
    const writes = ops.filter(
      (op) => op.kind === 'write' && op.volume === read.volume && op.block === read.block && op.outcome !== 'failed',
    );
    const source = writes.find((op) => op.value === read.value);
    const lost = writes.find(
      (op) =>
        op.outcome === 'ok' &&
        op.completeMs !== undefined &&
        op.completeMs < read.invokeMs &&
        (source === undefined || (source.completeMs !== undefined && op.invokeMs > source.completeMs)),
    );
    if (lost !== undefined)
      findings.push({
        check: 'RPO',
        detail:
          `acknowledged write lost: block ${read.block} of ${read.volume} reads "${read.value || '(never written)'}" at the end, ` +
          `but ${describe(lost)} came after ${source === undefined ? 'nothing' : `write #${source.id}`} and was acknowledged`,
      });
  }
  return findings;
}

/** No read returns a value no write wrote (or one whose write definitely failed). */
export function checkNoPhantomReads(ops: readonly BlockOp[]): Finding[] {
  const written = new Set(
    ops
      .filter((op) => op.kind === 'write' && op.outcome !== 'failed')
      .map((op) => `${op.volume}\u0000${op.block}\u0000${op.value}`),
  );
  const findings: Finding[] = [];
  for (const op of ops) {
    if (op.kind !== 'read' || op.outcome !== 'ok' || op.value === '') continue;
    if (!written.has(`${op.volume}\u0000${op.block}\u0000${op.value}`))
      findings.push({
        check: 'PHANTOM',
        detail: `read of a value never written: ${describe(op)} on block ${op.block} of ${op.volume}`,
      });
  }
  return findings;
}
