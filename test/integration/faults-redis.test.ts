/**
 * Fault survival against Redis: two gateway instances on a private `redis-server` (killed with
 * `SIGKILL` and restarted on the same port; never the shared one) and one stand-alone simulator,
 * with subscribers on both and HTTP traffic throughout. Both instances stay up and keep
 * answering, `/readyz` follows Redis down and up, the pollers take their leases again, and every
 * subscriber gets the final status of every asset it watches, once — assets that turned final
 * while Redis was down, and an asset added meanwhile, included.
 */
import type { Client } from 'graphql-ws';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { eventually, graphqlClient } from '../helpers/graphql-client.js';
import {
  startInstrumentedSimulator,
  type InstrumentedSimulator,
} from '../helpers/instrumented-simulator.js';
import { privateRedis, type PrivateRedis } from '../helpers/redis-server.js';
import { Results, until, wsClient, type GraphQLResult } from '../helpers/ws-client.js';
import { pgLedgerEnv } from '../helpers/test-ledger.js';

const LEDGER = pgLedgerEnv();
afterAll(() => LEDGER.drop());

const KEY = 'redis-fault-key-0123';
const PREFIX = 'avatar-gateway-faults:';
const INTERVAL = 50;
const ACTIVATION_MS = 2500;

const ASSET_EVENTS = `subscription ($ids: [ID!], $g: ID) {
  assetStatusChanged(assetIds: $ids, groupId: $g) { kind previousStatus asset { id status } }
}`;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Instance {
  gateway: RunningGateway;
  origin: string;
  client: Client;
  gql: ReturnType<typeof graphqlClient>;
}

async function instance(sim: InstrumentedSimulator, redisUrl: string): Promise<Instance> {
  const gateway = await startGateway(
    loadConfig({
      PORT: '0',
      LOG_LEVEL: 'silent',
      UPSTREAM_URL: sim.url,
      UPSTREAM_CREATE_ASSET_PER_MINUTE: '60000',
      // On, so that requests go through the Redis rate limiter (which fails open).
      RATE_LIMIT_PER_MINUTE: '60000',
      RATE_LIMIT_BURST: '1000',
      POLL_INTERVAL_MS: String(INTERVAL),
      REDIS_URL: redisUrl,
      // Instances behind Redis share one PostgreSQL ledger.
      ...LEDGER.env,
      REDIS_KEY_PREFIX: PREFIX,
    }),
    { logger: pino({ level: 'silent' }), readinessCacheMs: 50 },
  );
  const client = wsClient(gateway.url, KEY);
  cleanups.push(async () => {
    await client.dispose();
    await gateway.stop();
  });
  return {
    gateway,
    origin: new URL(gateway.url).origin,
    client,
    gql: graphqlClient(gateway.url, { authorization: `Bearer ${KEY}` }),
  };
}

async function readyz(origin: string) {
  const response = await fetch(`${origin}/readyz`);
  return { status: response.status, body: (await response.json()) as any };
}

/** Waits until `/readyz` answers `expected`, and returns its checks. */
async function readiness(origin: string, expected: 200 | 503) {
  const answer = await eventually(
    () => readyz(origin),
    (a) => a.status === expected,
    { timeoutMs: 10_000, everyMs: 20 },
  );
  return answer.body.checks;
}

async function addAssets(gql: Instance['gql'], groupId: string, urls: string[]) {
  const answer = await gql(
    `mutation ($g: ID!, $a: [NewAssetInput!]!) { addAssets(groupId: $g, assets: $a) { assets { id } } }`,
    { g: groupId, a: urls.map((url) => ({ url, type: 'IMAGE' })) },
  );
  expect(answer.errors).toBeUndefined();
  return answer.data.addAssets.assets.map((a: { id: string }) => a.id) as string[];
}

function transitions(results: GraphQLResult[], assetId: string) {
  return results
    .map((r) => r.data?.assetStatusChanged)
    .filter((e) => e?.kind === 'STATUS' && e.asset.id === assetId)
    .map((e) => [e.previousStatus, e.asset.status]);
}

const isFinal = (status: string) => status === 'ACTIVE' || status === 'FAILED';

/**
 * HTTP traffic on every instance until stopped: a query and a `/healthz` each round. Counts
 * rounds and anything that is not a clean answer.
 */
