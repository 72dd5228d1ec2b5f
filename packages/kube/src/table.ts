import type { KubeObject } from './objects.js';
import type { ResourceType } from './resources.js';

/** What a table row carries besides its cells (`?includeObject=`): nothing, the metadata (default), the object. */
export type IncludeObject = 'None' | 'Metadata' | 'Object';

/** Whether the client asked for a server-side table (kubectl's `get` without `-o`, or with `-o wide`). */
export function wantsTable(accept: string | undefined): boolean {
  return accept !== undefined && /as=Table/.test(accept) && /g=meta\.k8s\.io/.test(accept);
}

/**
 * The `meta.k8s.io/v1` Table a real API server answers a table request with: the type's columns, one row per object
 * (kubectl hides priority-1 columns unless `-o wide`, and prints "No resources found" for no rows).
 */
export function tableOf(
  type: ResourceType,
  objects: KubeObject[],
  resourceVersion: string,
  nowMs: number,
  include: IncludeObject,
): Record<string, unknown> {
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion },
    columnDefinitions: type.columns.map(({ name, type: cellType, format, description, priority }) => ({
      name,
      type: cellType,
      format: format ?? '',
      description,
      priority,
    })),
    rows: objects.map((object) => ({
      cells: type.columns.map((column) => column.cell(object, nowMs)),
      ...(include === 'None'
        ? {}
        : {
            object:
              include === 'Object'
                ? object
                : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: object.metadata },
          }),
    })),
  };
}
