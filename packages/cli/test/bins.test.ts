import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

  it.each(BINS)(
    '%s/bin/%s loads one bundle that leaves etcd3 and gRPC out, and etcd3 resolves from where the bundle is',
    (pkg, name) => {
      const bundle = join(PACKAGES, pkg, 'dist', `${name}.bundle.js`);
      expect(readFileSync(join(PACKAGES, pkg, 'bin', name), 'utf8')).toContain(`'../dist/${name}.bundle.js'`);
      const text = readFileSync(bundle, 'utf8');
      // The commands that can open an etcd kvdb require etcd3 lazily, by name (@pxsim/kvdb-client's etcd module);
      // neither etcd3 nor gRPC is inlined. (Booleans: a failure must not print two megabytes.)
      const requiresEtcd3ByName = /[\w$]+\(["']etcd3["']\)/.test(text); // loadCommonJs, its name minified
      expect(requiresEtcd3ByName).toBe(name === 'px-node' || name === 'pxsim');
      expect(text.includes('@grpc/grpc-js') || text.includes('node_modules/etcd3/')).toBe(false);
      // Resolved in a child without NODE_PATH: pnpm's scripts set one that reaches every hoisted package.
      const env = { ...process.env };
      delete env['NODE_PATH'];
      const script = `const r = require('node:module').createRequire(${JSON.stringify(bundle)}); console.log(r.resolve('etcd3'), r.resolve('cockatiel'));`;
      const resolved = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env });
      expect(resolved.stderr).toBe('');
      expect(resolved.stdout).toMatch(/etcd3.* .*cockatiel/);
    },
  );
});
