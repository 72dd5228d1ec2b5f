import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileBlockStore } from '@pxsim/node-agent';

describe("px-node's block store in the data dir", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('a restarted node finds its blocks and the epochs it has seen; an older version and a torn line change nothing', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'pxsim-blocks-')), 'blocks');
    dirs.push(dir);
    const store = new FileBlockStore(dir);
    store.put('42', 7, { epoch: 2, seq: 5 }, new TextEncoder().encode('new'));
    store.put('42', 7, { epoch: 1, seq: 9 }, new TextEncoder().encode('old'));
    store.setEpochSeen('42', 3);
    appendFileSync(join(dir, '42.log'), '{"t":"put","b":'); // a write torn by a crash
    const again = new FileBlockStore(dir);
    expect(new TextDecoder().decode(again.get('42', 7)?.payload)).toBe('new');
    expect(again.get('42', 7)?.version).toEqual({ epoch: 2, seq: 5 });
    expect(again.epochSeen('42')).toBe(3);
    expect(again.usedBytes()).toBe(4096);
    again.drop('42');
    expect(new FileBlockStore(dir).digest('42')).toEqual([]);
  });
});
