import { describe, expect, it } from 'vitest';
import { runSchedule, type Schedule } from '@pxsim/sim-harness';

/**
 * Every schedule the property tests ever failed on, kept forever: what it found, and the fix. Replayed in safe mode,
 * each must now pass every checker.
 */
const REGRESSIONS: Array<{ found: string; schedule: Schedule }> = [
  {
    found:
      'S1: 127.0.2.3, paused for 453 ms (under the pause gap, so unnoticed) across a domain split with 500 ms latency ' +
      'and 22% loss, took on resume frames of us-east-1a that had waited in its socket (sent 697 and 517 ms before) ' +
      'and credited them with their arrival: it served 17 ms past the bound of what it had heard. Found by the CI ' +
      'shard 2 fresh seed 2003806380: pnpm exec pxsim replay --mode safe --seed 2003806380 --path ' +
      "3069:3:4:33:32:29:3:1:0:6:2:0:4:3:0:7:8:14:10:15:14:15:15:15:15:15:15 --replay-path '/I:D' " +
      "(fix: a heartbeat shows its sender alive as of the agent's previous input, not its arrival: heardAtMs)",
    schedule: {
      seed: 1629162284,
      witness: false,
      steps: [
        { kind: 'loss', percent: 22 },
        { kind: 'latency', ms: 500, jitterMs: 0 },
        { kind: 'run', ms: 6189 },
        { kind: 'pause', node: 5 },
        { kind: 'domain-split' },
        { kind: 'run', ms: 453 },
        { kind: 'resume', node: 5 },
        { kind: 'run', ms: 200 },
        { kind: 'resume', node: 0 },
      ],
    },
  },
  {
    found:
      'L1: a restarted node whose join failed half-way (kvdb cut after its live record was written) later took its own ' +
      'record for a twin and refused to start (fix: keep the held claim across retries; recognise our own record)',
    schedule: {
      seed: 1,
      witness: false,
      steps: [
        { kind: 'latency', ms: 258, jitterMs: 48 },
        { kind: 'restart', node: 2 },
        { kind: 'activate', domain: 0 },
        { kind: 'kvdb-cut-all' },
      ],
    },
  },
  {
    found:
      'S1: with a witness, node 127.0.2.1 paused across a domain split and resumed served ' +
      'alongside 127.0.1.1 while the domains are cut both ways (9515 ms; cut since 6211 ms). Found by the CI shard 2 ' +
      "fresh seed 273008119: pnpm exec pxsim replay --mode safe --seed 273008119 --path 668:1:0:0:0:0:0:1:1:0:0:0:0:0:0:0:0:0:0:0:1:0:0:0:0:0:0:12:8:0:0:6:8:7:7:6:6:8:6:6:7:8:6:6:7:8:6:6:6:9:8:6:7:7:7:7:7:7:7:10:7:7:7:11:11:22:23:7:7:10:27:26:25:25:28:28 --replay-path '///C:P' " +
      '(fix, issue 16 item 1: a node brings its engine to now before serving, and a gap between inputs longer than the ' +
      'heartbeat interval plus the freshness window makes its view stale and drains the frames queued during the pause)',
    schedule: {
      seed: 1,
      witness: true,
      steps: [
        { kind: 'one-way', from: [3, 4, 5], to: [0, 1, 2] },
        { kind: 'run', ms: 447 },
        { kind: 'latency', ms: 61, jitterMs: 58 },
        { kind: 'run', ms: 1764 },
        { kind: 'pause', node: 3 },
        { kind: 'domain-split' },
        { kind: 'run', ms: 804 },
        { kind: 'resume', node: 3 },
        { kind: 'run', ms: 200 },
        { kind: 'domain-split' },
      ],
    },
  },
  {
    found:
      'S1 (over who heard whom): with a witness, a one-way cut us-east-1b -> us-east-1a: us-east-1a, deaf to ' +
      'us-east-1b, claimed the partition and served, while us-east-1b, which hears us-east-1a, served too ' +
      '(seed 1, schedule 7) (fix: the loser of a claim stops even when it hears the winner)',
    schedule: {
      seed: 1,
      witness: true,
      steps: [
        { kind: 'one-way', from: [3, 4, 5], to: [0, 1, 2] },
        { kind: 'run', ms: 1271 },
        { kind: 'activate', domain: 0 },
      ],
    },
  },
  {
    found:
      "S1 (over who heard whom): 127.0.2.1, paused across the release of its domain's partition claim, served on it " +
      'after resuming, deaf to us-east-1a, while us-east-1a served on hearing the rest of us-east-1b (shard 1, seed ' +
      '0x5eed1) (fix: the loser waits F after the winner releases its claim)',
    schedule: {
      seed: 26,
      witness: true,
      steps: [
        { kind: 'witness-bridge' },
        { kind: 'run', ms: 4785 },
        { kind: 'heal' },
        { kind: 'latency', ms: 0, jitterMs: 0 },
        { kind: 'run', ms: 344 },
        { kind: 'pause', node: 3 },
        { kind: 'domain-split' },
        { kind: 'run', ms: 200 },
        { kind: 'resume', node: 3 },
        { kind: 'run', ms: 200 },
      ],
    },
  },
  {
    found:
      'S1: us-east-1a deactivated, 127.0.2.1 cut off with us-east-1a from the rest of us-east-1b, us-east-1a activated ' +
      'again: 127.0.2.1 served on reading the activation (4 of 6 with the reactivated nodes) while 127.0.2.2 and ' +
      "127.0.2.3, not having read it, served as the older map's majority. Found by the quorum package's random " +
      'property (fast-check seed 560992079); the full simulator shows it on every seed with the old engine (fix: ' +
      "another domain's activation takes full effect only after the activation hold; until then a node also needs " +
      'quorum under the older map)',
    schedule: {
      seed: 1,
      witness: false,
      steps: [
        { kind: 'deactivate', domain: 0 },
        { kind: 'halves', nodes: [3, 1, 2, 0] },
        { kind: 'run', ms: 3000 },
        { kind: 'activate', domain: 0 },
      ],
    },
  },
  {
    found:
      'RPO and LIN: writes w42 and w43 were acknowledged by 127.0.2.2 while the compare-and-set putting the resynced ' +
      "127.0.1.1 back in sim-vol's current set was in flight (200 ms latency on the kvdb link), with us-east-1a split " +
      'off: the replica they skipped was in the current set once it landed, and the coordinator 127.0.1.1 opened ' +
      'after failover read the older blocks back. Found by the CI shard 2 fresh seed 1646281862: pnpm exec pxsim ' +
      'replay --mode safe --seed 1646281862 --path ' +
      "2450:2:43:47:44:8:8:24:29:24:24:30:36:24:24:29:25:24:28:28:29:35:29:29:29:30:29:29:30:31:31 --replay-path '///F:P' " +
      '(fix: a replica is joining from the add-back compare-and-set until the record says whether it is in the ' +
      'current set, and every write waits for it meanwhile; storage replication.test.ts has the small case)',
    schedule: {
      seed: 1025805113,
      witness: false,
      steps: [
        { kind: 'latency', ms: 209, jitterMs: 28 },
        { kind: 'run', ms: 7439 },
        { kind: 'restart', node: 0 },
        { kind: 'run', ms: 6038 },
        { kind: 'activate', domain: 0 },
        { kind: 'domain-split' },
        { kind: 'deactivate', domain: 1 },
        { kind: 'one-way', from: [3, 4, 5], to: [0, 1, 2] },
        { kind: 'run', ms: 200 },
      ],
    },
  },
  {
    found:
      'S1: 127.0.2.1, cut from the kvdb when us-east-1a was deactivated, read the deactivation 1 s after the others ' +
      'and, counting us-east-1a as active through its own hold, served with the votes of us-east-1a (4 of 6) until ' +
      '7751 ms, while 127.0.2.2 and 127.0.2.3, cut off from it, served from 7014 ms when their holds ended (2 of the ' +
      '3 active). Found by pxsim check --mode safe --runs 5000 --seed 44: pnpm exec pxsim replay --mode safe --seed ' +
      "44 --path 2016:0:3:2:7:12:11:11:18:19:24:18:19:18:18:19:19:18:19:19:19:18:19:18:18 --replay-path '/+:D' " +
      '(fix: during the hold after a deactivation or decommission a node also needs quorum with it in force)',
    schedule: {
      seed: 1,
      witness: false,
      steps: [
        { kind: 'kvdb-cut', nodes: [3, 0] },
        { kind: 'deactivate', domain: 0 },
        { kind: 'run', ms: 200 },
        { kind: 'heal' },
        { kind: 'halves', nodes: [5, 4] },
        { kind: 'run', ms: 1190 },
        { kind: 'pause', node: 0 },
      ],
    },
  },
  {
    found:
      'RPO (liveness of the data): sim-vol stayed unreadable for good after both domains were deactivated and every ' +
      "node was cut from the kvdb: 127.0.1.1's failover attach landed at revision 25 just before the cut, the watch " +
      'batches carrying it were dropped during the cut and nothing read the volume records again, so after the heal ' +
      'every node but one kept the record of revision 18 (attached on 127.0.2.2), 127.0.1.1 never opened as ' +
      'coordinator and every attach was refused as "attached elsewhere". Found by the CI shard 2 fresh seed ' +
      "112828753: pnpm exec pxsim replay --mode safe --seed 112828753 --path 173:43:41:41:40:40 --replay-path 'k:B' " +
      '(fix: the fault layer holds watch batches back while the kvdb link is cut and delivers them after, as an etcd ' +
      'watch resumes; the volume shell also re-reads the records whenever its watch is restarted)',
    schedule: {
      seed: 2147483627,
      witness: false,
      steps: [
        { kind: 'deactivate', domain: 1 },
        { kind: 'latency', ms: 0, jitterMs: 500 },
        { kind: 'deactivate', domain: 0 },
        { kind: 'kvdb-cut-all' },
        { kind: 'run', ms: 200 },
      ],
    },
  },
];

