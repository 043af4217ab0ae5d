/**
 * The WebSocket transport at the protocol level, with raw sockets: every close code a client can
 * meet, the per-connection limits, keep-alive, and shutdown. Small limits come from the
 * environment, as an operator would set them.
 */
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { createFormatError } from '../../src/errors/format.js';
import { buildSchema } from '../../src/graphql/schema.js';
import { attachSubscriptions } from '../../src/subscriptions/server.js';
import { graphqlClient } from '../helpers/graphql-client.js';
import { RawSocket, until } from '../helpers/ws-client.js';

const GROUP_EVENTS = `subscription ($g: ID!) { assetStatusChanged(groupId: $g) { kind asset { id } } }`;
const KEY = 'protocol-key';

const BASE_ENV = {
  PORT: '0',
  LOG_LEVEL: 'silent',
  SIMULATOR_ACTIVATION_MS: '60000',
  POLL_INTERVAL_MS: '50',
  RATE_LIMIT_PER_MINUTE: '0',
};

let gateway: RunningGateway;
let groupId: string;
const sockets: RawSocket[] = [];

async function open(url = gateway.url, options?: Parameters<typeof RawSocket.open>[1]) {
  const socket = await RawSocket.open(url, options);
  sockets.push(socket);
  return socket;
}

function watcherSubscribers(target = gateway): number {
  return target.live.watcher.stats().subscribers;
}

beforeAll(async () => {
  const config = loadConfig({
    ...BASE_ENV,
    WS_KEEPALIVE_MS: '100',
    WS_CONNECTION_INIT_TIMEOUT_MS: '200',
    WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: '3',
    WS_MAX_PAYLOAD_BYTES: '2048',
    WS_MAX_MESSAGES_PER_SECOND: '4',
  });
  gateway = await startGateway(config, { logger: pino({ level: 'silent' }) });
  const gql = graphqlClient(gateway.url, { authorization: `Bearer ${KEY}` });
  const created = await gql(`mutation { createGroup(input: { name: "protocol" }) { id } }`);
  groupId = created.data.createGroup.id;
});

afterAll(async () => {
  for (const socket of sockets) socket.terminate();
  await gateway?.stop();
});

describe('close codes', () => {
  it('1008: a client that sends messages faster than WS_MAX_MESSAGES_PER_SECOND', async () => {
    const socket = await open();
    await socket.init(KEY);
    // 4 a second with bursts of 20: the 21st message in a burst is one too many.
    for (let i = 0; i < 40; i++) socket.send({ type: 'ping' });
    expect(await socket.closeCode()).toBe(1008);
  });

  it('4400: a message that is not part of the protocol', async () => {
    const socket = await open();
    await socket.init(KEY);
    socket.send('{"this is": "not a graphql-ws message"}');
    expect(await socket.closeCode()).toBe(4400);
  });

  it('4401: subscribe before connection_init', async () => {
    const socket = await open();
    socket.subscribe('1', GROUP_EVENTS, { g: groupId });
    expect(await socket.closeCode()).toBe(4401);
  });

  it('4403: connection_init without a credential, or with a malformed one (pass-through)', async () => {
    const missing = await open();
    missing.send({ type: 'connection_init', payload: {} });
    const malformed = await open();
    malformed.send({ type: 'connection_init', payload: { authorization: 'Basic dXNlcjpwdw==' } });
    expect(await missing.closeCode()).toBe(4403);
    expect(await malformed.closeCode()).toBe(4403);
  });

  it('4406: no graphql-transport-ws subprotocol offered', async () => {
    const socket = await open(gateway.url, { protocol: null });
    expect(await socket.closeCode()).toBe(4406);
  });

  it('4408: no connection_init in time (WS_CONNECTION_INIT_TIMEOUT_MS)', async () => {
    const socket = await open();
    expect(await socket.closeCode()).toBe(4408);
  });

  it('4409: a subscribe with an id already running', async () => {
    const socket = await open();
    await socket.init(KEY);
    socket.subscribe('same', GROUP_EVENTS, { g: groupId });
    socket.subscribe('same', GROUP_EVENTS, { g: groupId });
    expect(await socket.closeCode()).toBe(4409);
  });

  it('4429: a second connection_init', async () => {
    const socket = await open();
    await socket.init(KEY);
    socket.send({ type: 'connection_init', payload: { authorization: `Bearer ${KEY}` } });
    expect(await socket.closeCode()).toBe(4429);
  });

  it('1009: a message over WS_MAX_PAYLOAD_BYTES', async () => {
    const socket = await open();
    await socket.init(KEY);
    socket.subscribe(
      'big',
      `subscription { assetStatusChanged(groupId: "${'g'.repeat(4096)}") { kind } }`,
    );
    expect(await socket.closeCode()).toBe(1009);
  });

  it('1000: the client closes; its subscriptions are released', async () => {
    const before = watcherSubscribers();
    const socket = await open();
    await socket.init(KEY);
    socket.subscribe('1', GROUP_EVENTS, { g: groupId });
    await until(watcherSubscribers, (n) => n === before + 1, 'the subscription to start');
    socket.socket.close(1000, 'bye');
    expect(await socket.closeCode()).toBe(1000);
    await until(watcherSubscribers, (n) => n === before, 'the subscription to be released');
  });

  it('terminates a socket that stops answering pings (WS_KEEPALIVE_MS)', async () => {
    const healthy = await open();
    await healthy.init(KEY);
    const silent = await open(gateway.url, { autoPong: false });
    await silent.init(KEY);
    // Terminated, not closed: the client sees an abnormal closure.
    expect(await silent.closeCode()).toBe(1006);
    // The socket that answers pings stays up and usable.
    healthy.subscribe('still-here', `subscription { assetStatusChanged { kind } }`);
    const answer = await healthy.next((m) => m.id === 'still-here', 'an answer');
    expect(answer.payload.errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });

  it('4500: an unexpected server error, logged and not described to the client', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino(
      { level: 'error' },
      { write: (line: string) => void lines.push(JSON.parse(line)) },
    );
    const httpServer = createHttpServer();
    const server = attachSubscriptions({
      httpServer,
      schema: await buildSchema(),
      path: '/graphql',
      limits: loadConfig({}).ws,
      authenticate: async () => ({
        ok: true,
        credential: 'k',
        principal: { id: 'anonymous', kind: 'anonymous' },
        tenant: 'anonymous',
        admin: false,
      }),
      // A broken dependency: building the context throws.
      context: () => {
        throw new Error('the secret database password is hunter2');
      },
      formatError: createFormatError(logger),
      logger,
    });
    await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = httpServer.address() as AddressInfo;
      const socket = await RawSocket.open(`http://127.0.0.1:${port}/graphql`);
      await socket.init(null);
      socket.subscribe('1', GROUP_EVENTS, { g: 'group-1' });
      const closed = await socket.closed;
      expect(closed).toEqual({ code: 4500, reason: 'Internal server error' });
      expect(socket.messages.filter((m) => m.type !== 'connection_ack')).toEqual([]);
      expect(lines.some((l) => (l.err as { message?: string })?.message?.includes('hunter2'))).toBe(
        true,
      );
    } finally {
      await server.dispose();
      await new Promise((resolve) => httpServer.close(resolve));
    }
  });

  it('1001: the server shuts down while clients are connected', async () => {
    const other = await startGateway(loadConfig(BASE_ENV), { logger: pino({ level: 'silent' }) });
    const gql = graphqlClient(other.url, { authorization: `Bearer ${KEY}` });
    const created = await gql(`mutation { createGroup(input: { name: "bye" }) { id } }`);
    const socket = await open(other.url);
    await socket.init(KEY);
    socket.subscribe('1', GROUP_EVENTS, { g: created.data.createGroup.id });
    await until(
      () => watcherSubscribers(other),
      (n) => n === 1,
      'the subscription to start',
    );

    await other.stop();
    expect(await socket.closeCode()).toBe(1001);
    expect(other.live.watcher.stats()).toMatchObject({ subscribers: 0, watchedAssets: 0 });
  });
});

