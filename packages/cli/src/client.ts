import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { apiErrorSchema } from '@pxsim/node-agent';

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
export const simInfoSchema = z.object({
  clusterId: z.string(),
  controlUrl: z.string(),
  adminTokenFile: z.string(),
  nodes: z.array(z.object({ ip: z.string(), domain: z.string(), apiPort: z.number(), storageless: z.boolean() })),
  kvdb: z.string(),
  pid: z.number(),
});
export type SimInfo = z.infer<typeof simInfoSchema>;

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
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new CliError(`${path} is not readable JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  const parsed = simInfoSchema.safeParse(json);
  if (!parsed.success) throw new CliError(`${path} is not a sim's state: ${firstProblem(parsed.error)}`);
  return parsed.data;
}

/** The node to talk to: --node, else the first node of the running sim, else 127.0.1.1. */
export function nodeUrl(node: string | undefined): string {
  if (node !== undefined) {
    const [host = '', port = '9001', ...rest] = node.split(':');
    const octets = host.split('.');
    const ipv4 = octets.length === 4 && octets.every((octet) => /^\d{1,3}$/.test(octet) && Number(octet) <= 255);
    const portNumber = /^\d{1,5}$/.test(port) ? Number(port) : 0;
    if (!ipv4 || portNumber < 1 || portNumber > 65_535 || rest.length > 0) {
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

/** The first problem zod found, as `path: message` (the path `(root)` when it is the whole body). */
export function firstProblem(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return 'invalid';
  return `${issue.path.length === 0 ? '(root)' : issue.path.join('.')}: ${issue.message}`;
}

function errorAnswer(base: string, path: string, status: number, body: unknown, text: string): CliError {
  const parsed = apiErrorSchema.safeParse(body);
  if (!parsed.success) {
    return new CliError(
      `${base}${path} answered ${status} with an error body that is not {error:{code,message}} (${firstProblem(parsed.error)}): ${text.slice(0, 200)}`,
    );
  }
  const { code, message } = parsed.data.error;
  if (status === 401) return new CliError(`${base}: unauthorized: ${message}`);
  if (status === 403) return new CliError(`${base}: forbidden: ${message}`);
  if (status === 400) return new CliError(message, 2);
  return new CliError(`${base}${path}: ${status} ${code} ${message}`.replace(/\s+/g, ' ').trim());
}

/**
 * One HTTP call with a deadline; network failures and error answers become one clear line. The answer is validated
 * with `schema` (the API's exported zod schemas): one that does not match is an error naming the endpoint and the
 * first problem.
 */
export async function call<T>(
  base: string,
  path: string,
  schema: z.ZodType<T>,
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
    const cause = error instanceof Error && error.cause instanceof Error ? causeCode(error.cause) : undefined;
    throw new CliError(
      `cannot reach ${base} (${cause ?? (error instanceof Error ? error.message : String(error))}); is the sim running? start it with: pnpm sim`,
    );
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    throw new CliError(`${base}${path} answered ${response.status} with something that is not JSON`);
  }
  if (!response.ok) throw errorAnswer(base, path, response.status, body, text);
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new CliError(`${base}${path}: unexpected answer: ${firstProblem(parsed.error)}`);
  return parsed.data;
}

function causeCode(cause: Error): string | undefined {
  return 'code' in cause && typeof cause.code === 'string' ? cause.code : undefined;
}
