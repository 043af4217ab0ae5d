/**
 * Idempotent `addAssets` in process (pass-through mode, where every key is its own tenant and the
 * ledger still records), on SQLite and PostgreSQL: an upload whose outcome was unknown is looked
 * for before a retry sends anything, and is never sent twice. Also here, for its pass-through
 * harness: a delete that another key's library answers NOT_FOUND forgets nobody's record.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Ledger } from '../../src/ledger/index.js';
import { UpstreamError } from '../../src/upstream/errors.js';
import type { CallOptions, NewAsset, NewGroup } from '../../src/upstream/port.js';
import { secretHash } from '../../src/util/secret-hash.js';
import { startApi, type Api } from '../helpers/api-harness.js';
import { createStoreFixture, type StoreFixture } from '../ledger/stores.js';

const ADD = `mutation ($groupId: ID!, $key: String, $name: String) {
  addAssets(groupId: $groupId, assets: [{ url: "https://example.com/a.png", type: IMAGE, name: $name }], idempotencyKey: $key) {
    assets { id name createdAt } failures { index code }
  }
}`;

type Ending = 'ok' | 'unknown-created' | 'unknown-lost';

/** Runs `create` and ends as `ending` says: as usual, or timed out after or without creating. */
async function endAs<T>(ending: Ending, create: () => Promise<T>): Promise<T> {
  const timedOut = () =>
    new UpstreamError('UPSTREAM_TIMEOUT', 'timed out', { outcomeUnknown: true });
  if (ending === 'unknown-lost') throw timedOut();
  const result = await create();
  if (ending === 'unknown-created') throw timedOut();
  return result;
}

