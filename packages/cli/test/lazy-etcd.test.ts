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
  it('importing the packages and using a mem:// kvdb does not load them; the first request to an etcd endpoint does', () => {
    const output = loadedAt(`
      const { createKvdb } = await import('@pxsim/kvdb-client');
      await import('@pxsim/node-agent');
      await import('@pxsim/sim-harness');
      console.log('after import', etcd3Loaded());
      await createKvdb('mem://', { namespace: 'n/' }).close();
      console.log('after mem://', etcd3Loaded());
      const etcd = createKvdb('etcd:http://127.0.0.1:9', { namespace: 'n/', requestTimeoutMs: 200 });
      console.log('after opening etcd:', etcd3Loaded());
      await etcd.currentRevision().catch(() => undefined);
      console.log('after its first request:', etcd3Loaded());
      await etcd.close();
    `);
    expect(output).toBe(
      'after import false\nafter mem:// false\nafter opening etcd: false\nafter its first request: true\n',
    );
  });
});
