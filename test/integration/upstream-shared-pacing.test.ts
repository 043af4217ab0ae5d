/**
 * One upstream budget across instances (issue 13, item 3): three Ark clients, as three gateway
 * instances would hold them, load one upstream key at once. A stub upstream counts the calls it
 * gets per action in every one-second window. With the pacing buckets shared through Redis, the
 * three together stay at the documented rate (ListAssets: 10/s) once the first burst is spent;
 * with this process's buckets alone, they send three times that.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startGateway } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { DEFAULT_RATE_LIMITS } from '../../src/upstream/ark/actions.js';
import {
  createSharedBudget,
  createUpstream,
  type UpstreamClient,
} from '../../src/upstream/index.js';
import { pgLedgerEnv } from '../helpers/test-ledger.js';

const LEDGER = pgLedgerEnv();
afterAll(() => LEDGER.drop());

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `test-shared-pacing-${process.pid}-${Date.now()}:`;
const KEY = 'sk-shared-pacing-test';
const RATE = DEFAULT_RATE_LIMITS.ListAssets;
const INSTANCES = 3;
const CALLS_PER_INSTANCE = 15;

let redis: Redis;
/** When each ListAssets call reached the stub, in ms. */
let arrivals: number[] = [];
let stubUrl: string;
let closeStub: () => Promise<void>;
const clients: UpstreamClient[] = [];

