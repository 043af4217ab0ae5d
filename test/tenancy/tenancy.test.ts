/**
 * Two tenants on one server key (`UPSTREAM_API_KEY` + two named `GATEWAY_TOKENS`) cannot see,
 * change or subscribe to each other's data, through any operation — on SQLite and on PostgreSQL.
 * Their groups and redeemed tokens survive a restart, and a retried `addAssets` with the same
 * `idempotencyKey` uploads once, also when the retries race.
 *
 * Real gateways (`startGateway`) over one stand-alone simulator, so that the upstream outlives a
 * gateway restart.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from 'graphql-ws';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { openLedger } from '../../src/ledger/index.js';
import { graphqlClient } from '../helpers/graphql-client.js';
import {
  startInstrumentedSimulator,
  type InstrumentedSimulator,
} from '../helpers/instrumented-simulator.js';
import { Results, wsClient } from '../helpers/ws-client.js';
import { pgLedgerEnv } from '../helpers/test-ledger.js';

const SERVER_KEY = 'sk-shared-upstream-0123456789';
const ALICE = 'alice-token-0123456789';
const BOB = 'bob-token-0123456789';
const OPS = 'ops-token-0123456789';

const CREATE_GROUP = `mutation ($name: String!, $key: String) {
  createGroup(input: { name: $name, idempotencyKey: $key }) { id name }
}`;
const ADD_ASSETS = `mutation ($groupId: ID!, $url: String!, $key: String) {
  addAssets(groupId: $groupId, assets: [{ url: $url, type: IMAGE, name: "face" }], idempotencyKey: $key) {
    assets { id groupId } failures { code }
  }
}`;

describe.each(['sqlite', 'postgres'] as const)('tenants on one server key (%s)', (store) => {
  let sim: InstrumentedSimulator;
  let gateway: RunningGateway;
  let ledgerEnv: Record<string, string>;
  let cleanupStore: () => Promise<void>;
  const clients: Client[] = [];

  async function start(): Promise<RunningGateway> {
    return startGateway(
      loadConfig({
        PORT: '0',
        LOG_LEVEL: 'silent',
        UPSTREAM_URL: sim.url,
        UPSTREAM_API_KEY: SERVER_KEY,
        UPSTREAM_CREATE_ASSET_PER_MINUTE: '60000',
        GATEWAY_TOKENS: `alice:${ALICE},bob:${BOB}`,
        ADMIN_TOKENS: `ops:${OPS}`,
        POLL_INTERVAL_MS: '50',
        RATE_LIMIT_PER_MINUTE: '0',
        ...ledgerEnv,
      }),
      { logger: pino({ level: 'silent' }) },
    );
  }

  const as = (token: string) => graphqlClient(gateway.url, { authorization: `Bearer ${token}` });
  const subscribe = (token: string, query: string, variables: Record<string, unknown>) => {
    const client = wsClient(gateway.url, token);
    clients.push(client);
    return new Results(client, query, variables);
  };

  /** What Alice owns: a group with one asset, and a pending verification token. */
  let mine: { groupId: string; assetId: string; token: string };

  beforeAll(async () => {
    sim = await startInstrumentedSimulator({ activationMs: 60_000 });
    if (store === 'sqlite') {
      const dir = await mkdtemp(join(tmpdir(), 'tenancy-'));
      ledgerEnv = { LEDGER_PATH: join(dir, 'ledger.sqlite') };
      cleanupStore = () => rm(dir, { recursive: true, force: true });
    } else {
      const pg = pgLedgerEnv();
      ledgerEnv = pg.env;
      cleanupStore = pg.drop;
    }
    gateway = await start();
    const alice = as(ALICE);
    const group = await alice(CREATE_GROUP, { name: 'Alice group' });
    const groupId = group.data.createGroup.id as string;
    const added = await alice(ADD_ASSETS, { groupId, url: 'https://example.com/alice.png' });
    const started = await alice(
      'mutation { startRealPersonVerification(callbackUrl: "https://example.com/done") { token } }',
    );
    mine = {
      groupId,
      assetId: added.data.addAssets.assets[0].id,
      token: started.data.startRealPersonVerification.token,
    };
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    await gateway?.stop();
    await sim?.stop();
    await cleanupStore?.();
  });

  /** An error as a client sees it, minus what differs between any two calls. */
  const refusal = (answer: { data?: any; errors?: any[] }) =>
    answer.errors?.map((e) => ({ message: e.message, code: e.extensions?.code }));

  describe('another tenant reads nothing of hers', () => {
    it('groups: not listed, not counted', async () => {
      const answer = await as(BOB)('{ groups(pageSize: 100) { total hasNextPage items { id } } }');
      expect(answer.data.groups).toEqual({ total: 0, hasNextPage: false, items: [] });
      const hers = await as(ALICE)('{ groups(pageSize: 100) { total items { id } } }');
      expect(hers.data.groups).toEqual({ total: 1, items: [{ id: mine.groupId }] });
    });

    it('group(id): null, exactly like a group that does not exist', async () => {
      const query = 'query ($id: ID!) { group(id: $id) { id } }';
      expect((await as(BOB)(query, { id: mine.groupId })).data).toEqual({ group: null });
      expect((await as(BOB)(query, { id: 'group-does-not-exist' })).data).toEqual({ group: null });
      expect((await as(ALICE)(query, { id: mine.groupId })).data.group.id).toBe(mine.groupId);
    });

    it('assets: not listed, not counted, also with a status filter', async () => {
      const query = `{ all: assets(pageSize: 100) { total items { id } }
        processing: assets(filter: { statuses: [PROCESSING] }) { total items { id } } }`;
      expect((await as(BOB)(query)).data).toEqual({
        all: { total: 0, items: [] },
        processing: { total: 0, items: [] },
      });
      expect((await as(ALICE)(query)).data).toEqual({
        all: { total: 1, items: [{ id: mine.assetId }] },
        processing: { total: 1, items: [{ id: mine.assetId }] },
      });
    });

    it('asset(id): null, exactly like an asset that does not exist', async () => {
      const query = 'query ($id: ID!) { asset(id: $id) { id } }';
      expect((await as(BOB)(query, { id: mine.assetId })).data).toEqual({ asset: null });
      expect((await as(ALICE)(query, { id: mine.assetId })).data.asset.id).toBe(mine.assetId);
    });
  });

  describe('another tenant changes nothing of hers: NOT_FOUND, as for an id that does not exist', () => {
    const cases: Array<[string, string, (m: typeof mine) => Record<string, unknown>]> = [
      [
        'updateGroup',
        'mutation ($id: ID!) { updateGroup(id: $id, input: { name: "Bob was here" }) { id } }',
        (m) => ({ id: m.groupId }),
      ],
      ['deleteGroup', 'mutation ($id: ID!) { deleteGroup(id: $id) }', (m) => ({ id: m.groupId })],
      [
        'addAssets',
        `mutation ($id: ID!) { addAssets(groupId: $id, assets: [{ url: "https://example.com/b.png", type: IMAGE }]) { assets { id } } }`,
        (m) => ({ id: m.groupId }),
      ],
      [
        'renameAsset',
        'mutation ($id: ID!) { renameAsset(id: $id, name: "Bob was here") { id } }',
        (m) => ({ id: m.assetId }),
      ],
      ['deleteAsset', 'mutation ($id: ID!) { deleteAsset(id: $id) }', (m) => ({ id: m.assetId })],
    ];

    it.each(cases)('%s', async (_name, mutation, variables) => {
      const theirs = await as(BOB)(mutation, variables(mine));
      const missing = await as(BOB)(mutation, { id: 'no-such-id-anywhere' });
      expect(refusal(theirs)).toEqual([{ message: 'Not found.', code: 'NOT_FOUND' }]);
      expect(refusal(theirs)).toEqual(refusal(missing));
      // Still there, unchanged.
      const check = await as(ALICE)(
        'query ($g: ID!, $a: ID!) { group(id: $g) { name assets { total } } asset(id: $a) { name } }',
        { g: mine.groupId, a: mine.assetId },
      );
      expect(check.data).toEqual({
        group: { name: 'Alice group', assets: { total: 1 } },
        asset: { name: 'face' },
      });
    });

    it('completeRealPersonVerification: VERIFICATION_NOT_FOUND, as for an unknown token', async () => {
      const mutation =
        'mutation ($t: String!) { completeRealPersonVerification(token: $t) { id } }';
      const theirs = await as(BOB)(mutation, { t: mine.token });
      const unknown = await as(BOB)(mutation, { t: 'not-a-token-anyone-has' });
      expect(refusal(theirs)).toEqual([
        { message: 'The verification token is unknown.', code: 'VERIFICATION_NOT_FOUND' },
      ]);
      expect(refusal(theirs)).toEqual(refusal(unknown));
    });
  });

  describe('another tenant cannot subscribe to hers: refused at subscribe time', () => {
    it.each([
      ['assetStatusChanged(groupId)', (m: typeof mine) => ({ groupId: m.groupId })],
      ['assetStatusChanged(assetIds)', (m: typeof mine) => ({ assetIds: [m.assetId] })],
    ])('%s: NOT_FOUND', async (_name, variables) => {
      const results = subscribe(
        BOB,
        'subscription ($groupId: ID, $assetIds: [ID!]) { assetStatusChanged(groupId: $groupId, assetIds: $assetIds) { asset { id status } } }',
        variables(mine),
      );
      await results.untilDone();
      expect(results.results).toEqual([
        { errors: [expect.objectContaining({ message: 'Not found.' })] },
      ]);
      expect(results.results[0]!.errors![0]!.extensions).toMatchObject({ code: 'NOT_FOUND' });
    });

    it('realPersonVerification: VERIFICATION_NOT_FOUND', async () => {
      const results = subscribe(
        BOB,
        'subscription ($t: String!) { realPersonVerification(token: $t) { status } }',
        { t: mine.token },
      );
      await results.untilDone();
      expect(results.results).toHaveLength(1);
      expect(results.results[0]!.errors![0]!.extensions).toMatchObject({
        code: 'VERIFICATION_NOT_FOUND',
      });
    });

    it('while its owner may', async () => {
      const results = subscribe(
        ALICE,
        'subscription ($g: ID!) { assetStatusChanged(groupId: $g) { asset { id status } } }',
        { g: mine.groupId },
      );
      await results.until((r) => r.length > 0, 'the first event');
      expect(results.data('assetStatusChanged')[0]).toEqual({
        asset: { id: mine.assetId, status: 'PROCESSING' },
      });
      results.unsubscribe();
    });
  });

  it('reads a page of the tenant’s assets upstream by group, not one by one', async () => {
    const alice = as(ALICE);
    const group = await alice(CREATE_GROUP, { name: 'Batch' });
    const groupId = group.data.createGroup.id as string;
    await alice(
      `mutation ($g: ID!) { addAssets(groupId: $g, assets: [
        { url: "https://example.com/1.png", type: IMAGE },
        { url: "https://example.com/2.png", type: IMAGE },
        { url: "https://example.com/3.png", type: IMAGE }]) { assets { id } } }`,
      { g: groupId },
    );
    sim.reads.length = 0;
    const page = await alice(
      'query ($g: ID!) { assets(filter: { groupIds: [$g] }, pageSize: 2) { total hasNextPage items { id } } }',
      { g: groupId },
    );
    expect(page.data.assets).toMatchObject({ total: 3, hasNextPage: true });
    expect(page.data.assets.items).toHaveLength(2);
    expect(sim.reads.map((r) => r.method)).toEqual(['listAssets']);
  });

  it("an admin sees every tenant's groups", async () => {
    const bobs = await as(BOB)(CREATE_GROUP, { name: 'Bob group' });
    const admin = await as(OPS)('{ groups(pageSize: 100) { items { id } } }');
    const ids = admin.data.groups.items.map((g: { id: string }) => g.id);
    expect(ids).toEqual(expect.arrayContaining([mine.groupId, bobs.data.createGroup.id]));
    const alices = await as(ALICE)('{ groups(pageSize: 100) { items { id } } }');
    const aliceIds = alices.data.groups.items.map((g: { id: string }) => g.id);
    expect(aliceIds).toContain(mine.groupId);
    expect(aliceIds).not.toContain(bobs.data.createGroup.id);
  });

  it('a group made outside the gateway belongs to nobody: only admins see it, until assigned', async () => {
    const { id } = await sim.state.createGroup({ credential: SERVER_KEY }, { name: 'Outside' });
    const query =
      'query ($id: ID!) { group(id: $id) { id } groups(pageSize: 100) { items { id } } }';
    const sees = async (token: string) => {
      const answer = await as(token)(query, { id });
      const listed = answer.data.groups.items.some((g: { id: string }) => g.id === id);
      return { byId: answer.data.group !== null, listed };
    };
    expect(await sees(ALICE)).toEqual({ byId: false, listed: false });
    expect(await sees(OPS)).toEqual({ byId: true, listed: true });
    const rename = `mutation ($id: ID!) { updateGroup(id: $id, input: { name: "Renamed" }) { id } }`;
    expect(refusal(await as(ALICE)(rename, { id }))).toEqual([
      { message: 'Not found.', code: 'NOT_FOUND' },
    ]);

    // What `npm run ledger -- assign` does, through a second handle on the same store.
    const ledger = await openLedger(
      store === 'sqlite'
        ? { path: ledgerEnv.LEDGER_PATH! }
        : { databaseUrl: ledgerEnv.DATABASE_URL!, schema: ledgerEnv.LEDGER_SCHEMA! },
    );
    try {
      expect(await ledger.assign('group', id, 'alice', { avatarKind: 'VIRTUAL' })).toBeNull();
    } finally {
      await ledger.close();
    }
    expect(await sees(ALICE)).toEqual({ byId: true, listed: true });
    expect(await sees(BOB)).toEqual({ byId: false, listed: false });
  });

  it('a group or asset deleted behind the gateway is forgotten on its next delete', async () => {
    const alice = as(ALICE);
    const groupId = (await alice(CREATE_GROUP, { name: 'Deleted elsewhere' })).data.createGroup
      .id as string;
    const added = await alice(ADD_ASSETS, { groupId, url: 'https://example.com/gone.png' });
    const assetId = added.data.addAssets.assets[0].id as string;
    const count = async () => {
      const answer = await alice(
        'query ($g: [ID!]) { groups(pageSize: 100) { total } assets(filter: { groupIds: $g }) { total } }',
        { g: [groupId] },
      );
      return [answer.data.groups.total, answer.data.assets.total];
    };
    const before = await count();

    // An operator deletes both with the shared key, outside the gateway.
    await sim.state.deleteAsset({ credential: SERVER_KEY }, assetId);
    await sim.state.deleteGroup({ credential: SERVER_KEY }, groupId);
    expect(await count()).toEqual(before);

    const deleteAsset = 'mutation ($id: ID!) { deleteAsset(id: $id) }';
    expect(await alice(deleteAsset, { id: assetId })).toMatchObject({
      errors: [{ extensions: { code: 'NOT_FOUND' } }],
    });
    expect(await count()).toEqual([before[0], before[1]! - 1]);
    const deleteGroup = 'mutation ($id: ID!) { deleteGroup(id: $id) }';
    expect(await alice(deleteGroup, { id: groupId })).toMatchObject({
      errors: [{ extensions: { code: 'NOT_FOUND' } }],
    });
    expect(await count()).toEqual([before[0]! - 1, 0]);
  });

  it('a retried addAssets with the same idempotencyKey uploads once, also when retries race', async () => {
    const alice = as(ALICE);
    const group = await alice(CREATE_GROUP, { name: 'Uploads' });
    const groupId = group.data.createGroup.id as string;
    const vars = { groupId, url: 'https://example.com/once.png', key: `race-${store}` };
    const answers = await Promise.all([alice(ADD_ASSETS, vars), alice(ADD_ASSETS, vars)]);
    const again = await alice(ADD_ASSETS, vars);
    const first = answers[0]!.data.addAssets;
    expect(first.failures).toEqual([]);
    for (const answer of [...answers, again]) expect(answer.data.addAssets).toEqual(first);
    const upstream = await sim.state.listAssets(
      { credential: SERVER_KEY },
      { groupIds: [groupId], page: 1, pageSize: 100 },
    );
    expect(upstream.total).toBe(1);

    const other = await alice(ADD_ASSETS, { ...vars, url: 'https://example.com/other.png' });
    expect(refusal(other)).toEqual([expect.objectContaining({ code: 'BAD_USER_INPUT' })]);
  });

  it('a retried createGroup with the same idempotencyKey creates once', async () => {
    const alice = as(ALICE);
    const vars = { name: `Once ${store}`, key: `group-${store}` };
    const [a, b] = await Promise.all([alice(CREATE_GROUP, vars), alice(CREATE_GROUP, vars)]);
    expect(b!.data).toEqual(a!.data);
    const upstream = await sim.state.listGroups(
      { credential: SERVER_KEY },
      { nameContains: vars.name, page: 1, pageSize: 100 },
    );
    expect(upstream.total).toBe(1);
  });

  it("a tenant's groups and redeemed tokens survive a restart", async () => {
    const alice = () => as(ALICE);
    sim.state.openLink(mine.token);
    sim.state.completeLiveness(mine.token, 'pass');
    const mutation =
      'mutation ($t: String!) { completeRealPersonVerification(token: $t) { id kind } }';
    const verified = await alice()(mutation, { t: mine.token });
    expect(verified.data.completeRealPersonVerification.kind).toBe('REAL');
    const realId = verified.data.completeRealPersonVerification.id as string;

    await gateway.stop();
    gateway = await start();

    const again = await alice()(mutation, { t: mine.token });
    expect(again.data.completeRealPersonVerification.id).toBe(realId);
    const groups = await alice()('{ groups(pageSize: 100) { items { id } } }');
    const ids = groups.data.groups.items.map((g: { id: string }) => g.id);
    expect(ids).toEqual(expect.arrayContaining([mine.groupId, realId]));
    const bobs = await as(BOB)('query ($id: ID!) { group(id: $id) { id } }', { id: realId });
    expect(bobs.data).toEqual({ group: null });
  });
});