describe('limits and operations on one socket', () => {
  it('refuses one subscription over WS_MAX_SUBSCRIPTIONS_PER_CONNECTION with an error; the others go on', async () => {
    const before = watcherSubscribers();
    const socket = await open();
    await socket.init(KEY);
    for (const id of ['1', '2', '3']) socket.subscribe(id, GROUP_EVENTS, { g: groupId });
    await until(watcherSubscribers, (n) => n === before + 3, 'three subscriptions to start');

    socket.subscribe('4', GROUP_EVENTS, { g: groupId });
    const refused = await socket.next((m) => m.id === '4', 'the fourth answer');
    expect(refused.type).toBe('error');
    expect(refused.payload[0].extensions).toEqual({
      code: 'TOO_MANY_SUBSCRIPTIONS',
      maxSubscriptions: 3,
    });

    // Completing one makes room; the socket never closed.
    socket.send({ id: '1', type: 'complete' });
    await until(watcherSubscribers, (n) => n === before + 2, 'the completed one to be released');
    socket.subscribe('5', GROUP_EVENTS, { g: groupId });
    await until(watcherSubscribers, (n) => n === before + 3, 'the fifth to start');
    socket.socket.close(1000);
    await until(watcherSubscribers, (n) => n === before, 'all to be released');
  });

  it('sends validation errors for one operation without closing the socket', async () => {
    const socket = await open();
    await socket.init(KEY);
    socket.subscribe('syntax', 'subscription {');
    socket.subscribe('unknown-field', 'subscription { nope }');
    const syntax = await socket.next((m) => m.id === 'syntax', 'the syntax error');
    const invalid = await socket.next((m) => m.id === 'unknown-field', 'the validation error');
    expect(syntax.payload[0].extensions.code).toBe('GRAPHQL_PARSE_FAILED');
    expect(invalid.payload[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(socket.socket.readyState).toBe(socket.socket.OPEN);
  });
});

describe('server-held key (UPSTREAM_API_KEY with GATEWAY_TOKENS)', () => {
  const TOKEN = 'gateway-token-0123456789abcdef';
  let guarded: RunningGateway;

  beforeAll(async () => {
    guarded = await startGateway(
      loadConfig({ ...BASE_ENV, UPSTREAM_API_KEY: 'server-key-xyz', GATEWAY_TOKENS: TOKEN }),
      { logger: pino({ level: 'silent' }) },
    );
  });

  afterAll(() => guarded?.stop());

  it('4403 for a missing or wrong gateway token; an ack for the right one', async () => {
    const missing = await open(guarded.url);
    missing.send({ type: 'connection_init' });
    const wrong = await open(guarded.url);
    wrong.send({
      type: 'connection_init',
      payload: { authorization: 'Bearer not-the-token-at-all' },
    });
    const right = await open(guarded.url);
    await right.init(TOKEN);
    expect(await missing.closeCode()).toBe(4403);
    expect(await wrong.closeCode()).toBe(4403);
    right.socket.close(1000);
    expect(await right.closeCode()).toBe(1000);
  });
});
