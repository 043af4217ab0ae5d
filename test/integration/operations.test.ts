/**
 * Operations over a real server: /healthz, /readyz, /metrics per instance, request ids and
 * request logs (redacted), and a graceful stop that lets an in-flight request finish while
 * refusing new connections.
 */
import { get } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/observability/metrics.js';
import type { CallOptions, GroupQuery } from '../../src/upstream/port.js';
import { startTestGateway, type TestGateway } from '../helpers/http-gateway.js';

let gateways: TestGateway[] = [];
afterEach(async () => {
  await Promise.all(gateways.map((g) => g.stop()));
  gateways = [];
});

async function start(options: Parameters<typeof startTestGateway>[0] = {}) {
  const gateway = await startTestGateway(options);
  gateways.push(gateway);
  return gateway;
}

const KEY = { authorization: 'Bearer ops-secret-key-0123' };

/** GET /healthz on a connection of its own. */
function healthOnNewConnection(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/healthz', agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject);
  });
}

/** `connected`, or the error code of a TCP connect. */
function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
  });
}

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('/healthz and /readyz', () => {
  it('/healthz answers 200 while the process runs', async () => {
    const gateway = await start();
    const response = await fetch(`${gateway.origin}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('/readyz runs every check, and answers 503 listing them when one fails, throws or hangs', async () => {
    const ready = { redis: true };
    const gateway = await start({
      deps: {
        readiness: [
          { name: 'redis', check: async () => ready.redis },
          { name: 'upstream', check: async () => true },
        ],
      },
    });
    const ok = await fetch(`${gateway.origin}/readyz`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({
      status: 'ready',
      checks: [
        { name: 'redis', ok: true },
        { name: 'upstream', ok: true },
      ],
    });
    ready.redis = false;
    const down = await fetch(`${gateway.origin}/readyz`);
    expect(down.status).toBe(503);
    expect(await down.json()).toEqual({
      status: 'not ready',
      checks: [
        { name: 'redis', ok: false },
        { name: 'upstream', ok: true },
      ],
    });
  });

  it('counts a throwing check as not ready', async () => {
    const gateway = await start({
      deps: {
        readiness: [
          {
            name: 'broken',
            check: async () => {
              throw new Error('boom');
            },
          },
        ],
      },
    });
    const response = await fetch(`${gateway.origin}/readyz`);
    expect(response.status).toBe(503);
    expect(((await response.json()) as { checks: unknown }).checks).toEqual([
      { name: 'broken', ok: false },
    ]);
  });

  it('refuses other methods', async () => {
    const gateway = await start();
    const response = await fetch(`${gateway.origin}/healthz`, { method: 'POST' });
    expect(response.status).toBe(405);
    await response.text();
  });
});

describe('/metrics', () => {
  it('serves this instance’s registry: operations, errors, upstream calls and watcher gauges', async () => {
    const metrics = createMetrics();
    const gateway = await start({ deps: { metrics } });
    const other = await start();
    await gateway.gql('{ groups { total } }', undefined, KEY);
    await gateway.gql('mutation { createGroup(input: { name: "m" }) { id } }', undefined, KEY);
    await gateway.gql('{ groups { total } }');
    await gateway.gql('{ nope }', undefined, KEY);
    await gateway.post('{ "query": ', KEY).then((r) => r.text());
    metrics.upstream.observe('ListAssetGroups', 'ok', 0.012);
    metrics.watcher.track(() => ({ activeSubscriptions: 2, watchedAssets: 5 }));
    metrics.watcher.observePollCycle(0.3);

    const response = await fetch(`${gateway.origin}/metrics`);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
    for (const line of [
      'graphql_requests_total{operation_type="query"} 2',
      'graphql_requests_total{operation_type="mutation"} 1',
      // `{ nope }` fails validation before its type is known; the bad JSON never got that far.
      'graphql_requests_total{operation_type="unknown"} 2',
      'graphql_errors_total{code="UNAUTHENTICATED"} 1',
      'graphql_errors_total{code="GRAPHQL_VALIDATION_FAILED"} 1',
      'graphql_errors_total{code="BAD_REQUEST"} 1',
      'upstream_calls_total{action="ListAssetGroups",outcome="ok"} 1',
      'upstream_request_duration_seconds_count{action="ListAssetGroups"} 1',
      'active_subscriptions 2',
      'watched_assets 5',
      'poll_cycle_seconds_count 1',
    ]) {
      expect(text).toContain(line);
    }
    const otherText = await (await fetch(`${other.origin}/metrics`)).text();
    expect(otherText).not.toContain('operation_type="query"');
  });
});

describe('request ids and request logs', () => {
  it('echoes a sane x-request-id, replaces an odd one, and logs one redacted line per request', async () => {
    const gateway = await start();
    const given = await gateway.post(
      { query: '{ groups { total } }' },
      { ...KEY, 'x-request-id': 'req-123.abc' },
    );
    expect(given.headers.get('x-request-id')).toBe('req-123.abc');
    await given.text();
    const odd = await gateway.post(
      { query: '{ groups { total } }' },
      { ...KEY, 'x-request-id': 'a b\u00e9<script>' },
    );
    const generated = odd.headers.get('x-request-id');
    expect(generated).toMatch(/^[0-9a-f-]{36}$/);
    await odd.text();
    const health = await fetch(`${gateway.origin}/healthz?token=abc`);
    expect(health.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    await health.text();

    const lines = gateway.logs().filter((l) => l.msg === 'request');
    expect(lines[0]).toMatchObject({
      level: 30,
      reqId: 'req-123.abc',
      method: 'POST',
      path: '/graphql',
      status: 200,
      principal: expect.stringMatching(/^key:/),
      durationMs: expect.any(Number),
    });
    expect(lines[1]).toMatchObject({ reqId: generated });
    // Probes log at debug level, without their query string.
    expect(lines[2]).toMatchObject({ level: 20, path: '/healthz', status: 200 });
    expect(gateway.logText()).not.toContain('ops-secret-key-0123');
    expect(gateway.logText()).not.toContain('token=abc');
  });
});

describe('graceful stop', () => {
  it('lets an in-flight request finish, and refuses new connections meanwhile', async () => {
    const started = deferred();
    const release = deferred();
    const gateway = await start({
      overrides: {
        // A slow upstream: the request stays in flight until released.
        listGroups: async function (this: unknown, opts: CallOptions, query: GroupQuery) {
          started.resolve();
          await release.promise;
          return { items: [], total: 42, page: query.page, pageSize: query.pageSize };
        },
      },
    });
    gateways = []; // stopped here, not in afterEach
    const inFlight = gateway.gql('{ groups { total } }', undefined, KEY);
    await started.promise;

    const stopped = gateway.stop();
    let stopDone = false;
    void stopped.then(() => (stopDone = true));
    const port = Number(new URL(gateway.url).port);
    // A new request is never served: reset (accepted just before the close) or refused.
    await expect(healthOnNewConnection(port)).rejects.toThrow(/ECONNRESET|ECONNREFUSED|hang up/);
    let outcome = '';
    for (let i = 0; i < 100 && outcome !== 'ECONNREFUSED'; i++) outcome = await tryConnect(port);
    expect(outcome).toBe('ECONNREFUSED');
    expect(stopDone).toBe(false);

    release.resolve();
    const answer = await inFlight;
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ data: { groups: { total: 42 } } });
    await stopped;
  });

  it('with SHUTDOWN_DELAY_MS, reports not ready at once and serves as usual until the drain', async () => {
    const gateway = await start({ env: { SHUTDOWN_DELAY_MS: '600' } });
    gateways = [];
    const port = Number(new URL(gateway.url).port);
    const readyz = () =>
      new Promise<number>((resolve, reject) => {
        get({ host: '127.0.0.1', port, path: '/readyz', agent: false }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        }).on('error', reject);
      });
    expect(await readyz()).toBe(200);
    const before = Date.now();
    const stopped = gateway.stop();
    // A load balancer still sending here meets a new connection served, and learns from /readyz.
    expect(await readyz()).toBe(503);
    expect(await healthOnNewConnection(port)).toBe(200);
    const answer = await gateway.gql('{ groups { total } }', undefined, KEY);
    expect(answer.status).toBe(200);
    await stopped;
    expect(Date.now() - before).toBeGreaterThanOrEqual(550);
    expect(await tryConnect(port)).toBe('ECONNREFUSED');
  });

  it('closes connections still open after SHUTDOWN_TIMEOUT_MS', async () => {
    const started = deferred();
    const gateway = await start({
      env: { SHUTDOWN_TIMEOUT_MS: '200' },
      overrides: {
        listGroups: async () => {
          started.resolve();
          return new Promise(() => {}); // never answers
        },
      },
    });
    gateways = [];
    const inFlight = gateway.gql('{ groups { total } }', undefined, KEY).then(
      () => 'answered',
      () => 'cut',
    );
    await started.promise;
    const before = Date.now();
    await gateway.stop();
    expect(Date.now() - before).toBeLessThan(5000);
    expect(await inFlight).toBe('cut');
  });
});
