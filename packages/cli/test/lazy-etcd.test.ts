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

describe('etcd3 and gRPC load only when an etcd+grpc endpoint is used', () => {
  it('importing the packages, a mem:// kvdb and the default (gateway) etcd client do not load them; the first request to an etcd+grpc endpoint does', () => {
    const output = loadedAt(`
      const { createKvdb } = await import('@pxsim/kvdb-client');
      await import('@pxsim/node-agent');
      await import('@pxsim/sim-harness');
      console.log('after import', etcd3Loaded());
      await createKvdb('mem://', { namespace: 'n/' }).close();
      console.log('after mem://', etcd3Loaded());
      const gateway = createKvdb('etcd:http://127.0.0.1:9', { namespace: 'n/', requestTimeoutMs: 200 });
      await gateway.currentRevision().catch(() => undefined);
      console.log('after a request through the gateway client:', etcd3Loaded());
      await gateway.close();
      const etcd = createKvdb('etcd+grpc:http://127.0.0.1:9', { namespace: 'n/', requestTimeoutMs: 200 });
      console.log('after opening etcd+grpc:', etcd3Loaded());
      await etcd.currentRevision().catch(() => undefined);
      console.log('after its first request:', etcd3Loaded());
      await etcd.close();
    `);
    expect(output).toBe(
      'after import false\nafter mem:// false\nafter a request through the gateway client: false\n' +
        'after opening etcd+grpc: false\nafter its first request: true\n',
    );
  });
});
