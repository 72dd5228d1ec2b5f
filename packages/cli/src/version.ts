import { readFileSync } from 'node:fs';

/** The CLI package's version, from its package.json (one level above both src/ and dist/). */
export function cliVersion(): string {
  const text = readFileSync(new URL('../package.json', import.meta.url), 'utf8');
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed === 'object' && parsed !== null && 'version' in parsed && typeof parsed.version === 'string') {
    return parsed.version;
  }
  return 'unknown';
}

/** `-V, --version` as every pxsim command has it. */
export const VERSION_FLAGS = '-V, --version';
export const VERSION_DESCRIPTION = 'print the version and exit';
