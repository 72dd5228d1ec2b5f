import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { EtcdProcess } from '@pxsim/kvdb-client/etcd-process';
import { nodeLabels, resolveGroup, ScenarioError, type Scenario, type ScenarioRun } from './scenario.js';

export interface RealRunOptions {
  /** The px-node launcher. */
  pxNode: string;
  /** Loopback prefix for the node addresses: PREFIX.(domain index + 1).(node index). */
  ipPrefix: string;
}

interface RealNode {
  label: string;
  ip: string;
  domain: string;
  child: ChildProcess | undefined;
  exited: Promise<unknown> | undefined;
  events: WebSocket | undefined;
  nodeId: string | undefined;
}

const TOKEN = 'scenario-admin-token';

async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Longest wait for a started px-node to answer on its events stream: a bound in time, not in attempts, as six
 * processes starting at once on a loaded 2-core machine take seconds to listen.
 */
const READY_WAIT_MS = 60_000;

/**
 * Runs a scenario in real time: px-node processes on loopback and a real etcd; partitions, latency and kvdb cuts are
 * injected in user space through each node's fault layer (POST /v1/debug/faults). Each node's state changes come from
 * its own /v1/events stream.
 */
export async function runScenarioReal(scenario: Scenario, options: RealRunOptions): Promise<ScenarioRun> {
  const root = mkdtempSync(join(tmpdir(), 'pxsim-scenario-'));
  const tokenFile = join(root, 'token');
  writeFileSync(tokenFile, `${TOKEN}\n`);
  const etcd = await EtcdProcess.start();
  const labels = nodeLabels(scenario);
  const nodes = new Map<string, RealNode>(
    labels.map((label) => {
      const [domain = '', index = '1'] = label.split('/');
      const ip = `${options.ipPrefix}.${scenario.cluster.domains.indexOf(domain) + 1}.${index}`;
      return [label, { label, ip, domain, child: undefined, exited: undefined, events: undefined, nodeId: undefined }];
    }),
  );
  const transitions: Record<string, string[]> = Object.fromEntries(labels.map((label) => [label, []]));
  const timeline: string[] = [];
  const started = Date.now();
  const node = (label: string): RealNode => {
    const found = nodes.get(label);
    if (found === undefined) throw new ScenarioError(`no node ${label}`);
    return found;
  };
  const api = async (target: RealNode, path: string, init: RequestInit = {}): Promise<unknown> => {
    const response = await fetch(`http://${target.ip}:9001${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${TOKEN}`,
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      signal: AbortSignal.timeout(3000),
    });
    const body: unknown = await response.json();
    if (!response.ok) throw new ScenarioError(`${target.label} ${path}: ${response.status} ${JSON.stringify(body)}`);
    return body;
  };
  const record = (target: RealNode, state: string): void => {
    const list = transitions[target.label];
    if (list !== undefined && list.at(-1) !== state) list.push(state);
  };
  const subscribe = async (target: RealNode): Promise<void> => {
    for (const deadline = Date.now() + READY_WAIT_MS; Date.now() < deadline;) {
      try {
        const socket = new WebSocket(`ws://${target.ip}:9001/v1/events`);
        // Listen before the upgrade completes: the hello may arrive in the same chunk.
        socket.on('message', (data: Buffer) => {
          const event = JSON.parse(data.toString()) as {
            type: string;
            nodeId?: string;
            to?: string;
            status?: { node: { id: string; status: string } };
          };
          if (event.type === 'hello' && event.status !== undefined) {
            target.nodeId = event.status.node.id;
            record(target, event.status.node.status);
          } else if (event.type === 'node-status' && event.nodeId === target.nodeId && event.to !== undefined) {
            record(target, event.to);
          }
        });
        await new Promise<void>((resolve, reject) => {
          socket.once('open', () => resolve());
          socket.once('error', reject);
        });
        socket.on('error', () => undefined);
        target.events = socket;
        return;
      } catch {
        await sleep(50);
      }
    }
    throw new ScenarioError(`${target.label}: no events stream within ${READY_WAIT_MS / 1000} s of starting`);
  };
  const start = async (target: RealNode): Promise<void> => {
    if (target.child !== undefined) return;
    const child = spawn(
      options.pxNode,
      [
        '-c',
        'px-dr-cluster',
        '-k',
        etcd.kvdbEndpoint,
        '--cluster-domain',
        target.domain,
        '--ip',
        target.ip,
        '--data-dir',
        join(root, target.ip),
        '--timing',
        scenario.cluster.timing,
        '--quorum-mode',
        scenario.cluster.quorumMode,
        '--admin-token-file',
        tokenFile,
      ],
      { stdio: 'ignore' },
    );
    target.child = child;
    target.exited = new Promise((resolve) => child.once('exit', resolve));
    await subscribe(target);
  };
  const crash = async (target: RealNode): Promise<void> => {
    if (target.child === undefined) return;
    target.events?.terminate();
    target.child.kill('SIGKILL');
    await target.exited;
    target.child = undefined;
    record(target, 'crashed');
  };
  const running = (): RealNode[] => [...nodes.values()].filter((candidate) => candidate.child !== undefined);
  const faults = async (targets: RealNode[], body: unknown): Promise<void> => {
    for (const target of targets) await api(target, '/v1/debug/faults', { method: 'POST', body: JSON.stringify(body) });
  };
  try {
    for (const step of scenario.steps) {
      const [kind, value] = Object.entries(step)[0] as [string, unknown];
      timeline.push(`${Date.now() - started} ms: ${kind} ${JSON.stringify(value)}`);
      const group = (text: string): RealNode[] => resolveGroup(scenario, text).map(node);
      if ('start' in step || 'restart' in step) {
        await Promise.all(group('start' in step ? step.start : step.restart).map(start));
      } else if ('crash' in step) {
        for (const target of group(step.crash)) await crash(target);
      } else if ('partition' in step) {
        const a = group(step.partition[0]);
        const b = group(step.partition[1]);
        await faults(a, { op: 'cut', to: b.map((target) => target.ip) });
        await faults(b, { op: 'cut', to: a.map((target) => target.ip) });
      } else if ('latency' in step) {
        await faults(running(), { op: 'latency', ms: step.latency.ms, jitterMs: step.latency.jitterMs });
      } else if ('kvdbCut' in step) {
        await faults(group(step.kvdbCut), { op: 'kvdb-cut' });
      } else if ('heal' in step) {
        await faults(running(), { op: 'heal' });
      } else if ('deactivate' in step || 'activate' in step) {
        const domain = 'deactivate' in step ? step.deactivate : step.activate;
        const via = running().find((candidate) => candidate.domain !== domain) ?? running()[0];
        if (via === undefined) throw new ScenarioError('no running node to send the ClusterDomainUpdate to');
        await api(via, `/v1/clusterdomains/${'deactivate' in step ? 'deactivate' : 'activate'}/${domain}`, {
          method: 'POST',
        });
      } else if ('wait' in step) {
        await sleep(step.wait);
      } else {
        const targets = group(step.expect.nodes);
        const deadline = Date.now() + step.expect.withinMs;
        for (;;) {
          const states = await Promise.all(
            targets.map(
              async (target) =>
                (
                  (await api(target, '/v1/cluster').catch(() => undefined)) as
                    { node?: { status?: string } } | undefined
                )?.node?.status,
            ),
          );
          if (states.every((state) => state === step.expect.status)) break;
          if (Date.now() > deadline)
            throw new ScenarioError(
              `real run: expected ${step.expect.nodes} ${step.expect.status} within ${step.expect.withinMs} ms; states: ${JSON.stringify(states)}`,
            );
          await sleep(100);
        }
      }
    }
    await sleep(300);
  } finally {
    for (const target of nodes.values()) {
      target.events?.terminate();
      target.child?.kill('SIGKILL');
    }
    await Promise.all([...nodes.values()].map(async (target) => target.exited));
    await etcd.stop();
    rmSync(root, { recursive: true, force: true });
  }
  return { transitions, timeline };
}
