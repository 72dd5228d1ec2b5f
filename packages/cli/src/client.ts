import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** A failure the CLI reports as one line and a non-zero exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** What `pxsim up` writes to its state dir so that the other commands can find the sim. */
export interface SimInfo {
  clusterId: string;
  controlUrl: string;
  adminTokenFile: string;
  nodes: Array<{ ip: string; domain: string; apiPort: number; storageless: boolean }>;
  kvdb: string;
  pid: number;
}

/** How much the agents of `pxsim up` log (pino JSON lines on stderr); `silent` logs nothing. */
export const SIM_LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type SimLogLevel = (typeof SIM_LOG_LEVELS)[number];

export const DEFAULT_STATE_DIR = '.pxsim';

export function stateDir(): string {
  return resolve(process.env['PXSIM_STATE_DIR'] ?? DEFAULT_STATE_DIR);
}

export function readSimInfo(required: boolean): SimInfo | undefined {
  const path = join(stateDir(), 'sim.json');
  if (!existsSync(path)) {
    if (required) throw new CliError(`no running sim found (${path} is missing); start one with: pnpm sim`);
    return undefined;
  }
  return JSON.parse(readFileSync(path, 'utf8')) as SimInfo;
}

/** The node to talk to: --node, else the first node of the running sim, else 127.0.1.1. */
export function nodeUrl(node: string | undefined): string {
  if (node !== undefined) {
    const [host = '', port = '9001'] = node.split(':');
    if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(host) || !/^\d+$/.test(port)) {
      throw new CliError(`--node ${node} is not IP or IP:PORT (e.g. 127.0.1.1 or 127.0.1.1:9001)`, 2);
    }
    return `http://${host}:${port}`;
  }
  const info = readSimInfo(false);
  const first = info?.nodes.find((candidate) => !candidate.storageless) ?? info?.nodes[0];
  return first === undefined ? 'http://127.0.1.1:9001' : `http://${first.ip}:${first.apiPort}`;
}

export function adminToken(tokenFile: string | undefined): string {
  if (tokenFile !== undefined) {
    try {
      return readFileSync(tokenFile, 'utf8').trim();
    } catch (error) {
      throw new CliError(
        `cannot read --token-file ${tokenFile}: ${error instanceof Error ? error.message : String(error)}`,
        2,
      );
    }
  }
  const fromEnvironment = process.env['PX_ADMIN_TOKEN'];
  if (fromEnvironment !== undefined && fromEnvironment !== '') return fromEnvironment;
  const info = readSimInfo(false);
  if (info !== undefined) return readFileSync(info.adminTokenFile, 'utf8').trim();
  throw new CliError(
    'no admin token: pass --token-file FILE or set PX_ADMIN_TOKEN (the sim writes .pxsim/admin-token)',
    2,
  );
}

interface ErrorBody {
  error?: { code?: string; message?: string };
}

/** One HTTP call with a deadline; network failures and error answers become one clear line. */
export async function call<T>(
  base: string,
  path: string,
  options: { method?: string; body?: unknown; token?: string; timeoutMs?: number } = {},
): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`${base}${path}`, {
      method: options.method ?? 'GET',
      headers: {
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
      },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
    });
  } catch (error) {
    const cause =
      (error as { cause?: { code?: string } }).cause?.code ?? (error instanceof Error ? error.message : String(error));
    throw new CliError(`cannot reach ${base} (${cause}); is the sim running? start it with: pnpm sim`);
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    throw new CliError(`${base}${path} answered ${response.status} with something that is not JSON`);
  }
  if (!response.ok) {
    const error = (body as ErrorBody | undefined)?.error;
    if (response.status === 401) throw new CliError(`${base}: unauthorized: ${error?.message ?? 'a token is needed'}`);
    if (response.status === 403) throw new CliError(`${base}: forbidden: ${error?.message ?? 'wrong token'}`);
    if (response.status === 400 && error?.message !== undefined) throw new CliError(error.message, 2);
    throw new CliError(
      `${base}${path}: ${response.status} ${error?.code ?? ''} ${error?.message ?? text}`.replace(/\s+/g, ' ').trim(),
    );
  }
  return body as T;
}
