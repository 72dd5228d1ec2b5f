import { agentStatusSchema, clusterDomainUpdateSchema } from '@pxsim/node-agent';
import type { HistoryEvent } from '@pxsim/sim-harness';
import { sendFault } from './fault-command.js';
import { adminToken, call, CliError, readSimInfo, type SimInfo } from './client.js';
import type { Io } from './commands.js';
import { checkHtmlPath, writeTimeline } from './timeline-file.js';

interface NodeState {
  status: string;
  reason: string;
}

async function nodeState(ip: string, port: number): Promise<NodeState> {
  try {
    const body = await call(`http://${ip}:${port}`, '/v1/cluster', agentStatusSchema, { timeoutMs: 1000 });
    return { status: body.node.status, reason: body.node.reason };
  } catch {
    return { status: 'down', reason: 'not answering' };
  }
}

type SimNode = SimInfo['nodes'][number];
type LostNodeView = { id: string; status: string; gossipState: string };
type StatesCheck = (states: Map<string, NodeState>) => boolean;

interface FailoverOptions {
  domain: string;
  timeoutMs: number;
  tokenFile?: string;
  /** Write the run's timeline as one self-contained HTML page here (also when the run stops early). */
  html?: string;
}

function everyNode(nodes: SimNode[], status: string): StatesCheck {
  return (states) => nodes.every((node) => states.get(node.ip)?.status === status);
}

async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

/** One live failover-and-failback run: its timeline, the nodes' last seen states, and its steps. */
class FailoverRun {
  private readonly startedMs = Date.now();
  private readonly seen = new Map<string, string>();
  /** What happened, as the simulator's typed history (times in ms since the start): the HTML timeline draws it. */
  readonly history: HistoryEvent[] = [];
  readonly lost: SimNode[];
  readonly survivors: SimNode[];

  constructor(
    private readonly io: Io,
    readonly info: SimInfo,
    private readonly options: FailoverOptions,
    private readonly token: string,
  ) {
    this.lost = info.nodes.filter((node) => node.domain === options.domain);
    this.survivors = info.nodes.filter((node) => node.domain !== options.domain && !node.storageless);
  }

  /** Milliseconds since the run started. */
  at(): number {
    return Date.now() - this.startedMs;
  }

  private stamp(): string {
    return `+${((Date.now() - this.startedMs) / 1000).toFixed(1).padStart(5)}s`;
  }

  step(text: string): void {
    this.io.out(`${this.stamp()}  == ${text}\n`);
  }

  /** Reads every node's state, printing each change on the timeline. */
  async poll(): Promise<Map<string, NodeState>> {
    const states = new Map<string, NodeState>();
    const nodes = this.info.nodes;
    await Promise.all(nodes.map(async (node) => states.set(node.ip, await nodeState(node.ip, node.apiPort))));
    for (const node of nodes) {
      const state = states.get(node.ip);
      if (state === undefined) continue;
      const text = state.status;
      const before = this.seen.get(node.ip);
      if (before === text) continue;
      this.seen.set(node.ip, text);
      this.history.push({
        atMs: this.at(),
        kind: 'state',
        node: node.ip,
        from: before ?? 'not started',
        to: text,
        reason: state.reason,
      });
      const reason = state.reason === '' || text === 'Online' ? '' : ` (${state.reason})`;
      this.io.out(
        `${this.stamp()}  ${node.ip.padEnd(10)} ${node.domain.padEnd(11)} ${before === undefined ? '' : `${before} -> `}${text}${reason}\n`,
      );
    }
    return states;
  }

  async waitFor(what: string, check: StatesCheck): Promise<void> {
    this.io.out(`${this.stamp()}  waiting: ${what}\n`);
    const deadline = Date.now() + this.options.timeoutMs;
    while (Date.now() < deadline) {
      if (check(await this.poll())) {
        this.io.out(`${this.stamp()}  done: ${what}\n`);
        return;
      }
      await sleep(200);
    }
    throw new CliError(`scenario stopped: ${what} did not happen within ${this.options.timeoutMs / 1000} s`);
  }

  /** Waits until every survivor's view of the lost domain's nodes satisfies `check`. */
  async waitForSurvivors(what: string, check: (lostNodes: LostNodeView[]) => boolean): Promise<void> {
    const deadline = Date.now() + this.options.timeoutMs;
    for (;;) {
      const views = await Promise.all(
        this.survivors.map(async (node) =>
          call(`http://${node.ip}:${node.apiPort}`, '/v1/cluster', agentStatusSchema, { timeoutMs: 1000 }).catch(
            () => undefined,
          ),
        ),
      );
      const domain = this.options.domain;
      if (views.every((view) => check(view?.nodes.filter((entry) => entry.domain === domain) ?? []))) return;
      if (Date.now() > deadline) {
        throw new CliError(`scenario stopped: the survivors did not ${what} within ${this.options.timeoutMs / 1000} s`);
      }
      await this.poll();
      await sleep(200);
    }
  }

