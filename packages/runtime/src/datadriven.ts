import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

/**
 * Test support (imported as `@pxsim/runtime/datadriven`, not from the package's index): a minimal take on
 * etcd-io/raft's datadriven test files: blocks of
 *
 *     command arg=value …
 *     ----
 *     expected output
 *
 * separated by blank lines; `#` lines are comments. With REWRITE=1 the file is rewritten with the actual output,
 * to be reviewed as a diff.
 */
export interface TestCase {
  command: string;
  expected: string;
  /** Comment lines that stood before the command, kept on rewrite. */
  comments: string[];
}

export function parseDataDriven(text: string): TestCase[] {
  const cases: TestCase[] = [];
  const lines = text.split('\n');
  let index = 0;
  let comments: string[] = [];
  while (index < lines.length) {
    const line = lines[index] as string;
    if (line.trim() === '') {
      index += 1;
      continue;
    }
    if (line.startsWith('#')) {
      comments.push(line);
      index += 1;
      continue;
    }
    const command = line.trim();
    index += 1;
    if (lines[index] !== '----') throw new Error(`line ${index + 1}: expected ---- after "${command}"`);
    index += 1;
    const output: string[] = [];
    while (index < lines.length && (lines[index] as string) !== '') {
      output.push(lines[index] as string);
      index += 1;
    }
    cases.push({ command, expected: output.join('\n'), comments });
    comments = [];
  }
  return cases;
}

export function formatDataDriven(cases: Array<TestCase & { actual: string }>): string {
  return (
    cases.map((testCase) => [...testCase.comments, testCase.command, '----', testCase.actual].join('\n')).join('\n\n') +
    '\n'
  );
}

export function parseArgs(command: string): { name: string; args: Map<string, string>; flags: Set<string> } {
  const [name = '', ...tokens] = command.split(/\s+/);
  const args = new Map<string, string>();
  const flags = new Set<string>();
  for (const token of tokens) {
    const equals = token.indexOf('=');
    if (equals < 0) flags.add(token);
    else args.set(token.slice(0, equals), token.slice(equals + 1));
  }
  return { name, args, flags };
}

export const rewriteRequested = process.env['REWRITE'] === '1';

export function readCases(path: string): TestCase[] {
  return parseDataDriven(readFileSync(path, 'utf8'));
}

export function rewrite(path: string, cases: Array<TestCase & { actual: string }>): void {
  writeFileSync(path, formatDataDriven(cases));
}

/** A command's `key=value` argument, or an error naming the missing key. */
export function required(args: Map<string, string>, key: string): string {
  const value = args.get(key);
  if (value === undefined) throw new Error(`missing ${key}=`);
  return value;
}

/** A duration as transcripts write it: `250`, `250ms`, `3s`, `2m`. */
export function durationMs(text: string): number {
  const match = /^(\d+)(ms|s|m)?$/.exec(text);
  if (match === null) throw new Error(`bad duration ${text}`);
  const value = Number(match[1]);
  return match[2] === 's' ? value * 1000 : match[2] === 'm' ? value * 60_000 : value;
}

/** The transcript files (`*.txt`) of a directory, sorted. */
export function transcriptFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.txt'))
    .sort();
}

/**
 * Runs every case of a transcript file through `run` (its output lines): a thrown error becomes `error: …`, no
 * output becomes `empty`. With REWRITE=1 the file is rewritten with the actual output.
 */
export function runTranscriptFile(
  path: string,
  run: (command: string) => string[],
  empty: string,
): Array<TestCase & { actual: string }> {
  const results = readCases(path).map((testCase) => {
    let output: string[];
    try {
      output = run(testCase.command);
    } catch (error) {
      output = [`error: ${error instanceof Error ? error.message : String(error)}`];
    }
    return { ...testCase, actual: output.length === 0 ? empty : output.join('\n') };
  });
  if (rewriteRequested) rewrite(path, results);
  return results;
}
