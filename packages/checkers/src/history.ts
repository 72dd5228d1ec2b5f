import type { Fault } from '@pxsim/runtime';

/** The invariants a run is checked against (see the sim-harness README for each one's statement). */
export type CheckName = 'S1' | 'S2' | 'S3' | 'L1' | 'L2' | 'LIN' | 'RPO' | 'PHANTOM' | 'K1';

/** Every check, in the order reports list them. */
export const CHECK_NAMES: readonly CheckName[] = ['S1', 'S2', 'S3', 'L1', 'L2', 'LIN', 'RPO', 'PHANTOM', 'K1'];

export interface Violation {
  atMs: number;
  check: CheckName;
  detail: string;
}

/** What a checker found; the host stamps the time and records it. */
export interface Finding {
  check: CheckName;
  detail: string;
}

interface EventBase {
  atMs: number;
  node?: string;
}

/** A node's user-facing state changed (`not started`, `crashed` and `paused` included). */
export interface StateEvent extends EventBase {
  kind: 'state';
  node: string;
  from: string;
  to: string;
  /** Why, as the agent said it ('' for none). */
  reason: string;
}

/** Faults applied at one instant, with the nemesis's name for them when it has one. */
export interface FaultEvent extends EventBase {
  kind: 'fault';
  faults: Fault[];
  label?: string;
}

/** The operator's ClusterDomainUpdate and how it ended. `via` is the node that applied it (none could: undefined). */
export interface OperatorEvent extends EventBase {
  kind: 'operator';
  action: 'activate' | 'deactivate';
  domain: string;
  via: string | undefined;
  outcome: string;
  reason: string;
}

export interface CheckEvent extends EventBase {
  kind: 'check';
  check: CheckName;
  detail: string;
}

/** The typed history of a run: what the checkers read and what the transcript prints. */
export type HistoryEvent = StateEvent | FaultEvent | OperatorEvent | CheckEvent;

const list = (targets: string[] | undefined): string => targets?.join(',') ?? '*';

/** A fault as the history prints it (the wording of the pinned transcripts). */
export function describeFault(fault: Fault): string {
  switch (fault.kind) {
    case 'partition':
      return `partition ${fault.a.join(',')} | ${fault.b.join(',')}`;
    case 'cut':
      return `cut ${fault.from.join(',')} -> ${fault.to.join(',')}`;
    case 'latency':
      return `latency ${fault.ms}±${fault.jitterMs} ms ${list(fault.from)} -> ${list(fault.to)}`;
    case 'loss':
      return `loss ${fault.percent}% ${list(fault.from)} -> ${list(fault.to)}`;
    case 'duplicate':
      return `duplicate ${fault.percent}%`;
    case 'hide-members':
      return `hide-members ${fault.on.join(',')} | ${fault.members.join(',')}`;
    case 'deactivate':
    case 'activate':
      return `${fault.kind} ${fault.domain}`;
    case 'kvdb-down':
    case 'kvdb-up':
    case 'heal':
      return fault.kind;
    default:
      return `${fault.kind} ${fault.nodes.join(',')}`;
  }
}

/** The text of one event (without time, kind and node). */
export function eventText(event: HistoryEvent): string {
  switch (event.kind) {
    case 'state':
      return `${event.from} -> ${event.to}${event.reason === '' ? '' : ` (${event.reason})`}`;
    case 'fault':
      return event.label ?? event.faults.map(describeFault).join('; ');
    case 'operator':
      return event.via === undefined
        ? `${event.action} ${event.domain}: no node can reach the kvdb`
        : `${event.action} ${event.domain}: ${event.outcome}${event.reason === '' ? '' : ` (${event.reason})`}`;
    case 'check':
      return `VIOLATION ${event.check}: ${event.detail}`;
  }
}

/** One transcript line: `atMs kind node text` (`-` for no node). */
export function historyLine(event: HistoryEvent): string {
  return `${event.atMs} ${event.kind} ${event.node ?? '-'} ${eventText(event)}`;
}