beforeAll(async () => {
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url?.startsWith('/v1/private-avatar/assets/list')) arrivals.push(performance.now());
      const action = req.url?.startsWith('/v1/private-avatar/groups/list')
        ? 'ListAssetGroups'
        : 'ListAssets';
      const body = JSON.stringify({
        ResponseMetadata: { RequestId: 'req-pacing', Action: action },
        Result: { TotalCount: 0, PageNumber: 1, PageSize: 10, Items: [] },
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  stubUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  closeStub = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  arrivals = [];
});

afterAll(async () => {
  const keys = await redis.keys(`${PREFIX}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
  await closeStub();
});

function instance(shared: boolean): UpstreamClient {
  const client = createUpstream({
    dialect: 'ark',
    baseUrl: stubUrl,
    timeoutMs: 10_000,
    ...(shared && { sharedPacing: { redis, keyPrefix: `${PREFIX}pace:` } }),
  });
  clients.push(client);
  return client;
}

/** Every instance lists at once, `CALLS_PER_INSTANCE` times, with the same upstream key. */
async function load(shared: boolean): Promise<void> {
  const instances = Array.from({ length: INSTANCES }, () => instance(shared));
  await Promise.all(
    instances.flatMap((client) =>
      Array.from({ length: CALLS_PER_INSTANCE }, () =>
        client.listAssets({ credential: KEY }, { page: 1, pageSize: 10 }),
      ),
    ),
  );
  expect(arrivals).toHaveLength(INSTANCES * CALLS_PER_INSTANCE);
}

/** The most calls that arrived within any one second starting at or after `from`. */
function busiestSecond(from: number): number {
  const times = arrivals.filter((t) => t >= from).sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i]! - times[j]! >= 1_000) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

describe('upstream pacing across three instances', () => {
  it('shared through Redis: at or under the documented rate per key and action', async () => {
    await load(true);
    const first = Math.min(...arrivals);
    const last = Math.max(...arrivals);
    const burst = RATE.burst ?? RATE.requests;
    // After the bucket's first burst, no second holds more than the rate (two calls of slack
    // for timers that fire late on a busy machine and bunch at a window's edge).
    expect(busiestSecond(first + 1_000)).toBeLessThanOrEqual(RATE.requests + 2);
    // Over the whole run: the burst plus the rate, never three times it.
    const seconds = (last - first) / 1_000;
    expect(arrivals.length).toBeLessThanOrEqual(burst + Math.ceil(seconds * RATE.requests) + 1);
    expect(seconds).toBeGreaterThanOrEqual(
      (INSTANCES * CALLS_PER_INSTANCE - burst) / RATE.requests - 0.5,
    );
    // Idle buckets expire: the key carries a TTL.
    const keys = await redis.keys(`${PREFIX}pace:*`);
    expect(keys).toHaveLength(1);
    expect(keys[0]).not.toContain(KEY);
    expect(await redis.pttl(keys[0]!)).toBeGreaterThan(0);
  }, 15_000);

  it('in memory (no Redis): the three together exceed it, as the shared budget prevents', async () => {
    await load(false);
    expect(busiestSecond(Math.min(...arrivals))).toBeGreaterThan(2 * RATE.requests);
  }, 15_000);
});

describe("a budget shared through Redis (the verification pollers')", () => {
  it('two instances draw from one budget per key and action', async () => {
    const options = { redis, keyPrefix: `${PREFIX}budget:` };
    const [a, b] = [createSharedBudget(options), createSharedBudget(options)];
    // 2 per second, burst 2: the first two go now, the next ones queue 500 ms apart.
    const waits = [
      await a.take('cred-hash', 'GetVisualValidateResult', 2),
      await b.take('cred-hash', 'GetVisualValidateResult', 2),
      await a.take('cred-hash', 'GetVisualValidateResult', 2),
      await b.take('cred-hash', 'GetVisualValidateResult', 2),
    ];
    expect(waits.slice(0, 2)).toEqual([0, 0]);
    expect(waits[2]).toBeGreaterThan(400);
    expect(waits[3]).toBeGreaterThan(waits[2]! + 400);
    // Another key has its own budget.
    expect(await b.take('other-hash', 'GetVisualValidateResult', 2)).toBe(0);
  });
});

describe('when Redis is unreachable', () => {
  it('calls go on at once, paced by this process, with one warning', async () => {
    const dead = new Redis('redis://127.0.0.1:1', {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy: () => null,
    });
    dead.on('error', () => undefined);
    const warnings: string[] = [];
    const client = createUpstream({
      dialect: 'ark',
      baseUrl: stubUrl,
      timeoutMs: 5_000,
      sharedPacing: { redis: dead, keyPrefix: `${PREFIX}dead:` },
      logger: { warn: (_fields, message) => warnings.push(message), debug: () => undefined },
    });
    clients.push(client);
    try {
      const started = performance.now();
      await Promise.all(
        Array.from({ length: RATE.requests + 2 }, () =>
          client.listAssets({ credential: KEY }, { page: 1, pageSize: 10 }),
        ),
      );
      const elapsed = performance.now() - started;
      expect(arrivals).toHaveLength(RATE.requests + 2);
      // The burst, then two calls 100 ms apart: paced in memory, not blocked.
      expect(elapsed).toBeGreaterThanOrEqual(150);
      expect(elapsed).toBeLessThan(2_000);
      expect(warnings).toEqual(["upstream pacing: Redis failed; using this process's budget"]);
    } finally {
      dead.disconnect();
    }
  });
});

describe('the gateway', () => {
  it('with REDIS_URL, paces its upstream calls from the shared buckets', async () => {
    const prefix = `${PREFIX}gateway:`;
    // Every bucket key the gateway's pacing script touches: `EVALSHA sha 1 <key> …` or `EVAL`.
    const bucketKeys: string[] = [];
    const monitor = await redis.monitor();
    monitor.on('monitor', (_time: string, args: string[]) => {
      const command = args[0]?.toLowerCase();
      if ((command === 'evalsha' || command === 'eval') && args[3]) bucketKeys.push(args[3]);
    });
    const gateway = await startGateway(
      loadConfig({
        PORT: '0',
        LOG_LEVEL: 'silent',
        UPSTREAM_URL: stubUrl,
        REDIS_URL,
        // Instances behind Redis share one PostgreSQL ledger.
        ...LEDGER.env,
        REDIS_KEY_PREFIX: prefix,
      }),
      { logger: pino({ level: 'silent' }) },
    );
    try {
      const response = await fetch(gateway.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
        body: JSON.stringify({ query: '{ groups { total } }' }),
      });
      expect(await response.json()).toEqual({ data: { groups: { total: 0 } } });
      // The bucket key expires about a second after the take, which a busy machine can pass
      // before the response arrives here; MONITOR records the take itself, whenever it happened.
      const taken = bucketKeys.filter((key) => key.startsWith(`${prefix}pace:`));
      expect(taken).toHaveLength(1);
      expect(taken[0]).toMatch(/:ListAssetGroups$/);
    } finally {
      await gateway.stop();
      monitor.disconnect();
    }
  });
});
