import { KubeError } from './errors.js';
import type { KubeObject } from './objects.js';
import { NODES } from './resources.js';
import type { ObjectStore } from './store.js';

/** What the Kubernetes Node of one px node shows: its name and address, its domain, whether it serves. */
export interface PxNodeView {
  /** The scheduler node name the px node registered with (the Node's name). */
  name: string;
  ip: string;
  domain: string;
  /** The px node's process runs (no: the kubelet stopped posting, Ready Unknown). */
  running: boolean;
  /** Its status (`Online`, `Out of Quorum`, …) and the reason it gives. */
  status: string;
  reason: string;
}

/** The Kubernetes version the simulated kubelets report (the version of the kubectl on the machines of this kind). */
export const KUBELET_VERSION = 'v1.32.0';

const NODE_RESOURCES = { cpu: '4', memory: '16Gi', pods: '110', 'ephemeral-storage': '100Gi' };

function readyCondition(view: PxNodeView): { status: string; reason: string; message: string } {
  if (!view.running)
    return { status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' };
  if (view.status === 'Online')
    return { status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status; px node Online' };
  const why = view.reason === '' ? view.status : `${view.status}: ${view.reason}`;
  return { status: 'False', reason: 'PortworxNotOnline', message: `px node is not Online (${why})` };
}

/** The Node object a px node is seen as (what `syncNodes` stores), its Ready condition changed at `nowMs`. */
export function nodeObject(view: PxNodeView, nowMs: number): KubeObject {
  const ready = readyCondition(view);
  const at = new Date(nowMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: view.name,
      labels: {
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': view.name,
        'kubernetes.io/os': 'linux',
        'topology.kubernetes.io/zone': view.domain,
      },
    },
    spec: {},
    status: {
      // What the simulated machines offer (the scheduler places pods by count, not by requests).
      capacity: NODE_RESOURCES,
      allocatable: NODE_RESOURCES,
      conditions: [{ type: 'Ready', ...ready, lastHeartbeatTime: at, lastTransitionTime: at }],
      addresses: [
        { type: 'InternalIP', address: view.ip },
        { type: 'Hostname', address: view.name },
      ],
      nodeInfo: {
        kubeletVersion: KUBELET_VERSION,
        kubeProxyVersion: KUBELET_VERSION,
        osImage: 'pxsim simulated node',
        kernelVersion: '6.1.0-pxsim',
        containerRuntimeVersion: 'pxsim://0.1.0',
        operatingSystem: 'linux',
        architecture: 'amd64',
      },
    },
  };
}

/** The Ready condition's status and message: what decides whether a stored Node must be rewritten. */
function readiness(object: KubeObject): string {
  const conditions = (object['status'] as { conditions?: Array<Record<string, unknown>> } | undefined)?.conditions;
  const ready = conditions?.find((condition) => condition['type'] === 'Ready');
  return `${String(ready?.['status'])}|${String(ready?.['message'])}|${JSON.stringify(object.metadata.labels ?? {})}`;
}

/**
 * Brings one cluster's Node objects in line with its px nodes: a Node for each (created with the cluster, rewritten
 * only when its readiness or labels change, so a steady cluster writes nothing), and none for a px node that is gone.
 * What a kubelet's status updates do for a real cluster.
 */
export async function syncNodes(store: ObjectStore, views: PxNodeView[], nowMs: number): Promise<void> {
  const { items } = await store.list(NODES, undefined);
  const stored = new Map(items.map((item) => [item.metadata.name, item]));
  for (const view of views) {
    const wanted = nodeObject(view, nowMs);
    const current = stored.get(view.name);
    const ref = { type: NODES, namespace: undefined, name: view.name };
    if (current === undefined) await store.create(ref, wanted);
    else if (readiness(current) !== readiness(wanted)) {
      await store.update(
        ref,
        { ...wanted, metadata: { ...current.metadata, labels: wanted.metadata.labels } },
        current.metadata.resourceVersion ?? '',
      );
    }
  }
  const names = new Set(views.map((view) => view.name));
  for (const name of stored.keys()) {
    if (names.has(name)) continue;
    try {
      await store.delete({ type: NODES, namespace: undefined, name });
    } catch (error) {
      if (!(error instanceof KubeError && error.reason === 'NotFound')) throw error;
    }
  }
}
