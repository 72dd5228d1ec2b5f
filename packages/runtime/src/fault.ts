import { z } from 'zod';

/**
 * The one fault vocabulary: what a nemesis, a scenario file, a quorum transcript or schedule, the agent's debug API,
 * the sim control API and `pxsim fault` can do to a cluster. Targets are groups as the caller names them (node IPs or
 * IDs, domain names, `all`, `*`); the place that applies a fault resolves them (`mapTargets`). Text form, one fault a
 * line:
 *
 *     partition us-east-1a us-east-1b        both ways between two groups
 *     cut 127.0.1.1 127.0.2.1,127.0.2.2      one way, from the first group to the second
 *     latency 200±50ms from=us-east-1a to=*  one way delay of 200 ms plus up to 50 ms of jitter
 *     loss 5% from=… to=…                    drop that share of frames
 *     duplicate 20%                          deliver that share of frames twice
 *     kvdb-cut 127.0.1.1 · kvdb-heal 127.0.1.1 · kvdb-down · kvdb-up
 *     crash 127.0.1.2 · restart … · start … · pause … · resume …
 *     deactivate us-east-1a · activate us-east-1a (the operator's ClusterDomainUpdate)
 *     hide-members us-east-1a us-east-1b     the first group's kvdb reads stop seeing the second's registrations
 *     heal                                   every network and kvdb fault removed
 */

const TARGETS_MAX = 1024;
const name = z.string().min(1).max(253);
const targets = z.array(name).min(1).max(TARGETS_MAX);
const percent = z.number().min(0).max(100);
const ms = z.number().finite().min(0).max(3_600_000);

export const faultSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('partition'), a: targets, b: targets }).strict(),
  z.object({ kind: z.literal('cut'), from: targets, to: targets }).strict(),
  z.object({ kind: z.literal('latency'), ms, jitterMs: ms, from: targets.optional(), to: targets.optional() }).strict(),
  z.object({ kind: z.literal('loss'), percent, from: targets.optional(), to: targets.optional() }).strict(),
  z.object({ kind: z.literal('duplicate'), percent }).strict(),
  z.object({ kind: z.literal('kvdb-cut'), nodes: targets }).strict(),
  z.object({ kind: z.literal('kvdb-heal'), nodes: targets }).strict(),
  z.object({ kind: z.literal('kvdb-down') }).strict(),
  z.object({ kind: z.literal('kvdb-up') }).strict(),
  z.object({ kind: z.literal('heal') }).strict(),
  z.object({ kind: z.literal('crash'), nodes: targets }).strict(),
  z.object({ kind: z.literal('restart'), nodes: targets }).strict(),
  z.object({ kind: z.literal('start'), nodes: targets }).strict(),
  z.object({ kind: z.literal('pause'), nodes: targets }).strict(),
  z.object({ kind: z.literal('resume'), nodes: targets }).strict(),
  z.object({ kind: z.literal('deactivate'), domain: name }).strict(),
  z.object({ kind: z.literal('activate'), domain: name }).strict(),
  z.object({ kind: z.literal('hide-members'), on: targets, members: targets }).strict(),
]);

export type Fault = z.infer<typeof faultSchema>;
export type FaultKind = Fault['kind'];
/** The faults `LinkFaults.apply` handles: the network and the kvdb link. */
export type NetworkFault = Extract<
  Fault,
  { kind: 'partition' | 'cut' | 'latency' | 'loss' | 'duplicate' | 'kvdb-cut' | 'kvdb-heal' | 'heal' }
>;

export const FAULT_KINDS: readonly FaultKind[] = faultSchema.options.map((option) => option.shape.kind.value);

const NETWORK_KINDS = new Set<FaultKind>([
  'partition',
  'cut',
  'latency',
  'loss',
  'duplicate',
  'kvdb-cut',
  'kvdb-heal',
  'heal',
]);

export function isNetworkFault(fault: Fault): fault is NetworkFault {
  return NETWORK_KINDS.has(fault.kind);
}

/** A fault whose text or JSON is not in the vocabulary; the message names the bad token or field. */
export class FaultSyntaxError extends Error {
  override name = 'FaultSyntaxError';
}

/** Parses JSON (already decoded) into a Fault: the typed fault, or a message naming what is wrong. */
export function parseFault(json: unknown): { ok: true; fault: Fault } | { ok: false; error: string } {
  const result = faultSchema.safeParse(json);
  if (result.success) return { ok: true, fault: result.data };
  const issue = result.error.issues[0];
  const where = issue === undefined || issue.path.length === 0 ? 'fault' : `fault.${issue.path.join('.')}`;
  const kinds =
    typeof json === 'object' && json !== null && 'kind' in json ? '' : ` (kinds: ${FAULT_KINDS.join(', ')})`;
  return { ok: false, error: `${where}: ${issue?.message ?? 'invalid'}${kinds}` };
}

const groupList = (token: string | undefined, what: string, line: string): string[] => {
  if (token === undefined || token === '') throw new FaultSyntaxError(`"${line}": missing ${what}`);
  const parts = token.split(',').map((part) => part.trim());
  if (parts.some((part) => part === '')) throw new FaultSyntaxError(`"${line}": empty name in ${what} "${token}"`);
  return parts;
};

const percentToken = (token: string | undefined, line: string): number => {
  const match = token === undefined ? null : /^(\d+(?:\.\d+)?)%$/.exec(token);
  const value = match === null ? Number.NaN : Number(match[1]);
  if (!(value >= 0 && value <= 100))
    throw new FaultSyntaxError(`"${line}": "${token ?? ''}" is not a percentage 0%–100%`);
  return value;
};

