/**
 * Sockets that vanish: 200 clients subscribe and are terminated without a close handshake, a
 * quarter of them while their `subscribe` is still waiting on the upstream (graphql-ws #532).
 * Every watcher subscription, pending watch and watched asset must be released, without waiting
 * for the upstream read that was in flight.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { startGateway, type RunningGateway } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { graphqlClient } from '../helpers/graphql-client.js';
import {
  startInstrumentedSimulator,
  type InstrumentedSimulator,
} from '../helpers/instrumented-simulator.js';
import { RawSocket, until } from '../helpers/ws-client.js';

const KEY = 'disconnect-key';
const ASSET_EVENTS = `subscription ($ids: [ID!]) { assetStatusChanged(assetIds: $ids) { kind asset { id status } } }`;

let sim: InstrumentedSimulator;
let gateway: RunningGateway;

beforeAll(async () => {
  // Assets stay PROCESSING for the whole test, so they are polled while watched.
  sim = await startInstrumentedSimulator({ activationMs: 600_000 });
  gateway = await startGateway(
    loadConfig({
      PORT: '0',
      LOG_LEVEL: 'silent',
      UPSTREAM_URL: sim.url,
      UPSTREAM_CREATE_ASSET_PER_MINUTE: '60000',
      POLL_INTERVAL_MS: '50',
      RATE_LIMIT_PER_MINUTE: '0',
    }),
    { logger: pino({ level: 'silent' }) },
  );
});

afterAll(async () => {
  await gateway?.stop();
  await sim?.stop();
});

it('releases every watcher when 200 sockets drop, some before subscribe resolved', async () => {
  const gql = graphqlClient(gateway.url, { authorization: `Bearer ${KEY}` });
  const group = await gql(`mutation { createGroup(input: { name: "drops" }) { id } }`);
  const added = await gql(
    `mutation ($g: ID!, $a: [NewAssetInput!]!) { addAssets(groupId: $g, assets: $a) { assets { id } } }`,
    {
      g: group.data.createGroup.id,
      a: ['a', 'b', 'c', 'held'].map((name) => ({
        url: `https://cdn.example.com/${name}.jpg`,
        type: 'IMAGE',
      })),
    },
  );
  const [a, b, c, held] = added.data.addAssets.assets.map((x: { id: string }) => x.id);
  const watcher = gateway.live.watcher;

  const sockets = await Promise.all(
    Array.from({ length: 200 }, async () => {
      const socket = await RawSocket.open(gateway.url);
      await socket.init(KEY);
      return socket;
    }),
  );
  const [started, pending] = [sockets.slice(0, 150), sockets.slice(150)];

  // 150 subscriptions that started: each has its first event.
  started.forEach((socket, i) => socket.subscribe('s', ASSET_EVENTS, { ids: [[a, b, c][i % 3]] }));
  await Promise.all(
    started.map((socket) => socket.next((m) => m.type === 'next', 'a first event')),
  );

  // 50 that cannot start: the first read of `held` hangs upstream.
  const gate = sim.hold(held);
  pending.forEach((socket) => socket.subscribe('p', ASSET_EVENTS, { ids: [held] }));
  await until(
    () => watcher.stats(),
    (s) => s.pendingWatches === 50,
    '50 pending watches',
  );
  expect(watcher.stats()).toMatchObject({ subscribers: 150, watchedAssets: 4, pollingAssets: 3 });

  for (const socket of sockets) socket.terminate();

  // Released while the upstream read of `held` still hangs.
  const released = await until(
    () => watcher.stats(),
    (s) => s.subscribers === 0 && s.pendingWatches === 0 && s.watchedAssets === 0,
    'every watcher to be released',
  );
  expect(released).toMatchObject({ credentials: 0, pollingAssets: 0, watchedGroups: 0 });

  // The late answer changes nothing; the asset can still be watched afresh.
  gate.resolve();
  const again = await RawSocket.open(gateway.url);
  await again.init(KEY);
  again.subscribe('again', ASSET_EVENTS, { ids: [held] });
  const first = await again.next((m) => m.id === 'again', 'the first event');
  expect(first.payload.data.assetStatusChanged).toEqual({
    kind: 'STATUS',
    asset: { id: held, status: 'PROCESSING' },
  });
  again.terminate();
  await until(
    () => watcher.stats(),
    (s) => s.subscribers === 0 && s.watchedAssets === 0,
    'the last watcher to be released',
  );
});

it('treats a write to a socket the client already dropped as no fault', async () => {
  // The server answers each subscribe while the client is cutting the TCP connection, so some
  // writes fail with EPIPE/ECONNRESET. That must not reach the console or close with 4500.
  const gql = graphqlClient(gateway.url, { authorization: `Bearer ${KEY}` });
  const group = await gql(`mutation { createGroup(input: { name: "churn" }) { id } }`);
  await gql(
    `mutation ($g: ID!, $a: [NewAssetInput!]!) { addAssets(groupId: $g, assets: $a) { assets { id } } }`,
    {
      g: group.data.createGroup.id,
      a: Array.from({ length: 10 }, (_, i) => ({
        url: `https://cdn.example.com/churn-${i}.jpg`,
        type: 'IMAGE',
      })),
    },
  );
  const query = `subscription ($g: ID) { assetStatusChanged(groupId: $g) { kind } }`;
  const consoleErrors: unknown[][] = [];
  const spy = vi
    .spyOn(console, 'error')
    .mockImplementation((...args) => void consoleErrors.push(args));
  try {
    const url = gateway.url.replace(/^http/, 'ws');
    const cycle = () =>
      new Promise<void>((resolve) => {
        const socket = new WebSocket(url, 'graphql-transport-ws');
        socket.on('error', () => resolve());
        socket.on('close', () => resolve());
        socket.on('open', () =>
          socket.send(
            JSON.stringify({
              type: 'connection_init',
              payload: { authorization: `Bearer ${KEY}` },
            }),
          ),
        );
        socket.on('message', (data) => {
          if (JSON.parse(String(data)).type !== 'connection_ack') return;
          socket.send(
            JSON.stringify({
              id: '1',
              type: 'subscribe',
              payload: { query, variables: { g: group.data.createGroup.id } },
            }),
          );
          setImmediate(() => socket.terminate());
        });
      });
    for (let round = 0; round < 20; round++) await Promise.all(Array.from({ length: 25 }, cycle));
    await until(
      () => gateway.live.watcher.stats().subscribers,
      (n) => n === 0,
      'no subscribers',
    );
  } finally {
    spy.mockRestore();
  }
  expect(consoleErrors).toEqual([]);
});
