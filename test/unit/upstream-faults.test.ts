/**
 * The Ark client against scripted `node:http` upstreams on port 0: resets, slow headers, slow
 * bodies, 5xx and 429 with `Retry-After`, broken bodies, and creates whose outcome is unknown.
 * Each case ends in the right typed error (or a correct retry) within its deadline, and the
 * next call on the same client succeeds. Retry waits go through an injected sleep that records
 * them, so `Retry-After: 2` is asserted without waiting two seconds.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createArkClient,
  type ArkClient,
  type ArkClientOptions,
} from '../../src/upstream/ark/client.js';
import { UpstreamError } from '../../src/upstream/errors.js';
import {
  DEFAULT_RATE_LIMITS,
  type ArkAction as UpstreamAction,
} from '../../src/upstream/ark/actions.js';
import { freePort } from '../helpers/prism.js';

const KEY = 'sk-fault-test-SECRET-9f8e7d6c5b4a';
const opts = { credential: KEY };
const ASSET = 'asset-20260602153901-x7k2m';
const TIMEOUT_MS = 1_000;
/** Slack for timers and the event loop when asserting "within the deadline". */
const MARGIN_MS = 300;

const NO_PACING = Object.fromEntries(
  Object.keys(DEFAULT_RATE_LIMITS).map((action) => [action, null]),
) as Record<UpstreamAction, null>;

const meta = (action: string) => ({ RequestId: `req-${action}`, Action: action });
const ASSET_OK = {
  ResponseMetadata: meta('GetAsset'),
  Result: {
    Id: ASSET,
    Name: 'full-body',
    AssetType: 'Image',
    GroupId: 'group-20260602153837-5vm6c',
    Status: 'Active',
    CreateTime: '2026-06-02T07:39:01Z',
    UpdateTime: 1_780_000_000,
  },
};
const CREATED = { ResponseMetadata: meta('CreateAsset'), Result: { Id: 'asset-new' } };
const EMPTY = { ResponseMetadata: meta('Update'), Result: {} };

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}
type Script = (call: number, req: IncomingMessage, res: ServerResponse) => void;

