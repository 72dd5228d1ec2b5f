import type { AgentConfig } from '../config.js';
import { uuidFrom } from '../core/join.js';
import type { AgentRuntime, NodeIdentity } from '../runtime/types.js';

/**
 * The node's identity from its data dir, checked against the configuration: another cluster ID is refused; another
 * domain than the one recorded is refused unless `--allow-domain-change` (then logged and recorded). A new data dir
 * gets a new node ID. Throws an error naming the data dir, what it records and the flag that overrides it.
 */
export function loadIdentity(config: AgentConfig, runtime: AgentRuntime): NodeIdentity {
  const stored = runtime.identity.load();
  if (stored !== undefined && stored.clusterId !== config.clusterId) {
    throw new Error(
      `data dir ${config.dataDir} belongs to node ${stored.nodeId} of cluster ${stored.clusterId}; it cannot join cluster ${config.clusterId}`,
    );
  }
  const recordedDomain = stored?.clusterDomain;
  if (recordedDomain !== undefined && recordedDomain !== config.clusterDomain) {
    if (config.allowDomainChange !== true) {
      throw new Error(
        `data dir ${config.dataDir} records node ${stored?.nodeId ?? ''} in domain ${recordedDomain}; refusing to move it to domain ${config.clusterDomain} (a typo would create a new domain): pass --allow-domain-change to move it`,
      );
    }
    runtime.log(
      'warn',
      `moving this node from domain ${recordedDomain} to ${config.clusterDomain} (--allow-domain-change)`,
    );
  }
  const identity: NodeIdentity = { ...(stored ?? { nodeId: uuidFrom(runtime.random), clusterId: config.clusterId }) };
  identity.clusterDomain = config.clusterDomain;
  if (stored === undefined || recordedDomain !== config.clusterDomain) runtime.identity.save(identity);
  return identity;
}

/** The reason a node that joined cluster UUID `recordedUuid` must not join the kvdb's cluster, or undefined. */
export function clusterUuidProblem(
  config: AgentConfig,
  recordedUuid: string | undefined,
  kvdbUuid: string | undefined,
): string | undefined {
  if (recordedUuid === undefined || recordedUuid === kvdbUuid || config.allowNewClusterUuid === true) return undefined;
  const found =
    kvdbUuid === undefined ? 'the kvdb holds no record of the cluster' : `the kvdb holds cluster UUID ${kvdbUuid}`;
  return `this node joined cluster ${config.clusterId} with UUID ${recordedUuid} (data dir ${config.dataDir}), but ${found}: the kvdb lost its data or is another one. Restore the kvdb, or restart the node with --allow-new-cluster-uuid to join (or create) the cluster the kvdb holds and re-register`;
}
