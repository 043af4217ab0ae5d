/**
 * The HTTP wiring: a real server on port 0, real fetch, and the node:http adapter's edges.
 */
import { request } from 'node:http';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { createServer, type RunningServer } from '../../src/server.js';
import { SimulatorState } from '../../src/simulator/state.js';
import { recording } from '../helpers/api-harness.js';

let server: RunningServer;
const logs: Array<Record<string, any>> = [];

beforeAll(async () => {
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', NODE_ENV: 'test' });
  const logger = pino(
    { level: 'debug' },
    { write: (line: string) => void logs.push(JSON.parse(line)) },
  );
  const { upstream } = recording(new SimulatorState({ activationMs: 0 }), {
    listAssets: async () => {
      throw new TypeError('boom in /srv/app/secret.js');
    },
  });
  server = await createServer(config, { upstream, logger });
});
afterAll(() => server?.stop());

/** A POST whose request line carries the full URL (`POST http://host/graphql HTTP/1.1`). */
function absoluteFormPost(
  url: string,
  query: string,
): Promise<{ statusCode: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: hostname,
        port,
        method: 'POST',
        path: url,
        headers: { 'content-type': 'application/json', authorization: 'Bearer http-key' },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ statusCode: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify({ query }));
  });
}

function post(body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer http-key', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

describe('the HTTP server', () => {
  it('serves GraphQL at /graphql on the given host and a free port', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
    expect(server.url).not.toMatch(/:0\//);
  });

  it('runs a mutation and a query over POST with the caller’s key', async () => {
    const created = await post({
      query: 'mutation($name: String!) { createGroup(input: { name: $name }) { id name } }',
      variables: { name: 'over http' },
    });
    expect(created.status).toBe(200);
    expect(created.headers.get('content-type')).toMatch(/^application\/json/);
    // One caller's data: no shared cache may keep it.
    expect(created.headers.get('cache-control')).toBe('no-store');
    const { data } = (await created.json()) as {
      data: { createGroup: { id: string; name: string } };
    };
    expect(data.createGroup.name).toBe('over http');

    const read = await post({ query: '{ groups { total items { id } } }' });
    expect(await read.json()).toEqual({
      data: { groups: { total: 1, items: [{ id: data.createGroup.id }] } },
    });

    const otherKey = await post(
      { query: '{ groups { total } }' },
      { authorization: 'Bearer other-key' },
    );
    expect(await otherKey.json()).toEqual({ data: { groups: { total: 0 } } });
  });

  it('runs a query over GET', async () => {
    const url = `${server.url}?query=${encodeURIComponent('{ groups(pageSize: 1) { pageSize } }')}`;
    const response = await fetch(url, {
      headers: { authorization: 'Bearer http-key', 'apollo-require-preflight': 'true' },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { groups: { pageSize: 1 } } });
  });

  it('answers UNAUTHENTICATED without a key', async () => {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ groups { total } }' }),
    });
    const body = (await response.json()) as { errors: Array<{ extensions: { code: string } }> };
    expect(body.errors[0]!.extensions.code).toBe('UNAUTHENTICATED');
  });

  it('refuses a body that is not JSON with 400 BAD_REQUEST', async () => {
    const response = await post('{ "query": ');
    expect(response.status).toBe(400);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.json()).toEqual({
      errors: [
        { message: 'The request body is not valid JSON.', extensions: { code: 'BAD_REQUEST' } },
      ],
    });
  });

  it('refuses a simple (CSRF-prone) request with 400 BAD_REQUEST', async () => {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ query: '{ groups { total } }' }),
    });
    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(/CSRF|content-type/i);
  });

  it('refuses bodies over 1 MiB with 413 and non-UTF-8 charsets with 415', async () => {
    const big = await post({ query: `{ groups { total } } #${'x'.repeat(1024 * 1024)}` });
    expect(big.status).toBe(413);
    expect(await big.json()).toEqual({
      errors: [
        {
          message: 'The request body is larger than 1048576 bytes.',
          extensions: { code: 'PAYLOAD_TOO_LARGE', maxBytes: 1048576 },
        },
      ],
    });
    const latin = await post(
      { query: '{ groups { total } }' },
      { 'content-type': 'application/json; charset=latin1' },
    );
    expect(latin.status).toBe(415);
  });

  it('answers 404 outside /graphql and 405 for other methods', async () => {
    // `/` is the web console now (test/integration/console-http.test.ts).
    const elsewhere = await fetch(server.url.replace('/graphql', '/nowhere'));
    expect(elsewhere.status).toBe(404);
    await elsewhere.text();
    const put = await fetch(server.url, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(put.status).toBe(405);
    await put.text();
  });

  it('matches the path exactly, and accepts a target in absolute form', async () => {
    const below = await post({ query: '{ groups { total } }' });
    expect(below.status).toBe(200);
    await below.text();
    const longer = await fetch(`${server.url}/more`, { method: 'POST' });
    expect(longer.status).toBe(404);
    await longer.text();
    // A proxy may send `POST http://host/graphql`: served like `/graphql`.
    const { statusCode, body } = await absoluteFormPost(server.url, '{ groups { total } }');
    expect(statusCode).toBe(200);
    expect(JSON.parse(body)).toEqual({ data: { groups: { total: expect.any(Number) } } });
  });

  it('masks unexpected errors over HTTP too, and logs them', async () => {
    const response = await post({ query: '{ assets { total } }' });
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).not.toContain('secret');
    expect(JSON.parse(text)).toEqual({
      data: null,
      errors: [
        {
          message: 'Internal server error.',
          locations: [{ line: 1, column: 3 }],
          path: ['assets'],
          extensions: { code: 'INTERNAL_SERVER_ERROR' },
        },
      ],
    });
    expect(logs.some((l) => l.level === 50 && l.err?.message.includes('secret.js'))).toBe(true);
  });
});

describe('createServer', () => {
  it('stops: the port closes and a second stop is harmless', async () => {
    const config = loadConfig({ PORT: '0', NODE_ENV: 'test' });
    const other = await createServer(config, {
      upstream: new SimulatorState(),
      logger: pino({ level: 'silent' }),
    });
    const ok = await fetch(other.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer k' },
      body: JSON.stringify({ query: '{ groups { total } }' }),
    });
    expect(ok.status).toBe(200);
    await ok.text();
    await other.stop();
    await other.stop();
    await expect(fetch(other.url)).rejects.toThrow();
  });

  it('tries extra handlers before GraphQL', async () => {
    const other = await createServer(loadConfig({ PORT: '0', NODE_ENV: 'test' }), {
      upstream: new SimulatorState(),
      logger: pino({ level: 'silent' }),
      handlers: [
        (req, res) => {
          if (req.url !== '/healthz') return false;
          res.end('ok');
          return true;
        },
      ],
    });
    try {
      expect(await (await fetch(other.url.replace('/graphql', '/healthz'))).text()).toBe('ok');
      const graphql = await fetch(other.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer k' },
        body: JSON.stringify({ query: '{ groups { total } }' }),
      });
      expect(await graphql.json()).toEqual({ data: { groups: { total: 0 } } });
    } finally {
      await other.stop();
    }
  });

  it('rejects when the port is taken', async () => {
    const port = new URL(server.url).port;
    await expect(
      createServer(loadConfig({ PORT: port, NODE_ENV: 'test' }), {
        upstream: new SimulatorState(),
        logger: pino({ level: 'silent' }),
      }),
    ).rejects.toThrow(/EADDRINUSE/);
  });
});
