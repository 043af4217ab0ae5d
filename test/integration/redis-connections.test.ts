/**
 * One Redis connection set per process: a gateway with `REDIS_URL` holds two connections (one for
 * commands, shared by the rate limit, readiness, the poll leases and the verification memory; one
 * in subscriber mode for status events), and closes both when it stops. On a private
 * `redis-server`, so that other tests' clients are not counted.
 */
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, afterEach, expect, it } from 'vitest';
import { startGateway } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { eventually, graphqlClient } from '../helpers/graphql-client.js';
import { privateRedis } from '../helpers/redis-server.js';
import { Results, wsClient } from '../helpers/ws-client.js';
import { pgLedgerEnv } from '../helpers/test-ledger.js';

const LEDGER = pgLedgerEnv();
afterAll(() => LEDGER.drop());

const KEY = 'redis-connections-key-0123';
const PREFIX = 'avatar-gateway-connections:';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface RedisClient {
  id: string;
  flags: string;
}

/** The clients connected to Redis, other than `admin` itself. */
async function othersOf(admin: Redis): Promise<RedisClient[]> {
  const self = String(await admin.client('ID'));
  const list = (await admin.client('LIST')) as string;
  return list
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => Object.fromEntries(line.split(' ').map((pair) => pair.split('=', 2))))
    .map((fields) => ({ id: fields['id'] ?? '', flags: fields['flags'] ?? '' }))
    .filter((client) => client.id !== self);
}

it('opens one command and one subscriber connection, and closes both on stop', async () => {
  const redis = await privateRedis();
  cleanups.push(() => redis.kill());
  const admin = new Redis(redis.url);
  cleanups.push(() => admin.quit());

  const gateway = await startGateway(
    loadConfig({
      PORT: '0',
      LOG_LEVEL: 'silent',
      REDIS_URL: redis.url,
      // Instances behind Redis share one PostgreSQL ledger.
      ...LEDGER.env,
      REDIS_KEY_PREFIX: PREFIX,
      POLL_INTERVAL_MS: '50',
    }),
    { logger: pino({ level: 'silent' }), readinessCacheMs: 0 },
  );
  let stopped = false;
  cleanups.push(() => (stopped ? Promise.resolve() : gateway.stop()));
  const client = wsClient(gateway.url, KEY);
  cleanups.push(async () => client.dispose());

  // Readiness, the rate limit (a GraphQL request), status events (a subscription) and the poll
  // leases all use Redis now.
  const origin = new URL(gateway.url).origin;
  await eventually(
    () => fetch(`${origin}/readyz`).then((response) => response.status),
    (status) => status === 200,
  );
  const gql = graphqlClient(gateway.url, { authorization: `Bearer ${KEY}` });
  const group = await gql(`mutation { createGroup(input: { name: "connections" }) { id } }`);
  expect(group.errors).toBeUndefined();
  new Results(client, `subscription ($g: ID) { assetStatusChanged(groupId: $g) { kind } }`, {
    g: group.data.createGroup.id,
  });
  const connected = await eventually(
    () => othersOf(admin),
    (clients) => clients.some((c) => c.flags.includes('P')),
  );
  expect(await admin.keys(`${PREFIX}ratelimit:*`)).not.toEqual([]);
  expect(connected).toHaveLength(2);
  expect(connected.filter((c) => c.flags.includes('P'))).toHaveLength(1);

  await gateway.stop();
  stopped = true;
  await eventually(
    () => othersOf(admin),
    (clients) => clients.length === 0,
  );
});
