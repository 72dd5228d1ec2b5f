import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { agentLog } from '@pxsim/cli';

/** A pino logger at `level` writing into an array of parsed JSON lines. */
function capture(level: string): { lines: Array<Record<string, unknown>>; log: ReturnType<typeof agentLog> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const parsed: unknown = JSON.parse(chunk.toString());
      if (typeof parsed === 'object' && parsed !== null) lines.push({ ...parsed });
      done();
    },
  });
  return { lines, log: agentLog(pino({ level, base: null, timestamp: false }, sink).child({ node: '127.0.1.1' })) };
}

describe("pxsim up: the agents' log", () => {
  it('logs at the level the agent names, only at or above --log-level, with the node', () => {
    const { lines, log } = capture('warn');
    log('info', 'joined');
    log('debug', 'tick');
    log('warn', 'kvdb slow');
    log('error', 'fenced');
    expect(lines).toEqual([
      { level: 40, node: '127.0.1.1', msg: 'kvdb slow' },
      { level: 50, node: '127.0.1.1', msg: 'fenced' },
    ]);
  });

  it('logs nothing at all when silent', () => {
    const info = capture('info');
    info.log('info', 'px-node started');
    expect(info.lines).toEqual([{ level: 30, node: '127.0.1.1', msg: 'px-node started' }]);
    const silent = capture('silent');
    silent.log('error', 'fenced');
    expect(silent.lines).toEqual([]);
  });
});
