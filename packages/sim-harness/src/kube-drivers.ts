import type { PxNodeView, StorkDriver, VolumeDriver as KubeVolumeDriver } from '@pxsim/kube';
import { clusterDomainsStatus, type NodeAgent } from '@pxsim/node-agent';
import type { OpResult } from '@pxsim/storage';

/** How long a controller waits for a px node's answer before it reports the call as unanswered (the next pass asks again). */
export const PX_ANSWER_MS = 5000;

/** One px node of a domain as the Kubernetes side sees it. */
export interface PxNodeHandle {
  ip: string;
  domain: string;
  /** Its Kubernetes Node's name (the scheduler node name it registers with), running or not. */
  name: string;
  /** The agent while its process runs; undefined while it is down. */
  agent: NodeAgent | undefined;
}

/**
 * How the Kubernetes clusters reach the px nodes, in real time (`pnpm sim`: the agents in the same process) or in
 * virtual time (the simulator: in the node's own process, time advancing until it answers).
 */
export interface PxAccess {
  nodes(domain: string): PxNodeHandle[];
  /** Runs `start` in the node's process and waits at most `withinMs` for `done`; undefined when it never came. */
  call<T>(
    ip: string,
    withinMs: number,
    start: (agent: NodeAgent, done: (value: T) => void) => void,
  ): Promise<T | undefined>;
}

function running(access: PxAccess, domain: string): Array<PxNodeHandle & { agent: NodeAgent }> {
  return access.nodes(domain).filter((node): node is PxNodeHandle & { agent: NodeAgent } => node.agent !== undefined);
}

/** The Node views `syncNodes` keeps the domain's Nodes in line with. */
export function pxNodeViews(access: PxAccess, domain: string): PxNodeView[] {
  return access.nodes(domain).map((node) => {
    const status = node.agent?.status().node;
    return {
      name: node.name,
      ip: node.ip,
      domain,
      running: node.agent !== undefined,
      status: status?.status ?? 'Offline',
      reason: status?.reason ?? '',
    };
  });
}

function opAnswer(result: OpResult | undefined): { ok: true } | { ok: false; reason: string } {
  if (result === undefined) return { ok: false, reason: `no answer within ${PX_ANSWER_MS} ms` };
  return result.ok ? { ok: true } : { ok: false, reason: result.reason };
}

/** Claims' volumes through the px nodes of a domain: created by a serving one, attached and detached by the pod's. */
export function pxVolumeDriver(access: PxAccess, domain: string): KubeVolumeDriver {
  const byName = (name: string) => running(access, domain).find((node) => node.name === name);
  const view = (volume: string) =>
    running(access, domain)
      .map((node) => node.agent.volumes.inspect(volume))
      .find((candidate) => candidate !== undefined);
  return {
    create: async ({ name, sizeGiB, repl }) => {
      const via = running(access, domain).find((node) => node.agent.status().node.serving);
      if (via === undefined) return { ok: false, reason: `no px node of ${domain} serves (none in quorum)` };
      const answer = await access.call<{ ok: true; id: string } | { ok: false; reason: string }>(
        via.ip,
        PX_ANSWER_MS,
        (agent, done) =>
          void agent.volumes.create({ name, sizeGiB, haLevel: repl }).then(
            (created) => done({ ok: true, id: created.record.id }),
            (error: unknown) => done({ ok: false, reason: error instanceof Error ? error.message : String(error) }),
          ),
      );
      // An earlier pass created it and its answer came too late: the volume is there.
      const existing = via.agent.volumes.inspect(name);
      if (answer?.ok !== true && existing !== undefined) return { ok: true, id: existing.record.id };
      return answer ?? { ok: false, reason: `no answer within ${PX_ANSWER_MS} ms` };
    },
    replicaNodes: async (volume) => {
      const found = view(volume);
      if (found === undefined) return [];
      return access
        .nodes(domain)
        .filter((node) => node.agent !== undefined && found.record.currentSet.includes(node.agent.nodeId))
        .map((node) => node.name);
    },
    attach: async (volume, nodeName) => {
      const node = byName(nodeName);
      if (node === undefined) return { ok: false, reason: `the px node of ${nodeName} is not running` };
      return opAnswer(
        await access.call<OpResult>(node.ip, PX_ANSWER_MS, (agent, done) => agent.volumes.attach(volume, done)),
      );
    },
    attachedOn: async (volume) => {
      const holder = view(volume)?.record.attachedOn;
      if (holder === undefined) return undefined;
      return access.nodes(domain).find((node) => node.agent?.nodeId === holder)?.name;
    },
    ioReady: async (volume, nodeName) => byName(nodeName)?.agent.volumes.inspect(volume)?.coordinatorOpen === true,
    detach: async (volume, nodeName) => {
      const node = byName(nodeName);
      if (node === undefined) return { ok: false, reason: `the px node of ${nodeName} is not running` };
      return opAnswer(
        await access.call<OpResult>(node.ip, PX_ANSWER_MS, (agent, done) => agent.volumes.detach(volume, done)),
      );
    },
  };
}

/** Stork's driver: the cluster domains through the running px nodes of the cluster's own domain. */
export function pxStorkDriver(access: PxAccess, domain: string, clusterId: string): StorkDriver {
  return {
    clusterId,
    localDomain: domain,
    // Recorded on the px side as well, so the px nodes' list of updates (storkctl get cdu) has it.
    setDomainState: async (target, active, updateName) => {
      const via = running(access, domain)[0];
      if (via === undefined) throw new Error(`no px node of ${domain} is running`);
      const done = await access.call<{ status: string; reason: string }>(via.ip, PX_ANSWER_MS, (agent, answer) => {
        agent
          .applyClusterDomainUpdate({ name: updateName, clusterDomain: target, active }, 'apply')
          .then(answer, (error: unknown) =>
            answer({ status: 'Failed', reason: error instanceof Error ? error.message : String(error) }),
          );
      });
      if (done === undefined) throw new Error(`the kvdb did not answer within ${PX_ANSWER_MS} ms`);
      if (done.status === 'Failed') throw new Error(done.reason);
    },
    domainsStatus: async () => {
      const via = running(access, domain)[0];
      if (via === undefined) return undefined;
      const volumes = via.agent.volumes.list().map(({ record }) => ({
        createSet: record.createSet,
        currentSet: record.currentSet,
      }));
      return clusterDomainsStatus(via.agent.status(), volumes).status;
    },
  };
}
