/**
 * How the gateway serves the console and GraphiQL over HTTP: on by default outside production,
 * off in it unless enabled, a strict CSP, only bundled files under /assets/, and a landing page
 * at /graphql that points to both instead of a CDN.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Client, fetchExchange, gql } from '@urql/core';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CONSOLE_CSP,
  GRAPHIQL_CSP,
  GRAPHIQL_META,
  createConsoleHandler,
} from '../../src/web/console.js';
import { errorCodes, startTestGateway, type TestGateway } from '../helpers/http-gateway.js';

let gateway: TestGateway | undefined;
afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
});

const get = (g: TestGateway, path: string, headers: Record<string, string> = {}) =>
  fetch(`${g.origin}${path}`, { headers });

describe('where the console and GraphiQL are served', () => {
  it('serves both outside production, each page under its CSP, with its bundled files', async () => {
    gateway = await startTestGateway({ env: { NODE_ENV: 'development' } });
    const page = await get(gateway, '/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    const html = await page.text();
    const script = /<script type="module" crossorigin src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    // How the console knows to link to GraphiQL.
    expect(html).toContain(`<meta name="${GRAPHIQL_META}" content="/graphiql">\n</head>`);
    const bundle = await get(gateway, script!);
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(bundle.headers.get('cache-control')).toContain('immutable');
    await bundle.arrayBuffer();

    const graphiql = await get(gateway, '/graphiql');
    expect(graphiql.status).toBe(200);
    expect(graphiql.headers.get('content-security-policy')).toBe(GRAPHIQL_CSP);
    expect(await graphiql.text()).toContain('<div id="graphiql">');
  });

  it('serves neither in production unless enabled', async () => {
    gateway = await startTestGateway({ env: { NODE_ENV: 'production' } });
    for (const path of ['/', '/graphiql']) {
      const response = await get(gateway, path, { accept: 'text/html' });
      expect(response.status).toBe(404);
      expect(response.headers.get('content-type')).not.toMatch(/text\/html/);
      await response.text();
    }
    const landing = await get(gateway, '/graphql', { accept: 'text/html' });
    expect(landing.headers.get('content-type')).not.toMatch(/text\/html/);
    await landing.text();
  });

  it('serves the console in production with CONSOLE_ENABLED, GraphiQL with GRAPHQL_LANDING_PAGE', async () => {
    gateway = await startTestGateway({ env: { NODE_ENV: 'production', CONSOLE_ENABLED: 'true' } });
    const page = await get(gateway, '/');
    expect(page.status).toBe(200);
    // So the console shows no link to GraphiQL.
    expect(await page.text()).not.toContain(GRAPHIQL_META);
    expect((await get(gateway, '/graphiql')).status).toBe(404);
    // A browser that opens /graphql is pointed to the console, not shown a CSRF error.
    const landing = await get(gateway, '/graphql', { accept: 'text/html' });
    expect(landing.headers.get('content-type')).toMatch(/^text\/html/);
    const links = await landing.text();
    expect(links).toContain('<a href="/">The console</a>');
    expect(links).not.toContain('/graphiql');
    await gateway.stop();
    gateway = await startTestGateway({
      env: { NODE_ENV: 'production', GRAPHQL_LANDING_PAGE: 'true' },
    });
    expect((await get(gateway, '/')).status).toBe(404);
    expect((await get(gateway, '/graphiql')).status).toBe(200);
    const onlyGraphiql = await (await get(gateway, '/graphql', { accept: 'text/html' })).text();
    expect(onlyGraphiql).toContain('<a href="/graphiql">GraphiQL</a>');
    expect(onlyGraphiql).not.toContain('The console');
  });

  it('points a browser that opens /graphql to GraphiQL and the console, with nothing from a CDN', async () => {
    gateway = await startTestGateway({ env: { NODE_ENV: 'development' } });
    const page = await get(gateway, '/graphql', { accept: 'text/html' });
    const html = await page.text();
    expect(html).toContain('<a href="/graphiql">GraphiQL</a>');
    expect(html).toContain('<a href="/">The console</a>');
    expect(html).not.toMatch(/https?:\/\//);
  });

  it('no longer lets Apollo Sandbox’s origin call the API', async () => {
    gateway = await startTestGateway({ env: { NODE_ENV: 'development' } });
    const response = await gateway.post(JSON.stringify({ query: '{ groups { total } }' }), {
      origin: 'https://sandbox.embed.apollographql.com',
      authorization: 'Bearer console-http-key',
    });
    expect(response.status).toBe(403);
    expect(errorCodes(await response.json())).toEqual(['ORIGIN_NOT_ALLOWED']);
  });
});

describe('urql against the CSRF protection (README "urql")', () => {
  const GROUPS = gql`
    query {
      groups {
        total
      }
    }
  `;
  const client = (url: string, preferGetMethod?: false) =>
    new Client({
      url,
      exchanges: [fetchExchange],
      fetchOptions: { headers: { authorization: 'Bearer console-urql-key' } },
      ...(preferGetMethod === false ? { preferGetMethod } : {}),
    });

  it('refuses urql’s default GET for queries, and answers JSON POSTs', async () => {
    gateway = await startTestGateway({ env: { NODE_ENV: 'development' } });
    const byDefault = await client(gateway.url).query(GROUPS, {}).toPromise();
    expect(byDefault.error?.graphQLErrors.map((e) => e.extensions['code'])).toEqual([
      'BAD_REQUEST',
    ]);
    const configured = await client(gateway.url, false).query(GROUPS, {}).toPromise();
    expect(configured.error).toBeUndefined();
    expect(configured.data).toEqual({ groups: { total: 0 } });
  });
});

describe('the console handler', () => {
  let server: Server | undefined;
  let root: string | undefined;
  afterEach(async () => {
    await new Promise((resolve) => server?.close(resolve));
    if (root) await rm(root, { recursive: true, force: true });
    server = undefined;
    root = undefined;
  });

  async function serve(files: Record<string, string>): Promise<string> {
    root = await mkdtemp(join(tmpdir(), 'console-root-'));
    await mkdir(join(root, 'assets'));
    for (const [name, body] of Object.entries(files)) await writeFile(join(root, name), body);
    const handler = createConsoleHandler({
      console: true,
      graphiql: true,
      root,
      logger: pino({ level: 'silent' }),
    });
    server = createServer((req, res) => {
      if (!handler(req, res)) res.writeHead(418).end();
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it('serves only plain file names under /assets/, and leaves other paths to the next handler', async () => {
    const base = await serve({
      'index.html': '<p>console</p>',
      'assets/app-1a2b.js': 'export {}',
      'secret.txt': 'no',
    });
    expect(await (await fetch(`${base}/assets/app-1a2b.js`)).text()).toBe('export {}');
    expect((await fetch(`${base}/assets/missing-1.js`)).status).toBe(404);
    for (const path of ['/assets/..%2Fsecret.txt', '/assets/%2e%2e/secret.txt', '/assets/.env']) {
      expect((await fetch(`${base}${path}`)).status).toBe(418);
    }
    expect((await fetch(`${base}/graphql`)).status).toBe(418);
    expect((await fetch(`${base}/`, { method: 'POST' })).status).toBe(405);
    const head = await fetch(`${base}/`, { method: 'HEAD' });
    expect([head.status, head.headers.get('content-length')]).toEqual([200, '14']);
  });

  it('says how to build the console when it is not built', async () => {
    const base = await serve({});
    const response = await fetch(`${base}/`);
    expect(response.status).toBe(503);
    expect(await response.text()).toContain('npm run build');
  });
});
