import { afterEach, describe, expect, it } from 'vitest';
import { MemKvdb, MemStore } from '@pxsim/kvdb-client';
import { ManualClock, seededRandom } from '@pxsim/runtime';
import type { FastifyInstance } from 'fastify';
import { buildKubeApi, ensureSystemNamespaces, humanDuration, ObjectStore, syncNodes } from '../src/index.js';

const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';
let app: FastifyInstance | undefined;
afterEach(async () => app?.close());

async function server() {
  const clock = new ManualClock(Date.parse('2026-11-22T10:00:00Z'));
  const kvdb = new MemKvdb({ store: new MemStore({ clock }), namespace: 'k/' });
  const store = new ObjectStore(kvdb, { clock, random: seededRandom(7) });
  await ensureSystemNamespaces(store);
  const view = { ip: '127.0.1.1', domain: 'us-east-1a', running: true, status: 'Online', reason: '' };
  await syncNodes(
    store,
    [
      { ...view, name: 'ip-1' },
      { ...view, name: 'ip-2', status: 'Out of Quorum', reason: 'sees 3 of 6' },
    ],
    clock.nowMs(),
  );
  app = buildKubeApi({ store, clock, serverAddress: '127.0.1.254:6443' });
  return { app, clock, store };
}

describe('the Kubernetes API: discovery, tables, errors as Status', () => {
  it('discovery lists the core resources with their short names; an unknown group version is 404', async () => {
    const { app } = await server();
    const core = (await app.inject('/api/v1')).json<{
      resources: Array<{ name: string; shortNames?: string[]; namespaced: boolean }>;
    }>();
    expect(
      core.resources.map(({ name, shortNames, namespaced }) => `${name}:${(shortNames ?? []).join()}:${namespaced}`),
    ).toEqual([
      'namespaces:ns:false',
      'nodes:no:false',
      'pods:po:true',
      'persistentvolumeclaims:pvc:true',
      'persistentvolumes:pv:false',
      'events:ev:true',
    ]);
    const apps = (await app.inject('/apis/apps/v1')).json<{
      resources: Array<{ name: string; group?: string; kind: string }>;
    }>();
    expect(apps.resources.map(({ name, group, kind }) => `${name}:${group ?? ''}:${kind}`)).toEqual([
      'deployments::Deployment',
      'deployments/scale:autoscaling:Scale',
      'statefulsets::StatefulSet',
      'statefulsets/scale:autoscaling:Scale',
    ]);
    expect((await app.inject('/api')).json()).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
    const missing = await app.inject('/apis/batch/v1');
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ kind: 'Status', reason: 'NotFound', code: 404 });
  });

  it("answers a table with the apiserver's node columns when asked; a plain list otherwise", async () => {
    const { app, clock } = await server();
    clock.advance(3 * 60_000 + 5000);
    const table = (await app.inject({ url: '/api/v1/nodes', headers: { accept: TABLE } })).json<{
      kind: string;
      columnDefinitions: Array<{ name: string; priority: number }>;
      rows: Array<{ cells: unknown[] }>;
    }>();
    expect(table.kind).toBe('Table');
    expect(table.columnDefinitions.map((column) => `${column.name}/${column.priority}`)).toEqual([
      'Name/0',
      'Status/0',
      'Roles/0',
      'Age/0',
      'Version/0',
      'Internal-IP/1',
      'External-IP/1',
      'OS-Image/1',
      'Kernel-Version/1',
      'Container-Runtime/1',
    ]);
    expect(table.rows.map((row) => row.cells.slice(0, 5))).toEqual([
      ['ip-1', 'Ready', '<none>', '3m5s', 'v1.32.0'],
      ['ip-2', 'NotReady', '<none>', '3m5s', 'v1.32.0'],
    ]);
    const list = (await app.inject('/api/v1/nodes')).json<{ kind: string; items: unknown[] }>();
    expect([list.kind, list.items.length]).toEqual(['NodeList', 2]);
  });

  it('refuses bad input with the field or the reason named: invalid name (422), wrong kind, a system namespace', async () => {
    const { app } = await server();
    const post = (body: unknown) => app.inject({ method: 'POST', url: '/api/v1/namespaces', payload: body as object });
    const invalid = await post({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'Bad_Name' } });
    expect(invalid.statusCode).toBe(422);
    expect(invalid.json()).toMatchObject({
      reason: 'Invalid',
      details: { causes: [{ field: 'metadata.name', reason: 'FieldValueInvalid' }] },
    });
    expect(invalid.json<{ message: string }>().message).toMatch(
      /^Namespace "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 label/,
    );
    const wrongKind = await post({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'x' } });
    expect([wrongKind.statusCode, wrongKind.json<{ message: string }>().message]).toEqual([
      400,
      'the API version in the data (v1) and kind (Node) do not match v1, Namespace',
    ]);
    expect((await post({ kind: 'Namespace' })).statusCode).toBe(400);
    const system = await app.inject({ method: 'DELETE', url: '/api/v1/namespaces/kube-system' });
    expect([system.statusCode, system.json<{ reason: string }>().reason]).toEqual([403, 'Forbidden']);
    const selector = await app.inject('/api/v1/nodes?fieldSelector=spec.nodeName%3Dx');
    expect(selector.json<{ message: string }>().message).toBe('field label not supported: spec.nodeName');
  });

  it('PATCH: merge patch and strategic merge patch (kubectl apply, label) on the stored object', async () => {
    const { app } = await server();
    const merge = await app.inject({
      method: 'PATCH',
      url: '/api/v1/namespaces/default',
      headers: { 'content-type': 'application/merge-patch+json' },
      payload: JSON.stringify({ metadata: { labels: { team: 'dr' } } }),
    });
    expect(merge.json()).toMatchObject({
      metadata: { labels: { team: 'dr', 'kubernetes.io/metadata.name': 'default' } },
    });
    const strategic = await app.inject({
      method: 'PATCH',
      url: '/api/v1/nodes/ip-1',
      headers: { 'content-type': 'application/strategic-merge-patch+json' },
      payload: JSON.stringify({ status: { addresses: [{ type: 'ExternalIP', address: '192.0.2.1' }] } }),
    });
    expect(strategic.json<{ status: { addresses: unknown[] } }>().status.addresses).toEqual([
      { type: 'InternalIP', address: '127.0.1.1' },
      { type: 'Hostname', address: 'ip-1' },
      { type: 'ExternalIP', address: '192.0.2.1' },
    ]);
    const jsonPatch = await app.inject({
      method: 'PATCH',
      url: '/api/v1/nodes/ip-1',
      headers: { 'content-type': 'application/json-patch+json' },
      payload: '[]',
    });
    expect(jsonPatch.statusCode).toBe(415);
  });

  it('ages as the apiserver prints them', () => {
    expect(
      [5_000, 119_000, 125_000, 600_000, 3 * 3600_000 + 60_000, 50 * 3600_000, 9 * 86400_000, -5000].map(humanDuration),
    ).toEqual(['5s', '119s', '2m5s', '10m', '3h1m', '2d2h', '9d', '<invalid>']);
  });
});

describe('bodies the API cannot read', () => {
  it('a protobuf body (kubectl create namespace NAME) is refused with 415 and what to do instead', async () => {
    const { app } = await server();
    const answer = await app.inject({
      method: 'POST',
      url: '/api/v1/namespaces',
      headers: { 'content-type': 'application/vnd.kubernetes.protobuf' },
      payload: Buffer.from([0x6b, 0x38, 0x73, 0x00]),
    });
    expect(answer.statusCode).toBe(415);
    expect(answer.json()).toMatchObject({ kind: 'Status', reason: 'UnsupportedMediaType', code: 415 });
    expect(answer.json<{ message: string }>().message).toContain('use kubectl create -f or kubectl apply -f');
  });
});
