/**
 * The WebSocket adapter alone, on a real `ws` server on port 0, in front of a recording stand-in
 * for graphql-ws's protocol core: what reaches the core, in what order, and how sockets close.
 */
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Server as ProtocolServer } from 'graphql-ws';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { serveWebSocket, type WebSocketAdapter } from '../../src/subscriptions/adapter.js';
import { RawSocket, until } from '../helpers/ws-client.js';

interface Extra {
  readonly n: number;
}

/** Records, in order, the messages the core handles, its own close, and the adapter's hooks. */
function recordingCore(events: string[]): ProtocolServer<Extra> {
  return {
    opened(socket, extra) {
      socket.onMessage(async (data) => {
        events.push(`core ${extra.n}: ${data}`);
        const message = JSON.parse(data) as { type: string };
        if (message.type === 'echo') await socket.send(JSON.stringify({ type: 'echoed' }));
        if (message.type === 'boom') throw new Error('the secret database password is hunter2');
      });
      return async (code) => void events.push(`core ${extra.n} closed ${code}`);
    },
  };
}

interface Served {
  url: string;
  events: string[];
  logs: Array<Record<string, any>>;
  adapter: WebSocketAdapter;
}

let http: HttpServer | undefined;
const sockets: RawSocket[] = [];

async function serve(
  limits: { keepAliveMs?: number; maxPayloadBytes?: number; maxMessagesPerSecond?: number } = {},
): Promise<Served> {
  const events: string[] = [];
  const logs: Array<Record<string, any>> = [];
  const logger = pino(
    { level: 'debug' },
    { write: (line: string) => void logs.push(JSON.parse(line)) },
  );
  http = createServer();
  let next = 0;
  const adapter = serveWebSocket<Extra>({
    httpServer: http,
    path: '/graphql',
    protocol: recordingCore(events),
    extra: () => ({ n: ++next }),
    onClientComplete: (extra, id) => void events.push(`onClientComplete ${extra.n}: ${id}`),
    onClose: (extra) => void events.push(`onClose ${extra.n}`),
    keepAliveMs: limits.keepAliveMs ?? 0,
    maxPayloadBytes: limits.maxPayloadBytes ?? 1024,
    maxMessagesPerSecond: limits.maxMessagesPerSecond ?? 100,
    logger,
  });
  await new Promise<void>((resolve) => http!.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/graphql`, events, logs, adapter };
}

async function open(served: Served, options?: Parameters<typeof RawSocket.open>[1]) {
  const socket = await RawSocket.open(served.url, options);
  sockets.push(socket);
  return socket;
}

const errorLogs = (served: Served) => served.logs.filter((line) => line.level >= 50);

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.terminate();
  const server = http;
  http = undefined;
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
});

describe('serveWebSocket', () => {
  it('hands each message to the core as text and sends its answers', async () => {
    const served = await serve();
    const socket = await open(served);
    socket.send({ type: 'echo' });
    expect(await socket.next((m) => m.type === 'echoed', 'the echo')).toEqual({ type: 'echoed' });
    expect(served.events).toEqual(['core 1: {"type":"echo"}']);
  });

  it('1008: closes a socket over the message rate; the excess never reaches the core', async () => {
    const served = await serve({ maxMessagesPerSecond: 2 });
    const socket = await open(served);
    for (let i = 0; i < 30; i++) socket.send({ type: 'ping', i });
    expect(await socket.closeCode()).toBe(1008);
    const handled = served.events.filter((e) => e.startsWith('core 1: '));
    // Bursts of five seconds' worth: ten messages, give or take one refilled meanwhile.
    expect(handled.length).toBeGreaterThanOrEqual(10);
    expect(handled.length).toBeLessThanOrEqual(11);
    expect(errorLogs(served)).toEqual([]);
  });

  it('1009: closes a socket that sends more than maxPayloadBytes, as the client’s fault', async () => {
    const served = await serve({ maxPayloadBytes: 64 });
    const socket = await open(served);
    socket.send({ type: 'echo', padding: 'x'.repeat(100) });
    expect(await socket.closeCode()).toBe(1009);
    // `ws` ends the connection after its 1009 frame: the server side sees no close frame back.
    await until(
      () => served.events.length,
      (n) => n === 2,
      'the core to close',
    );
    expect(served.events).toEqual(['onClose 1', 'core 1 closed 1006']);
    expect(errorLogs(served)).toEqual([]);
  });

  it('tells onClientComplete of a client complete before the core handles it', async () => {
    const served = await serve();
    const socket = await open(served);
    socket.send({ id: 'op-1', type: 'complete' });
    await until(
      () => served.events.length,
      (n) => n === 2,
      'both to hear of it',
    );
    expect(served.events).toEqual([
      'onClientComplete 1: op-1',
      'core 1: {"id":"op-1","type":"complete"}',
    ]);
  });

  it('releases on an abrupt disconnect: onClose first, then the core', async () => {
    const served = await serve();
    const first = await open(served);
    const second = await open(served);
    first.terminate();
    await until(
      () => served.events,
      (e) => e.includes('core 1 closed 1006'),
      'the core to close',
    );
    expect(served.events).toEqual(['onClose 1', 'core 1 closed 1006']);
    // The other socket is untouched.
    second.send({ type: 'echo' });
    await second.next((m) => m.type === 'echoed', 'the echo');
  });

  it('4500: a fault while handling a message is logged and not described to the client', async () => {
    const served = await serve();
    const socket = await open(served);
    socket.send({ type: 'boom' });
    expect(await socket.closed).toEqual({ code: 4500, reason: 'Internal server error' });
    expect(errorLogs(served).map((line) => line.err?.message)).toEqual([
      'the secret database password is hunter2',
    ]);
  });

  it('terminates a socket that stops answering pings, and only that one', async () => {
    const served = await serve({ keepAliveMs: 50 });
    const healthy = await open(served);
    const silent = await open(served, { autoPong: false });
    expect(await silent.closeCode()).toBe(1006);
    healthy.send({ type: 'echo' });
    await healthy.next((m) => m.type === 'echoed', 'the echo');
  });

  it('close(): 1001 to every socket, resolving once all are closed', async () => {
    const served = await serve();
    const a = await open(served);
    const b = await open(served);
    await served.adapter.close();
    expect(await a.closeCode()).toBe(1001);
    expect(await b.closeCode()).toBe(1001);
    expect(served.adapter.size).toBe(0);
  });
});
