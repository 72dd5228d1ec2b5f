import { spawnSync } from 'node:child_process';
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
        const result = spawnSync(join(BIN, 'pxsim'), argvOf(found.replay ?? ''), {
          encoding: 'utf8',
          timeout: 120_000,
        });
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