function traffic(instances: Instance[]) {
  let running = true;
  const failures: string[] = [];
  let rounds = 0;
  const loop = (async () => {
    while (running) {
      await Promise.all(
        instances.map(async ({ gql, origin }, i) => {
          try {
            const answer = await gql('{ groups { total } }');
            if (answer.status !== 200 || answer.errors) {
              failures.push(`#${i} query: ${answer.status} ${JSON.stringify(answer.errors)}`);
            }
            const health = await fetch(`${origin}/healthz`);
            await health.text();
            if (health.status !== 200) failures.push(`#${i} healthz: ${health.status}`);
          } catch (error) {
            failures.push(`#${i}: ${String(error)}`);
          }
        }),
      );
      rounds++;
    }
  })();
  return {
    failures,
    rounds: () => rounds,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

describe('a Redis restart under load', () => {
  it('keeps both instances up, and every subscriber gets every final status once', async () => {
    const redis = await privateRedis();
    cleanups.push(() => redis.kill());
    const sim = await startInstrumentedSimulator({ activationMs: ACTIVATION_MS });
    cleanups.push(() => sim.stop());
    const one = await instance(sim, redis.url);
    const two = await instance(sim, redis.url);
    const both = [one, two];
    for (const { origin } of both) {
      expect(await readiness(origin, 200)).toEqual([
        { name: 'ledger', ok: true },
        { name: 'upstream', ok: true },
        { name: 'redis', ok: true },
      ]);
    }

    const group = await one.gql(`mutation { createGroup(input: { name: "redis-faults" }) { id } }`);
    const groupId: string = group.data.createGroup.id;
    const ids = await addAssets(one.gql, groupId, [
      'https://cdn.example.com/a.jpg',
      'https://cdn.example.com/fail-face.jpg',
      'https://cdn.example.com/b.jpg',
    ]);
    const subscribers = both.flatMap(({ client }) => [
      new Results(client, ASSET_EVENTS, { g: groupId }),
      new Results(client, ASSET_EVENTS, { ids }),
    ]);
    for (const live of subscribers) {
      await live.until(
        (results) => ids.every((id) => transitions(results, id).length === 1),
        'the initial states',
      );
    }
    // Each PROCESSING asset and the group polled by one instance.
    const held = () =>
      both.reduce((sum, { gateway }) => sum + gateway.live.watcher.stats().heldLeases, 0);
    await until(held, (n) => n === ids.length + 1, 'the poll leases');

    const load = traffic(both);
    cleanups.push(load.stop);
    await until(load.rounds, (n) => n >= 3, 'traffic');

    await redis.kill();
    for (const { origin } of both) {
      expect(await readiness(origin, 503)).toEqual([
        { name: 'ledger', ok: true },
        { name: 'upstream', ok: true },
        { name: 'redis', ok: false },
      ]);
    }
    // While Redis is down, the assets turn final upstream and one more is added to the group.
    await eventually(
      () =>
        one.gql(`query ($g: [ID!]) { assets(filter: { groupIds: $g }) { items { status } } }`, {
          g: [groupId],
        }),
      (answer) => answer.data?.assets.items.every((a: { status: string }) => isFinal(a.status)),
      { timeoutMs: ACTIVATION_MS * 2, everyMs: 50 },
    );
    const [added] = await addAssets(two.gql, groupId, ['https://cdn.example.com/late.jpg']);
    const roundsWhileDown = load.rounds();

    await redis.start();
    const restartedAt = Date.now();
    for (const { origin } of both) {
      expect(await readiness(origin, 200)).toEqual([
        { name: 'ledger', ok: true },
        { name: 'upstream', ok: true },
        { name: 'redis', ok: true },
      ]);
    }
    // The pollers took their leases again in the new (empty) Redis: the group's at least.
    const admin = new Redis(redis.url);
    cleanups.push(async () => void admin.disconnect());
    await eventually(
      () => admin.keys(`${PREFIX}lease:*`),
      (keys) => keys.some((key) => key.includes(`:g:${groupId}`)),
      { timeoutMs: 5000, everyMs: 20 },
    );

    const all = [...ids, added!];
    for (const [i, live] of subscribers.entries()) {
      const watched = i % 2 === 0 ? all : ids;
      await live.until(
        (results) => watched.every((id) => transitions(results, id).some(([, to]) => isFinal(to!))),
        `every final status (subscriber ${i})`,
        15_000,
      );
    }
    // The added asset was polled again after the restart (it was PROCESSING then).
    expect(sim.reads.some((read) => read.at >= restartedAt && read.ids.includes(added!))).toBe(
      true,
    );
    await load.stop();
    expect(load.failures).toEqual([]);
    expect(load.rounds()).toBeGreaterThan(roundsWhileDown);

    const expected: Record<string, string> = {
      [ids[0]!]: 'ACTIVE',
      [ids[1]!]: 'FAILED',
      [ids[2]!]: 'ACTIVE',
      [added!]: 'ACTIVE',
    };
    for (const [i, live] of subscribers.entries()) {
      const watched = i % 2 === 0 ? all : ids;
      for (const id of watched) {
        expect(transitions(live.results, id), `subscriber ${i}, ${id}`).toEqual([
          [null, 'PROCESSING'],
          ['PROCESSING', expected[id]],
        ]);
      }
      expect(live.results.every((r) => r.errors === undefined)).toBe(true);
    }
  });

  it('starts without Redis, answers meanwhile, and is ready once Redis comes up', async () => {
    const redis = await privateRedis({ start: false });
    cleanups.push(() => redis.kill());
    // Long enough that the asset is still PROCESSING when the subscription below starts, even on
    // a loaded machine (at 300 ms, CI once saw it ACTIVE already).
    const sim = await startInstrumentedSimulator({ activationMs: 2_000 });
    cleanups.push(() => sim.stop());
    const gateway = await instance(sim, redis.url);

    expect((await fetch(`${gateway.origin}/healthz`)).status).toBe(200);
    expect(await readiness(gateway.origin, 503)).toEqual([
      { name: 'ledger', ok: true },
      { name: 'upstream', ok: true },
      { name: 'redis', ok: false },
    ]);
    // Queries need no Redis (the rate limit lets them through).
    const group = await gateway.gql(
      `mutation { createGroup(input: { name: "late-redis" }) { id } }`,
    );
    expect(group.errors).toBeUndefined();

    await redis.start();
    await readiness(gateway.origin, 200);
    const ids = await addAssets(gateway.gql, group.data.createGroup.id, [
      'https://cdn.example.com/x.jpg',
    ]);
    const live = new Results(gateway.client, ASSET_EVENTS, { ids });
    await live.untilDone(10_000);
    expect(transitions(live.results, ids[0]!)).toEqual([
      [null, 'PROCESSING'],
      ['PROCESSING', 'ACTIVE'],
    ]);
  });
});
