/**
 * The HTTP edge's policies on a real server: CORS and CSRF, introspection and the landing page
 * by NODE_ENV or configuration, the per-client rate limit, and batches when allowed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { errorCodes, startTestGateway, type TestGateway } from '../helpers/http-gateway.js';

let gateway: TestGateway | undefined;
afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
});

const KEY = { authorization: 'Bearer security-test-key' };
const QUERY = JSON.stringify({ query: '{ groups { total } }' });

describe('CORS', () => {
  const APP = 'https://app.example.com';

  it('answers a listed origin’s preflight and requests, with the headers browsers need', async () => {
    gateway = await startTestGateway({ env: { CORS_ORIGINS: APP } });
    const preflight = await fetch(gateway.url, {
      method: 'OPTIONS',
      headers: {
        origin: APP,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type, authorization, x-evil',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(APP);
    expect(preflight.headers.get('access-control-allow-methods')).toBe('GET, POST, OPTIONS');
    expect(preflight.headers.get('access-control-allow-headers')).toBe(
      'content-type, authorization',
    );
    expect(preflight.headers.get('vary')).toBe('Origin');

    const actual = await gateway.post(QUERY, { ...KEY, origin: APP });
    expect(actual.status).toBe(200);
    expect(actual.headers.get('access-control-allow-origin')).toBe(APP);
    expect(actual.headers.get('access-control-expose-headers')).toContain('x-request-id');
    await actual.text();
  });

  it('refuses other origins (preflight and request) with 403 ORIGIN_NOT_ALLOWED, before any upstream call', async () => {
    gateway = await startTestGateway({ env: { CORS_ORIGINS: APP } });
    for (const method of ['OPTIONS', 'POST']) {
      const response = await fetch(gateway.url, {
        method,
        headers: {
          origin: 'https://evil.example.com',
          'content-type': 'application/json',
          ...KEY,
        },
        ...(method === 'POST' ? { body: QUERY } : {}),
      });
      expect(response.status).toBe(403);
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
      expect(errorCodes(await response.json())).toEqual(['ORIGIN_NOT_ALLOWED']);
    }
    expect(gateway.calls).toEqual([]);
  });

  it('by default allows same-origin pages and non-browser clients only', async () => {
    gateway = await startTestGateway();
    const same = await gateway.post(QUERY, { ...KEY, origin: gateway.origin });
    expect(same.status).toBe(200);
    await same.text();
    const noOrigin = await gateway.post(QUERY, KEY);
    expect(noOrigin.status).toBe(200);
    await noOrigin.text();
    const other = await gateway.post(QUERY, { ...KEY, origin: 'http://localhost:5173' });
    expect(other.status).toBe(403);
    await other.text();
    const nullOrigin = await gateway.post(QUERY, { ...KEY, origin: 'null' });
    expect(nullOrigin.status).toBe(403);
    await nullOrigin.text();
  });
});

describe('CSRF prevention (Apollo’s, kept on)', () => {
  it('refuses a simple text/plain POST and a GET without a preflight header', async () => {
    gateway = await startTestGateway();
    const textPlain = await gateway.post(QUERY, { ...KEY, 'content-type': 'text/plain' });
    expect(textPlain.status).toBe(400);
    expect(await textPlain.text()).toMatch(/CSRF/);
    const get = await fetch(`${gateway.url}?query=${encodeURIComponent('{ groups { total } }')}`, {
      headers: KEY,
    });
    expect(get.status).toBe(400);
    expect(await get.text()).toMatch(/CSRF/);
    expect(gateway.calls).toEqual([]);
  });

  it('refuses a mutation over GET even with the preflight header', async () => {
    gateway = await startTestGateway();
    const query = encodeURIComponent('mutation { createGroup(input: { name: "x" }) { id } }');
    const response = await fetch(`${gateway.url}?query=${query}`, {
      headers: { ...KEY, 'apollo-require-preflight': 'true' },
    });
    expect(response.status).toBe(405);
    expect(errorCodes(await response.json())).toEqual(['BAD_REQUEST']);
    expect(gateway.calls).toEqual([]);
  });
});

describe('introspection and the landing page', () => {
  const INTROSPECT = '{ __schema { queryType { name } } }';
  const html = (g: TestGateway) => fetch(g.url, { headers: { accept: 'text/html' } });

  it('are on outside production', async () => {
    gateway = await startTestGateway({ env: { NODE_ENV: 'development' } });
    expect((await gateway.gql(INTROSPECT)).body).toEqual({
      data: { __schema: { queryType: { name: 'Query' } } },
    });
    const page = await html(gateway);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    await page.text();
  });

  it('are off in production, without schema hints in errors', async () => {
    gateway = await startTestGateway({ env: { NODE_ENV: 'production' } });
    const introspection = await gateway.gql(INTROSPECT);
    expect(introspection.status).toBe(400);
    expect(errorCodes(introspection.body)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    const typo = await gateway.gql('{ grups { total } }', undefined, KEY);
    expect(typo.text).not.toMatch(/Did you mean/);
    const page = await html(gateway);
    expect(page.headers.get('content-type')).not.toMatch(/text\/html/);
    await page.text();
  });

  it('follow GRAPHQL_INTROSPECTION and GRAPHQL_LANDING_PAGE when set', async () => {
    gateway = await startTestGateway({
      env: { NODE_ENV: 'production', GRAPHQL_INTROSPECTION: 'true', GRAPHQL_LANDING_PAGE: 'true' },
    });
    expect((await gateway.gql(INTROSPECT)).status).toBe(200);
    const page = await html(gateway);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    await page.text();
  });
});

describe('the per-client rate limit', () => {
  it('answers 429 RATE_LIMITED with Retry-After once a client’s burst is spent, per client', async () => {
    gateway = await startTestGateway({
      env: { RATE_LIMIT_PER_MINUTE: '6', RATE_LIMIT_BURST: '2' },
    });
    for (let i = 0; i < 2; i++) {
      expect((await gateway.gql('{ groups { total } }', undefined, KEY)).status).toBe(200);
    }
    const limited = await gateway.post(QUERY, KEY);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('10');
    expect(await limited.json()).toEqual({
      errors: [
        {
          message: 'Too many requests; try again in 10 s.',
          extensions: { code: 'RATE_LIMITED', retryAfter: 10 },
        },
      ],
    });
    // Another key has its own bucket; requests without a key share one per address.
    const other = await gateway.gql('{ groups { total } }', undefined, {
      authorization: 'Bearer another-key',
    });
    expect(other.status).toBe(200);
    const metrics = await (await fetch(`${gateway.origin}/metrics`)).text();
    expect(metrics).toContain('graphql_errors_total{code="RATE_LIMITED"} 1');
  });

  it('is off with RATE_LIMIT_PER_MINUTE=0', async () => {
    gateway = await startTestGateway({
      env: { RATE_LIMIT_PER_MINUTE: '0', RATE_LIMIT_BURST: '1' },
    });
    for (let i = 0; i < 5; i++) {
      expect((await gateway.gql('{ __typename }', undefined, KEY)).status).toBe(200);
    }
  });
});

describe('batches', () => {
  it('are answered up to GRAPHQL_MAX_BATCH, each operation under the same limits', async () => {
    gateway = await startTestGateway({ env: { GRAPHQL_MAX_BATCH: '3' } });
    const ok = await gateway.post(
      [{ query: '{ groups { total } }' }, { query: '{ __typename }' }],
      KEY,
    );
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual([
      { data: { groups: { total: 0 } } },
      { data: { __typename: 'Query' } },
    ]);
    const four = await gateway.post(Array(4).fill({ query: '{ __typename }' }), KEY);
    expect(four.status).toBe(400);
    expect(errorCodes(await four.json())).toEqual(['BATCH_TOO_LARGE']);
    const deep = await gateway.post(
      [{ query: '{ __typename }' }, { query: `{ ${'a { '.repeat(100)}${'}'.repeat(100)} }` }],
      KEY,
    );
    expect(deep.status).toBe(400);
    expect(errorCodes(await deep.json())).toEqual(['QUERY_TOO_DEEP']);
  });
});