interface Upstream {
  url: string;
  seen: Seen[];
  close(): Promise<void>;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A scripted upstream: `script(call++)` decides what each request gets. */
async function scripted(script: Script): Promise<Upstream> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      script(seen.length - 1, req, res);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const upstream: Upstream = {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  cleanups.push(upstream.close);
  return upstream;
}

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

const error = (code: string, message = `${code} happened`) => ({
  ResponseMetadata: { ...meta('GetAsset'), Error: { Code: code, Message: message } },
});

let sleeps: number[] = [];
function client(url: string, overrides: Partial<ArkClientOptions> = {}): ArkClient {
  sleeps = [];
  const created = createArkClient({
    baseUrl: url,
    timeoutMs: TIMEOUT_MS,
    connectTimeoutMs: 300,
    headersTimeoutMs: 300,
    bodyTimeoutMs: 300,
    rateLimits: NO_PACING,
    sleep: async (ms) => void sleeps.push(ms),
    ...overrides,
  });
  cleanups.push(() => created.close());
  return created;
}

async function failure(
  promise: Promise<unknown>,
): Promise<{ error: UpstreamError; elapsed: number }> {
  const started = performance.now();
  const error = await promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
  const elapsed = performance.now() - started;
  expect(error).toBeInstanceOf(UpstreamError);
  return { error: error as UpstreamError, elapsed };
}

describe('reads retry what a retry can cure', () => {
  it('a connection reset, then 200: retried once, succeeds', async () => {
    const upstream = await scripted((call, req, res) => {
      if (call === 0) req.socket.destroy();
      else json(res, 200, ASSET_OK);
    });
    const api = client(upstream.url);
    await expect(api.getAsset(opts, ASSET)).resolves.toMatchObject({ id: ASSET, status: 'ACTIVE' });
    expect(upstream.seen).toHaveLength(2);
    expect(sleeps).toHaveLength(1);
  });

  it('503, then 200: retried with backoff, succeeds', async () => {
    const upstream = await scripted((call, _req, res) => {
      if (call === 0) json(res, 503, error('ServiceUnavailable'));
      else json(res, 200, ASSET_OK);
    });
    const api = client(upstream.url, { random: () => 0 });
    await expect(api.getAsset(opts, ASSET)).resolves.toMatchObject({ id: ASSET });
    expect(sleeps).toEqual([50]);
  });

  it('429 with Retry-After: 2, then 200: the retry waits at least 2 s', async () => {
    const upstream = await scripted((call, _req, res) => {
      if (call === 0) json(res, 429, error('Throttling'), { 'retry-after': '2' });
      else json(res, 200, ASSET_OK);
    });
    const api = client(upstream.url, { timeoutMs: 10_000 });
    await expect(api.getAsset(opts, ASSET)).resolves.toMatchObject({ id: ASSET });
    expect(sleeps).toHaveLength(1);
    expect(sleeps[0]).toBeGreaterThanOrEqual(2_000);
  });

  it('429 whose Retry-After passes the deadline: RATE_LIMITED at once, with retryAfter', async () => {
    const upstream = await scripted((call, _req, res) => {
      if (call === 0) json(res, 429, error('Throttling'), { 'retry-after': '30' });
      else json(res, 200, ASSET_OK);
    });
    const api = client(upstream.url);
    const { error: rejected } = await failure(api.getAsset(opts, ASSET));
    expect(rejected).toMatchObject({ code: 'RATE_LIMITED', retryAfter: 30, status: 429 });
    expect(sleeps).toEqual([]);
    expect(upstream.seen).toHaveLength(1);
    await expect(api.getAsset(opts, ASSET)).resolves.toMatchObject({ id: ASSET });
  });

  it('persistent 503: gives up after the bounded attempts', async () => {
    const upstream = await scripted((call, _req, res) => {
      if (call < 3) json(res, 503, error('ServiceUnavailable'));
      else json(res, 200, ASSET_OK);
    });
    const api = client(upstream.url);
    const { error: rejected } = await failure(api.getAsset(opts, ASSET));
    expect(rejected).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', status: 503 });
    expect(upstream.seen).toHaveLength(3);
    await expect(api.getAsset(opts, ASSET)).resolves.toMatchObject({ id: ASSET });
  });
});

describe('timeouts end within the deadline', () => {
  it('slow headers: UPSTREAM_TIMEOUT, not retried', async () => {
    const upstream = await scripted((call, _req, res) => {
      if (call > 0) json(res, 200, ASSET_OK);
      // call 0: never answers
    });
    const api = client(upstream.url);
    const { error: rejected, elapsed } = await failure(api.getAsset(opts, ASSET));
    expect(rejected.code).toBe('UPSTREAM_TIMEOUT');
    expect(elapsed).toBeLessThan(TIMEOUT_MS + MARGIN_MS);
    expect(upstream.seen).toHaveLength(1);
    await expect(api.getAsset(opts, ASSET)).resolves.toMatchObject({ id: ASSET });
  });

  it('slow body: UPSTREAM_TIMEOUT', async () => {
    const upstream = await scripted((call, _req, res) => {
      if (call > 0) return json(res, 200, ASSET_OK);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"ResponseMetadata":');
    });
    const api = client(upstream.url);
    const { error: rejected, elapsed } = await failure(api.getAsset(opts, ASSET));
    expect(rejected.code).toBe('UPSTREAM_TIMEOUT');
    expect(elapsed).toBeLessThan(TIMEOUT_MS + MARGIN_MS);
    await expect(api.getAsset(opts, ASSET)).resolves.toMatchObject({ id: ASSET });
  });

  it('the overall deadline cuts a call that undici would still wait for', async () => {
    const upstream = await scripted((call, _req, res) => {
      if (call > 0) json(res, 200, ASSET_OK);
    });
    const api = client(upstream.url, { timeoutMs: 250, headersTimeoutMs: 60_000 });
    const { error: rejected, elapsed } = await failure(api.getAsset(opts, ASSET));
    expect(rejected).toMatchObject({
      code: 'UPSTREAM_TIMEOUT',
      message: 'GetAsset did not complete within 250 ms.',
    });
    expect(elapsed).toBeGreaterThanOrEqual(240);
    expect(elapsed).toBeLessThan(250 + MARGIN_MS);
    await expect(api.getAsset(opts, ASSET)).resolves.toMatchObject({ id: ASSET });
  });

  it("the caller's signal cancels a call", async () => {
    const upstream = await scripted((call, _req, res) => {
      if (call > 0) json(res, 200, ASSET_OK);
    });
    const api = client(upstream.url, { headersTimeoutMs: 60_000 });
    const { error: rejected, elapsed } = await failure(
      api.getAsset({ ...opts, signal: AbortSignal.timeout(50) }, ASSET),
    );
    expect(rejected).toMatchObject({
      code: 'UPSTREAM_TIMEOUT',
      message: 'GetAsset was cancelled by the caller.',
    });
    expect(elapsed).toBeLessThan(50 + MARGIN_MS);
    await expect(api.getAsset(opts, ASSET)).resolves.toMatchObject({ id: ASSET });
  });
});

describe('bodies that break the contract are UPSTREAM_BAD_RESPONSE', () => {
  it.each([
    ['malformed JSON', (res: ServerResponse) => res.end('{"ResponseMetadata": {'), /not JSON/],
    [
      'the wrong shape',
      (res: ServerResponse) =>
        json(res, 200, { ...ASSET_OK, Result: { ...ASSET_OK.Result, Status: 'Done' } }),
      /\/Result\/Status must be equal to one of the allowed values/,
    ],
    [
      'no Result',
      (res: ServerResponse) => json(res, 200, { ResponseMetadata: meta('GetAsset') }),
      /must have required property 'Result'/,
    ],
  ])('%s', async (_name, answer, message) => {
    const upstream = await scripted((call, _req, res) =>
      call === 0 ? answer(res) : json(res, 200, ASSET_OK),
    );
    const api = client(upstream.url);
    const { error: rejected } = await failure(api.getAsset(opts, ASSET));
    expect(rejected).toMatchObject({
      code: 'UPSTREAM_BAD_RESPONSE',
      status: 200,
      action: 'GetAsset',
    });
    expect(rejected.message).toMatch(message);
    expect(upstream.seen).toHaveLength(1);
    await expect(api.getAsset(opts, ASSET)).resolves.toMatchObject({ id: ASSET });
  });

  it.each([
    ['declared by Content-Length', true],
    ['streamed without a length', false],
  ])('an oversized body, %s', async (_name, declared) => {
    const big = JSON.stringify({
      ...ASSET_OK,
      Result: { ...ASSET_OK.Result, Name: 'x'.repeat(8_000) },
    });
    const upstream = await scripted((call, _req, res) => {
      if (call > 0) return json(res, 200, ASSET_OK);
      res.writeHead(200, {
        'content-type': 'application/json',
        ...(declared ? { 'content-length': String(Buffer.byteLength(big)) } : {}),
      });
      for (let i = 0; i < big.length; i += 1_000) res.write(big.slice(i, i + 1_000));
      res.end();
    });
    const api = client(upstream.url, { maxResponseBytes: 2_048 });
    const { error: rejected } = await failure(api.getAsset(opts, ASSET));
    expect(rejected).toMatchObject({
      code: 'UPSTREAM_BAD_RESPONSE',
      message: 'GetAsset answered a body larger than 2048 bytes.',
    });
    await expect(api.getAsset(opts, ASSET)).resolves.toMatchObject({ id: ASSET });
  });

  it('an Error inside a 200 envelope is mapped by its code', async () => {
    const upstream = await scripted((_call, _req, res) =>
      json(res, 200, error('NotFound.asset_id')),
    );
    const { error: rejected } = await failure(client(upstream.url).getAsset(opts, ASSET));
    expect(rejected).toMatchObject({
      code: 'NOT_FOUND',
      upstreamCode: 'NotFound.asset_id',
      status: 200,
    });
  });
});

describe('creates are never repeated once they may have arrived', () => {
  const input = {
    groupId: 'group-1',
    url: 'https://cdn.example.com/a.jpg',
    type: 'IMAGE' as const,
  };

  it('a create that times out: one request, outcomeUnknown', async () => {
    const upstream = await scripted((call, _req, res) => {
      if (call > 0) json(res, 200, CREATED);
    });
    const api = client(upstream.url);
    const { error: rejected, elapsed } = await failure(api.createAsset(opts, input));
    expect(rejected).toMatchObject({
      code: 'UPSTREAM_TIMEOUT',
      outcomeUnknown: true,
      action: 'CreateAsset',
    });
    expect(rejected.message).toMatch(/may have taken effect/);
    expect(elapsed).toBeLessThan(TIMEOUT_MS + MARGIN_MS);
    expect(upstream.seen).toHaveLength(1);
    expect(sleeps).toEqual([]);
    await expect(api.createAsset(opts, input)).resolves.toEqual({ id: 'asset-new' });
    expect(upstream.seen).toHaveLength(2);
  });

  it('a create whose connection is reset after sending: one request, outcomeUnknown', async () => {
    const upstream = await scripted((call, req, res) => {
      if (call === 0) req.socket.destroy();
      else json(res, 200, CREATED);
    });
    const api = client(upstream.url);
    const { error: rejected } = await failure(api.createGroup(opts, { name: 'mascot' }));
    expect(rejected).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', outcomeUnknown: true });
    expect(upstream.seen).toHaveLength(1);
  });

  it('a create that answers 502: outcomeUnknown, not retried', async () => {
    const upstream = await scripted((_call, _req, res) => json(res, 502, {}));
    const { error: rejected } = await failure(client(upstream.url).createAsset(opts, input));
    expect(rejected).toMatchObject({
      code: 'UPSTREAM_UNAVAILABLE',
      outcomeUnknown: true,
      status: 502,
    });
    expect(upstream.seen).toHaveLength(1);
  });

  it('a create that answers 200 with a broken body: outcomeUnknown', async () => {
    const upstream = await scripted((_call, _req, res) =>
      json(res, 200, { ResponseMetadata: meta('CreateAsset'), Result: {} }),
    );
    const { error: rejected } = await failure(client(upstream.url).createAsset(opts, input));
    expect(rejected).toMatchObject({ code: 'UPSTREAM_BAD_RESPONSE', outcomeUnknown: true });
  });

  it('a connect error before anything was sent is retried, and the outcome is known', async () => {
    const port = await freePort(); // nothing listens there
    const api = client(`http://127.0.0.1:${port}`);
    const { error: rejected, elapsed } = await failure(api.createAsset(opts, input));
    expect(rejected).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', outcomeUnknown: false });
    expect(rejected.message).toContain('ECONNREFUSED');
    expect(sleeps).toHaveLength(2); // three attempts
    expect(elapsed).toBeLessThan(TIMEOUT_MS + MARGIN_MS);
  });

  it('429 on a create is retried after Retry-After (nothing was done)', async () => {
    const upstream = await scripted((call, _req, res) => {
      if (call === 0) json(res, 429, error('Throttling'), { 'retry-after': '1' });
      else json(res, 200, CREATED);
    });
    const api = client(upstream.url, { timeoutMs: 5_000 });
    await expect(api.createAsset(opts, input)).resolves.toEqual({ id: 'asset-new' });
    expect(sleeps[0]).toBeGreaterThanOrEqual(1_000);
  });

  it('⑫ is not retried on 503, and a reset leaves its outcome unknown', async () => {
    const upstream = await scripted((call, req, res) => {
      if (call === 0) json(res, 503, error('ServiceUnavailable'));
      else if (call === 1) req.socket.destroy();
      else json(res, 200, { ResponseMetadata: meta('X'), Result: { GroupId: 'group-real' } });
    });
    const api = client(upstream.url);
    expect((await failure(api.completeVerification(opts, 'token'))).error).toMatchObject({
      code: 'UPSTREAM_UNAVAILABLE',
      outcomeUnknown: false,
    });
    expect((await failure(api.completeVerification(opts, 'token'))).error).toMatchObject({
      outcomeUnknown: true,
    });
    expect(upstream.seen).toHaveLength(2);
    await expect(api.completeVerification(opts, 'token')).resolves.toEqual({
      status: 'VERIFIED',
      groupId: 'group-real',
    });
  });
});

describe('updates and deletes are idempotent by id', () => {
  it('an update is retried after 503', async () => {
    const upstream = await scripted((call, _req, res) =>
      call === 0 ? json(res, 503, error('ServiceUnavailable')) : json(res, 200, EMPTY),
    );
    await expect(
      client(upstream.url).updateAsset(opts, ASSET, { name: 'n' }),
    ).resolves.toBeUndefined();
    expect(upstream.seen).toHaveLength(2);
  });

  it('a delete whose first answer was lost, then NOT_FOUND, is done', async () => {
    const upstream = await scripted((call, req, res) => {
      if (call === 0) req.socket.destroy();
      else json(res, 404, error('NotFound.asset_id'));
    });
    await expect(client(upstream.url).deleteAsset(opts, ASSET)).resolves.toBeUndefined();
    expect(upstream.seen).toHaveLength(2);
  });

  it('a plain NOT_FOUND on delete is still NOT_FOUND', async () => {
    const upstream = await scripted((_call, _req, res) =>
      json(res, 404, error('NotFound.group_id')),
    );
    const { error: rejected } = await failure(client(upstream.url).deleteGroup(opts, 'group-x'));
    expect(rejected.code).toBe('NOT_FOUND');
  });
});

describe('requests', () => {
  it('carry the key, and the client’s model in the query for GET/DELETE and in the body for POST/PATCH', async () => {
    const upstream = await scripted((_call, req, res) =>
      json(res, 200, req.method === 'GET' ? ASSET_OK : req.method === 'POST' ? CREATED : EMPTY),
    );
    const api = client(`${upstream.url}/gateway/`, { model: 'doubao-seedance-2-0-fast-260128' });
    await api.getAsset(opts, 'asset/with space');
    await api.deleteAsset(opts, ASSET);
    await api.createGroup(opts, { name: 'n' });
    await api.updateGroup(opts, 'group-1', { description: 'd' });
    // Built without one, a client sends the default model.
    await client(`${upstream.url}/gateway/`).deleteAsset(opts, ASSET);

    const [get, del, post, patch, defaultDel] = upstream.seen;
    expect(get).toMatchObject({
      method: 'GET',
      url: '/gateway/v1/private-avatar/assets/asset%2Fwith%20space?model=doubao-seedance-2-0-fast-260128',
      body: '',
    });
    expect(get!.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(del).toMatchObject({
      method: 'DELETE',
      url: `/gateway/v1/private-avatar/assets/${ASSET}?model=doubao-seedance-2-0-fast-260128`,
    });
    expect(defaultDel).toMatchObject({
      method: 'DELETE',
      url: `/gateway/v1/private-avatar/assets/${ASSET}?model=doubao-seedance-2-0-260128`,
    });
    expect(post!.url).toBe('/gateway/v1/private-avatar/groups');
    expect(JSON.parse(post!.body)).toEqual({
      model: 'doubao-seedance-2-0-fast-260128',
      Name: 'n',
      GroupType: 'AIGC',
    });
    expect(patch!.method).toBe('PATCH');
    expect(JSON.parse(patch!.body)).toEqual({
      model: 'doubao-seedance-2-0-fast-260128',
      Id: 'group-1',
      Description: 'd',
    });
  });

  it('an empty credential fails UNAUTHENTICATED without a request', async () => {
    const upstream = await scripted((_call, _req, res) => json(res, 200, ASSET_OK));
    const { error: rejected } = await failure(
      client(upstream.url).getAsset({ credential: '' }, ASSET),
    );
    expect(rejected.code).toBe('UNAUTHENTICATED');
    expect(upstream.seen).toHaveLength(0);
  });

  it('a base URL carrying credentials is refused without echoing them', () => {
    expect(() => createArkClient({ baseUrl: `https://u:${KEY}@gw.example.com` })).toThrow(
      /must not carry credentials/,
    );
    try {
      createArkClient({ baseUrl: `https://gw.example.com/?key=${KEY}` });
    } catch (thrown) {
      expect(String(thrown)).not.toContain(KEY);
    }
  });
});

describe('secrets', () => {
  it('never appear in errors or logs, whatever the upstream echoes', async () => {
    const upstream = await scripted((call, req, res) => {
      if (call === 0)
        json(res, 503, error('ServiceUnavailable', `try again, ${req.headers.authorization}`));
      else if (call === 1) req.socket.destroy();
      else json(res, 401, error('Unauthorized', `Invalid API key ${KEY}`));
    });
    const lines: string[] = [];
    const logger = {
      warn: (fields: object, message: string) => void lines.push(JSON.stringify(fields) + message),
      debug: (fields: object, message: string) => void lines.push(JSON.stringify(fields) + message),
    };
    const { error: rejected } = await failure(
      client(upstream.url, { logger }).getAsset(opts, ASSET),
    );
    expect(rejected.code).toBe('UNAUTHENTICATED');
    expect(lines.length).toBeGreaterThan(0);
    for (const text of [
      ...lines,
      JSON.stringify(rejected),
      String(rejected),
      rejected.stack ?? '',
      inspect(rejected, { depth: 10 }),
    ]) {
      expect(text).not.toContain(KEY);
    }
  });
});

describe('pacing', () => {
  it('spreads a burst over the rate instead of sending it (injected clock)', async () => {
    const upstream = await scripted((_call, _req, res) => json(res, 200, ASSET_OK));
    let now = 0;
    const api = client(upstream.url, {
      timeoutMs: 5_000,
      now: () => now,
      // Concurrent sleepers all started at the same virtual instant: the clock moves on only
      // after every call of the burst has taken its slot, as it would in real time.
      sleep: async (ms) => {
        const start = now;
        sleeps.push(ms);
        await new Promise((resolve) => setImmediate(resolve));
        now = Math.max(now, start + ms);
      },
      rateLimits: { ...NO_PACING, GetAsset: { requests: 2, per: 'second' } },
    });
    const waits = sleeps;
    await Promise.all(Array.from({ length: 5 }, () => api.getAsset(opts, ASSET)));
    expect(upstream.seen).toHaveLength(5);
    expect([...waits].sort((a, b) => a - b)).toEqual([500, 1_000, 1_500]);
    expect(now).toBe(1_500);
    // Another credential has its own bucket.
    waits.length = 0;
    await api.getAsset({ credential: 'another-key' }, ASSET);
    expect(waits).toEqual([]);
  });

  it('fails RATE_LIMITED without a request when the next slot is past the deadline', async () => {
    const upstream = await scripted((_call, _req, res) => json(res, 200, CREATED));
    const api = client(upstream.url, {
      rateLimits: { CreateAsset: { requests: 3, per: 'minute' } },
    });
    const input = { groupId: 'g', url: 'https://cdn.example.com/a.jpg', type: 'IMAGE' as const };
    for (let i = 0; i < 3; i++) await api.createAsset(opts, input);
    const { error: rejected, elapsed } = await failure(api.createAsset(opts, input));
    expect(rejected).toMatchObject({ code: 'RATE_LIMITED', action: 'CreateAsset' });
    expect(rejected.retryAfter).toBeGreaterThanOrEqual(19);
    expect(rejected.status).toBeUndefined();
    expect(elapsed).toBeLessThan(MARGIN_MS);
    expect(upstream.seen).toHaveLength(3);
  });
});

describe('tolerated upstream variants pass the runtime check', () => {
  it('② with TotalCount (or no count) and Unix-second times', async () => {
    const item = { Id: 'ag_1', Name: 'n', GroupType: 'LivenessFace', CreateTime: 1_780_000_000 };
    const upstream = await scripted((call, _req, res) =>
      json(res, 200, {
        ResponseMetadata: meta('ListAssetGroups'),
        Result: call === 0 ? { TotalCount: 1, Items: [item] } : { Items: [item] },
      }),
    );
    const api = client(upstream.url);
    await expect(api.listGroups(opts, { page: 1, pageSize: 10 })).resolves.toMatchObject({
      total: 1,
      items: [{ id: 'ag_1', kind: 'REAL', createdAt: new Date(1_780_000_000_000) }],
    });
    await expect(api.listGroups(opts, { page: 1, pageSize: 10 })).resolves.toMatchObject({
      total: 1,
    });
  });

  it('⑪ with a \\u0026-escaped H5 link; ⑪ without a link is UPSTREAM_BAD_RESPONSE', async () => {
    const upstream = await scripted((call, _req, res) =>
      json(res, 200, {
        ResponseMetadata: meta('CreateVisualValidateSession'),
        Result:
          call === 0
            ? { BytedToken: 't', H5Link: 'https://h5.example/?a=1\\u0026b=2' }
            : { BytedToken: 't' },
      }),
    );
    const api = client(upstream.url);
    const input = { callbackUrl: 'https://app.example.com/done' };
    await expect(api.startVerification(opts, input)).resolves.toEqual({
      token: 't',
      h5Link: 'https://h5.example/?a=1&b=2',
    });
    const { error: rejected } = await failure(api.startVerification(opts, input));
    expect(rejected).toMatchObject({
      code: 'UPSTREAM_BAD_RESPONSE',
      requestId: 'req-CreateVisualValidateSession',
    });
  });
});

describe('throttles and gateway-level errors as recorded under load', () => {
  const generic = (code: string, message: string, type: string) => ({
    error: { code, message, type },
  });

  it('429 without Retry-After, then 200: the retry still waits one rate window', async () => {
    const upstream = await scripted((call, _req, res) => {
      if (call === 0) json(res, 429, error('Throttling'));
      else json(res, 200, ASSET_OK);
    });
    const api = client(upstream.url, { timeoutMs: 10_000, random: () => 0 });
    await expect(api.getAsset(opts, ASSET)).resolves.toMatchObject({ id: ASSET });
    expect(sleeps).toHaveLength(1);
    expect(sleeps[0]).toBeGreaterThanOrEqual(1_000);
  });

  it('429 with the generic body and no Retry-After: RATE_LIMITED with a wait to honour', async () => {
    const upstream = await scripted((_call, _req, res) =>
      json(res, 429, generic('rate_limit_exceeded', 'Too many requests', 'rate_limit_error')),
    );
    // One attempt, and a deadline a loaded machine cannot miss: what reaches the caller is the
    // mapped 429 itself, with the wait the gateway will honour.
    const api = client(upstream.url, { timeoutMs: 10_000, retry: { read: { maxAttempts: 1 } } });
    const { error: rejected } = await failure(api.getAsset(opts, ASSET));
    expect(rejected).toMatchObject({
      code: 'RATE_LIMITED',
      status: 429,
      upstreamCode: 'rate_limit_exceeded',
      message: 'Too many requests',
      retryAfter: 1,
    });
    expect(upstream.seen).toHaveLength(1);
  });

  it('401 with the generic body: UNAUTHENTICATED, the key redacted from its message', async () => {
    const upstream = await scripted((_call, _req, res) =>
      json(res, 401, generic('invalid_api_key', `Incorrect API key: ${KEY}`, 'auth_error')),
    );
    const api = client(upstream.url);
    const { error: rejected } = await failure(api.getAsset(opts, ASSET));
    expect(rejected).toMatchObject({ code: 'UNAUTHENTICATED', upstreamCode: 'invalid_api_key' });
    expect(rejected.message).toContain('Incorrect API key');
    expect(inspect(rejected)).not.toContain(KEY);
    expect(upstream.seen).toHaveLength(1);
  });
});

describe('paging without a count', () => {
  it('⑦ with Items alone: full pages promise more, and every item is read', async () => {
    const ids = Array.from({ length: 7 }, (_, i) => `asset-${i}`);
    const upstream: Upstream = await scripted((call, _req, res) => {
      const asked = JSON.parse(upstream.seen[call]!.body) as Record<string, number>;
      const { PageNumber, PageSize } = asked;
      const items = ids
        .slice((PageNumber! - 1) * PageSize!, PageNumber! * PageSize!)
        .map((Id) => ({ Id, Status: 'Active', AssetType: 'Image', GroupId: 'g' }));
      json(res, 200, { ResponseMetadata: meta('ListAssets'), Result: { Items: items } });
    });
    const api = client(upstream.url);
    const read: string[] = [];
    for (let page = 1, pages = 1; page <= pages; page++) {
      const result = await api.listAssets(opts, { page, pageSize: 3 });
      read.push(...result.items.map((asset) => asset.id));
      pages = Math.ceil(result.total / 3);
    }
    expect(read).toEqual(ids);
    expect(upstream.seen).toHaveLength(3);
  });

  it('⑦ filtered by type locally: total stays the upstream count, pages may be short', async () => {
    const items = [
      { Id: 'a1', Status: 'Active', AssetType: 'Image' },
      { Id: 'a2', Status: 'Active', AssetType: 'Video' },
    ];
    const upstream = await scripted((_call, _req, res) =>
      json(res, 200, { ResponseMetadata: meta('ListAssets'), Result: { Items: items } }),
    );
    const api = client(upstream.url);
    const page = await api.listAssets(opts, { types: ['VIDEO'], page: 1, pageSize: 2 });
    expect(page.items.map((asset) => asset.id)).toEqual(['a2']);
    // The upstream page was full, so more may follow: the bound counts every type.
    expect(page.total).toBe(3);
    // No type filter reaches the upstream: it has none.
    expect(JSON.parse(upstream.seen[0]!.body)).not.toHaveProperty('Filter.AssetType');
  });
});