const latencyToken = (token: string | undefined, line: string): { ms: number; jitterMs: number } => {
  const match = token === undefined ? null : /^(\d+(?:\.\d+)?)(?:±(\d+(?:\.\d+)?))?ms$/.exec(token);
  if (match === null) throw new FaultSyntaxError(`"${line}": "${token ?? ''}" is not a latency like 200ms or 200±50ms`);
  return { ms: Number(match[1]), jitterMs: Number(match[2] ?? '0') };
};

/** `from=…` / `to=…` options of latency and loss. */
const directionOptions = (tokens: string[], line: string): { from?: string[]; to?: string[] } => {
  const options: { from?: string[]; to?: string[] } = {};
  for (const token of tokens) {
    const [key, value] = token.split('=', 2);
    if ((key !== 'from' && key !== 'to') || value === undefined)
      throw new FaultSyntaxError(`"${line}": unexpected "${token}" (expected from=GROUP or to=GROUP)`);
    options[key] = groupList(value, key, line);
  }
  return options;
};

function expectArity(tokens: string[], count: number, usage: string, line: string): void {
  if (tokens.length === count) return;
  const extra = tokens[count];
  throw new FaultSyntaxError(
    extra === undefined ? `"${line}": expected ${usage}` : `"${line}": unexpected "${extra}" (expected ${usage})`,
  );
}

/** Parses one fault in the text form; the error names the bad token. */
export function parseFaultText(line: string): Fault {
  const [kind = '', ...rest] = line.trim().split(/\s+/);
  switch (kind) {
    case 'partition':
    case 'cut':
    case 'hide-members': {
      expectArity(rest, 2, `${kind} GROUP GROUP`, line);
      const [first, second] = [groupList(rest[0], 'first group', line), groupList(rest[1], 'second group', line)];
      if (kind === 'partition') return { kind, a: first, b: second };
      if (kind === 'cut') return { kind, from: first, to: second };
      return { kind, on: first, members: second };
    }
    case 'latency':
      return { kind, ...latencyToken(rest[0], line), ...directionOptions(rest.slice(1), line) };
    case 'loss':
      return { kind, percent: percentToken(rest[0], line), ...directionOptions(rest.slice(1), line) };
    case 'duplicate':
      expectArity(rest, 1, 'duplicate PERCENT%', line);
      return { kind, percent: percentToken(rest[0], line) };
    case 'kvdb-down':
    case 'kvdb-up':
    case 'heal':
      expectArity(rest, 0, kind, line);
      return { kind };
    case 'deactivate':
    case 'activate':
      expectArity(rest, 1, `${kind} DOMAIN`, line);
      return { kind, domain: groupList(rest[0], 'domain', line).join(',') };
    case 'kvdb-cut':
    case 'kvdb-heal':
    case 'crash':
    case 'restart':
    case 'start':
    case 'pause':
    case 'resume':
      expectArity(rest, 1, `${kind} GROUP`, line);
      return { kind, nodes: groupList(rest[0], 'group', line) };
    default:
      throw new FaultSyntaxError(`"${line}": unknown fault "${kind}"; known: ${FAULT_KINDS.join(', ')}`);
  }
}

const directionText = (fault: { from?: string[] | undefined; to?: string[] | undefined }): string =>
  `${fault.from === undefined ? '' : ` from=${fault.from.join(',')}`}${fault.to === undefined ? '' : ` to=${fault.to.join(',')}`}`;

/** The text form of a fault (`parseFaultText(formatFault(f))` gives `f` back). */
export function formatFault(fault: Fault): string {
  switch (fault.kind) {
    case 'partition':
      return `partition ${fault.a.join(',')} ${fault.b.join(',')}`;
    case 'cut':
      return `cut ${fault.from.join(',')} ${fault.to.join(',')}`;
    case 'hide-members':
      return `hide-members ${fault.on.join(',')} ${fault.members.join(',')}`;
    case 'latency':
      return `latency ${fault.ms}${fault.jitterMs === 0 ? '' : `±${fault.jitterMs}`}ms${directionText(fault)}`;
    case 'loss':
      return `loss ${fault.percent}%${directionText(fault)}`;
    case 'duplicate':
      return `duplicate ${fault.percent}%`;
    case 'kvdb-down':
    case 'kvdb-up':
    case 'heal':
      return fault.kind;
    case 'deactivate':
    case 'activate':
      return `${fault.kind} ${fault.domain}`;
    default:
      return `${fault.kind} ${fault.nodes.join(',')}`;
  }
}

/** The same fault with every target group mapped (e.g. group names resolved to node IPs). */
export function mapTargets(fault: Fault, resolve: (targets: string[]) => string[]): Fault {
  switch (fault.kind) {
    case 'partition':
      return { ...fault, a: resolve(fault.a), b: resolve(fault.b) };
    case 'cut':
      return { ...fault, from: resolve(fault.from), to: resolve(fault.to) };
    case 'hide-members':
      return { ...fault, on: resolve(fault.on), members: resolve(fault.members) };
    case 'latency':
    case 'loss': {
      const { from, to, ...rest } = fault;
      return {
        ...rest,
        ...(from === undefined ? {} : { from: resolve(from) }),
        ...(to === undefined ? {} : { to: resolve(to) }),
      };
    }
    case 'kvdb-cut':
    case 'kvdb-heal':
    case 'crash':
    case 'restart':
    case 'start':
    case 'pause':
    case 'resume':
      return { ...fault, nodes: resolve(fault.nodes) };
    default:
      return fault;
  }
}