describe('regression schedules (safe mode)', () => {
  it.each(REGRESSIONS)('$found', async ({ schedule }) => {
    const { violations } = await runSchedule('safe', schedule);
    expect(violations).toEqual([]);
  });
});

/**
 * Reference-mode finds kept forever: each must still be found there (the hazard is real under the reference rule)
 * and must pass in safe mode.
 */
const REFERENCE_FINDS: Array<{ found: string; schedule: Schedule; checks: string[] }> = [
  {
    found:
      'H1 as data divergence: with the witness bridge both domains serve; the application fails over to us-east-1b ' +
      "(its controller no longer sees 127.0.1.1 Online) while us-east-1a's coordinator keeps acknowledging writes: " +
      'two coordinators, and a write acknowledged through 127.0.1.1 is not what the survivor reads. Found by ' +
      'pnpm exec pxsim check --mode reference --faults witness-bridge --witness yes --fail-on LIN,RPO --seed 1',
    schedule: { seed: 1549786771, witness: true, steps: [{ kind: 'witness-bridge' }, { kind: 'run', ms: 200 }] },
    checks: ['S1', 'LIN', 'RPO'],
  },
];

describe('reference-mode finds (found in reference mode, passing in safe mode)', () => {
  it.each(REFERENCE_FINDS)('$found', async ({ schedule, checks }) => {
    const reference = await runSchedule('reference', schedule);
    expect([...new Set(reference.violations.map((violation) => violation.check))]).toEqual(checks);
    const safe = await runSchedule('safe', schedule);
    expect(safe.violations).toEqual([]);
  });
});
