import { groupVersionOf, type ResourceType } from './resources.js';

/**
 * The discovery documents kubectl reads before anything else (client-go's legacy discovery: `/api`, `/apis`, then
 * one resource list per group version). kubectl 1.32 first asks for the aggregated form
 * (`application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList`); an answer of plain `application/json`
 * tells it the server has only the legacy documents, which it then uses.
 */
export function apiVersions(serverAddress: string): Record<string, unknown> {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function groupsOf(resources: ResourceType[]): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const type of resources) {
    if (type.group === '') continue;
    const versions = groups.get(type.group) ?? [];
    if (!versions.includes(type.version)) versions.push(type.version);
    groups.set(type.group, versions);
  }
  return groups;
}

export function apiGroupList(resources: ResourceType[]): Record<string, unknown> {
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: [...groupsOf(resources)].map(([name, versions]) => {
      const list = versions.map((version) => ({ groupVersion: `${name}/${version}`, version }));
      return { name, versions: list, preferredVersion: list[0] };
    }),
  };
}

/** `/api/v1` or `/apis/<group>/<version>`; undefined when no resource is served there. */
export function apiResourceList(
  resources: ResourceType[],
  group: string,
  version: string,
): Record<string, unknown> | undefined {
  const served = resources.filter((type) => type.group === group && type.version === version);
  if (served.length === 0) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: groupVersionOf({ group, version }),
    resources: served.flatMap((type) => [
      {
        name: type.resource,
        singularName: type.singular,
        namespaced: type.namespaced,
        kind: type.kind,
        verbs: type.verbs,
        ...(type.shortNames.length === 0 ? {} : { shortNames: type.shortNames }),
      },
      ...(type.scale === true
        ? [
            {
              name: `${type.resource}/scale`,
              singularName: '',
              namespaced: type.namespaced,
              group: 'autoscaling',
              version: 'v1',
              kind: 'Scale',
              verbs: ['get', 'patch', 'update'],
            },
          ]
        : []),
    ]),
  };
}

/** `/version`: the Kubernetes version this API speaks (kubectl compares it with its own for its skew warning). */
export const SERVER_VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0-pxsim',
  gitCommit: '',
  gitTreeState: 'clean',
  buildDate: '2026-11-01T00:00:00Z',
  goVersion: 'go1.23.0',
  compiler: 'gc',
  platform: 'linux/amd64',
};