describe.each(['sqlite', 'postgres'] as const)('idempotent addAssets (%s)', (store) => {
  let fixture: StoreFixture;
  let ledger: Ledger;
  let api: Api;
  let groupId: string;
  /** How the next `createAsset` ends: as usual, or unconfirmed (after or without creating). */
  let nextCreate: Ending = 'ok';
  /** The same for the next `createGroup`. */
  let nextGroup: Ending = 'ok';

  beforeAll(async () => {
    fixture = await createStoreFixture(store);
  });
  afterAll(() => fixture.destroy());

  afterEach(async () => {
    await api?.stop();
    await fixture.closeAll();
  });

  async function start() {
    ledger = await fixture.open();
    nextCreate = 'ok';
    nextGroup = 'ok';
    let created = 0;
    api = await startApi({
      ledger,
      overrides: {
        async createGroup(opts: CallOptions, input: NewGroup) {
          const ending = nextGroup;
          nextGroup = 'ok';
          return endAs(ending, () => api.state.createGroup(opts, input));
        },
        async createAsset(opts: CallOptions, input: NewAsset) {
          const ending = nextCreate;
          nextCreate = 'ok';
          return endAs(ending, async () => {
            const result = await api.state.createAsset(opts, input);
            created++;
            return result;
          });
        },
      },
    });
    const group = await api.exec('mutation { createGroup(input: { name: "G" }) { id } }');
    groupId = group.data!.createGroup.id;
    api.takeCalls();
    return { created: () => created };
  }

  const upstreamAssets = async () =>
    (
      await api.state.listAssets(
        { credential: 'key-a' },
        { groupIds: [groupId], page: 1, pageSize: 100 },
      )
    ).items;

  it('replays the first answer, dates included, without a second upload', async () => {
    await start();
    const first = await api.exec(ADD, { groupId, key: 'k1', name: 'one' });
    expect(api.takeCalls().createAsset).toBe(1);
    const again = await api.exec(ADD, { groupId, key: 'k1', name: 'one' });
    expect(again).toEqual(first);
    expect(api.takeCalls().createAsset).toBeUndefined();
    expect(await upstreamAssets()).toHaveLength(1);
    // Recorded for the caller's tenant (the hash of its key), though pass-through does not filter.
    const id = first.data!.addAssets.assets[0].id;
    expect(await ledger.ownerOf('asset', id)).toBe(`key:${secretHash('key-a')}`);
  });

  it("never forgets another key's group for a delete that key cannot see (pass-through)", async () => {
    await start();
    const owner = `key:${secretHash('key-a')}`;
    expect(await ledger.ownerOf('group', groupId)).toBe(owner);
    const answer = await api.exec(
      'mutation ($id: ID!) { deleteGroup(id: $id) }',
      { id: groupId },
      'key-b',
    );
    expect(answer.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(await ledger.ownerOf('group', groupId)).toBe(owner);
    // Its owner's delete of a group gone upstream forgets it.
    await api.state.deleteGroup({ credential: 'key-a' }, groupId);
    const own = await api.exec('mutation ($id: ID!) { deleteGroup(id: $id) }', { id: groupId });
    expect(own.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(await ledger.ownerOf('group', groupId)).toBeNull();
  });

  it('refuses the same key with other input', async () => {
    await start();
    await api.exec(ADD, { groupId, key: 'k2', name: 'one' });
    const other = await api.exec(ADD, { groupId, key: 'k2', name: 'two' });
    expect(other.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'idempotencyKey',
    });
  });

  it('finds an unconfirmed upload that did happen, and does not send it again', async () => {
    const counts = await start();
    nextCreate = 'unknown-created';
    const first = await api.exec(ADD, { groupId, key: 'k3', name: 'face' });
    expect(first.data!.addAssets).toEqual({
      assets: [],
      failures: [{ index: 0, code: 'OUTCOME_UNKNOWN' }],
    });
    const retry = await api.exec(ADD, { groupId, key: 'k3', name: 'face' });
    const [asset] = await upstreamAssets();
    expect(retry.data!.addAssets.assets).toEqual([
      expect.objectContaining({ id: asset!.id, name: 'face' }),
    ]);
    expect(retry.data!.addAssets.failures).toEqual([]);
    expect(counts.created()).toBe(1);
    expect(await upstreamAssets()).toHaveLength(1);
    expect(await ledger.ownerOf('asset', asset!.id)).toBe(`key:${secretHash('key-a')}`);
    // Settled now: a third call replays.
    expect(await api.exec(ADD, { groupId, key: 'k3', name: 'face' })).toEqual(retry);
  });

  it('never claims an older asset made outside the gateway, however alike', async () => {
    const counts = await start();
    // The same name and type, uploaded straight to the upstream (owned by no tenant) half an hour
    // before the gateway's attempt.
    const outside = await api.state.createAsset(
      { credential: 'key-a' },
      { groupId, url: 'https://example.com/other.png', type: 'IMAGE', name: 'face' },
    );
    api.clock.advance(30 * 60 * 1000);
    nextCreate = 'unknown-lost';
    await api.exec(ADD, { groupId, key: 'k5', name: 'face' });
    const retry = await api.exec(ADD, { groupId, key: 'k5', name: 'face' });
    const [added] = retry.data!.addAssets.assets;
    expect(added.id).not.toBe(outside.id);
    // The retry looked, found nothing of its own, and sent the upload once.
    expect(counts.created()).toBe(1);
    expect(await upstreamAssets()).toHaveLength(2);
    expect(await ledger.ownerOf('asset', outside.id)).toBeNull();
  });

  const CREATE_GROUP = `mutation ($key: String) {
    createGroup(input: { name: "Shared name", idempotencyKey: $key }) { id name }
  }`;
  const groupsNamed = async (name: string) =>
    (await api.state.listGroups({ credential: 'key-a' }, { page: 1, pageSize: 100 })).items.filter(
      (g) => g.name === name,
    );

  it('finds an unconfirmed createGroup that did happen, and does not create it again', async () => {
    await start();
    nextGroup = 'unknown-created';
    const first = await api.exec(CREATE_GROUP, { key: 'g1' });
    expect(first.errors?.[0]?.extensions).toMatchObject({ code: 'UPSTREAM_TIMEOUT' });
    const retry = await api.exec(CREATE_GROUP, { key: 'g1' });
    const [group] = await groupsNamed('Shared name');
    expect(retry.data!.createGroup).toEqual({ id: group!.id, name: 'Shared name' });
    expect(await groupsNamed('Shared name')).toHaveLength(1);
    expect(await ledger.ownerOf('group', group!.id)).toBe(`key:${secretHash('key-a')}`);
  });

  it('never claims an older group of the same name made outside the gateway', async () => {
    await start();
    const outside = await api.state.createGroup({ credential: 'key-a' }, { name: 'Shared name' });
    api.clock.advance(30 * 60 * 1000);
    nextGroup = 'unknown-lost';
    await api.exec(CREATE_GROUP, { key: 'g2' });
    const retry = await api.exec(CREATE_GROUP, { key: 'g2' });
    expect(retry.data!.createGroup.id).not.toBe(outside.id);
    expect(await groupsNamed('Shared name')).toHaveLength(2);
    expect(await ledger.ownerOf('group', outside.id)).toBeNull();
  });

  it('sends an unconfirmed upload that did not happen once, after looking for it', async () => {
    const counts = await start();
    nextCreate = 'unknown-lost';
    await api.exec(ADD, { groupId, key: 'k4', name: 'face' });
    api.takeCalls();
    const retry = await api.exec(ADD, { groupId, key: 'k4', name: 'face' });
    const calls = api.takeCalls();
    expect(calls.listAssets).toBeGreaterThanOrEqual(1);
    expect(calls.createAsset).toBe(1);
    expect(retry.data!.addAssets.failures).toEqual([]);
    expect(counts.created()).toBe(1);
    expect(await upstreamAssets()).toHaveLength(1);
  });
});
