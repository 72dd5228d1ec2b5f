import type { ClusterDomainUpdate } from '@pxsim/node-agent';
import { adminToken, call, CliError, readSimInfo, type SimInfo } from './client.js';
import type { Io } from './commands.js';

interface NodeState {
  status: string;
  reason: string;
}

async function nodeState(ip: string, port: number): Promise<NodeState> {
  try {
    const body = await call<{ node: { status: string; reason: string }; phase: string; phaseReason: string }>(
      `http://${ip}:${port}`,
      '/v1/cluster',
      { timeoutMs: 1000 },
    );
    return { status: body.node.status, reason: body.node.reason };
  } catch {
    return { status: 'down', reason: 'not answering' };
  }
}

/**
 * The seed walkthrough, live against the running sim: lose a domain, deactivate it with a ClusterDomainUpdate, see
 * the survivors come back, restart it, activate it, see all Online; printed as a timeline of state changes.
 */
export async function failoverScenario(
  io: Io,
  options: { domain: string; timeoutMs: number; tokenFile?: string },
): Promise<void> {
  const info: SimInfo | undefined = readSimInfo(true);
  if (info === undefined) return;
  const lost = info.nodes.filter((node) => node.domain === options.domain);
  if (lost.length === 0) {
    throw new CliError(
      `domain ${options.domain} is not in the sim (domains: ${[...new Set(info.nodes.map((node) => node.domain))].join(', ')})`,
      2,
    );
  }
  const survivors = info.nodes.filter((node) => node.domain !== options.domain && !node.storageless);
  const token = adminToken(options.tokenFile);
  const startedMs = Date.now();
  const seen = new Map<string, string>();
  const stamp = (): string => `+${((Date.now() - startedMs) / 1000).toFixed(1).padStart(5)}s`;
  const poll = async (): Promise<Map<string, NodeState>> => {
    const states = new Map<string, NodeState>();
    await Promise.all(info.nodes.map(async (node) => states.set(node.ip, await nodeState(node.ip, node.apiPort))));
    for (const node of info.nodes) {
      const state = states.get(node.ip);
      if (state === undefined) continue;
      const text = state.status;
      if (seen.get(node.ip) !== text) {
        const before = seen.get(node.ip);
        seen.set(node.ip, text);
        const reason = state.reason === '' || text === 'Online' ? '' : ` (${state.reason})`;
        io.out(
          `${stamp()}  ${node.ip.padEnd(10)} ${node.domain.padEnd(11)} ${before === undefined ? '' : `${before} -> `}${text}${reason}\n`,
        );
      }
    }
    return states;
  };
  const waitFor = async (what: string, check: (states: Map<string, NodeState>) => boolean): Promise<void> => {
    io.out(`${stamp()}  waiting: ${what}\n`);
    const deadline = Date.now() + options.timeoutMs;
    while (Date.now() < deadline) {
      if (check(await poll())) {
        io.out(`${stamp()}  done: ${what}\n`);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new CliError(`scenario stopped: ${what} did not happen within ${options.timeoutMs / 1000} s`);
  };
  const all = (nodes: typeof info.nodes, status: string) => (states: Map<string, NodeState>) =>
    nodes.every((node) => states.get(node.ip)?.status === status);
  const step = (text: string): void => void io.out(`${stamp()}  == ${text}\n`);
  const update = async (active: boolean): Promise<void> => {
    const name = `${active ? 'activate' : 'deactivate'}-${options.domain}-${Date.now().toString(36)}`;
    const via = survivors[0] ?? info.nodes[0];
    if (via === undefined) throw new CliError('the sim has no nodes');
    const result = await call<ClusterDomainUpdate>(
      `http://${via.ip}:${via.apiPort}`,
      '/v1/stork/clusterdomainupdates?mode=create',
      {
        method: 'POST',
        token,
        body: { name, clusterDomain: options.domain, active },
        timeoutMs: 15_000,
      },
    );
    step(`ClusterDomainUpdate ${name}: ${result.status}${result.reason === '' ? '' : ` (${result.reason})`}`);
    if (result.status !== 'Successful') throw new CliError(`ClusterDomainUpdate ${name} failed: ${result.reason}`);
  };

  /** Waits until every survivor's view of the lost domain's nodes satisfies `check`. */
  const waitForSurvivors = async (
    what: string,
    check: (lostNodes: Array<{ id: string; status: string; gossipState: string }>) => boolean,
  ): Promise<void> => {
    const deadline = Date.now() + options.timeoutMs;
    for (;;) {
      const views = await Promise.all(
        survivors.map(async (node) =>
          call<{ nodes: Array<{ id: string; domain: string; status: string; gossipState: string }> }>(
            `http://${node.ip}:${node.apiPort}`,
            '/v1/cluster',
            { timeoutMs: 1000 },
          ).catch(() => undefined),
        ),
      );
      if (views.every((view) => check(view?.nodes.filter((entry) => entry.domain === options.domain) ?? []))) return;
      if (Date.now() > deadline) {
        throw new CliError(`scenario stopped: the survivors did not ${what} within ${options.timeoutMs / 1000} s`);
      }
      await poll();
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };

  step(`failover and failback of ${options.domain} on cluster ${info.clusterId}`);
  await waitFor('every node Online', all(info.nodes, 'Online'));
  step(`disaster: every node of ${options.domain} is killed`);
  await call(info.controlUrl, '/faults/kill', { method: 'POST', body: { nodes: options.domain } });
  const lostIds = new Set<string>();
  await waitFor(`${options.domain} stops answering`, (states) =>
    lost.every((node) => states.get(node.ip)?.status === 'down'),
  );
  await waitForSurvivors('notice', (lostNodes) => {
    for (const entry of lostNodes) lostIds.add(entry.id);
    return lostNodes.length > 0 && lostNodes.every((entry) => entry.status === 'Offline');
  });
  await poll();
  step(`the survivors see ${lostIds.size} node(s) of ${options.domain} Offline`);
  step(`failover: deactivate ${options.domain}`);
  await update(false);
  await waitFor('the survivors serve', all(survivors, 'Online'));
  step(`${options.domain} comes back (still inactive)`);
  await call(info.controlUrl, '/faults/restart', { method: 'POST', body: { nodes: options.domain } });
  await waitFor(`${options.domain} is up and Out of Quorum (inactive)`, all(lost, 'Out of Quorum'));
  // As Stork's failback waits for the domain to be in sync, wait until every survivor hears the returning nodes.
  await waitForSurvivors(
    `hear ${options.domain}`,
    (returning) =>
      returning.length === lost.length &&
      returning.every((entry) => ['UP', 'NOT_IN_QUORUM', 'SUSPECT_NOT_IN_QUORUM'].includes(entry.gossipState)),
  );
  step(`the survivors hear every node of ${options.domain} again`);
  step(`failback: activate ${options.domain}`);
  await update(true);
  await waitFor('every node Online', all(info.nodes, 'Online'));
  step(`scenario complete in ${((Date.now() - startedMs) / 1000).toFixed(1)} s`);
}
