import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pxctl, run, type Io } from '../src/index.js';
import { volumeJsonSchema } from '@pxsim/node-agent';
import { formatCreationTime, renderVolumeInspect, renderVolumeList } from '../src/volume-format.js';

/** Golden texts: the shapes of Portworx's `pxctl volume list` (newer, with HA-STATE) and `pxctl volume inspect`. */
const golden = (name: string): string => {
  const text = readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8');
  return text.slice(text.indexOf('\n') + 1); // the first line is the origin note
};

const ips = new Map([
  ['a1-id', '127.1.1.1'],
  ['b1-id', '127.1.2.1'],
]);
const attached = volumeJsonSchema.parse({
  id: '507832545683763135',
  locator: { name: 'pgdata', volume_labels: { app: 'pg', tier: 'db' } },
  spec: { size: String(80 * 2 ** 30), ha_level: '2' },
  status: 'up',
  state: 'attached',
  attached_on: 'a1-id',
  replica_sets: [{ nodes: ['a1-id', 'b1-id'] }],
  runtime_state: [{ runtime_state: { ReplicaSetCreateMid: 'a1-id,b1-id', ReplicaSetCurrMid: 'a1-id' } }],
  replication_status: 'Degraded',
  usage: String(1.5 * 2 ** 30),
  io: { reads: 60, writes: 2879, bytes_read: 1130496, bytes_written: 1344454656, in_progress: 1 },
  ctime: Date.UTC(2018, 10, 12, 20, 6, 4),
});
const detached = volumeJsonSchema.parse({
  id: '970758537931791410',
  locator: { name: 'testvol', volume_labels: {} },
  spec: { size: String(2 ** 30), ha_level: '1' },
  status: 'up',
  state: 'detached',
  attached_on: '',
  replica_sets: [{ nodes: ['b1-id'] }],
  runtime_state: [{ runtime_state: { ReplicaSetCreateMid: 'b1-id', ReplicaSetCurrMid: 'b1-id' } }],
  replication_status: 'Detached',
  usage: '0',
  io: { reads: 0, writes: 0, bytes_read: 0, bytes_written: 0, in_progress: 0 },
  ctime: Date.UTC(2019, 1, 26, 16, 29, 53),
});

describe('pxctl volume output', () => {
  it('list: the columns and STATUS strings of Portworx', () => {
    expect(renderVolumeList([attached, detached], ips)).toBe(golden('pxctl-volume-list.txt'));
  });

  it('inspect: the field lines of Portworx (attached with labels; detached)', () => {
    expect(renderVolumeInspect(attached, ips)).toBe(golden('pxctl-volume-inspect-attached.txt'));
    expect(renderVolumeInspect(detached, ips)).toBe(golden('pxctl-volume-inspect-detached.txt'));
  });

  it('creation time as pxctl prints it', () => {
    expect(formatCreationTime(Date.UTC(2018, 10, 12, 20, 6, 4))).toBe('Nov 12 20:06:04 UTC 2018');
    expect(formatCreationTime(Date.UTC(2019, 1, 6, 6, 29, 53))).toBe('Feb 06 06:29:53 UTC 2019');
  });
});

describe('pxctl volume: input checked before anything is sent', () => {
  const cli = async (...argv: string[]) => {
    let stdout = '';
    let stderr = '';
    const io: Io = { out: (text) => void (stdout += text), err: (text) => void (stderr += text) };
    const code = await run(pxctl(io), argv, io);
    return { code, stdout, stderr: stderr.trim() };
  };
  // a port nothing listens on: a check that let the request through would answer "cannot reach", not the usage error
  const NODE = ['--node', '127.2.3.1:1', '--token-file', '/dev/null'];

  it.each([
    [['--size', '0'], '--size 0 is not a whole number from 1 to 1024'],
    [['--size', '1025'], '--size 1025 is not a whole number from 1 to 1024'],
    [['--size', '1.5'], '--size 1.5 is not a whole number from 1 to 1024'],
    [['--repl', '4'], '--repl 4 is not a whole number from 1 to 3'],
    [['--repl', '0'], '--repl 0 is not a whole number from 1 to 3'],
    [['-l', 'app'], '--label "app" is not name=value'],
  ])('create %j is refused: %s', async (flags, message) => {
    const result = await cli('volume', 'create', 'vol1', ...flags, ...NODE);
    expect(result).toEqual({ code: 2, stdout: '', stderr: `pxctl: ${message}` });
  });

  it('a bad volume name is refused with the rule', async () => {
    const result = await cli('volume', 'create', 'Bad_Name', ...NODE);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('pxctl: volume name "Bad_Name" is not allowed as an object name: use at most 253');
  });

  it('delete asks for -f/--force instead of prompting', async () => {
    const result = await cli('volume', 'delete', 'vol1', ...NODE);
    expect(result).toEqual({
      code: 2,
      stdout: '',
      stderr: "pxctl: not deleting volume 'vol1' without confirmation: pass -f/--force",
    });
    const forced = await cli('volume', 'delete', 'vol1', '-f', ...NODE);
    expect(forced.code).toBe(1);
    expect(forced.stderr).toContain('cannot reach http://127.2.3.1:1');
  });

  it('every volume command has --help', async () => {
    for (const command of ['create', 'list', 'inspect', 'delete']) {
      const result = await cli('volume', command, '--help');
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(`Usage: pxctl volume ${command}`);
    }
  });
});
