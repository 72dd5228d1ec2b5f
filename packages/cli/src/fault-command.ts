import type { Command } from 'commander';
import { FAULT_KINDS, FaultSyntaxError, parseFaultText, type Fault } from '@pxsim/runtime';
import { adminToken, call, CliError, readSimInfo } from './client.js';
import type { Io } from './commands.js';
import { controlFaultAnswerSchema, type ControlFaultAnswer } from './control.js';

/** The vocabulary, as `pxsim fault --help` shows it. */
export const FAULT_HELP = `
A fault is one line of the fault vocabulary (the same words as scenario files and pxsim check transcripts).
GROUP: a domain, a node IP, all, or a comma list of these.

  partition GROUP GROUP            both ways between two groups (--oneway: the first to the second only)
  cut GROUP GROUP                  one way, from the first group to the second
  latency MS[±JITTER]ms [from=GROUP] [to=GROUP]
                                   one-way delay (at most 500 ms, the metro limit, unless --allow-over-limit);
                                   a bare number is ms: "latency 200 --jitter 50"
  loss PERCENT% [from=GROUP] [to=GROUP]   drop that share of heartbeats (a bare number is a percentage)
  duplicate PERCENT%               deliver that share of heartbeats twice
  kvdb-cut GROUP · kvdb-heal GROUP cut nodes off from the kvdb, and back
  crash GROUP (alias: kill)        crash nodes as SIGKILL
  restart GROUP · start GROUP      crash and restart nodes (same identity); start crashed nodes
  heal                             remove every network and kvdb fault (crashed nodes stay down: use start)

Known to the vocabulary but refused by the live sim: pause, resume, kvdb-down, kvdb-up, hide-members,
activate and deactivate (use storkctl activate/deactivate clusterdomain NAME).
Kinds: ${FAULT_KINDS.join(', ')}.

Examples:
  pxsim fault partition us-east-1a us-east-1b
  pxsim fault latency 200±50ms from=us-east-1a
  pxsim fault kill 127.0.1.2
  pxsim fault heal
`;

export interface FaultFlags {
  oneway?: boolean;
  jitter?: string;
  from?: string;
  to?: string;
  allowOverLimit?: boolean;
}

const BARE_NUMBER = /^\d+(?:\.\d+)?$/;

/**
 * The text form of the words and flags of `pxsim fault`: today's subcommand spellings (`kill`, a bare `latency 200`
 * with `--jitter/--from/--to`, a bare `loss 5`, `partition --oneway`) mapped 1:1 onto the vocabulary.
 */
export function faultLine(words: string[], flags: FaultFlags): string {
  const [word = '', ...rest] = words;
  let kind = word === 'kill' ? 'crash' : word;
  let args = [...rest];
  if (kind === 'partition' && flags.oneway === true) kind = 'cut';
  else if (flags.oneway === true) throw new CliError('--oneway is only for partition', 2);
  if (kind === 'latency' || kind === 'loss') {
    const [value = '', ...more] = args;
    if (kind === 'latency' && BARE_NUMBER.test(value)) {
      const jitter = flags.jitter ?? '0';
      if (!BARE_NUMBER.test(jitter)) throw new CliError(`--jitter ${jitter} is not a number of ms (0 or more)`, 2);
      args = [`${value}${jitter === '0' ? '' : `±${jitter}`}ms`, ...more];
    } else if (kind === 'loss' && BARE_NUMBER.test(value)) args = [`${value}%`, ...more];
    if (flags.from !== undefined) args.push(`from=${flags.from}`);
    if (flags.to !== undefined) args.push(`to=${flags.to}`);
  } else if (flags.from !== undefined || flags.to !== undefined || flags.jitter !== undefined) {
    throw new CliError('--from, --to and --jitter are only for latency and loss', 2);
  }
  return [kind, ...args].join(' ');
}

/** Parses the words into a fault of the vocabulary; a syntax error is a usage error (exit 2) naming the token. */
export function parseFaultWords(words: string[], flags: FaultFlags): Fault {
  try {
    return parseFaultText(faultLine(words, flags));
  } catch (error) {
    if (error instanceof FaultSyntaxError) throw new CliError(error.message, 2);
    throw error;
  }
}

/** Sends one fault to the running sim's control API with the sim's admin token. */
export async function sendFault(
  fault: Fault,
  options: { allowOverMetroLimit?: boolean; tokenFile?: string } = {},
): Promise<ControlFaultAnswer> {
  const info = readSimInfo(true);
  if (info === undefined) throw new CliError('no running sim');
  const query = options.allowOverMetroLimit === true ? '?allowOverMetroLimit=true' : '';
  return call(info.controlUrl, `/faults${query}`, controlFaultAnswerSchema, {
    method: 'POST',
    body: fault,
    token: adminToken(options.tokenFile),
    timeoutMs: 30_000,
  });
}

export function addFaultCommands(root: Command, io: Io): void {
  root
    .command('fault')
    .description('inject a fault into the running sim (user space: no netem); see --help for the vocabulary')
    .argument('<fault...>', 'the fault, in the text form (e.g. partition us-east-1a us-east-1b)')
    .option('--oneway', 'partition: only from the first group to the second (the same as cut)')
    .option('--jitter <ms>', 'latency given as a bare number: extra random delay up to this much')
    .option('--from <group>', 'latency, loss: only from these nodes')
    .option('--to <group>', 'latency, loss: only to these nodes')
    .option('--allow-over-limit', 'latency: allow more than 500 ms (to see what the limit protects against)')
    .option('--token-file <file>', "admin token file (default: the sim's, or PX_ADMIN_TOKEN)")
    .addHelpText('after', FAULT_HELP)
    .action(async (words: string[], flags: FaultFlags & { tokenFile?: string }) => {
      const fault = parseFaultWords(words, flags);
      const answer = await sendFault(fault, {
        allowOverMetroLimit: flags.allowOverLimit === true,
        ...(flags.tokenFile === undefined ? {} : { tokenFile: flags.tokenFile }),
      });
      io.out(`applied: ${answer.text}\n${JSON.stringify({ running: answer.running, faults: answer.faults })}\n`);
    });
}
