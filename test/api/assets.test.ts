import { ACTIVATION_MS, codes, startApi, type Api } from '../helpers/api-harness.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ADD_ASSETS_CONCURRENCY } from '../../src/resolvers/add-assets.js';
import { UpstreamError } from '../../src/upstream/errors.js';
import type { Upstream } from '../../src/upstream/port.js';

const ASSET =
  'id groupId name type status failure { code message } uri previewUrl createdAt updatedAt';
const ADD = `mutation($groupId: ID!, $assets: [NewAssetInput!]!) {
  addAssets(groupId: $groupId, assets: $assets) {
    assets { ${ASSET} group { id name } }
    failures { index url code message upstreamCode upstreamRequestId }
  }
}`;

let api: Api;
let groupId: string;

async function start(overrides: Partial<Upstream> = {}): Promise<void> {
  await api?.stop();
  api = await startApi({ overrides });
  const created = await api.exec(`mutation { createGroup(input: { name: "g" }) { id } }`);
  groupId = created.data!.createGroup.id;
  api.takeCalls();
}

beforeEach(() => start());
afterEach(() => api?.stop());

describe('addAssets', () => {
  it('creates every item and returns the assets as PROCESSING with their asset:// uri', async () => {
    const result = await api.exec(ADD, {
      groupId,
      assets: [
        { url: 'https://cdn.example.com/front.jpg', type: 'IMAGE', name: ' front ' },
        { url: 'https://cdn.example.com/voice.mp3', type: 'AUDIO' },
      ],
    });
    expect(result.errors).toBeUndefined();
    const { assets, failures } = result.data!.addAssets;
    expect(failures).toEqual([]);
    expect(assets).toHaveLength(2);
    expect(assets[0]).toEqual({
      id: expect.stringMatching(/^asset-20260601111715-[a-z0-9]{5}$/),
      groupId,
      name: 'front',
      type: 'IMAGE',
      status: 'PROCESSING',
      failure: null,
      uri: `asset://${assets[0].id}`,
      previewUrl: null,
      createdAt: '2026-06-01T11:17:15.000Z',
      updatedAt: '2026-06-01T11:17:15.000Z',
      group: { id: groupId, name: 'g' },
    });
    expect(assets[1]).toMatchObject({ type: 'AUDIO', name: null });
  });

  it('reports each failed item with its index, code and message, next to the created ones', async () => {
    const result = await api.exec(ADD, {
      groupId,
      assets: [
        { url: 'https://cdn.example.com/ok.jpg', type: 'IMAGE' },
        { url: 'https://cdn.example.com/download-fails.jpg', type: 'IMAGE' },
        { url: 'https://cdn.example.com/fail-face.jpg', type: 'IMAGE' },
      ],
    });
    expect(result.errors).toBeUndefined();
    const { assets, failures } = result.data!.addAssets;
    expect(assets.map((a: { status: string }) => a.status)).toEqual(['PROCESSING', 'PROCESSING']);
    expect(failures).toEqual([
      {
        index: 1,
        url: 'https://cdn.example.com/download-fails.jpg',
        code: 'BAD_USER_INPUT',
        message: expect.stringMatching(/could not download/),
        upstreamCode: 'InvalidParameter.DownloadFailed',
        upstreamRequestId: null,
      },
    ]);
    // The fail-face asset was created; it fails in review later.
    api.clock.advance(ACTIVATION_MS);
    const later = await api.exec(
      `query($id: ID!) { asset(id: $id) { status failure { code message } } }`,
      {
        id: assets[1].id,
      },
    );
    expect(later.data!.asset).toEqual({
      status: 'FAILED',
      failure: { code: 'FaceMismatch', message: 'Face consistency verification failed.' },
    });
  });

  it('reports an unconfirmed create as OUTCOME_UNKNOWN and never retries it', async () => {
    await start({
      async createAsset(opts, input) {
        if (input.url.includes('slow')) {
          throw new UpstreamError('UPSTREAM_TIMEOUT', 'timed out', {
            outcomeUnknown: true,
            requestId: 'REQ-9',
          });
        }
        return api.state.createAsset(opts, input);
      },
    });
    const result = await api.exec(ADD, {
      groupId,
      assets: [
        { url: 'https://cdn.example.com/slow.mp4', type: 'VIDEO' },
        { url: 'https://cdn.example.com/fast.jpg', type: 'IMAGE' },
      ],
    });
    const { assets, failures } = result.data!.addAssets;
    expect(assets).toHaveLength(1);
    expect(failures).toEqual([
      expect.objectContaining({
        index: 0,
        code: 'OUTCOME_UNKNOWN',
        message: expect.stringMatching(/may have been created/),
        upstreamRequestId: 'REQ-9',
      }),
    ]);
    expect(api.takeCalls().createAsset).toBe(2);
  });

  it('reports a create into a missing group as NOT_FOUND per item', async () => {
    const result = await api.exec(ADD, {
      groupId: 'group-20260601111715-zzzzz',
      assets: [
        { url: 'https://e.com/1.jpg', type: 'IMAGE' },
        { url: 'https://e.com/2.jpg', type: 'IMAGE' },
      ],
    });
    expect(result.data!.addAssets.assets).toEqual([]);
    expect(
      result.data!.addAssets.failures.map((f: { index: number; code: string }) => [
        f.index,
        f.code,
      ]),
    ).toEqual([
      [0, 'NOT_FOUND'],
      [1, 'NOT_FOUND'],
    ]);
  });

  it('masks an unexpected error of one item and logs it', async () => {
    await start({
      async createAsset(opts, input) {
        if (input.url.includes('bug'))
          throw new TypeError('undefined is not a function (internal)');
        return api.state.createAsset(opts, input);
      },
    });
    const result = await api.exec(ADD, {
      groupId,
      assets: [
        { url: 'https://e.com/bug.jpg', type: 'IMAGE' },
        { url: 'https://e.com/fine.jpg', type: 'IMAGE' },
      ],
    });
    expect(result.data!.addAssets.assets).toHaveLength(1);
    expect(result.data!.addAssets.failures).toEqual([
      expect.objectContaining({
        index: 0,
        code: 'INTERNAL_SERVER_ERROR',
        message: 'Internal server error.',
      }),
    ]);
    expect(JSON.stringify(result)).not.toContain('internal)');
    expect(api.logs.find((l) => l.level === 50)?.err?.message).toContain(
      'undefined is not a function',
    );
  });

  it('returns a created asset as PROCESSING from the input when reading it back fails', async () => {
    await start({
      getAsset: async () => {
        throw new UpstreamError('UPSTREAM_UNAVAILABLE', 'reset');
      },
    });
    const result = await api.exec(ADD, {
      groupId,
      assets: [{ url: 'https://e.com/a.jpg', type: 'VIDEO', name: 'clip' }],
    });
    expect(result.errors).toBeUndefined();
    expect(result.data!.addAssets.assets[0]).toMatchObject({
      groupId,
      name: 'clip',
      type: 'VIDEO',
      status: 'PROCESSING',
      createdAt: null,
      uri: expect.stringMatching(/^asset:\/\/asset-/),
    });
  });

  it(`runs at most ${ADD_ASSETS_CONCURRENCY} creates at once`, async () => {
    let inFlight = 0;
    let peak = 0;
    await start({
      async createAsset(opts, input) {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((resolve) => setImmediate(resolve));
        inFlight--;
        return api.state.createAsset(opts, input);
      },
    });
    const assets = Array.from({ length: 20 }, (_, i) => ({
      url: `https://e.com/${i}.jpg`,
      type: 'IMAGE',
    }));
    const result = await api.exec(ADD, { groupId, assets });
    expect(result.data!.addAssets.assets).toHaveLength(20);
    expect(peak).toBe(ADD_ASSETS_CONCURRENCY);
    // One read-back batch: each created asset is read once.
    expect(api.takeCalls()).toMatchObject({ createAsset: 20, getAsset: 20 });
  });
});

