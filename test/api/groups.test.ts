import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UpstreamError } from '../../src/upstream/errors.js';
import { ACTIVATION_MS, codes, START, startApi, type Api } from '../helpers/api-harness.js';

const GROUP = 'id name description kind createdAt updatedAt';

let api: Api;
afterEach(() => api?.stop());

async function createGroup(name: string, description?: string, key = 'key-a'): Promise<string> {
  const result = await api.exec(
    `mutation($input: CreateGroupInput!) { createGroup(input: $input) { id } }`,
    { input: { name, ...(description === undefined ? {} : { description }) } },
    key,
  );
  expect(result.errors).toBeUndefined();
  return result.data!.createGroup.id;
}

describe('groups', () => {
  beforeEach(async () => {
    api = await startApi();
  });

  it('createGroup makes a VIRTUAL group from trimmed input and returns it', async () => {
    const result = await api.exec(
      `mutation { createGroup(input: { name: "  Mascot  ", description: " Brand mascot " }) { ${GROUP} } }`,
    );
    expect(result.errors).toBeUndefined();
    expect(result.data!.createGroup).toEqual({
      id: expect.stringMatching(/^group-20260601111715-[a-z0-9]{5}$/),
      name: 'Mascot',
      description: 'Brand mascot',
      kind: 'VIRTUAL',
      createdAt: '2026-06-01T11:17:15.000Z',
      updatedAt: '2026-06-01T11:17:15.000Z',
    });
    expect(api.calls.filter((c) => c.method === 'createGroup')[0]!.args[1]).toEqual({
      name: 'Mascot',
      description: 'Brand mascot',
    });
  });

  it('groups pages through the caller’s groups newest first, with filters', async () => {
    for (const name of ['alpha', 'beta', 'alphabet']) {
      await createGroup(name);
      api.clock.advance(1000);
    }
    const page = (args: string) =>
      api
        .exec(`{ groups${args} { total page pageSize hasNextPage items { name kind } } }`)
        .then((r) => r.data!.groups);

    expect(await page('(pageSize: 2)')).toEqual({
      total: 3,
      page: 1,
      pageSize: 2,
      hasNextPage: true,
      items: [
        { name: 'alphabet', kind: 'VIRTUAL' },
        { name: 'beta', kind: 'VIRTUAL' },
      ],
    });
    expect(await page('(page: 2, pageSize: 2)')).toMatchObject({
      page: 2,
      hasNextPage: false,
      items: [{ name: 'alpha' }],
    });
    expect(await page('')).toMatchObject({ total: 3, page: 1, pageSize: 10 });
    expect(await page('(page: null, pageSize: null)')).toMatchObject({ page: 1, pageSize: 10 });
    expect((await page('(filter: { nameContains: "alpha" })')).total).toBe(2);
    expect((await page('(filter: { kind: REAL })')).total).toBe(0);
  });

  it('groups filters by ids', async () => {
    const a = await createGroup('a');
    await createGroup('b');
    const result = await api.exec(
      `query($ids: [ID!]) { groups(filter: { ids: $ids }) { items { id } } }`,
      {
        ids: [a, 'group-nope'],
      },
    );
    expect(result.data!.groups.items).toEqual([{ id: a }]);
  });

  it('group returns one group, or null without an error when absent', async () => {
    const id = await createGroup('solo', 'd');
    const found = await api.exec(`query($id: ID!) { group(id: $id) { ${GROUP} } }`, { id });
    expect(found.data!.group).toMatchObject({
      id,
      name: 'solo',
      description: 'd',
      kind: 'VIRTUAL',
    });

    const absent = await api.exec(`{ group(id: "group-20260601111715-zzzzz") { id } }`);
    expect(absent).toEqual({ data: { group: null }, errors: undefined });
  });

  it('group propagates upstream failures other than NOT_FOUND', async () => {
    await api.stop();
    api = await startApi({
      overrides: {
        getGroup: async () => {
          throw new UpstreamError('UPSTREAM_UNAVAILABLE', 'socket hang up', { requestId: 'R1' });
        },
      },
    });
    const result = await api.exec(`{ group(id: "group-x") { id } }`);
    expect(result.data).toEqual({ group: null });
    expect(result.errors![0]).toMatchObject({
      path: ['group'],
      extensions: { code: 'UPSTREAM_UNAVAILABLE', upstream: { requestId: 'R1', code: null } },
    });
  });

  it('updateGroup changes the name and the description and returns the new group', async () => {
    const id = await createGroup('old', 'old description');
    api.clock.advance(5000);
    const result = await api.exec(
      `mutation($id: ID!) { updateGroup(id: $id, input: { name: " new " }) { ${GROUP} } }`,
      { id },
    );
    expect(result.data!.updateGroup).toMatchObject({
      id,
      name: 'new',
      description: 'old description',
      updatedAt: '2026-06-01T11:17:20.000Z',
    });
    const cleared = await api.exec(
      `mutation($id: ID!) { updateGroup(id: $id, input: { description: "" }) { name description } }`,
      { id },
    );
    expect(cleared.data!.updateGroup).toEqual({ name: 'new', description: '' });
  });

  it('updateGroup on a missing group is NOT_FOUND', async () => {
    const result = await api.exec(
      `mutation { updateGroup(id: "group-nope", input: { name: "x" }) { id } }`,
    );
    expect(codes(result)).toEqual(['NOT_FOUND']);
    expect(result.errors![0]!.extensions!.upstream).toEqual({
      requestId: expect.any(String),
      code: 'NotFound.group_id',
    });
  });

  it('deleteGroup deletes the group with its assets and returns its id', async () => {
    const id = await createGroup('doomed');
    const added = await api.exec(
      `mutation($id: ID!) { addAssets(groupId: $id, assets: [{ url: "https://e.com/a.jpg", type: IMAGE }]) { assets { id } } }`,
      { id },
    );
    const assetId = added.data!.addAssets.assets[0].id;
    const deleted = await api.exec(`mutation($id: ID!) { deleteGroup(id: $id) }`, { id });
    expect(deleted.data).toEqual({ deleteGroup: id });
    const after = await api.exec(
      `query($id: ID!, $a: ID!) { group(id: $id) { id } asset(id: $a) { id } }`,
      {
        id,
        a: assetId,
      },
    );
    expect(after.data).toEqual({ group: null, asset: null });
    const again = await api.exec(`mutation($id: ID!) { deleteGroup(id: $id) }`, { id });
    expect(codes(again)).toEqual(['NOT_FOUND']);
  });

  it('AssetGroup.assets pages through the group’s assets and filters by status', async () => {
    const id = await createGroup('with assets');
    await api.exec(
      `mutation($id: ID!) { addAssets(groupId: $id, assets: [
        { url: "https://e.com/1.jpg", type: IMAGE },
        { url: "https://e.com/fail-face.jpg", type: IMAGE },
        { url: "https://e.com/3.mp4", type: VIDEO }
      ]) { failures { index } } }`,
      { id },
    );
    api.clock.advance(ACTIVATION_MS);
    const result = await api.exec(
      `query($id: ID!) { group(id: $id) {
        all: assets { total hasNextPage items { type status } }
        failed: assets(status: [FAILED]) { total items { failure { code } } }
        second: assets(page: 2, pageSize: 2) { total page pageSize hasNextPage items { id } }
      } }`,
      { id },
    );
    expect(result.errors).toBeUndefined();
    const group = result.data!.group;
    expect(group.all.total).toBe(3);
    expect(group.all.hasNextPage).toBe(false);
    expect(group.failed).toEqual({ total: 1, items: [{ failure: { code: 'FaceMismatch' } }] });
    expect(group.second).toMatchObject({ total: 3, page: 2, pageSize: 2, hasNextPage: false });
    expect(group.second.items).toHaveLength(1);
  });

  it('createGroup still returns the created group when reading it back fails', async () => {
    await api.stop();
    api = await startApi({
      overrides: {
        getGroup: async () => {
          throw new UpstreamError('UPSTREAM_TIMEOUT', 'timeout');
        },
      },
    });
    const result = await api.exec(`mutation { createGroup(input: { name: "x" }) { ${GROUP} } }`);
    expect(result.errors).toBeUndefined();
    expect(result.data!.createGroup).toEqual({
      id: expect.stringMatching(/^group-/),
      name: 'x',
      description: null,
      kind: 'VIRTUAL',
      createdAt: null,
      updatedAt: null,
    });
    expect(api.logs.some((l) => l.msg === 'could not read back a created group')).toBe(true);
  });

  it('reports dates of a group that changed later', async () => {
    const id = await createGroup('dated');
    api.clock.advance(60_000);
    await api.exec(
      `mutation($id: ID!) { updateGroup(id: $id, input: { description: "d" }) { id } }`,
      {
        id,
      },
    );
    const result = await api.exec(`query($id: ID!) { group(id: $id) { createdAt updatedAt } }`, {
      id,
    });
    expect(result.data!.group).toEqual({
      createdAt: new Date(START).toISOString(),
      updatedAt: new Date(START + 60_000).toISOString(),
    });
  });
});
