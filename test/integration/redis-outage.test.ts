/**
 * A Redis outage as clients live through it, on a gateway with a private `redis-server` (killed
 * with `SIGKILL`, never the shared one) over a stand-alone simulator: existing subscribers get a
 * `STALE` event within seconds and `RECOVERED` when Redis is back, a new key's first
 * subscription is refused with `SERVICE_UNAVAILABLE` within seconds, and
 * `completeRealPersonVerification` answers at once — nothing waits for Redis.
 */
import type { Client } from 'graphql-ws';
import { pino } from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startGateway } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { graphqlClient } from '../helpers/graphql-client.js';
import { startInstrumentedSimulator } from '../helpers/instrumented-simulator.js';
import { privateRedis } from '../helpers/redis-server.js';
import { Results, until, wsClient, type GraphQLResult } from '../helpers/ws-client.js';
import { pgLedgerEnv } from '../helpers/test-ledger.js';

const LEDGER = pgLedgerEnv();
afterAll(() => LEDGER.drop());

const KEY = 'redis-outage-key-0123';
const NEW_KEY = 'redis-outage-new-key-4567';
const ACTIVATION_MS = 5000;

const ASSET_EVENTS = `subscription ($ids: [ID!]) {
  assetStatusChanged(assetIds: $ids) { kind previousStatus staleReason asset { id status } }
}`;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const kinds = (results: GraphQLResult[]) =>
  results.map((r) => r.data?.assetStatusChanged?.kind as string | undefined);

/** A private Redis, a simulator and a gateway on both, stopped after the test. */
async function start(activationMs: number) {
  const redis = await privateRedis();
  cleanups.push(() => redis.kill());
  const sim = await startInstrumentedSimulator({ activationMs });
  cleanups.push(() => sim.stop());
  const gateway = await startGateway(
    loadConfig({
      PORT: '0',
      LOG_LEVEL: 'silent',
      UPSTREAM_URL: sim.url,
      POLL_INTERVAL_MS: '100',
      RATE_LIMIT_PER_MINUTE: '0',
      REDIS_URL: redis.url,
      // Instances behind Redis share one PostgreSQL ledger.
      ...LEDGER.env,
      REDIS_KEY_PREFIX: 'avatar-gateway-outage:',
    }),
    { logger: pino({ level: 'silent' }) },
  );
  cleanups.push(() => gateway.stop());
  return { redis, sim, gateway };
}

describe('a Redis outage', () => {
  it('degrades to STALE events and clear errors within seconds, never a block', async () => {
    const { redis, sim, gateway } = await start(ACTIVATION_MS);
    const clients: Client[] = [];
    cleanups.push(async () => {
      for (const client of clients) await client.dispose();
    });
    const client = (key: string) => {
      const made = wsClient(gateway.url, key);
      clients.push(made);
      return made;
    };
    const gql = graphqlClient(gateway.url, { authorization: `Bearer ${KEY}` });
    const newGql = graphqlClient(gateway.url, { authorization: `Bearer ${NEW_KEY}` });
    const assetOf = async (g: typeof gql) => {
      const group = await g(`mutation { createGroup(input: { name: "outage" }) { id } }`);
      const added = await g(
        `mutation ($g: ID!) { addAssets(groupId: $g, assets: [{ url: "https://cdn.example.com/o.jpg", type: IMAGE }]) { assets { id } } }`,
        { g: group.data.createGroup.id },
      );
      return added.data.addAssets.assets[0].id as string;
    };
    const assetId = await assetOf(gql);
    const newAssetId = await assetOf(newGql);
    const started = await gql(
      `mutation { startRealPersonVerification(callbackUrl: "https://app.example.com/done") { token } }`,
    );
    const token: string = started.data.startRealPersonVerification.token;

    const live = new Results(client(KEY), ASSET_EVENTS, { ids: [assetId] });
    await live.until((results) => results.length === 1, 'the first event');
    expect(kinds(live.results)).toEqual(['STATUS']);

    await redis.kill();
    const killedAt = Date.now();

    // Existing subscribers: told within seconds that their statuses are stale, and why.
    await live.until((results) => kinds(results).includes('STALE'), 'the STALE event', 5000);
    expect(Date.now() - killedAt).toBeLessThan(5000);
    const stale = live.results
      .map((r) => r.data?.assetStatusChanged)
      .find((e) => e?.kind === 'STALE');
    expect(stale).toMatchObject({ staleReason: 'SERVICE_UNAVAILABLE', asset: { id: assetId } });

    // A new key's first subscription: a clear error within seconds.
    const refusedAt = Date.now();
    const refused = new Results(client(NEW_KEY), ASSET_EVENTS, { ids: [newAssetId] });
    await refused.untilDone(10_000);
    expect(Date.now() - refusedAt).toBeLessThan(5000);
    const error = refused.error ?? refused.results[0]?.errors;
    expect(JSON.stringify(error)).toContain('SERVICE_UNAVAILABLE');

    // The exchange of a verification token answers at once, as without Redis.
    sim.state.completeLiveness(token, 'pass');
    const exchangedAt = Date.now();
    const exchanged = await gql(
      `mutation ($t: String!) { completeRealPersonVerification(token: $t) { id kind } }`,
      { t: token },
    );
    expect(Date.now() - exchangedAt).toBeLessThan(3000);
    expect(exchanged.errors).toBeUndefined();
    expect(exchanged.data.completeRealPersonVerification.kind).toBe('REAL');

    // Redis is back: RECOVERED, then the final status, once.
    await redis.start();
    await live.untilDone(ACTIVATION_MS + 10_000);
    const after = kinds(live.results);
    expect(after.indexOf('RECOVERED')).toBeGreaterThan(after.indexOf('STALE'));
    const statuses = live.results
      .map((r) => r.data?.assetStatusChanged)
      .filter((e) => e?.kind === 'STATUS')
      .map((e) => [e.previousStatus, e.asset.status]);
    expect(statuses).toEqual([
      [null, 'PROCESSING'],
      ['PROCESSING', 'ACTIVE'],
    ]);
    expect(live.results.every((r) => r.errors === undefined)).toBe(true);
  });

  it('stops within seconds while Redis is away, with subscriptions open and a SUBSCRIBE waiting', async () => {
    const { redis, gateway } = await start(60_000);
    const ws = wsClient(gateway.url, KEY);
    cleanups.push(async () => {
      await ws.dispose();
    });
    const gql = graphqlClient(gateway.url, { authorization: `Bearer ${KEY}` });
    const group = await gql(`mutation { createGroup(input: { name: "stop" }) { id } }`);
    const live = new Results(
      ws,
      `subscription ($g: ID) { assetStatusChanged(groupId: $g) { kind } }`,
      {
        g: group.data.createGroup.id,
      },
    );
    await until(
      () => gateway.live.watcher.stats().subscribers,
      (n) => n === 1,
      'the subscription',
    );
    expect(live.done).toBe(false);

    await redis.kill();
    // A new key's subscription meanwhile leaves a SUBSCRIBE waiting for Redis.
    const other = wsClient(gateway.url, NEW_KEY);
    cleanups.push(async () => {
      await other.dispose();
    });
    const refused = new Results(
      other,
      `subscription ($g: ID) { assetStatusChanged(groupId: $g) { kind } }`,
      {
        g: 'group-of-nobody',
      },
    );
    await refused.untilDone(10_000);
    const stoppingAt = Date.now();
    await gateway.stop();
    expect(Date.now() - stoppingAt).toBeLessThan(5000);
  });
});
