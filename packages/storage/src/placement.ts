/** A node placement may choose, as the creating node's status shows it. */
export interface PlacementNode {
  id: string;
  domain: string;
  domainActive: boolean;
  online: boolean;
  storageless: boolean;
  capacityBytes: number;
  usedBytes: number;
}

export type PlacementResult = { ok: true; nodes: string[] } | { ok: false; reason: string };

/** Why a node cannot hold a replica ('' when it can). */
function unfit(node: PlacementNode, sizeBytes: number): string {
  if (node.storageless) return 'a storage-less (witness) node holds no replica';
  if (!node.domainActive) return `its domain ${node.domain} is inactive`;
  if (!node.online) return 'it is not online';
  if (node.capacityBytes < sizeBytes) return `its pool (${node.capacityBytes} bytes) is smaller than the volume`;
  return '';
}

/**
 * Chooses `haLevel` replica nodes, domain-aware: as evenly over the data domains as they allow (a repl-2 volume in
 * a two-domain metro cluster gets one replica in each; repl 3 gets 2 + 1), then the least used nodes within a
 * domain, ties broken by `random` (so a seeded run places the same way). Only online storage nodes of active
 * domains qualify. When there are at least as many replicas as active data domains, every active data domain must
 * get one: a domain none of whose nodes can hold one right now (all offline, a partition not yet resolved by a
 * deactivation) refuses the request rather than putting its replica in another domain, which would leave the volume
 * without a copy on one side of the metro. With `nodes` (`--nodes`), exactly those, each checked. A request that
 * cannot be placed is refused with the reason.
 */
export function placeReplicas(
  request: { haLevel: number; sizeBytes: number; nodes?: readonly string[] },
  candidates: readonly PlacementNode[],
  random: () => number,
): PlacementResult {
  const { haLevel, sizeBytes } = request;
  if (!Number.isInteger(haLevel) || haLevel < 1 || haLevel > 3)
    return { ok: false, reason: `replication factor ${haLevel}: it must be 1, 2 or 3` };
  if (request.nodes !== undefined && request.nodes.length > 0)
    return placeOnNodes(request.nodes, haLevel, sizeBytes, candidates);
  const fit = candidates.filter((node) => unfit(node, sizeBytes) === '');
  const byDomain = new Map<string, PlacementNode[]>();
  for (const node of fit) byDomain.set(node.domain, [...(byDomain.get(node.domain) ?? []), node]);
  if (fit.length < haLevel) {
    const why = candidates.map((node) => `${node.id}: ${unfit(node, sizeBytes) || 'fits'}`).join('; ');
    return {
      ok: false,
      reason: `cannot place ${haLevel} replicas: only ${fit.length} node(s) can hold one (${why || 'no nodes'})`,
    };
  }
  const missing = missingDomains(haLevel, sizeBytes, candidates, byDomain);
  if (missing !== undefined) return { ok: false, reason: missing };
  // Within a domain: least used first, then a random order among equals (a sort key drawn once per node).
  const keys = new Map(fit.map((node) => [node.id, random()]));
  for (const nodes of byDomain.values())
    nodes.sort(
      (left, right) => left.usedBytes - right.usedBytes || (keys.get(left.id) ?? 0) - (keys.get(right.id) ?? 0),
    );
  const domains = [...byDomain.keys()].sort(
    (left, right) =>
      (keys.get(byDomain.get(left)?.[0]?.id ?? '') ?? 0) - (keys.get(byDomain.get(right)?.[0]?.id ?? '') ?? 0),
  );
  const chosen: string[] = [];
  // Round robin over the domains: each round takes one node from every domain that still has one.
  for (let round = 0; chosen.length < haLevel; round++) {
    for (const domain of domains) {
      const node = byDomain.get(domain)?.[round];
      if (node !== undefined && chosen.length < haLevel) chosen.push(node.id);
    }
  }
  return { ok: true, nodes: chosen };
}

/** Why the replicas cannot cover every active data domain when they must (undefined: they can, or need not). */
function missingDomains(
  haLevel: number,
  sizeBytes: number,
  candidates: readonly PlacementNode[],
  fitByDomain: ReadonlyMap<string, readonly PlacementNode[]>,
): string | undefined {
  const dataDomains = [
    ...new Set(candidates.filter((node) => node.domainActive && !node.storageless).map((node) => node.domain)),
  ];
  if (haLevel < dataDomains.length) return undefined;
  const uncovered = dataDomains.filter((domain) => (fitByDomain.get(domain)?.length ?? 0) === 0);
  if (uncovered.length === 0) return undefined;
  const why = candidates
    .filter((node) => uncovered.includes(node.domain))
    .map((node) => `${node.id}: ${unfit(node, sizeBytes)}`)
    .join('; ');
  return (
    `cannot place ${haLevel} replicas with one in every active data domain: ${uncovered.join(', ')} ` +
    `has no node that can hold one now (${why}); deactivate the domain to place without it`
  );
}

function placeOnNodes(
  wanted: readonly string[],
  haLevel: number,
  sizeBytes: number,
  candidates: readonly PlacementNode[],
): PlacementResult {
  if (new Set(wanted).size !== wanted.length)
    return { ok: false, reason: `--nodes names a node twice: ${wanted.join(',')}` };
  if (wanted.length !== haLevel)
    return { ok: false, reason: `--nodes names ${wanted.length} node(s) for replication factor ${haLevel}` };
  for (const id of wanted) {
    const node = candidates.find((candidate) => candidate.id === id);
    if (node === undefined) return { ok: false, reason: `--nodes: no node ${id} in the cluster` };
    const why = unfit(node, sizeBytes);
    if (why !== '') return { ok: false, reason: `--nodes: node ${id} cannot hold a replica: ${why}` };
  }
  return { ok: true, nodes: [...wanted] };
}
