import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export const PX_NODE = join(import.meta.dirname, '..', 'bin', 'px-node');

export interface NodeProcess {
  ip: string;
  child: ChildProcess;
  /** stdout and stderr, interleaved (at most 256 KiB). */
  output: () => string;
  /** stderr alone: the log lines (at most 256 KiB). */
  stderr: () => string;
  exited: Promise<number | null>;
}

/**
 * Bounds of the readiness waits in process tests: a real process on a loaded 2-core machine (several test suites at
 * once) may take tens of seconds to start. They exist to fail instead of hanging; nothing asserts on speed.
 */
export const STARTUP_WITHIN_MS = 120_000;
export const CHANGE_WITHIN_MS = 90_000;

/** Spawns one real px-node process. */
export function spawnNode(args: string[], ip: string): NodeProcess {
  const child = spawn(PX_NODE, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let stderr = '';
  const append = (chunk: Buffer): void => {
    if (output.length < 256 * 1024) output += chunk.toString();
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', (chunk: Buffer) => {
    append(chunk);
    if (stderr.length < 256 * 1024) stderr += chunk.toString();
  });
  // 'close' (not 'exit'): the output is complete once the streams are closed.
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return { ip, child, output: () => output, stderr: () => stderr, exited };
}

export async function getJson(url: string, timeoutMs = 5000): Promise<unknown> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  return response.json();
}

/** Polls `check` every 100 ms until it returns true; fails after `withinMs` with the last observation. */
export async function until(what: string, withinMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + withinMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(
    `${what}: not within ${withinMs} ms${lastError === undefined ? '' : ` (last error: ${lastError instanceof Error ? lastError.message : JSON.stringify(lastError)})`}`,
  );
}
