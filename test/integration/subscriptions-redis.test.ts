/**
 * Two gateway instances sharing one Redis (127.0.0.1:6379, a random key prefix per run, deleted
 * afterwards) and one upstream: a stand-alone simulator whose asset reads are counted. Each
 * subscriber gets every change once whichever instance polled; each asset is polled by one
 * instance at a time; when that instance dies the other takes over; a token redeemed on one
 * instance answers with its group on the other.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from 'graphql-ws';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { ARK_MODELS as MODELS } from '../../src/upstream/ark/models.js';
import { graphqlClient } from '../helpers/graphql-client.js';
import {
  startInstrumentedSimulator,
  type AssetRead,
  type InstrumentedSimulator,
} from '../helpers/instrumented-simulator.js';
import { Results, until, wsClient, type GraphQLResult } from '../helpers/ws-client.js';
import { pgLedgerEnv } from '../helpers/test-ledger.js';

const LEDGER = pgLedgerEnv();
afterAll(() => LEDGER.drop());

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `avatar-gateway-test:${randomUUID()}:`;
const KEY = 'redis-scale-out-key';
// Leases last three intervals: 100 ms keeps a loaded machine's event-loop stalls from letting one
// lapse mid-test (a second poller would then be right), and the tests still take a second or two.
const INTERVAL = 100;
const ACTIVATION_MS = 1500;

const ASSET_EVENTS = `subscription ($ids: [ID!]) {
  assetStatusChanged(assetIds: $ids) { kind previousStatus asset { id status } }
}`;

let admin: Redis;
let sim: InstrumentedSimulator;
const cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => {
  admin = new Redis(REDIS_URL);
  sim = await startInstrumentedSimulator({ activationMs: ACTIVATION_MS });
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(async () => {
  await sim?.stop();
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await admin.scan(cursor, 'MATCH', `${PREFIX}*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  if (keys.length > 0) await admin.del(...keys);
  await admin.quit();
});

interface Instance {
  gateway: RunningGateway;
  client: Client;
  gql: ReturnType<typeof graphqlClient>;
}

/**
 * `model` (`DEFAULT_MODEL`, sent on the wire by the instance's Ark client) tells the instances'
 * upstream reads apart: it changes nothing else upstream.
 */
async function instance(model: string = MODELS[0]): Promise<Instance> {
  const gateway = await startGateway(
    loadConfig({
      DEFAULT_MODEL: model,
      PORT: '0',
      LOG_LEVEL: 'silent',
      UPSTREAM_URL: sim.url,
      UPSTREAM_CREATE_ASSET_PER_MINUTE: '60000',
      RATE_LIMIT_PER_MINUTE: '0',
      POLL_INTERVAL_MS: String(INTERVAL),
      REDIS_URL,
      // Instances behind Redis share one PostgreSQL ledger.
      ...LEDGER.env,
      REDIS_KEY_PREFIX: PREFIX,
    }),
    { logger: pino({ level: 'silent' }) },
  );
  const client = wsClient(gateway.url, KEY);
  cleanups.push(async () => {
    await client.dispose();
    await gateway.stop();
  });
  return { gateway, client, gql: graphqlClient(gateway.url, { authorization: `Bearer ${KEY}` }) };
}

async function createAssets(gql: Instance['gql'], count: number) {
  const group = await gql(`mutation { createGroup(input: { name: "scale-out" }) { id } }`);
  const groupId: string = group.data.createGroup.id;
  const added = await gql(
    `mutation ($g: ID!, $a: [NewAssetInput!]!) { addAssets(groupId: $g, assets: $a) { assets { id } } }`,
    {
      g: groupId,
      a: Array.from({ length: count }, (_, i) => ({
        url: `https://cdn.example.com/${i}.jpg`,
        type: 'IMAGE',
      })),
    },
  );
  return { groupId, ids: added.data.addAssets.assets.map((a: { id: string }) => a.id) as string[] };
}

function transitions(results: GraphQLResult[], assetId: string) {
  return results
    .map((r) => r.data?.assetStatusChanged)
    .filter((e) => e?.asset.id === assetId)
    .map((e) => [e.previousStatus, e.asset.status]);
}

/** Reads that saw `assetId` (its GetAsset, or a ListAssets of its group) from `since` on. */
function readsOf(assetId: string, groupId: string, since: number): AssetRead[] {
  return sim.reads.filter(
    (read) =>
      read.at >= since &&
      (read.method === 'getAsset' ? read.ids[0] === assetId : read.ids.includes(groupId)),
  );
}

/**
 * When each poll of an asset started. A `PROCESSING` list that no longer holds the asset is
 * followed at once by its `getAsset` in the same poll: that pair is one round.
 */
