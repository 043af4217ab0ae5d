/**
 * One behaviour suite for the ledger, run against both real stores: a SQLite file and
 * PostgreSQL (its own schema per run). Each test uses tenants of its own, so tests sharing a
 * store never see each other's rows.
 */
import { existsSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  LedgerConfigError,
  LedgerUnavailableError,
  assertSharedLedger,
  beginIdempotentWaiting,
  openLedger,
  hashInput,
  IN_MEMORY_LEDGER,
  type IdempotencyBegin,
  type Ledger,
} from '../../src/ledger/index.js';
import {
  PG_URL,
  createStoreFixture,
  dropSchema,
  startPgRelay,
  type StoreFixture,
  type StoreName,
} from './stores.js';
import { sqliteMessage } from '../../src/ledger/sqlite.js';

const HOUR = 60 * 60 * 1000;
const START = Date.UTC(2026, 11, 1, 6, 0, 0);

describe.each<StoreName>(['sqlite', 'postgres'])('the %s ledger', (store) => {
  let fixture: StoreFixture;
  let clock: { now: number };
  let ledger: Ledger;
  let seq = 0;
  /** A name unique to this test, so tests sharing the store stay apart. */
  let unique: (name: string) => string;

  beforeAll(async () => {
    fixture = await createStoreFixture(store);
  });
  beforeEach(async () => {
    const run = ++seq;
    unique = (name) => `${name}-${run}`;
    clock = { now: START };
    ledger = await fixture.open({ now: () => clock.now });
  });
  afterEach(() => fixture.closeAll());
  afterAll(() => fixture?.destroy());

  /** Records `n` groups for `tenant`, one clock tick apart (so the newest is the last). */
  async function groups(tenant: string, n: number, kind: 'VIRTUAL' | 'REAL' = 'VIRTUAL') {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      clock.now += 1000;
      const id = unique(`${tenant}-${kind}-${String(i).padStart(2, '0')}`);
      await ledger.recordGroup(tenant, { id, kind, name: `Group ${i}` });
      ids.push(id);
    }
    return ids;
  }

  it('reports the store it is', () => {
    expect(ledger.store).toBe(store);
  });

  describe('ownership', () => {
    it('knows the owner of each group and asset it recorded, and nobody for the rest', async () => {
      const alice = unique('alice');
      const bob = unique('bob');
      const [g] = await groups(alice, 1);
      await ledger.recordAssets(alice, g!, [
        { id: unique('a1'), url: 'https://x.test/1.png', type: 'IMAGE', name: 'one' },
        { id: unique('a2'), url: 'https://x.test/2.mp4', type: 'VIDEO' },
      ]);

      expect(await ledger.ownerOf('group', g!)).toBe(alice);
      expect(await ledger.ownerOf('asset', unique('a2'))).toBe(alice);
      expect(await ledger.ownerOf('asset', g!)).toBeNull(); // kinds do not mix
      expect(await ledger.ownerOf('group', unique('upstream-only'))).toBeNull();
      expect(await ledger.filterOwned(bob, 'group', [g!])).toEqual([]);
    });

    it('recording a group twice keeps its first owner', async () => {
      const [g] = await groups(unique('alice'), 1);
      await ledger.recordGroup(unique('mallory'), { id: g!, kind: 'VIRTUAL' });
      expect(await ledger.ownerOf('group', g!)).toBe(unique('alice'));
    });

    it('filters a batch of ids down to the tenant’s, in the order given', async () => {
      const alice = unique('alice');
      const mine = await groups(alice, 3);
      const theirs = await groups(unique('bob'), 1);
      const asked = [mine[2]!, theirs[0]!, unique('nobody'), mine[0]!, mine[2]!];
      expect(await ledger.filterOwned(alice, 'group', asked)).toEqual([mine[2], mine[0]]);
      expect(await ledger.filterOwned(alice, 'group', [])).toEqual([]);
    });

    it('forgets a deleted group together with its assets', async () => {
      const alice = unique('alice');
      const [g, other] = await groups(alice, 2);
      await ledger.recordAssets(alice, g!, [{ id: unique('a'), url: 'u', type: 'IMAGE' }]);
      await ledger.recordAssets(alice, other!, [{ id: unique('b'), url: 'u', type: 'IMAGE' }]);

      await ledger.forget('group', g!);

      expect(await ledger.ownerOf('group', g!)).toBeNull();
      expect(await ledger.ownerOf('asset', unique('a'))).toBeNull();
      expect(await ledger.ownerOf('asset', unique('b'))).toBe(alice);
      await ledger.forget('asset', unique('b'));
      expect(await ledger.ownerOf('asset', unique('b'))).toBeNull();
    });
  });

  describe('paging', () => {
    it('pages over the tenant’s own groups only, newest first, with the right total', async () => {
      const alice = unique('alice');
      const mine = await groups(alice, 25);
      await groups(unique('bob'), 4);
      const newestFirst = [...mine].reverse();

      const first = await ledger.pageOwned(alice, 'group', {}, 1, 10);
      expect(first).toEqual({ ids: newestFirst.slice(0, 10), total: 25 });
      const last = await ledger.pageOwned(alice, 'group', {}, 3, 10);
      expect(last).toEqual({ ids: newestFirst.slice(20), total: 25 });
      const beyond = await ledger.pageOwned(alice, 'group', {}, 4, 10);
      expect(beyond).toEqual({ ids: [], total: 25 });
      expect(await ledger.pageOwned(unique('carol'), 'group', {}, 1, 10)).toEqual({
        ids: [],
        total: 0,
      });
    });

    it('narrows groups by ids, avatar kind and part of the name (wildcards taken literally)', async () => {
      const alice = unique('alice');
      const virtual = await groups(alice, 3);
      const real = await groups(alice, 2, 'REAL');
      clock.now += 1000;
      await ledger.recordGroup(alice, { id: unique('pct'), kind: 'VIRTUAL', name: '100% Real_Me' });

      const byKind = await ledger.pageOwned(alice, 'group', { avatarKind: 'REAL' }, 1, 10);
      expect(byKind).toEqual({ ids: [...real].reverse(), total: 2 });
      const byIds = await ledger.pageOwned(alice, 'group', { ids: [virtual[0]!, real[1]!] }, 1, 10);
      expect(byIds.ids.sort()).toEqual([virtual[0], real[1]].sort());
      expect(byIds.total).toBe(2);
      const byName = await ledger.pageOwned(alice, 'group', { nameContains: 'GROUP 1' }, 1, 10);
      expect(byName.ids.sort()).toEqual([virtual[1], real[1]].sort());
      const literal = await ledger.pageOwned(alice, 'group', { nameContains: '0% real_' }, 1, 10);
      expect(literal.ids).toEqual([unique('pct')]);
      expect((await ledger.pageOwned(alice, 'group', { nameContains: '%' }, 1, 10)).ids).toEqual([
        unique('pct'),
      ]);
      expect(await ledger.pageOwned(alice, 'group', { ids: [] }, 1, 10)).toEqual({
        ids: [],
        total: 0,
      });
    });

    it('narrows assets by group, type and their group’s avatar kind', async () => {
      const alice = unique('alice');
      const [virtualGroup] = await groups(alice, 1);
      const [realGroup] = await groups(alice, 1, 'REAL');
      clock.now += 1000;
      await ledger.recordAssets(alice, virtualGroup!, [
        { id: unique('v-img'), url: 'u1', type: 'IMAGE' },
        { id: unique('v-vid'), url: 'u2', type: 'VIDEO' },
      ]);
      clock.now += 1000;
      await ledger.recordAssets(alice, realGroup!, [
        { id: unique('r-img'), url: 'u3', type: 'IMAGE' },
      ]);

      const all = await ledger.pageOwned(alice, 'asset', {}, 1, 10);
      expect(all.total).toBe(3);
      expect(all.ids[0]).toBe(unique('r-img'));
      const inGroup = await ledger.pageOwned(alice, 'asset', { groupIds: [virtualGroup!] }, 1, 10);
      expect(inGroup.ids.sort()).toEqual([unique('v-img'), unique('v-vid')].sort());
      const images = await ledger.pageOwned(alice, 'asset', { assetTypes: ['IMAGE'] }, 1, 10);
      expect(images.ids.sort()).toEqual([unique('r-img'), unique('v-img')].sort());
      const real = await ledger.pageOwned(alice, 'asset', { avatarKind: 'REAL' }, 1, 10);
      expect(real).toEqual({ ids: [unique('r-img')], total: 1, groupIds: [realGroup] });
      expect(inGroup.groupIds).toEqual([virtualGroup]);
    });

    it('finds a renamed resource by its new name', async () => {
      const alice = unique('alice');
      const [g] = await groups(alice, 1);
      await ledger.rename('group', g!, 'Studio Portraits');
      expect(
        (await ledger.pageOwned(alice, 'group', { nameContains: 'portrait' }, 1, 5)).ids,
      ).toEqual([g]);
      expect((await ledger.pageOwned(alice, 'group', { nameContains: 'Group' }, 1, 5)).total).toBe(
        0,
      );
    });
  });

  describe('operators', () => {
    it('assigns a resource nobody owned, then moves it, telling the previous owner', async () => {
      const id = unique('upstream-group');
      expect(await ledger.assign('group', id, unique('alice'), { avatarKind: 'REAL' })).toBeNull();
      expect(await ledger.ownerOf('group', id)).toBe(unique('alice'));
      expect(await ledger.assign('group', id, unique('bob'))).toBe(unique('alice'));
      expect(await ledger.ownerOf('group', id)).toBe(unique('bob'));
      // The details given first are kept when a later assignment gives none.
      const page = await ledger.pageOwned(unique('bob'), 'group', { avatarKind: 'REAL' }, 1, 5);
      expect(page.ids).toEqual([id]);
    });

    it('lists by tenant and kind, a page at a time after a cursor', async () => {
      const alice = unique('alice');
      const mine = await groups(alice, 5);
      await ledger.recordAssets(alice, mine[0]!, [{ id: unique('a'), url: 'u', type: 'AUDIO' }]);
      const recordedAt = new Date(clock.now);
      await groups(unique('bob'), 2);

      const everything = await ledger.list({ tenant: alice });
      expect(everything.map((e) => `${e.kind}:${e.id}`)).toEqual([
        `asset:${unique('a')}`,
        ...[...mine].sort().map((id) => `group:${id}`),
      ]);
      expect(everything[0]).toMatchObject({
        tenant: alice,
        groupId: mine[0],
        assetType: 'AUDIO',
        url: 'u',
        createdAt: recordedAt,
      });
      const groupsOnly = await ledger.list({ tenant: alice, kind: 'group' }, { limit: 2 });
      expect(groupsOnly.map((e) => e.id)).toEqual([...mine].sort().slice(0, 2));
      const next = await ledger.list(
        { tenant: alice, kind: 'group' },
        { limit: 10, after: { kind: 'group', id: groupsOnly[1]!.id } },
      );
      expect(next.map((e) => e.id)).toEqual([...mine].sort().slice(2));
    });
  });

  describe('verification tokens', () => {
    const ttl = { leaseMs: 5000, expiresAt: new Date(START + HOUR) };

    it('lets exactly one caller exchange a token at a time, until its lease runs out', async () => {
      const alice = unique('alice');
      await ledger.saveVerification(alice, 'tok-1', ttl.expiresAt);
      expect(await ledger.verification(alice, 'tok-1')).toEqual({
        state: 'PENDING',
        groupId: null,
        expiresAt: ttl.expiresAt,
      });

      const claims = await Promise.all([
        ledger.claimVerification(alice, 'tok-1', ttl),
        ledger.claimVerification(alice, 'tok-1', ttl),
      ]);
      expect(claims.map((c) => c.status).sort()).toEqual(['busy', 'claimed']);
      clock.now += 5000;
      expect(await ledger.claimVerification(alice, 'tok-1', ttl)).toEqual({ status: 'claimed' });
      await ledger.settleVerification(alice, 'tok-1', { state: 'PENDING' });
      expect(await ledger.claimVerification(alice, 'tok-1', ttl)).toEqual({ status: 'claimed' });
    });

    it('remembers the verified group for any later caller, and gives the group to the tenant', async () => {
      const alice = unique('alice');
      const group = unique('real-group');
      expect(await ledger.claimVerification(alice, 'tok-2', ttl)).toEqual({ status: 'claimed' });
      await ledger.settleVerification(alice, 'tok-2', { state: 'VERIFIED', groupId: group });

      // Another instance (another handle on the same store) after a restart.
      const other = await fixture.open({ now: () => clock.now });
      const record = { state: 'VERIFIED', groupId: group, expiresAt: ttl.expiresAt };
      expect(await other.verification(alice, 'tok-2')).toEqual(record);
      expect(await other.claimVerification(alice, 'tok-2', ttl)).toEqual({
        status: 'settled',
        record,
      });
      expect(await other.ownerOf('group', group)).toBe(alice);
      expect((await other.pageOwned(alice, 'group', { avatarKind: 'REAL' }, 1, 5)).ids).toEqual([
        group,
      ]);
      // Another tenant knows nothing of this token.
      expect(await other.verification(unique('bob'), 'tok-2')).toBeNull();
    });

    it('reads a pending token past its expiry as expired, and purges it', async () => {
      const alice = unique('alice');
      await ledger.saveVerification(alice, 'tok-3', new Date(START + 1000));
      await ledger.settleVerification(alice, 'tok-4', { state: 'FAILED' });
      expect((await ledger.verification(alice, 'tok-4'))?.state).toBe('FAILED');

      clock.now = START + 1000;
      expect((await ledger.verification(alice, 'tok-3'))?.state).toBe('EXPIRED');
      const claim = await ledger.claimVerification(alice, 'tok-3', ttl);
      expect(claim).toMatchObject({ status: 'settled', record: { state: 'EXPIRED' } });

      expect(await ledger.purgeExpired()).toBeGreaterThanOrEqual(1);
      expect(await ledger.verification(alice, 'tok-3')).toBeNull();
      expect(await ledger.verification(alice, 'tok-4')).not.toBeNull();
    });
  });

  describe('idempotency', () => {
    const input = { name: 'Studio', description: 'portraits' };

    it('replays the first answer for the same key and input, and refuses other input', async () => {
      const key = { tenant: unique('alice'), scope: 'createGroup', key: 'k1' };
      const first = await ledger.beginIdempotent(key, hashInput(input));
      expect(first.status).toBe('new');
      // Until the first attempt finishes, a retry is told to wait.
      expect(await ledger.beginIdempotent(key, hashInput(input))).toEqual({
        status: 'in-progress',
      });
      await ledger.completeIdempotent(claimOf(first), { id: 'group-1', at: '2026-12-01' });

      const retry = await ledger.beginIdempotent(key, hashInput({ ...input }));
      expect(retry).toEqual({ status: 'replay', answer: { id: 'group-1', at: '2026-12-01' } });
      expect(await ledger.beginIdempotent(key, hashInput({ ...input, name: 'Other' }))).toEqual({
        status: 'mismatch',
      });
      // Keys are per tenant and per operation.
      expect((await ledger.beginIdempotent({ ...key, tenant: unique('bob') }, 'h')).status).toBe(
        'new',
      );
      expect((await ledger.beginIdempotent({ ...key, scope: 'addAssets:g' }, 'h')).status).toBe(
        'new',
      );
    });

    it('lets exactly one of two concurrent begins on two instances win', async () => {
      const other = await fixture.open({ now: () => clock.now });
      const key = { tenant: unique('alice'), scope: 'createGroup', key: 'race' };
      const results = await Promise.all(
        [ledger, other, ledger, other].map((l) => l.beginIdempotent(key, hashInput(input))),
      );
      expect(results.map((r) => r.status).sort()).toEqual([
        'in-progress',
        'in-progress',
        'in-progress',
        'new',
      ]);
    });

    it('makes a concurrent retry wait for the first attempt and replay its answer', async () => {
      const key = { tenant: unique('alice'), scope: 'createGroup', key: 'wait' };
      const first = await ledger.beginIdempotent(key, hashInput(input));
      let looks = 0;
      const waiting = beginIdempotentWaiting(ledger, key, hashInput(input), {
        sleep: async () => {
          if (++looks === 2) await ledger.completeIdempotent(claimOf(first), { id: 'g-7' });
        },
      });
      expect(await waiting).toEqual({ status: 'replay', answer: { id: 'g-7' } });
      expect(looks).toBe(2);
    });

    it('after an unknown outcome, hands the next attempt the note to reconcile, never a resend', async () => {
      const key = { tenant: unique('alice'), scope: 'addAssets:g1', key: 'k2' };
      const first = await ledger.beginIdempotent(key, 'h');
      await ledger.markOutcomeUnknown(claimOf(first), { unknown: ['https://x.test/a.png'] });

      const second = await ledger.beginIdempotent(key, 'h');
      expect(second).toMatchObject({
        status: 'reconcile',
        note: { unknown: ['https://x.test/a.png'] },
      });
      // The reconciling attempt holds the key now.
      expect(await ledger.beginIdempotent(key, 'h')).toEqual({ status: 'in-progress' });
      // The first attempt's claim is stale: completing with it changes nothing.
      await ledger.completeIdempotent(claimOf(first), { stale: true });
      await ledger.completeIdempotent(claimOf(second), { found: 'asset-1' });
      expect(await ledger.beginIdempotent(key, 'h')).toEqual({
        status: 'replay',
        answer: { found: 'asset-1' },
      });
    });

    it('records what an attempt created with its outcome, in one transaction', async () => {
      const tenant = unique('alice');
      const group = unique('group');
      const [asset1, asset2] = [unique('asset-a'), unique('asset-b')];
      const done = await ledger.beginIdempotent({ tenant, scope: 'createGroup', key: 'o1' }, 'h');
      await ledger.completeIdempotent(
        claimOf(done),
        { id: group },
        { groups: [{ id: group, kind: 'VIRTUAL', name: 'Studio' }] },
      );
      expect(await ledger.ownerOf('group', group)).toBe(tenant);

      const key = { tenant, scope: `addAssets:${group}`, key: 'o2' };
      const partial = await ledger.beginIdempotent(key, 'h');
      const owned = (id: string) => ({
        assets: {
          groupId: group,
          assets: [{ id, url: `https://x.test/${id}`, type: 'IMAGE' as const }],
        },
      });
      await ledger.markOutcomeUnknown(claimOf(partial), { created: [asset1] }, owned(asset1));
      expect(await ledger.filterOwned(tenant, 'asset', [asset1, asset2])).toEqual([asset1]);
      // A stale claim settles nothing, but what it created is still the tenant's.
      const reconciling = await ledger.beginIdempotent(key, 'h');
      await ledger.completeIdempotent(claimOf(partial), { stale: true }, owned(asset2));
      expect(await ledger.filterOwned(tenant, 'asset', [asset1, asset2])).toEqual([asset1, asset2]);
      expect(await ledger.beginIdempotent(key, 'h')).toEqual({ status: 'in-progress' });
      await ledger.completeIdempotent(claimOf(reconciling), { ok: true });
      expect(await ledger.beginIdempotent(key, 'h')).toEqual({
        status: 'replay',
        answer: { ok: true },
      });
    });

    it('a released key starts afresh; a holder gone past its lease is taken over', async () => {
      const key = { tenant: unique('alice'), scope: 'createGroup', key: 'k3' };
      await ledger.releaseIdempotent(claimOf(await ledger.beginIdempotent(key, 'h')));
      expect((await ledger.beginIdempotent(key, 'h')).status).toBe('new');

      clock.now += 119_000;
      expect((await ledger.beginIdempotent(key, 'h')).status).toBe('in-progress');
      clock.now += 1000;
      expect(await ledger.beginIdempotent(key, 'h')).toEqual({
        status: 'reconcile',
        claim: expect.objectContaining(key),
        note: null,
      });
    });

    it('forgets a key after 24 hours', async () => {
      const key = { tenant: unique('alice'), scope: 'createGroup', key: 'k4' };
      await ledger.completeIdempotent(claimOf(await ledger.beginIdempotent(key, 'h')), 'first');
      clock.now += 24 * HOUR - 1;
      expect(await ledger.beginIdempotent(key, 'other')).toEqual({ status: 'mismatch' });
      clock.now += 1;
      expect((await ledger.beginIdempotent(key, 'other')).status).toBe('new');
    });

    it('purges expired records', async () => {
      const key = { tenant: unique('alice'), scope: 'createGroup', key: 'k5' };
      await ledger.completeIdempotent(claimOf(await ledger.beginIdempotent(key, 'h')), 1);
      clock.now += 25 * HOUR;
      expect(await ledger.purgeExpired()).toBeGreaterThanOrEqual(1);
      clock.now = START;
      expect((await ledger.beginIdempotent(key, 'h')).status).toBe('new');
    });
  });

  describe('the apimart dialect', () => {
    /** A group and one review task of `n` image assets, ids `<task>-<i>`. */
    async function reviewTask(scope: string, n: number, kind: 'VIRTUAL' | 'REAL' = 'VIRTUAL') {
      const groupId = unique(`${scope}-group-${kind}`);
      await ledger.apimart.saveGroup(scope, {
        id: groupId,
        kind,
        name: 'Mascot',
        description: null,
      });
      clock.now += 1000;
      const taskId = unique(`${scope}-task-${clock.now}`);
      const assets = Array.from({ length: n }, (_, index) => ({
        id: `${taskId}-${index}`,
        index,
        name: `item ${index}`,
        type: 'IMAGE' as const,
        url: `https://x.test/${index}.png`,
      }));
      await ledger.apimart.saveReviewTask(scope, { id: taskId, groupId, assets });
      return { groupId, taskId, ids: assets.map((a) => a.id) };
    }

    it('keeps provisional ids stable and resolves them when the review ends', async () => {
      const scope = unique('key');
      const { groupId, taskId, ids } = await reviewTask(scope, 3);
      expect(await ledger.apimart.openTasks(scope, [groupId])).toEqual([taskId]);
      expect((await ledger.apimart.asset(scope, ids[1]!))?.status).toBe('PROCESSING');

      // A read while the task runs changes nothing.
      await ledger.apimart.settleTask(scope, taskId, {
        final: false,
        status: 'processing',
        assets: [],
        failure: null,
      });
      expect(await ledger.apimart.openTasks(scope)).toEqual([taskId]);

      await ledger.apimart.settleTask(scope, taskId, {
        final: true,
        status: 'failed',
        assets: [
          { index: 0, upstreamId: 'asset_a', uri: 'asset://asset_a', status: 'ACTIVE' },
          { index: 1, upstreamId: 'asset_b', uri: 'asset://asset_b', status: 'FAILED' },
        ],
        failure: { code: 'task_failed', message: 'some assets failed' },
      });
      const [a, b, c] = await Promise.all(ids.map((id) => ledger.apimart.asset(scope, id)));
      expect(a).toMatchObject({
        id: ids[0],
        groupId,
        upstreamId: 'asset_a',
        uri: 'asset://asset_a',
        status: 'ACTIVE',
        failure: null,
        name: 'item 0',
        type: 'IMAGE',
      });
      expect(b).toMatchObject({ status: 'FAILED', failure: { code: 'task_failed' } });
      expect(c).toMatchObject({
        status: 'FAILED',
        upstreamId: null,
        failure: { code: 'task_failed' },
      });
      expect(await ledger.apimart.openTasks(scope)).toEqual([]);
    });

    it('pages assets by group, kind, status, type and name, and hides other scopes', async () => {
      const scope = unique('key');
      const virtual = await reviewTask(scope, 2);
      const real = await reviewTask(scope, 1, 'REAL');
      await ledger.apimart.settleTask(scope, virtual.taskId, {
        final: true,
        status: 'completed',
        assets: [{ index: 0, upstreamId: 'u0', uri: 'asset://u0', status: 'ACTIVE' }],
        failure: null,
      });

      const page = (filter: object) => ledger.apimart.pageAssets(scope, filter, 1, 10);
      expect((await page({})).total).toBe(3);
      expect((await page({ kind: 'REAL' })).items.map((a) => a.id)).toEqual(real.ids);
      expect(
        (await page({ groupIds: [virtual.groupId], statuses: ['ACTIVE'] })).items.map((a) => a.id),
      ).toEqual([virtual.ids[0]]);
      expect((await page({ types: ['VIDEO'] })).total).toBe(0);
      expect((await page({ nameContains: 'ITEM 1' })).items.map((a) => a.id)).toEqual([
        virtual.ids[1],
      ]);
      expect((await ledger.apimart.pageAssets(unique('other'), {}, 1, 10)).total).toBe(0);
      expect(await ledger.apimart.asset(unique('other'), virtual.ids[0]!)).toBeNull();
    });

    it('hides a deleted asset at once and hands back its upstream id when its review ends', async () => {
      const scope = unique('key');
      const { taskId, ids } = await reviewTask(scope, 2);
      await ledger.apimart.markAssetDeleted(scope, ids[0]!);
      expect(await ledger.apimart.asset(scope, ids[0]!)).toBeNull();
      const toDelete = await ledger.apimart.settleTask(scope, taskId, {
        final: true,
        status: 'completed',
        assets: [
          { index: 0, upstreamId: 'gone', uri: 'asset://gone', status: 'ACTIVE' },
          { index: 1, upstreamId: 'kept', uri: 'asset://kept', status: 'ACTIVE' },
        ],
        failure: null,
      });
      expect(toDelete).toEqual(['gone']);
      // Settling twice (another instance) hands nothing back again.
      expect(
        await ledger.apimart.settleTask(scope, taskId, {
          final: true,
          status: 'completed',
          assets: [],
          failure: null,
        }),
      ).toEqual([]);
      expect((await ledger.apimart.asset(scope, ids[1]!))?.status).toBe('ACTIVE');
    });

    it("keeps groups with their kind, renames them, and forgets a group's assets with it", async () => {
      const scope = unique('key');
      const { groupId, ids } = await reviewTask(scope, 1, 'REAL');
      await ledger.apimart.updateGroup(scope, groupId, { name: 'Renamed' });
      expect(await ledger.apimart.group(scope, groupId)).toMatchObject({
        kind: 'REAL',
        name: 'Renamed',
      });
      expect((await ledger.apimart.pageGroups(scope, { kind: 'VIRTUAL' }, 1, 10)).total).toBe(0);
      expect((await ledger.apimart.pageGroups(scope, { nameContains: 'renam' }, 1, 10)).total).toBe(
        1,
      );
      await ledger.apimart.renameAsset(scope, ids[0]!, 'new name');
      expect((await ledger.apimart.asset(scope, ids[0]!))?.name).toBe('new name');

      await ledger.apimart.forgetGroup(scope, groupId);
      expect(await ledger.apimart.group(scope, groupId)).toBeNull();
      expect(await ledger.apimart.asset(scope, ids[0]!)).toBeNull();
      expect(await ledger.apimart.openTasks(scope)).toEqual([]);
    });

    it('remembers the task a token exchange answered', async () => {
      const scope = unique('key');
      expect(await ledger.apimart.verificationTask(scope, 'hash-1')).toBeNull();
      await ledger.apimart.saveVerificationTask(scope, 'hash-1', unique('vtask'));
      expect(await ledger.apimart.verificationTask(scope, 'hash-1')).toBe(unique('vtask'));
      expect(await ledger.apimart.verificationTask(unique('other'), 'hash-1')).toBeNull();
    });
  });

  it('keeps everything across close and reopen', async () => {
    const alice = unique('alice');
    const [g] = await groups(alice, 1);
    const key = { tenant: alice, scope: 'createGroup', key: 'persist' };
    await ledger.completeIdempotent(claimOf(await ledger.beginIdempotent(key, 'h')), { id: g });
    await ledger.settleVerification(alice, 'tok-p', { state: 'VERIFIED', groupId: unique('real') });
    await ledger.close();

    const reopened = await fixture.open({ now: () => clock.now });
    expect(await reopened.ownerOf('group', g!)).toBe(alice);
    expect(await reopened.beginIdempotent(key, 'h')).toEqual({
      status: 'replay',
      answer: { id: g },
    });
    expect((await reopened.verification(alice, 'tok-p'))?.groupId).toBe(unique('real'));
    expect(await reopened.ping()).toBe(true);
  });
});

