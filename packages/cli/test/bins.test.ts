import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const PACKAGES = join(import.meta.dirname, '..', '..');
const BINS = [
  ['cli', 'pxsim'],
  ['cli', 'pxctl'],
  ['cli', 'storkctl'],
  ['node-agent', 'px-node'],
] as const;

describe('the commands run the compiled JavaScript', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'pxsim-bins-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it.each(BINS)('%s/bin/%s runs from dist/ with plain node', (pkg, name) => {
    const result = spawnSync(join(PACKAGES, pkg, 'bin', name), ['--help'], { encoding: 'utf8', timeout: 60_000 });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('Usage:');
  });

  it.each(BINS)('%s/bin/%s without a build says how to make one', (pkg, name) => {
    // The same launcher in a package without dist/.
    const root = join(scratch, pkg);
    mkdirSync(join(root, 'bin'), { recursive: true });
    writeFileSync(join(root, 'package.json'), '{ "type": "module" }\n');
    copyFileSync(join(PACKAGES, pkg, 'bin', name), join(root, 'bin', name));
    const result = spawnSync(process.execPath, [join(root, 'bin', name), '--help'], { encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`${name}: the compiled JavaScript is missing (`);
    expect(result.stderr).toContain('Build it from the repository root with: pnpm build');
  });
});
