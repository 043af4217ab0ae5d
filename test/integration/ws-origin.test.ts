/**
 * WebSocket upgrades follow the same origin rule as HTTP (`CORS_ORIGINS`): browsers open
 * WebSockets cross-origin without a preflight, so a page from an unlisted origin must be refused
 * at the upgrade (HTTP 403, no socket), not only on `POST /graphql`. Checked with a raw client and
 * with a real page in Chromium served from another origin.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startGateway, type RunningGateway } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { launchChromium } from '../helpers/chromium.js';

let gateway: RunningGateway | undefined;
let page: Server;
let pageOrigin: string;
let browser: Browser;

/** A page on its own origin that opens a graphql-ws socket to `?ws=` and reports how it went. */
const PAGE = `<!doctype html><title>other origin</title><script>
  const url = new URLSearchParams(location.search).get('ws');
  const socket = new WebSocket(url, 'graphql-transport-ws');
  window.outcome = new Promise((resolve) => {
    socket.onopen = () => socket.send(JSON.stringify({
      type: 'connection_init', payload: { authorization: 'Bearer origin-test-key' } }));
    socket.onmessage = (event) => resolve('message: ' + JSON.parse(event.data).type);
    socket.onclose = (event) => resolve('closed: ' + event.code);
  });
</script>`;

beforeAll(async () => {
  page = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE));
  await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
  pageOrigin = `http://127.0.0.1:${(page.address() as AddressInfo).port}`;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => page?.close(resolve));
});

afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
});

async function start(env: Record<string, string> = {}): Promise<string> {
  gateway = await startGateway(loadConfig({ PORT: '0', LOG_LEVEL: 'silent', ...env }), {
    logger: pino({ level: 'silent' }),
  });
  return gateway.url.replace(/^http/, 'ws');
}

/** The HTTP status of the upgrade answer, or 101 when the socket opened. */
function upgrade(url: string, origin: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, 'graphql-transport-ws', origin ? { origin } : {});
    socket.once('open', () => {
      socket.close();
      resolve(101);
    });
    socket.once('unexpected-response', (_req, res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    socket.once('error', (error) => {
      if (socket.readyState !== WebSocket.CLOSED) reject(error);
    });
  });
}

async function fromOtherOrigin(wsUrl: string): Promise<string> {
  const tab = await browser.newPage();
  try {
    await tab.goto(`${pageOrigin}/?ws=${encodeURIComponent(wsUrl)}`);
    return await tab.evaluate(
      () => (globalThis as unknown as { outcome: Promise<string> }).outcome,
    );
  } finally {
    await tab.close();
  }
}

describe('the WebSocket upgrade and Origin', () => {
  it('refuses an unlisted origin with 403 before the handshake; no Origin, or a listed one, opens', async () => {
    const url = await start({ CORS_ORIGINS: 'https://app.example.com' });

    expect(await upgrade(url, 'https://evil.example.com')).toBe(403);
    expect(await upgrade(url, 'https://app.example.com')).toBe(101);
    expect(await upgrade(url, undefined)).toBe(101);
    // The gateway's own pages are same-origin.
    expect(await upgrade(url, new URL(gateway!.url).origin)).toBe(101);
  });

  it('keeps a page from another origin out, in a real browser', async () => {
    const url = await start();

    expect(await fromOtherOrigin(url)).toBe('closed: 1006');
  });

  it('lets that page in once CORS_ORIGINS lists it', async () => {
    const url = await start({ CORS_ORIGINS: pageOrigin });

    expect(await fromOtherOrigin(url)).toBe('message: connection_ack');
  });
});
