import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkSchedules } from '@pxsim/sim-harness';

const BIN = join(import.meta.dirname, '..', 'bin');

/** A printed replay line as the argv a shell would give `pxsim` (the replay path is single-quoted). */
function argvOf(line: string): string[] {
  const prefix = 'pnpm exec pxsim ';
  expect(line.startsWith(prefix), line).toBe(true);
  return (line.slice(prefix.length).match(/'[^']*'|\S+/g) ?? []).map((word) => word.replace(/^'(.*)'$/, '$1'));
}

describe('pxsim replay runs the line a failure printed', () => {
  it(
    'a shrunk reference-mode split brain: the printed command reproduces the same schedule and violations',
    () =>
      checkSchedules({ mode: 'reference', numRuns: 1000, failOn: ['S1'], seed: 1 }).then((found) => {
        expect(found.failed).toBe(true);
        expect(found.violations.map((v) => v.check)).toContain('S1');
        const dir = mkdtempSync(join(tmpdir(), 'pxsim-replay-html-'));
        const html = join(dir, 'replay.html');
        const result = spawnSync(join(BIN, 'pxsim'), [...argvOf(found.replay ?? ''), '--html', html], {
          encoding: 'utf8',
          timeout: 120_000,
        });
        // The timeline page: a lane per node, the violation as a finding, the replay line in its header.
        expect(result.stdout).toContain(`timeline: ${html}`);
        const page = readFileSync(html, 'utf8');
        rmSync(dir, { recursive: true, force: true });
        expect(page.match(/<g class="lane"/g)?.length).toBe(found.counterexample?.witness === true ? 7 : 6);
        expect(page).toContain('<g class="finding">');
        expect(page).toContain('VIOLATION S1');
        expect(page).toContain(`replay: ${(found.replay ?? '').replace(/'/g, '&#39;')}`);
        expect(result.stderr).not.toMatch(/wrong path/);
        expect(result.status).not.toBe(0);
        expect(result.stdout).toContain(JSON.stringify(found.counterexample, null, 2));
        for (const violation of found.violations)
          expect(result.stdout).toContain(`  ${violation.check} at ${violation.atMs} ms: ${violation.detail}`);
        expect(result.stdout).toContain(`replay: ${found.replay ?? ''}`);
      }),
    300_000,
  );
});

describe('pxsim check --html-dir and replay --html', () => {
  it('writes one timeline page for the failing schedule, named by mode and seed, and says where', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pxsim-check-html-'));
    try {
      const result = spawnSync(
        join(BIN, 'pxsim'),
        ['check', '--mode', 'reference', '--runs', '1000', '--seed', '1', '--html-dir', join(dir, 'pages')],
        { encoding: 'utf8', timeout: 240_000 },
      );
      expect(result.status).toBe(1);
      const file = join(dir, 'pages', 'failure-reference-seed1.html');
      expect(result.stdout).toContain(`timeline: ${file}`);
      expect(readFileSync(file, 'utf8')).toContain('<svg');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);

  it('refuses an HTML path it cannot write before running anything', () => {
    const result = spawnSync(
      join(BIN, 'pxsim'),
      ['replay', '--seed', '1', '--path', '0', '--html', '/nonexistent-dir/x.html'],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('--html /nonexistent-dir/x.html: cannot write there');
    expect(existsSync('/nonexistent-dir')).toBe(false);
  });
});

describe('pxsim check --workers and --shard', () => {
  const H1 = ['--mode', 'reference', '--faults', 'witness-bridge', '--witness', 'yes', '--fail-on', 'LIN,RPO'];

  it('spread over two worker processes, a seed fails with the replay line and violations of the unsharded run', () => {
    const run = (extra: string[]) =>
      spawnSync(join(BIN, 'pxsim'), ['check', ...H1, '--runs', '6', '--seed', '1', ...extra], {
        encoding: 'utf8',
        timeout: 240_000,
      });
    const alone = run([]);
    const spread = run(['--workers', '2']);
    expect(alone.status).toBe(1);
    expect(spread.status).toBe(1);
    expect(spread.stderr).toContain('seed 1, 6 schedules over 2 workers');
    const replayLine = (stdout: string) => stdout.split('\n').find((line) => line.startsWith('replay: '));
    expect(replayLine(spread.stdout)).toBeDefined();
    expect(replayLine(spread.stdout)).toBe(replayLine(alone.stdout));
    const violations = (stdout: string) => stdout.slice(stdout.indexOf('violations:'), stdout.indexOf('replay: '));
    expect(violations(spread.stdout)).toBe(violations(alone.stdout));
  }, 300_000);

  it('one shard of a passing seed says how many of its schedules ran there', () => {
    const result = spawnSync(
      join(BIN, 'pxsim'),
      ['check', '--runs', '5', '--seed', '3', '--shard', '1/2', '--faults', 'latency,crash'],
      { encoding: 'utf8', timeout: 120_000 },
    );
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('5 schedule(s) passed (mode safe, seed 3, shard 1/2: 2 of them run here)');
  }, 150_000);

  it('refuses a shard or worker count that is not one, before running anything', () => {
    const refused = (args: string[]) =>
      spawnSync(join(BIN, 'pxsim'), ['check', ...args], { encoding: 'utf8', timeout: 60_000 });
    expect(refused(['--shard', '2/2']).stderr).toContain('--shard: shard index 2 must be below 2');
    expect(refused(['--shard', 'half']).stderr).toContain('--shard: "half" is not a shard: expected i/M, like 0/4');
    const workers = refused(['--workers', '0']);
    expect(workers.status).toBe(2);
    expect(workers.stderr).toContain('--workers 0 must be a whole number from 1 to 64');
  });

  it('check --kubernetes runs K1 under random schedules; replay --kubernetes runs one; other flags are refused', () => {
    const run = (...args: string[]) => spawnSync(join(BIN, 'pxsim'), args, { encoding: 'utf8', timeout: 120_000 });
    const checked = run('check', '--kubernetes', '--runs', '8', '--seed', '3');
    expect(checked.stderr).toContain('K1 over 8 schedule(s), seed 3');
    expect(checked.stdout).toBe('K1: 8 schedule(s), no application ran in both clusters at once\n');
    expect(checked.status).toBe(0);
    const replayed = run('replay', '--kubernetes', '--seed', '11', '--path', '12:0:3:4:4:4', '--replay-path', 'K:B');
    expect(replayed.stdout).toMatch(/^K1: \d+ schedule\(s\), no application ran in both clusters at once\n$/);
    expect(replayed.status).toBe(0);
    for (const [flags, message] of [
      [['--faults', 'crash'], '--faults does not go with --kubernetes'],
      [['--mode', 'reference'], '--kubernetes runs safe mode only'],
      [['--workers', '2'], '--workers does not go with --kubernetes'],
    ] as const) {
      const refused = run('check', '--kubernetes', '--runs', '1', ...flags);
      expect(refused.status).toBe(2);
      expect(refused.stderr).toContain(message);
    }
  });
});
