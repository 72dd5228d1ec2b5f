import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { timingProfile, type QuorumTiming } from '@pxsim/quorum';
import { FAULT_KINDS, parseFaultText, type FaultKind } from '@pxsim/runtime';
import {
  durationMs,
  parseArgs,
  required,
  rewriteRequested,
  runTranscriptFile,
  transcriptFiles,
} from '@pxsim/runtime/datadriven';
import { EngineNetwork } from './network.js';

const TESTDATA = join(import.meta.dirname, 'testdata');

const isFault = (name: string): name is FaultKind => (FAULT_KINDS as readonly string[]).includes(name);

/** Runs one transcript file; returns the actual output of each block. */
function runTranscript(path: string): Array<{ command: string; expected: string; comments: string[]; actual: string }> {
  let network: EngineNetwork | undefined;
  const need = (): EngineNetwork => {
    if (network === undefined) throw new Error('no cluster yet: start with "cluster mode=… profile=…"');
    return network;
  };
  let transitionsShown = 0;
  let violationsShown = 0;
  const newEvents = (): string[] => {
    const net = need();
    const lines = net.transitions.slice(transitionsShown).map((transition) => {
      const reason = transition.reason === '' ? '' : `\n      ${transition.reason}`;
      return `${String(transition.atMs).padStart(7)} ${transition.node}: ${transition.from} -> ${transition.to}${reason}`;
    });
    transitionsShown = net.transitions.length;
    lines.push(
      ...net.violations
        .slice(violationsShown)
        .map((violation) => `${String(violation.atMs).padStart(7)} VIOLATION ${violation.check}: ${violation.detail}`),
    );
    violationsShown = net.violations.length;
    return lines;
  };
  const orOk = (lines: string[]): string[] => (lines.length === 0 ? ['ok'] : lines);
  return runTranscriptFile(
    path,
    (command) => {
      const { name, args, flags } = parseArgs(command);
      return ((): string[] => {
        if (isFault(name)) {
          // A fault in the one vocabulary (`partition us-east-1a us-east-1b`, `crash a1`, `latency 0±500ms`, …).
          need().apply(parseFaultText(command));
          if (name === 'crash' || name === 'restart' || name === 'start') return newEvents();
          if (name === 'activate' || name === 'deactivate') return [`revision ${need().cluster.revision}`];
          return ['ok'];
        }
        switch (name) {
          case 'cluster': {
            let timing: QuorumTiming = timingProfile(args.get('profile') ?? 'fast');
            for (const [key, value] of args) {
              if (key in timing) timing = { ...timing, [key]: durationMs(value) };
            }
            const mode = required(args, 'mode');
            if (mode !== 'reference' && mode !== 'safe') throw new Error(`mode must be reference or safe`);
            network = new EngineNetwork({ mode, timing, seed: Number(args.get('seed') ?? '1') });
            transitionsShown = 0;
            violationsShown = 0;
            return [
              `bounds: split brain ${network.bounds.splitBrainMs} ms, inactive domain ${network.bounds.inactiveDomainMs} ms`,
            ];
          }
          case 'domain':
            need().addDomain(
              required(args, 'name'),
              required(args, 'nodes').split(','),
              flags.has('storageless') ? { storageless: true } : {},
            );
            return ['ok'];
          case 'boot':
            need().boot(need().group(args.get('nodes') ?? [...need().nodes.keys()].join('+')));
            return orOk(newEvents());
          case 'run':
            need().run(durationMs(required(args, 'for')));
            return newEvents();
          case 'flaps':
            if (need().peerFlaps.size === 0) return ['no peer went silent'];
            return [...need().peerFlaps].map(([id, count]) => `${id}: ${count} peer(s) seen alive then silent`);
          case 'status':
            return need()
              .views()
              .map(({ id, domain, view }) => {
                if (view === undefined) return `${id} ${domain} crashed`;
                const reason = view.self.reason === '' ? '' : ` — ${view.self.reason}`;
                return `${id} ${domain} ${view.self.gossipState} ${view.self.status} (${view.quorum.up}/${view.quorum.total}, needs ${view.quorum.needed})${reason}`;
              });
          case 'peers': {
            const view = need().requireNode(required(args, 'node')).engine?.view();
            if (view === undefined) return ['crashed'];
            return view.nodes.map(
              (node) =>
                `${node.nodeId} ${node.domain} ${node.gossipState} ${node.status}${node.reason === '' ? '' : ` — ${node.reason}`}`,
            );
          }
          case 'violations':
            return need().violations.length === 0
              ? ['none']
              : need().violations.map((violation) => `${violation.atMs} ${violation.check}: ${violation.detail}`);
          default:
            throw new Error(`unknown command ${name}`);
        }
      })();
    },
    '(no change)',
  );
}

describe('quorum transcripts (testdata/*.txt; REWRITE=1 regenerates)', () => {
  it.each(transcriptFiles(TESTDATA))('%s', (file) => {
    const results = runTranscript(join(TESTDATA, file));
    if (rewriteRequested) return;
    for (const result of results) {
      expect(result.actual, `${file}: ${result.command}`).toBe(result.expected);
    }
  });
});
