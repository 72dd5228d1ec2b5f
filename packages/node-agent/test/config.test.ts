import { describe, expect, it } from 'vitest';
import { AGENT_FLAGS, DEFAULT_VERSION, USAGE, parseAgentArgs, type AgentArgs } from '@pxsim/node-agent';

const REQUIRED = [
  '-c',
  'px-dr-cluster',
  '-k',
  'etcd:http://127.0.0.1:2379',
  '--cluster-domain',
  'a',
  '--data-dir',
  '/d',
];
const noFile = (path: string): string => {
  throw new Error(`ENOENT: no such file, open '${path}'`);
};
const parse = (argv: string[], environment: Record<string, string> = {}): AgentArgs =>
  parseAgentArgs(argv, environment, noFile);
const run = (argv: string[]): Extract<AgentArgs, { kind: 'run' }> => {
  const args = parse([...REQUIRED, ...argv]);
  if (args.kind !== 'run') throw new Error(`expected a run, got ${args.kind}`);
  return args;
};

describe("px-node's flags", () => {
  it('-h/--help and -V/--version win over everything else', () => {
    expect(parse(['--help'])).toEqual({ kind: 'help' });
    expect(parse(['-h', '--api-port', 'nonsense'])).toEqual({ kind: 'help' });
    expect(parse(['-V'])).toEqual({ kind: 'version' });
    expect(parse(['--version'])).toEqual({ kind: 'version' });
  });

  it('--px-version sets the simulated Portworx version (the config field stays `version`)', () => {
    expect(run([]).config.version).toBe(DEFAULT_VERSION);
    expect(run(['--px-version', '3.1.0']).config.version).toBe('3.1.0');
  });

  it('--log-level defaults to info and takes debug, info, warn, error or silent', () => {
    expect(run([]).logLevel).toBe('info');
    for (const level of ['debug', 'info', 'warn', 'error', 'silent'] as const)
      expect(run(['--log-level', level]).logLevel).toBe(level);
  });

  it('--help lists every flag, with its short form and default', () => {
    for (const flag of AGENT_FLAGS) {
      expect(USAGE).toContain(`--${flag.name}`);
      if (flag.short !== undefined) expect(USAGE).toContain(`-${flag.short}, --${flag.name}`);
      if (flag.default !== undefined) expect(USAGE).toContain(`(default ${flag.default})`);
    }
  });

  it('a bad value is refused naming the flag, the value and the rule', () => {
    const cases: Array<[string[], string]> = [
      [['--log-level', 'loud'], '--log-level loud is not allowed: use debug, info, warn, error, silent'],
      [
        ['--api-port', '8080'],
        '--api-port 8080 is outside 9001–9020 (the ports a metro cluster opens between domains)',
      ],
      [['--api-port', '9015'], '--api-port 9015 is taken: 9015 is the readiness port (GET /health)'],
      [['--heartbeat-port', '9o02'], '--heartbeat-port 9o02 is outside 9001–9020'],
      [['--pool-capacity-gib', 'lots'], '--pool-capacity-gib lots is not allowed: use a number of GiB above 0'],
      [['--quorum-mode', 'fast'], '--quorum-mode fast is not allowed: use safe, reference'],
      [['--timing', 'slow'], '--timing slow is not allowed: use portworx, fast'],
      [['--px-version', ' '], '--px-version " " is not allowed: use 1–64 characters'],
      [['--ip', '::1'], '--ip ::1 is not an IPv4 address'],
      [['--scheduler-node-name', 'node_'], '--scheduler-node-name "node_" is not allowed'],
      [['--admin-token-file', '/nowhere'], 'cannot read --admin-token-file /nowhere: ENOENT'],
      [['--bogus'], "Unknown option '--bogus' (see --help)"],
    ];
    for (const [argv, message] of cases) expect(() => run(argv), argv.join(' ')).toThrow(message);
    expect(() =>
      parse(['-c', 'Bad Name!', '-k', 'etcd:http://h:1', '--cluster-domain', 'a', '--data-dir', '/d']),
    ).toThrow('-c/--cluster-id "Bad Name!" is not allowed');
    expect(() => parse(['-c', 'x', '-k', 'consul:http://x:1', '--cluster-domain', 'a', '--data-dir', '/d'])).toThrow(
      /^-k\/--kvdb: .*consul:http:\/\/x:1/,
    );
    expect(() => parse(['-k', 'etcd:http://h:1'])).toThrow('-c/--cluster-id is required (see --help)');
    expect(() => parse(REQUIRED, { PX_ADMIN_TOKEN: 'short' })).toThrow(
      'the admin token (--admin-token-file or PX_ADMIN_TOKEN) has 5 characters: use at least 8',
    );
  });
});
