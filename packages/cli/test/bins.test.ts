import { spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
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
      // px-node's bundle is CommonJS (its launcher compiles it with V8's code cache); the others are ES modules.
      const file = name === 'px-node' ? `${name}.bundle.cjs` : `${name}.bundle.js`;
      const bundle = join(PACKAGES, pkg, 'dist', file);
      expect(readFileSync(join(PACKAGES, pkg, 'bin', name), 'utf8')).toContain(`'../dist/${file}'`);
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

describe("px-node's code cache", () => {
  const scratch = mkdtempSync(join(tmpdir(), 'pxsim-code-cache-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  // A copy of the package's launcher, bundle and package.json: the cache it writes is its own, not dist/'s.
  const root = join(scratch, 'node-agent');
  mkdirSync(join(root, 'bin'), { recursive: true });
  mkdirSync(join(root, 'dist'), { recursive: true });
  for (const file of ['package.json', 'bin/px-node', 'dist/px-node.bundle.cjs'])
    copyFileSync(join(PACKAGES, 'node-agent', file), join(root, file));
  const cache = join(root, 'dist', 'px-node.bundle.cjs.cache');
  const ip = '127.3.0.1';

  /** Starts the copy on the embedded kvdb, waits (bounded) for its REST API, stops it; its exit status. */
  async function startAndStop(run: number): Promise<number | null> {
    const args = ['-c', `cache-${run}`, '-k', 'mem://cache', '--cluster-domain', 'a', '--ip', ip];
    const child = spawn(
      process.execPath,
      [join(root, 'bin', 'px-node'), ...args, '--data-dir', join(scratch, `d${run}`)],
      {
        stdio: 'ignore',
      },
    );
    try {
      for (let attempt = 0; attempt < 300; attempt++) {
        const answered = await fetch(`http://${ip}:9001/v1/cluster`).then(
          () => true,
          () => false,
        );
        if (answered) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      child.kill('SIGTERM');
    }
    return new Promise((resolve) => child.once('exit', resolve));
  }

  it('is written by a node once it listens, not by --help; a cache V8 refuses is written again', async () => {
    const help = spawnSync(process.execPath, [join(root, 'bin', 'px-node'), '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(existsSync(cache)).toBe(false);
    expect(await startAndStop(1)).toBe(0);
    const written = readFileSync(cache);
    expect(written.length).toBeGreaterThan(100_000);
    // Garbage where the cache was: V8 rejects it, the node starts anyway and replaces it.
    writeFileSync(cache, Buffer.alloc(written.length, 7));
    expect(await startAndStop(2)).toBe(0);
    expect(readFileSync(cache).equals(Buffer.alloc(written.length, 7))).toBe(false);
    // A cache older than the bundle (a rebuild) is not even read: written again too.
    writeFileSync(cache, 'stale');
    utimesSync(cache, new Date(0), new Date(0));
    expect(await startAndStop(3)).toBe(0);
    expect(readFileSync(cache).length).toBeGreaterThan(100_000);
  }, 60_000);
});
