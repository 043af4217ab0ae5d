/**
 * Live events as a client and an operator see them, over a real WebSocket on a gateway whose
 * upstream is a stand-alone simulator: a group subscription hears of every deleted asset it was
 * shown, final or not, deleted through the gateway or by another client of the upstream; and
 * `/metrics` follows subscriptions as they start and end, counting WebSocket operations.
 */
import type { Client } from 'graphql-ws';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { createMetrics, type GatewayMetrics } from '../../src/observability/metrics.js';
import { eventually, graphqlClient } from '../helpers/graphql-client.js';
import {
  startInstrumentedSimulator,
  type InstrumentedSimulator,
} from '../helpers/instrumented-simulator.js';
import { Results, wsClient, type GraphQLResult } from '../helpers/ws-client.js';

const KEY = 'live-events-key-0123';

const ASSET_EVENTS = `subscription ($ids: [ID!], $g: ID) {
  assetStatusChanged(assetIds: $ids, groupId: $g) { kind previousStatus asset { id status } }
}`;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Setup {
  sim: InstrumentedSimulator;
  gateway: RunningGateway;
  metrics: GatewayMetrics;
  client: Client;
  gql: ReturnType<typeof graphqlClient>;
}

async function setup(pollIntervalMs: number, activationMs = 0): Promise<Setup> {
  const sim = await startInstrumentedSimulator({ activationMs });
  cleanups.push(() => sim.stop());
  const metrics = createMetrics();
  const gateway = await startGateway(
    loadConfig({
      PORT: '0',
      LOG_LEVEL: 'silent',
      UPSTREAM_URL: sim.url,
      POLL_INTERVAL_MS: String(pollIntervalMs),
      RATE_LIMIT_PER_MINUTE: '0',
    }),
    { logger: pino({ level: 'silent' }), metrics },
  );
  const client = wsClient(gateway.url, KEY);
  cleanups.push(async () => {
    await client.dispose();
    await gateway.stop();
  });
  const gql = graphqlClient(gateway.url, { authorization: `Bearer ${KEY}` });
  return { sim, gateway, metrics, client, gql };
}

/** A group of `count` assets, all `ACTIVE` already. */
async function finalGroup(gql: Setup['gql'], count: number) {
  const group = await gql(`mutation { createGroup(input: { name: "live-events" }) { id } }`);
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
  const ids: string[] = added.data.addAssets.assets.map((a: { id: string }) => a.id);
  return { groupId, ids };
}

const events = (results: GraphQLResult[]) =>
  results.map((r) => r.data?.assetStatusChanged).filter(Boolean);

const deletions = (results: GraphQLResult[]) => events(results).filter((e) => e.kind === 'DELETED');

describe('DELETED for every asset a group subscriber was shown', () => {
  it('arrives for a final asset deleted through deleteAsset, and for one deleted elsewhere', async () => {
    const { sim, client, gql } = await setup(50);
    const { groupId, ids } = await finalGroup(gql, 3);
    const live = new Results(client, ASSET_EVENTS, { g: groupId });
    await live.until((results) => events(results).length === 3, 'the first events');
    expect(events(live.results).map((e) => e.asset.status)).toEqual(['ACTIVE', 'ACTIVE', 'ACTIVE']);

    const deleted = await gql(`mutation ($id: ID!) { deleteAsset(id: $id) }`, { id: ids[0] });
    expect(deleted.errors).toBeUndefined();
    await live.until((results) => deletions(results).length === 1, 'the first deletion', 2000);

    // Another client of the same upstream key deletes one: the next discovery read finds it.
    await sim.state.deleteAsset({ credential: KEY }, ids[1]!);
    await live.until((results) => deletions(results).length === 2, 'the second deletion', 5000);

    expect(deletions(live.results)).toEqual([
      { kind: 'DELETED', previousStatus: 'ACTIVE', asset: expect.objectContaining({ id: ids[0] }) },
      { kind: 'DELETED', previousStatus: 'ACTIVE', asset: expect.objectContaining({ id: ids[1] }) },
    ]);
    expect(live.done).toBe(false);
    expect(live.results.every((r) => r.errors === undefined)).toBe(true);
  });
});

describe('/metrics and WebSocket subscriptions', () => {
  it('moves the gauges with subscribe and complete at once, and counts WebSocket operations', async () => {
    // A poll loop that would take a minute to refresh anything, on assets that stay PROCESSING.
    const { gateway, client, gql } = await setup(60_000, 600_000);
    const origin = new URL(gateway.url).origin;
    const scrape = async () => (await fetch(`${origin}/metrics`)).text();
    const gauge = (text: string, name: string) =>
      Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
    const group = await gql(`mutation { createGroup(input: { name: "metrics" }) { id } }`);
    const added = await gql(
      `mutation ($g: ID!) { addAssets(groupId: $g, assets: [{ url: "https://cdn.example.com/m.jpg", type: IMAGE }]) { assets { id } } }`,
      { g: group.data.createGroup.id },
    );
    const assetId: string = added.data.addAssets.assets[0].id;

    const first = new Results(client, ASSET_EVENTS, { g: group.data.createGroup.id });
    const second = new Results(client, ASSET_EVENTS, { ids: [assetId] });
    await first.until((results) => results.length === 1, 'the first event');
    await second.until((results) => results.length === 1, 'the first event');
    const during = await scrape();
    expect(gauge(during, 'active_subscriptions')).toBe(2);
    expect(gauge(during, 'watched_assets')).toBe(1);
    expect(during).toContain('graphql_requests_total{operation_type="subscription"} 2');

    first.unsubscribe();
    second.unsubscribe();
    const after = await eventually(scrape, (text) => gauge(text, 'active_subscriptions') === 0, {
      timeoutMs: 1000,
      everyMs: 20,
    });
    expect(gauge(after, 'watched_assets')).toBe(0);

    // A query over WebSocket is refused; it is counted all the same.
    const refused = new Results(client, '{ groups { total } }');
    await refused.untilDone();
    expect(await scrape()).toContain('graphql_requests_total{operation_type="unknown"} 1');
  });
});
