import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Runs a script with plain node in packages/cli, against the compiled packages (`pnpm test` builds them first), and
 * returns what it printed: whether etcd3 (and with it gRPC) had been loaded at each point.
 */
function loadedAt(script: string): string {
  const prelude = `
    import { createRequire } from 'node:module';
    const cache = createRequire(import.meta.url).cache;
    const etcd3Loaded = () => Object.keys(cache).some((path) => path.includes('/etcd3/'));
  `;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', prelude + script], {
    cwd: join(import.meta.dirname, '..'),
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(result.stderr).toBe('');
  return result.stdout;
}

describe('etcd3 and gRPC load only when an etcd endpoint is used', () => {
  it('importing the packages and opening a mem:// kvdb does not load them; opening an etcd endpoint does', () => {
    const output = loadedAt(`
      const { createKvdb } = await import('@pxsim/kvdb-client');
      await import('@pxsim/node-agent');
      await import('@pxsim/sim-harness');
      console.log('after import', etcd3Loaded());
      await createKvdb('mem://', { namespace: 'n/' }).close();
      console.log('after mem://', etcd3Loaded());
      await createKvdb('etcd:http://127.0.0.1:9', { namespace: 'n/' }).close();
      console.log('after etcd:', etcd3Loaded());
    `);
    expect(output).toBe('after import false\nafter mem:// false\nafter etcd: true\n');
  });
});
