import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Starts and stops a throwaway etcd on loopback, for tests, benchmarks and `pnpm sim --etcd`.
 * It lives outside the decision code: it uses real processes, ports and the wall clock.
 */
export interface EtcdProcessOptions {
  /** Path of the etcd binary. Default: `etcd` on PATH. */
  binary?: string;
  host?: string;
  /** Client port; a free one when absent. */
  clientPort?: number;
  /** Data directory; a new temporary one (removed on stop) when absent. */
  dataDir?: string;
  /** How long to wait for the server to answer. Default 15,000 ms. */
  startTimeoutMs?: number;
}

export function findEtcdBinary(binary = 'etcd'): string | undefined {
  const result = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  return result.status === 0 ? binary : undefined;
}

export async function freeLoopbackPort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

export class EtcdProcess {
  readonly host: string;
  readonly clientPort: number;
  readonly peerPort: number;
  readonly dataDir: string;
  private readonly binary: string;
  private readonly ownsDataDir: boolean;
  private readonly startTimeoutMs: number;
  private child: ChildProcess | undefined;
  private log = '';

  private constructor(
    options: Required<Omit<EtcdProcessOptions, 'dataDir'>> & {
      dataDir: string;
      peerPort: number;
      ownsDataDir: boolean;
    },
  ) {
    this.binary = options.binary;
    this.host = options.host;
    this.clientPort = options.clientPort;
    this.peerPort = options.peerPort;
    this.dataDir = options.dataDir;
    this.ownsDataDir = options.ownsDataDir;
    this.startTimeoutMs = options.startTimeoutMs;
  }

  static async start(options: EtcdProcessOptions = {}): Promise<EtcdProcess> {
    const binary = options.binary ?? 'etcd';
    if (findEtcdBinary(binary) === undefined) {
      throw new Error(
        `etcd binary "${binary}" not found: install Debian's etcd-server (apt-get install -y etcd-server)`,
      );
    }
    const host = options.host ?? '127.0.0.1';
    const etcd = new EtcdProcess({
      binary,
      host,
      clientPort: options.clientPort ?? (await freeLoopbackPort(host)),
      peerPort: await freeLoopbackPort(host),
      dataDir: options.dataDir ?? mkdtempSync(join(tmpdir(), 'pxsim-etcd-')),
      ownsDataDir: options.dataDir === undefined,
      startTimeoutMs: options.startTimeoutMs ?? 15_000,
    });
    await etcd.restart();
    return etcd;
  }

  get endpoint(): string {
    return `http://${this.host}:${this.clientPort}`;
  }

  /** The Portworx-style `-k` value for this server. */
  get kvdbEndpoint(): string {
    return `etcd:${this.endpoint}`;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the server (again) on the same ports and data dir, and waits until it answers. */
  async restart(): Promise<void> {
    if (this.running) throw new Error('etcd is already running');
    const peer = `http://${this.host}:${this.peerPort}`;
    this.log = '';
    const child = spawn(
      this.binary,
      [
        '--name',
        'pxsim',
        '--data-dir',
        this.dataDir,
        '--listen-client-urls',
        this.endpoint,
        '--advertise-client-urls',
        this.endpoint,
        '--listen-peer-urls',
        peer,
        '--initial-advertise-peer-urls',
        peer,
        '--initial-cluster',
        `pxsim=${peer}`,
        '--heartbeat-interval',
        '50',
        '--election-timeout',
        '500',
        '--log-level',
        'error',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child.stderr?.on('data', (chunk: Buffer) => {
      if (this.log.length < 64 * 1024) this.log += chunk.toString();
    });
    this.child = child;
    const deadline = Date.now() + this.startTimeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`etcd exited at start (code ${String(child.exitCode)}): ${this.log.trim()}`);
      try {
        const response = await fetch(`${this.endpoint}/health`, { signal: AbortSignal.timeout(500) });
        const body = (await response.json()) as { health?: unknown };
        if (body.health === 'true' || body.health === true) return;
      } catch {
        // not up yet
      }
      await sleep(50);
    }
    await this.kill();
    throw new Error(`etcd did not become healthy within ${this.startTimeoutMs} ms: ${this.log.trim()}`);
  }

  /** SIGKILL: the server vanishes mid-flight, as in a crash. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL');
  }

  /** Graceful stop; removes the data dir if this object created it. */
  async stop(): Promise<void> {
    await this.signal('SIGTERM');
    if (this.ownsDataDir) rmSync(this.dataDir, { recursive: true, force: true });
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (child === undefined || !this.running) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    const timeout = sleep(5000).then(() => {
      if (this.running) child.kill('SIGKILL');
    });
    await Promise.race([exited, timeout]);
    await exited;
  }
}