describe('choosing the store', () => {
  it('refuses SQLite when several instances share Redis, naming DATABASE_URL', () => {
    expect(() => assertSharedLedger({ redisUrl: 'redis://127.0.0.1:6379' })).toThrow(
      expect.objectContaining({
        name: 'LedgerConfigError',
        message: expect.stringContaining('DATABASE_URL'),
      }),
    );
    expect(() =>
      assertSharedLedger({ redisUrl: 'redis://127.0.0.1:6379', databaseUrl: PG_URL }),
    ).not.toThrow();
    expect(() => assertSharedLedger({ redisUrl: null, databaseUrl: null })).not.toThrow();
  });

  it('keeps a ledger in memory, for the built-in simulator, with no file', async () => {
    const memory = await openLedger({ path: IN_MEMORY_LEDGER });
    try {
      await memory.recordGroup('alice', { id: 'g-memory', kind: 'VIRTUAL' });
      expect(await memory.ownerOf('group', 'g-memory')).toBe('alice');
    } finally {
      await memory.close();
    }
    expect(existsSync(IN_MEMORY_LEDGER)).toBe(false);
  });

  it('says what a bare "disk I/O error" most likely means', () => {
    const io = Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR_WRITE' });
    expect(sqliteMessage(io)).toMatch(/^disk I\/O error \(is the disk full/);
    const full = Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    expect(sqliteMessage(full)).toMatch(/is the disk full/);
    const other = Object.assign(new Error('file is not a database'), { code: 'SQLITE_NOTADB' });
    expect(sqliteMessage(other)).toBe('file is not a database');
  });

  it('refuses a DATABASE_URL that is not PostgreSQL', async () => {
    await expect(openLedger({ databaseUrl: 'mysql://db/x' })).rejects.toThrow(LedgerConfigError);
    await expect(openLedger({ databaseUrl: 'mysql://db/x' })).rejects.toThrow(/DATABASE_URL/);
  });
});

describe('PostgreSQL faults', () => {
  const schema = `ledger_fault_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  afterAll(() => dropSchema(schema));

  it('fails to open with a clear error when the server cannot be reached', async () => {
    const closedPort = await startPgRelay();
    await closedPort.cut();
    const opening = openLedger({ databaseUrl: closedPort.url, schema });
    await expect(opening).rejects.toThrow(LedgerUnavailableError);
    await expect(opening).rejects.toThrow(/DATABASE_URL.*unavailable: connect ECONNREFUSED/);
  });

  it('answers unavailable and not ready while the server is down, and recovers without a restart', async () => {
    const relay = await startPgRelay();
    const ledger = await openLedger({ databaseUrl: relay.url, schema });
    try {
      await ledger.recordGroup('alice', { id: 'before', kind: 'VIRTUAL' });

      await relay.cut();
      await expect(ledger.recordGroup('alice', { id: 'during', kind: 'VIRTUAL' })).rejects.toThrow(
        LedgerUnavailableError,
      );
      await expect(
        ledger.beginIdempotent({ tenant: 'alice', scope: 's', key: 'k' }, 'h'),
      ).rejects.toThrow(/ledger's PostgreSQL \(DATABASE_URL\) is unavailable/);
      expect(await ledger.ping()).toBe(false);

      await relay.restore();
      expect(await ledger.ping()).toBe(true);
      await ledger.recordGroup('alice', { id: 'after', kind: 'VIRTUAL' });
      expect(await ledger.filterOwned('alice', 'group', ['before', 'during', 'after'])).toEqual([
        'before',
        'after',
      ]);
    } finally {
      await ledger.close();
      await relay.close();
    }
  });
});

function claimOf(begun: IdempotencyBegin) {
  if (begun.status !== 'new' && begun.status !== 'reconcile') {
    throw new Error(`expected to hold the key, got ${begun.status}`);
  }
  return begun.claim;
}
