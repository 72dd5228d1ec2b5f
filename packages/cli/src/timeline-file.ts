import { accessSync, constants, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { TimelineInput } from '@pxsim/sim-harness';
import { CliError } from './client.js';

/** Refuses, before any work, an HTML path that cannot be written: its directory is missing or not writable. */
export function checkHtmlPath(file: string, flag: string): string {
  const path = resolve(file);
  if (existsSync(path) && statSync(path).isDirectory()) throw new CliError(`${flag} ${file}: is a directory`, 2);
  try {
    accessSync(dirname(path), constants.W_OK);
  } catch {
    throw new CliError(`${flag} ${file}: cannot write there (directory ${dirname(path)} missing or not writable)`, 2);
  }
  return path;
}

/** Makes (if needed) a directory for HTML files and checks it is writable. */
export function checkHtmlDir(dir: string, flag: string): string {
  const path = resolve(dir);
  try {
    mkdirSync(path, { recursive: true });
    accessSync(path, constants.W_OK);
  } catch (error) {
    throw new CliError(
      `${flag} ${dir}: cannot write there (${error instanceof Error ? error.message : String(error)})`,
      2,
    );
  }
  return path;
}

/** Writes a run's timeline as one self-contained HTML page (the report code loads only when asked for). */
export async function writeTimeline(path: string, input: TimelineInput): Promise<void> {
  const { renderTimeline } = await import('@pxsim/sim-harness');
  writeFileSync(path, renderTimeline(input));
}
