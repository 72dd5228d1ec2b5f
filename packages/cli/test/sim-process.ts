import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const BIN = join(import.meta.dirname, '..', 'bin');

/** Polls `check` every 300 ms until it holds; throws naming `what` (and `context()`, if given) after `withinMs`. */
export async function eventually(
  what: string,
  check: () => boolean,
  withinMs = 30_000,
  context?: () => string,
): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  throw new Error(`${what}: not within ${withinMs} ms${context === undefined ? '' : `; ${context()}`}`);
}

/** A `pxsim up` process on its own loopback range and state dir, as the end-to-end tests start it. */
export class SimProcess {
  output = '';
  readonly exit: Promise<number | null>;

  private constructor(
    readonly state: string,
    readonly process: ChildProcess,
  ) {
    process.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    process.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.exit = new Promise((resolve) => process.once('exit', (code) => resolve(code)));
  }

  /** Starts the six-node sim and waits until every node is Online. */
  static async start(prefix: string, tag: string): Promise<SimProcess> {
    const state = mkdtempSync(join(tmpdir(), `pxsim-${tag}-`));
    const child = spawn(join(BIN, 'pxsim'), ['up', '--ip-prefix', prefix], {
      env: { ...process.env, PXSIM_STATE_DIR: state },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const sim = new SimProcess(state, child);
    await eventually(
      'the sim forms',
      () => sim.output.includes('all 6 nodes Online'),
      60_000,
      () => sim.output,
    );
    return sim;
  }

  /** Kills it if it still runs and removes its state dir. */
  async stop(): Promise<void> {
    if (this.process.exitCode === null) this.process.kill('SIGKILL');
    await this.exit;
    rmSync(this.state, { recursive: true, force: true });
  }
}