function pollRounds(reads: AssetRead[]): number[] {
  const rounds: number[] = [];
  let last: AssetRead | undefined;
  for (const read of reads) {
    const followUp =
      last?.method === 'listAssets' && read.method === 'getAsset' && read.at - last.at < 10;
    if (!followUp) rounds.push(read.at);
    last = read;
  }
  return rounds;
}

const held = (i: Instance) => i.gateway.live.watcher.stats().heldLeases;
const subscribers = (i: Instance) => i.gateway.live.watcher.stats().subscribers;

describe('two instances on one Redis', () => {
  it('deliver every change once on both, polling each asset once per interval between them', async () => {
    const [one, two] = [await instance(MODELS[0]), await instance(MODELS[1])];
    const { groupId, ids } = await createAssets(one.gql, 3);

    const onOne = new Results(one.client, ASSET_EVENTS, { ids });
    const onTwo = new Results(two.client, ASSET_EVENTS, { ids });
    await until(
      () => subscribers(one) + subscribers(two),
      (n) => n === 2,
      'both subscriptions',
    );
    const since = Date.now();
    // One lease per PROCESSING asset, wherever it is held: never one per instance.
    await until(
      () => held(one) + held(two),
      (n) => n === 3,
      'the poll leases',
    );

    await Promise.all([onOne.untilDone(), onTwo.untilDone()]);
    const elapsed = Date.now() - since;
    for (const id of ids) {
      for (const live of [onOne, onTwo]) {
        expect(transitions(live.results, id)).toEqual([
          [null, 'PROCESSING'],
          ['PROCESSING', 'ACTIVE'],
        ]);
      }
      const reads = readsOf(id, groupId, since);
      // One instance polls it (the lease holder); on their own, both would.
      const models = new Set(reads.map((read) => read.model));
      expect(models.size).toBe(1);
      expect(MODELS).toContain([...models][0]);
      const rounds = pollRounds(reads);
      expect(rounds.length).toBeGreaterThan(0);
      expect(rounds.length).toBeLessThanOrEqual(Math.ceil(elapsed / INTERVAL) + 1);
    }
  });

  it('lets the other instance take over polling when one dies', async () => {
    const [one, two] = [await instance(MODELS[0]), await instance(MODELS[1])];
    const { groupId, ids } = await createAssets(one.gql, 1);
    const id = ids[0]!;
    const onOne = new Results(one.client, ASSET_EVENTS, { ids });
    const onTwo = new Results(two.client, ASSET_EVENTS, { ids });
    await until(
      () => subscribers(one) + subscribers(two),
      (n) => n === 2,
      'both subscriptions',
    );
    await until(
      () => held(one) + held(two),
      (n) => n === 1,
      'the poll lease',
    );
    const [dying, survivor, survivorLive, survivorModel] =
      held(one) === 1 ? [one, two, onTwo, MODELS[1]] : [two, one, onOne, MODELS[0]];

    // Like a crash: the poller stops without freeing its lease, which must expire first.
    await dying.gateway.live.stop({ releaseLeases: false });
    await dying.gateway.stop();
    // Counted from here: a read the dying instance had in flight may still reach the upstream
    // while it stops; once stopped, it sends nothing.
    const crashedAt = Date.now();

    await until(
      () => held(survivor),
      (n) => n === 1,
      'the survivor to take the lease',
      3000,
    );
    await until(
      () => readsOf(id, groupId, crashedAt).length,
      (n) => n > 0,
      'the survivor to poll the asset',
      3000,
    );
    await survivorLive.untilDone();
    expect(readsOf(id, groupId, crashedAt).every((read) => read.model === survivorModel)).toBe(
      true,
    );
    expect(transitions(survivorLive.results, id)).toEqual([
      [null, 'PROCESSING'],
      ['PROCESSING', 'ACTIVE'],
    ]);
  });

  it('answer a token redeemed by a subscription on one instance with its group on the other', async () => {
    const [one, two] = [await instance(), await instance()];
    const started = await one.gql(
      `mutation { startRealPersonVerification(callbackUrl: "https://app.example.com/done") { token } }`,
    );
    const token: string = started.data.startRealPersonVerification.token;
    const live = new Results(
      one.client,
      `subscription ($t: String!) { realPersonVerification(token: $t) { status group { id } } }`,
      { t: token },
    );
    await live.until((results) => results.length === 1, 'PENDING');
    const page = await fetch(`${sim.url}/h5/verify`, {
      method: 'POST',
      body: new URLSearchParams({ token, outcome: 'pass' }),
      redirect: 'manual',
    });
    expect(page.status).toBe(303);
    await live.untilDone();
    const verified = live.data('realPersonVerification').at(-1);
    expect(verified.status).toBe('VERIFIED');

    const exchanged = await two.gql(
      `mutation ($t: String!) { completeRealPersonVerification(token: $t) { id } }`,
      { t: token },
    );
    expect(exchanged.errors).toBeUndefined();
    expect(exchanged.data.completeRealPersonVerification.id).toBe(verified.group.id);
  });
});
