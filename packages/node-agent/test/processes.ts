import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export const PX_NODE = join(import.meta.dirname, '..', 'bin', 'px-node');

export interface NodeProcess {
  ip: string;
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Spawns one real px-node process. */
export function spawnNode(args: string[], ip: string): NodeProcess {
  const child = spawn(PX_NODE, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const append = (chunk: Buffer): void => {
    if (output.length < 256 * 1024) output += chunk.toString();
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { ip, child, output: () => output, exited };
}

export async function getJson(url: string, timeoutMs = 1000): Promise<unknown> {
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
