/**
 * Loaders keep the number of upstream calls flat, whatever the number of objects in a query.
 * Data is seeded straight into the simulator, then the recorded calls are reset.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import type { CallOptions } from '../../src/upstream/port.js';
import { ACTIVATION_MS, startApi, type Api } from '../helpers/api-harness.js';

const A: CallOptions = { credential: 'key-a' };
let api: Api;

beforeEach(async () => {
  api = await startApi();
});
afterEach(() => api.stop());

/** Seeds `groups` groups holding `perGroup` assets each; returns group ids, oldest first. */
async function seed(
  groups: number,
  perGroup: number,
  urlFor = (g: number, a: number) => `https://e.com/${g}-${a}.jpg`,
) {
  const ids: string[] = [];
  for (let g = 0; g < groups; g++) {
    const { id } = await api.state.createGroup(A, { name: `group ${g}` });
    ids.push(id);
    for (let a = 0; a < perGroup; a++) {
      await api.state.createAsset(A, {
        groupId: id,
        url: urlFor(g, a),
        type: 'IMAGE',
        name: `${g}-${a}`,
      });
    }
  }
  api.takeCalls();
  return ids;
}

describe('AssetGroup.assets', () => {
  it('loads the assets of 50 groups (100 assets) with one listAssets call', async () => {
    await seed(50, 2);
    const result = await api.exec(
      `{ groups(pageSize: 50) { items { name assets { total items { name } } } } }`,
    );
    expect(result.errors).toBeUndefined();
    expect(api.takeCalls()).toEqual({ listGroups: 1, listAssets: 1 });
    const items = result.data!.groups.items as Array<{
      name: string;
      assets: { total: number; items: unknown[] };
    }>;
    expect(items).toHaveLength(50);
    for (const group of items) {
      const n = group.name.replace('group ', '');
      expect(group.assets.total).toBe(2);
      expect(group.assets.items).toEqual([{ name: `${n}-1` }, { name: `${n}-0` }]);
    }
  });

  it('reads every page when the groups hold more than 100 assets, then slices per group', async () => {
    await seed(30, 5);
    const result = await api.exec(
      `{ groups(pageSize: 30) { items { name assets(page: 2, pageSize: 2) { total page pageSize hasNextPage items { name } } } } }`,
    );
    expect(result.errors).toBeUndefined();
    // 150 assets: pages of 100 and 50.
    expect(api.takeCalls()).toEqual({ listGroups: 1, listAssets: 2 });
    for (const group of result.data!.groups.items) {
      const n = group.name.replace('group ', '');
      expect(group.assets).toEqual({
        total: 5,
        page: 2,
        pageSize: 2,
        hasNextPage: true,
        items: [{ name: `${n}-2` }, { name: `${n}-1` }],
      });
    }
  });

  it('batches per (status, page, pageSize) and filters by status', async () => {
    await seed(10, 2, (g, a) =>
      a === 0 ? `https://e.com/fail-face-${g}.jpg` : `https://e.com/${g}.jpg`,
    );
    api.clock.advance(ACTIVATION_MS);
    const result = await api.exec(`{ groups { items {
      failed: assets(status: [FAILED]) { total items { status } }
      active: assets(status: [ACTIVE]) { total items { status } }
      all: assets { total }
    } } }`);
    expect(result.errors).toBeUndefined();
    expect(api.takeCalls()).toEqual({ listGroups: 1, listAssets: 3 });
    for (const group of result.data!.groups.items) {
      expect(group).toEqual({
        failed: { total: 1, items: [{ status: 'FAILED' }] },
        active: { total: 1, items: [{ status: 'ACTIVE' }] },
        all: { total: 2 },
      });
    }
  });

  it('asks for exactly one page when there is one parent', async () => {
    const [id] = await seed(1, 3);
    const result = await api.exec(
      `query($id: ID!) { group(id: $id) { assets(pageSize: 2) { total items { name } } } }`,
      {
        id,
      },
    );
    expect(result.data!.group.assets).toEqual({
      total: 3,
      items: [{ name: '0-2' }, { name: '0-1' }],
    });
    expect(api.takeCalls()).toEqual({ getGroup: 1, listAssets: 1 });
  });
});

describe('Asset.group', () => {
  it('loads the groups of 100 assets across 50 groups with one listGroups call', async () => {
    await seed(50, 2);
    const result = await api.exec(`{ assets(pageSize: 100) { items { name group { name } } } }`);
    expect(result.errors).toBeUndefined();
    expect(api.takeCalls()).toEqual({ listAssets: 1, listGroups: 1 });
    for (const asset of result.data!.assets.items) {
      expect(asset.group.name).toBe(`group ${asset.name.split('-')[0]}`);
    }
  });

  it('splits more than 100 groups into chunks of 100, and reads each asset once', async () => {
    await api.stop();
    // 300 aliases: far over the default GRAPHQL_MAX_ALIASES, which is not under test here.
    const defaults = loadConfig({ NODE_ENV: 'test' });
    api = await startApi({ config: { limits: { ...defaults.limits, maxAliases: 1000 } } });
    const groups = await seed(150, 1);
    const assets = await api.state.listAssets(A, { page: 1, pageSize: 100 });
    const more = await api.state.listAssets(A, { page: 2, pageSize: 100 });
    const ids = [...assets.items, ...more.items].map((a) => a.id);
    api.takeCalls();
    // Every asset twice, by alias: the duplicates cost nothing.
    const fields = ids
      .flatMap((id, i) => [
        `a${i}: asset(id: "${id}") { group { id } }`,
        `b${i}: asset(id: "${id}") { id }`,
      ])
      .join('\n');
    const result = await api.exec(`{ ${fields} }`);
    expect(result.errors).toBeUndefined();
    expect(api.takeCalls()).toEqual({ getAsset: 150, listGroups: 2 });
    const groupIds = new Set(ids.map((_, i) => result.data![`a${i}`].group.id));
    expect(groupIds).toEqual(new Set(groups));
  });

  it('reads a group the list left out (some upstreams omit real-person groups) with getGroup', async () => {
    await api.stop();
    api = await startApi({
      overrides: {
        listGroups: async (opts, query) => {
          const page = await api.state.listGroups(opts, { ...query, kind: 'VIRTUAL' });
          return page;
        },
      },
    });
    const session = await api.state.startVerification(A, { callbackUrl: 'https://a.example/cb' });
    api.state.completeLiveness(session.token, 'pass');
    const verified = await api.state.completeVerification(A, session.token);
    if (verified.status !== 'VERIFIED') throw new Error('expected VERIFIED');
    const virtual = await api.state.createGroup(A, { name: 'virtual' });
    await api.state.createAsset(A, {
      groupId: verified.groupId,
      url: 'https://e.com/me.jpg',
      type: 'IMAGE',
    });
    await api.state.createAsset(A, {
      groupId: virtual.id,
      url: 'https://e.com/it.jpg',
      type: 'IMAGE',
    });
    api.takeCalls();

    const result = await api.exec(`{ assets { items { group { kind } } } }`);
    expect(
      result.data!.assets.items.map((a: { group: { kind: string } }) => a.group.kind).sort(),
    ).toEqual(['REAL', 'VIRTUAL']);
    expect(api.takeCalls()).toEqual({ listAssets: 1, listGroups: 1, getGroup: 1 });
  });
});
