/**
 * `npm run simulator` as a new user tries it: the standalone simulator, run from the build as a
 * child process, shared by two gateway instances on one Redis (127.0.0.1:6379, a random key
 * prefix, deleted afterwards). A group subscription on one instance sees uploads made through
 * the other change status; the simulator's own paths (REST contract, H5 page) are on its port and
 * never on a gateway that has a real upstream; SIGTERM stops it cleanly.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from 'graphql-ws';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { build, startNode, type Running } from '../helpers/built.js';
import { graphqlClient } from '../helpers/graphql-client.js';
import { Results, until, wsClient } from '../helpers/ws-client.js';
import { pgLedgerEnv } from '../helpers/test-ledger.js';

const LEDGER = pgLedgerEnv();
afterAll(() => LEDGER.drop());

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `avatar-gateway-test:${randomUUID()}:`;
const KEY = 'standalone-simulator-key';

const GROUP_EVENTS = `subscription ($g: ID!) {
  assetStatusChanged(groupId: $g) { previousStatus asset { id status failure { code } } }
}`;

let simulator: Running & { match: RegExpExecArray };
/** What the simulator printed for gateways: `UPSTREAM_URL=<this>`. */
let upstreamUrl: string;
const gateways: RunningGateway[] = [];
const clients: Client[] = [];
let admin: Redis;

beforeAll(async () => {
  await build();
  simulator = await startNode(
    'dist/simulator/main.js',
    { SIMULATOR_PORT: '0', SIMULATOR_ACTIVATION_MS: '500' },
    /^Point gateways at it with: UPSTREAM_URL=(\S+)$/m,
  );
  upstreamUrl = simulator.match[1]!;
  admin = new Redis(REDIS_URL);
}, 240_000);

afterAll(async () => {
  for (const client of clients) await client.dispose();
  for (const gateway of gateways) await gateway.stop();
  if (simulator?.child.exitCode === null) simulator.child.kill('SIGKILL');
  const keys = await admin.keys(`${PREFIX}*`);
  if (keys.length > 0) await admin.del(...keys);
  await admin.quit();
});

/** A gateway instance as an operator starts one on the simulator: its URL, shared Redis. */
async function gateway(): Promise<RunningGateway> {
  const started = await startGateway(
    loadConfig({
      NODE_ENV: 'production',
      PORT: '0',
      UPSTREAM_URL: upstreamUrl,
      REDIS_URL,
      // Instances behind Redis share one PostgreSQL ledger.
      ...LEDGER.env,
      REDIS_KEY_PREFIX: PREFIX,
      POLL_INTERVAL_MS: '100',
      UPSTREAM_CREATE_ASSET_PER_MINUTE: '60000',
      LOG_LEVEL: 'silent',
    }),
    { logger: pino({ level: 'silent' }) },
  );
  gateways.push(started);
  return started;
}

describe('the standalone simulator', () => {
  it('prints its URL and the UPSTREAM_URL line to use', () => {
    expect(upstreamUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(simulator.output().stdout).toContain(`avatar-gateway simulator at ${upstreamUrl}`);
  });

  it('is one upstream for two gateways: an upload through one turns ACTIVE for a subscriber of the other', async () => {
    const [one, two] = [await gateway(), await gateway()];
    const gqlTwo = graphqlClient(two.url, { authorization: `Bearer ${KEY}` });
    const group = await gqlTwo(`mutation { createGroup(input: { name: "shared" }) { id } }`);
    const groupId: string = group.data.createGroup.id;

    const client = wsClient(one.url, KEY);
    clients.push(client);
    const live = new Results(client, GROUP_EVENTS, { g: groupId });
    await until(
      () => one.live.watcher.stats().subscribers,
      (n) => n === 1,
      'the subscription',
    );

    const added = await gqlTwo(
      `mutation ($g: ID!, $a: [NewAssetInput!]!) {
         addAssets(groupId: $g, assets: $a) { assets { id status } failures { index code } }
       }`,
      {
        g: groupId,
        a: [
          { url: 'https://cdn.example.com/front.jpg', type: 'IMAGE' },
          { url: 'https://cdn.example.com/fail-face.jpg', type: 'IMAGE' },
          { url: 'https://cdn.example.com/download-fails.jpg', type: 'IMAGE' },
        ],
      },
    );
    expect(added.data.addAssets.failures).toEqual([{ index: 2, code: 'BAD_USER_INPUT' }]);
    const [front, face] = added.data.addAssets.assets.map((asset: { id: string }) => asset.id);

    const statusOf = (id: string) =>
      live
        .data('assetStatusChanged')
        .filter((event) => event.asset.id === id)
        .map((event) => event.asset.status);
    await live.until(
      () => statusOf(front).includes('ACTIVE') && statusOf(face).includes('FAILED'),
      'ACTIVE and FAILED',
      10_000,
    );
    expect(statusOf(front)).toEqual(['PROCESSING', 'ACTIVE']);
    expect(statusOf(face)).toEqual(['PROCESSING', 'FAILED']);
    const failed = live.data('assetStatusChanged').find((e) => e.asset.status === 'FAILED');
    expect(failed.asset.failure).toEqual({ code: 'FaceMismatch' });
  });

  it('serves the REST contract and the H5 page on its own port', async () => {
    const created = await fetch(`${upstreamUrl}/v1/private-avatar/groups`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'doubao-seedance-2-0-260128', Name: 'direct' }),
    });
    expect(created.status).toBe(200);
    expect(((await created.json()) as { Result: { Id: string } }).Result.Id).toMatch(
      /^group-\d{14}-[a-z0-9]{5}$/,
    );
    const page = await fetch(`${upstreamUrl}/h5/verify?token=unknown`);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
  });

  it('is never mounted on a gateway that has a real upstream', async () => {
    const [one] = gateways.length > 0 ? gateways : [await gateway()];
    expect(one!.mode).toBe('upstream');
    expect(one!.simulatorUrl).toBeNull();
    const origin = new URL(one!.url).origin;
    const page = await fetch(`${origin}/simulator/h5/verify?token=unknown`);
    expect(page.status).toBe(404);
    expect(page.headers.get('content-type')).not.toMatch(/text\/html/);
    const rest = await fetch(`${origin}/simulator/v1/private-avatar/groups`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'doubao-seedance-2-0-260128', Name: 'direct' }),
    });
    expect(rest.status).toBe(404);
  });

  it('stops cleanly on SIGTERM', async () => {
    simulator.child.kill('SIGTERM');
    expect(await simulator.exited).toBe(0);
    await expect(fetch(`${upstreamUrl}/h5/verify?token=unknown`)).rejects.toThrow();
  });
});