describe('asset and assets', () => {
  async function add(
    assets: Array<{ url: string; type: string; name?: string }>,
  ): Promise<string[]> {
    const result = await api.exec(ADD, { groupId, assets });
    return result.data!.addAssets.assets.map((a: { id: string }) => a.id);
  }

  it('asset follows the review: PROCESSING, then ACTIVE with a preview URL', async () => {
    const [id] = await add([{ url: 'https://e.com/a.jpg', type: 'IMAGE' }]);
    const read = () =>
      api
        .exec(`query($id: ID!) { asset(id: $id) { ${ASSET} } }`, { id })
        .then((r) => r.data!.asset);
    expect((await read()).status).toBe('PROCESSING');
    api.clock.advance(ACTIVATION_MS);
    expect(await read()).toMatchObject({
      status: 'ACTIVE',
      previewUrl: `http://127.0.0.1/sim/files/${id}`,
      uri: `asset://${id}`,
    });
  });

  it('asset is null when absent', async () => {
    expect(await api.exec(`{ asset(id: "asset-nope") { id } }`)).toEqual({
      data: { asset: null },
      errors: undefined,
    });
  });

  it('assets filters by group, status and type, and pages', async () => {
    const other = (await api.exec(`mutation { createGroup(input: { name: "other" }) { id } }`))
      .data!.createGroup.id;
    await add([
      { url: 'https://e.com/1.jpg', type: 'IMAGE', name: 'one' },
      { url: 'https://e.com/fail-moderation.jpg', type: 'IMAGE' },
      { url: 'https://e.com/3.mp4', type: 'VIDEO' },
    ]);
    await api.exec(ADD, {
      groupId: other,
      assets: [{ url: 'https://e.com/4.wav', type: 'AUDIO' }],
    });
    api.clock.advance(ACTIVATION_MS);
    const total = (filter: string) =>
      api.exec(`{ assets(filter: ${filter}) { total } }`).then((r) => r.data!.assets.total);
    expect(await total('{}')).toBe(4);
    expect(await total(`{ groupIds: ["${other}"] }`)).toBe(1);
    expect(await total('{ statuses: [FAILED] }')).toBe(1);
    expect(await total('{ statuses: [ACTIVE], types: [IMAGE] }')).toBe(1);
    expect(await total('{ types: [VIDEO, AUDIO] }')).toBe(2);
    expect(await total('{ nameContains: "ON" }')).toBe(1);
    expect(await total('{ kind: REAL }')).toBe(0);
    const page = await api.exec(
      `{ assets(page: 2, pageSize: 3) { total page pageSize hasNextPage items { id } } }`,
    );
    expect(page.data!.assets).toMatchObject({ total: 4, page: 2, pageSize: 3, hasNextPage: false });
    expect(page.data!.assets.items).toHaveLength(1);
  });

  it('renameAsset renames and returns the asset', async () => {
    const [id] = await add([{ url: 'https://e.com/a.jpg', type: 'IMAGE', name: 'old' }]);
    const result = await api.exec(
      `mutation($id: ID!) { renameAsset(id: $id, name: "  new ") { id name } }`,
      {
        id,
      },
    );
    expect(result.data!.renameAsset).toEqual({ id, name: 'new' });
    const missing = await api.exec(`mutation { renameAsset(id: "asset-nope", name: "x") { id } }`);
    expect(codes(missing)).toEqual(['NOT_FOUND']);
  });

  it('deleteAsset deletes and returns the id; a second delete is NOT_FOUND', async () => {
    const [id] = await add([{ url: 'https://e.com/a.jpg', type: 'IMAGE' }]);
    expect((await api.exec(`mutation($id: ID!) { deleteAsset(id: $id) }`, { id })).data).toEqual({
      deleteAsset: id,
    });
    expect((await api.exec(`query($id: ID!) { asset(id: $id) { id } }`, { id })).data).toEqual({
      asset: null,
    });
    expect(codes(await api.exec(`mutation($id: ID!) { deleteAsset(id: $id) }`, { id }))).toEqual([
      'NOT_FOUND',
    ]);
  });

  it('Asset.group is null when the group no longer exists', async () => {
    // An asset read that names a group deleted meanwhile (e.g. by another client).
    await start({
      getAsset: async (opts, id) => ({
        ...(await api.state.getAsset(opts, id)),
        groupId: 'group-gone',
      }),
    });
    const [id] = await add([{ url: 'https://e.com/a.jpg', type: 'IMAGE' }]);
    const result = await api.exec(`query($id: ID!) { asset(id: $id) { groupId group { id } } }`, {
      id,
    });
    expect(result).toEqual({
      data: { asset: { groupId: 'group-gone', group: null } },
      errors: undefined,
    });
  });
});