  /** Sends a ClusterDomainUpdate (de)activating the domain through a survivor; it must succeed. */
  async update(active: boolean): Promise<void> {
    const domain = this.options.domain;
    const name = `${active ? 'activate' : 'deactivate'}-${domain}-${Date.now().toString(36)}`;
    const via = this.survivors[0] ?? this.info.nodes[0];
    if (via === undefined) throw new CliError('the sim has no nodes');
    const result = await call(
      `http://${via.ip}:${via.apiPort}`,
      '/v1/stork/clusterdomainupdates?mode=create',
      clusterDomainUpdateSchema,
      { method: 'POST', token: this.token, body: { name, clusterDomain: domain, active }, timeoutMs: 15_000 },
    );
    this.step(`ClusterDomainUpdate ${name}: ${result.status}${result.reason === '' ? '' : ` (${result.reason})`}`);
    this.history.push({
      atMs: this.at(),
      kind: 'operator',
      action: active ? 'activate' : 'deactivate',
      domain,
      via: via.ip,
      outcome: result.status,
      reason: result.reason,
    });
    if (result.status !== 'Successful') throw new CliError(`ClusterDomainUpdate ${name} failed: ${result.reason}`);
  }

  /** Kills the domain, waits until the survivors see it Offline, deactivates it and waits until they serve. */
  async failover(): Promise<void> {
    const domain = this.options.domain;
    this.step(`disaster: every node of ${domain} is killed`);
    await sendFault({ kind: 'crash', nodes: [domain] });
    this.history.push({ atMs: this.at(), kind: 'fault', faults: [{ kind: 'crash', nodes: [domain] }] });
    const lostIds = new Set<string>();
    await this.waitFor(`${domain} stops answering`, everyNode(this.lost, 'down'));
    await this.waitForSurvivors('notice', (lostNodes) => {
      for (const entry of lostNodes) lostIds.add(entry.id);
      return lostNodes.length > 0 && lostNodes.every((entry) => entry.status === 'Offline');
    });
    await this.poll();
    this.step(`the survivors see ${lostIds.size} node(s) of ${domain} Offline`);
    this.step(`failover: deactivate ${domain}`);
    await this.update(false);
    await this.waitFor('the survivors serve', everyNode(this.survivors, 'Online'));
  }

  /** Restarts the domain, waits until the survivors hear it again, activates it and waits until all are Online. */
  async failback(): Promise<void> {
    const domain = this.options.domain;
    this.step(`${domain} comes back (still inactive)`);
    await sendFault({ kind: 'restart', nodes: [domain] });
    this.history.push({ atMs: this.at(), kind: 'fault', faults: [{ kind: 'restart', nodes: [domain] }] });
    await this.waitFor(`${domain} is up and Out of Quorum (inactive)`, everyNode(this.lost, 'Out of Quorum'));
    // As Stork's failback waits for the domain to be in sync, wait until every survivor hears the returning nodes.
    await this.waitForSurvivors(
      `hear ${domain}`,
      (returning) =>
        returning.length === this.lost.length &&
        returning.every((entry) => ['UP', 'NOT_IN_QUORUM', 'SUSPECT_NOT_IN_QUORUM'].includes(entry.gossipState)),
    );
    this.step(`the survivors hear every node of ${domain} again`);
    this.step(`failback: activate ${domain}`);
    await this.update(true);
    await this.waitFor('every node Online', everyNode(this.info.nodes, 'Online'));
    this.step(`scenario complete in ${((Date.now() - this.startedMs) / 1000).toFixed(1)} s`);
  }
}

/**
 * The Portworx metro walkthrough, live against the running sim: lose a domain, deactivate it with a
 * ClusterDomainUpdate, see the survivors come back, restart it, activate it, see all Online; printed as a timeline
 * of state changes.
 */
export async function failoverScenario(io: Io, options: FailoverOptions): Promise<void> {
  const info: SimInfo | undefined = readSimInfo(true);
  if (info === undefined) return;
  if (!info.nodes.some((node) => node.domain === options.domain)) {
    throw new CliError(
      `domain ${options.domain} is not in the sim (domains: ${[...new Set(info.nodes.map((node) => node.domain))].join(', ')})`,
      2,
    );
  }
  const html = options.html === undefined ? undefined : checkHtmlPath(options.html, '--html');
  const run = new FailoverRun(io, info, options, adminToken(options.tokenFile));
  run.step(`failover and failback of ${options.domain} on cluster ${info.clusterId}`);
  try {
    await run.waitFor('every node Online', everyNode(info.nodes, 'Online'));
    await run.failover();
    await run.failback();
  } finally {
    if (html !== undefined) {
      await writeTimeline(html, {
        title: `pxsim scenario failover ${options.domain} (cluster ${info.clusterId})`,
        subtitle: [`real time against the running sim; times are ms since the scenario started`],
        nodes: info.nodes.map((node) => ({ id: node.ip, label: `${node.domain} ${node.ip}`, domain: node.domain })),
        history: run.history,
        endMs: run.at(),
      });
      io.out(`timeline: ${html}\n`);
    }
  }
}
