/**
 * A bounded soak on loopback: for `SOAK_SECONDS` (default 60), workers drive the embedded gateway
 * with a steady mix of queries, mutations and subscribe/unsubscribe cycles (subscriptions that
 * run to their end, ones closed early, sockets dropped without a close). Afterwards every live
 * subscription is gone, nothing but the expected answers came back, and the heap, sampled after
 * forced GCs once warm and again at the end, grew by less than 10 % (or 5 MB, whichever is more).
 *
 * `global.gc` is not exposed under vitest; `--expose-gc` set at run time and the `gc` function
 * taken from a fresh context gives it.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Client } from 'graphql-ws';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { graphqlClient, type GraphQLAnswer } from '../helpers/graphql-client.js';
import { RawSocket, Results, until, wsClient } from '../helpers/ws-client.js';

const SOAK_SECONDS = Number(process.env.SOAK_SECONDS ?? 60);
const WARMUP_MS = Math.min(10_000, (SOAK_SECONDS * 1000) / 6);
const WORKERS = 8;
/** A hard bound on rounds per worker, besides the time. */
const MAX_ROUNDS = 50_000;

const ASSET_EVENTS = `subscription ($ids: [ID!], $g: ID) {
  assetStatusChanged(assetIds: $ids, groupId: $g) { kind previousStatus asset { id status } }
}`;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapUsed(): number {
  // Several passes: weak references and finalizers free more on the second.
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

let gateway: RunningGateway;

beforeAll(async () => {
  gateway = await startGateway(
    loadConfig({
      PORT: '0',
      LOG_LEVEL: 'silent',
      SIMULATOR_ACTIVATION_MS: '100',
      POLL_INTERVAL_MS: '50',
      RATE_LIMIT_PER_MINUTE: '0',
      WS_KEEPALIVE_MS: '0',
    }),
    { logger: pino({ level: 'silent' }) },
  );
});

afterAll(async () => {
  await gateway?.stop();
});

/** What went wrong during the soak; expected to stay empty. */
const problems: string[] = [];

function check<T>(answer: GraphQLAnswer<T>, what: string): T {
  if (answer.status !== 200 || answer.errors || !answer.data) {
    problems.push(`${what}: ${answer.status} ${JSON.stringify(answer.errors)}`);
    throw new Error(what);
  }
  return answer.data;
}

/** One worker's round: a group's whole life, with subscriptions around it. */
async function round(
  worker: number,
  n: number,
  gql: ReturnType<typeof graphqlClient>,
  shared: Client,
  key: string,
): Promise<void> {
  const { createGroup } = check<any>(
    await gql(`mutation ($n: String!) { createGroup(input: { name: $n }) { id } }`, {
      n: `soak-${worker}-${n}`,
    }),
    'createGroup',
  );
  const groupId: string = createGroup.id;
  const { addAssets } = check<any>(
    await gql(
      `mutation ($g: ID!, $a: [NewAssetInput!]!) {
         addAssets(groupId: $g, assets: $a) { assets { id } failures { code } }
       }`,
      {
        g: groupId,
        a: [
          { url: `https://cdn.example.com/${n}.jpg`, type: 'IMAGE' },
          { url: `https://cdn.example.com/fail-face-${n}.jpg`, type: 'IMAGE' },
        ],
      },
    ),
    'addAssets',
  );
  const ids: string[] = addAssets.assets.map((a: { id: string }) => a.id);

  // To the end: the subscription completes after both final statuses.
  const direct = new Results(shared, ASSET_EVENTS, { ids });
  // Closed early, on a connection of its own.
  const own = wsClient(gateway.url, key);
  const early = new Results(own, ASSET_EVENTS, { g: groupId });
  await early.until((results) => results.length > 0, 'a first group event');
  early.unsubscribe();
  await own.dispose();
  // Every fourth round, a socket dropped without a close while subscribed.
  if (n % 4 === 0) {
    const raw = await RawSocket.open(gateway.url);
    await raw.init(key);
    raw.subscribe('1', ASSET_EVENTS, { g: groupId });
    await raw.next((m) => m.type === 'next', 'a first event');
    raw.terminate();
  }
  await direct.untilDone(10_000);
  const finals = direct
    .data('assetStatusChanged')
    .filter((e: any) => e.asset.status !== 'PROCESSING');
  if (direct.results.some((r) => r.errors) || finals.length !== 2) {
    problems.push(`subscription: ${JSON.stringify(direct.results)}`);
  }

  check(await gql(`{ groups(filter: { nameContains: "soak-" }) { total } }`), 'groups');
  check(
    await gql(`query ($id: ID!) { group(id: $id) { name assets { items { id status } } } }`, {
      id: groupId,
    }),
    'group',
  );
  check(
    await gql(`query ($g: [ID!]) { assets(filter: { groupIds: $g }) { total } }`, { g: [groupId] }),
    'assets',
  );
  check(
    await gql(`mutation ($id: ID!) { renameAsset(id: $id, name: "renamed") { id } }`, {
      id: ids[0],
    }),
    'renameAsset',
  );
  check(await gql(`mutation ($id: ID!) { deleteAsset(id: $id) }`, { id: ids[1] }), 'deleteAsset');
  check(await gql(`mutation ($id: ID!) { deleteGroup(id: $id) }`, { id: groupId }), 'deleteGroup');
}

/** Runs rounds on every worker until `until` (epoch ms) or `MAX_ROUNDS`; returns rounds done. */
async function drive(deadline: number): Promise<number> {
  const counts = await Promise.all(
    Array.from({ length: WORKERS }, async (_, worker) => {
      const key = `soak-key-${worker}`;
      const gql = graphqlClient(gateway.url, { authorization: `Bearer ${key}` });
      const shared = wsClient(gateway.url, key);
      let n = 0;
      try {
        while (Date.now() < deadline && n < MAX_ROUNDS && problems.length === 0) {
          await round(worker, n++, gql, shared, key).catch((error: unknown) => {
            if (problems.length === 0) problems.push(String(error));
          });
        }
      } finally {
        await shared.dispose();
      }
      return n;
    }),
  );
  return counts.reduce((a, b) => a + b, 0);
}

it(
  `stays flat over ${SOAK_SECONDS} s of queries, mutations and subscribe/unsubscribe cycles`,
  async () => {
    const watcher = gateway.live.watcher;
    const idle = () =>
      until(
        () => watcher.stats(),
        (stats) =>
          stats.subscribers === 0 && stats.pendingWatches === 0 && stats.watchedAssets === 0,
        'every subscription to end',
      );

    await drive(Date.now() + WARMUP_MS);
    await idle();
    const start = heapUsed();

    const rounds = await drive(Date.now() + SOAK_SECONDS * 1000 - WARMUP_MS);
    await idle();
    const end = heapUsed();

    const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
    console.log(
      `soak: ${rounds} rounds in ${SOAK_SECONDS} s; heapUsed ${mb(start)} MB -> ${mb(end)} MB ` +
        `(${(((end - start) / start) * 100).toFixed(1)} %)`,
    );
    expect(problems).toEqual([]);
    expect(rounds).toBeGreaterThan(WORKERS);
    expect(watcher.stats()).toMatchObject({ subscribers: 0, pendingWatches: 0, credentials: 0 });
    expect(end - start).toBeLessThan(Math.max(start * 0.1, 5 * 1024 * 1024));
  },
  SOAK_SECONDS * 1000 + 60_000,
);
