/**
 * The Ark client against the contract itself: every method runs against a real Prism serving
 * `mocks/openapi.yaml`, and Prism must flag nothing the client sends. Documented error answers
 * (picked with `Prefer`, added by an injected dispatcher) must map to the right typed errors.
 */
import { Agent, type Dispatcher } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createArkClient,
  type ArkClient,
  type ArkClientOptions,
} from '../../src/upstream/ark/client.js';
import { UpstreamError } from '../../src/upstream/errors.js';
import type { CallOptions } from '../../src/upstream/port.js';
import { startPrism, type PrismServer } from '../helpers/prism.js';

const opts: CallOptions = { credential: 'contract-test-key' };
const GROUP = 'group-20260601191715-9q47m';
const ASSET = 'asset-20260602153901-x7k2m';

let prism: PrismServer;
let agent: Agent;
let dispatcher: Dispatcher;
let client: ArkClient;
/** The `Prefer` header the next requests carry (Prism's pick of status and example). */
let prefer: string | undefined;
/** Every `sl-violations` header Prism answered with: its per-request report. */
const reported: string[] = [];
/** The `model` of every request the clients sent: from the query of a GET, the body of a POST. */
const models: Array<string | undefined> = [];
const sleeps: number[] = [];

function modelOf(options: Dispatcher.DispatchOptions): string | undefined {
  const query = new URL(options.path, 'http://prism.invalid').searchParams.get('model');
  if (query !== null) return query;
  return typeof options.body === 'string'
    ? (JSON.parse(options.body) as { model?: string }).model
    : undefined;
}

/** Adds `Prefer` and records `sl-violations` and models, without touching the client under test. */
const preferAndRecord: Dispatcher.DispatcherComposeInterceptor =
  (dispatch) => (options, handler) => {
    models.push(modelOf(options));
    const headers = { ...(options.headers as Record<string, string>) };
    if (prefer) headers.prefer = prefer;
    return dispatch(
      { ...options, headers },
      {
        onRequestStart: (...args) => handler.onRequestStart?.(...args),
        onRequestUpgrade: (...args) => handler.onRequestUpgrade?.(...args),
        onResponseStart(controller, status, responseHeaders, message) {
          const violations = responseHeaders['sl-violations'];
          if (violations) reported.push(String(violations));
          handler.onResponseStart?.(controller, status, responseHeaders, message);
        },
        onResponseData: (...args) => handler.onResponseData?.(...args),
        onResponseEnd: (...args) => handler.onResponseEnd?.(...args),
        onResponseError: (...args) => handler.onResponseError?.(...args),
      },
    );
  };

function makeClient(overrides: Partial<ArkClientOptions> = {}): ArkClient {
  return createArkClient({
    baseUrl: prism.url,
    dispatcher,
    // Retry waits are recorded, not slept: the suite stays fast and the waits are asserted.
    sleep: async (ms) => void sleeps.push(ms),
    // Prism answers instantly; pacing is tested elsewhere and would only slow this down.
    rateLimits: { CreateAsset: null },
    ...overrides,
  });
}

/**
 * Prism logs a request's violations after answering it. A request without a key is logged with
 * a known last line; once that line is in, every earlier request's lines are too.
 */
const SENTINEL_LAST_LINE = 'Violation: request Invalid security scheme used';
async function loggedViolations(): Promise<string[]> {
  const before = prism.violations.length;
  const answer = await agent.request({
    origin: prism.url,
    path: '/v1/private-avatar/groups',
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'doubao-seedance-2-0-260128', Name: 'sentinel' }),
  });
  await answer.body.dump();
  const deadline = Date.now() + 2_000;
  while (!prism.violations.slice(before).some((line) => line.includes(SENTINEL_LAST_LINE))) {
    if (Date.now() > deadline) throw new Error('Prism did not log the sentinel request');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const problems = prism.violations.filter((line) => /✖|⚠/.test(line));
  // Drop the sentinel's own lines: its missing key, and one "did not pass" warning.
  const withoutKey = problems.filter((line) => !line.includes('Invalid security scheme used'));
  const warning = withoutKey.findIndex((line) => line.includes('did not pass the validation'));
  if (warning >= 0) withoutKey.splice(warning, 1);
  return withoutKey;
}

beforeAll(async () => {
  prism = await startPrism({ mode: 'mock' });
  agent = new Agent({ connections: 8 });
  dispatcher = agent.compose(preferAndRecord);
  client = makeClient();
});

afterEach(async () => {
  prefer = undefined;
  sleeps.length = 0;
  // Any request Prism flagged fails the test that sent it.
  expect(reported.splice(0)).toEqual([]);
  expect(await loggedViolations()).toEqual([]);
  prism.clearViolations();
});

afterAll(async () => {
  await client?.close();
  await agent?.close();
  await prism?.stop();
});

async function rejection(promise: Promise<unknown>): Promise<UpstreamError> {
  const error = await promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
  expect(error).toBeInstanceOf(UpstreamError);
  return error as UpstreamError;
}

describe('every method speaks the contract', () => {
  it('① createGroup returns the new id', async () => {
    await expect(
      client.createGroup(opts, { name: 'mascot', description: 'Brand' }),
    ).resolves.toEqual({
      id: GROUP,
    });
    await expect(client.createGroup(opts, { name: 'mascot-v2' })).resolves.toEqual({ id: GROUP });
  });

  it('② listGroups sends every filter and maps the page', async () => {
    const page = await client.listGroups(opts, {
      nameContains: 'mascot',
      ids: [GROUP],
      kind: 'VIRTUAL',
      page: 1,
      pageSize: 10,
    });
    expect(page).toMatchObject({ total: 2, page: 1, pageSize: 10 });
    expect(page.items.map((group) => group.kind)).toEqual(['VIRTUAL', 'REAL']);
    expect(page.items[0]).toEqual({
      id: GROUP,
      name: 'my_virtual_group',
      description: 'Brand mascot, front and side views',
      kind: 'VIRTUAL',
      createdAt: new Date('2026-06-01T11:17:15Z'),
      updatedAt: new Date('2026-06-01T11:17:15Z'),
    });

    prefer = 'example=empty';
    await expect(client.listGroups(opts, { page: 1, pageSize: 10 })).resolves.toEqual({
      items: [],
      total: 0,
      page: 1,
      pageSize: 10,
    });
  });

  it('③ getGroup maps both kinds', async () => {
    await expect(client.getGroup(opts, GROUP)).resolves.toMatchObject({
      id: GROUP,
      kind: 'VIRTUAL',
    });
    prefer = 'example=real';
    await expect(client.getGroup(opts, 'group-20260331145705-7hq2d')).resolves.toMatchObject({
      kind: 'REAL',
      description: '',
    });
  });

  it('④ updateGroup and ⑤ deleteGroup resolve', async () => {
    await expect(
      client.updateGroup(opts, GROUP, { name: 'mascot-final', description: 'Approved' }),
    ).resolves.toBeUndefined();
    await expect(
      client.updateGroup(opts, GROUP, { name: 'only-the-name' }),
    ).resolves.toBeUndefined();
    await expect(client.deleteGroup(opts, GROUP)).resolves.toBeUndefined();
  });

  it('⑥ createAsset returns the new id', async () => {
    await expect(
      client.createAsset(opts, {
        groupId: GROUP,
        url: 'https://picsum.photos/800/1200.jpg',
        type: 'IMAGE',
        name: 'full-body',
      }),
    ).resolves.toEqual({ id: 'asset-20260602153901-x7k2m' });
    await expect(
      client.createAsset(opts, {
        groupId: GROUP,
        url: 'https://cdn.example.com/a.mp4',
        type: 'VIDEO',
      }),
    ).resolves.toEqual({ id: 'asset-20260602153901-x7k2m' });
  });

  it('⑦ listAssets sends every filter and maps statuses, failures and types', async () => {
    const query = {
      groupIds: ['group-20260602153837-5vm6c', 'group-20260331145705-7hq2d'],
      kind: 'VIRTUAL' as const,
      statuses: ['PROCESSING' as const, 'ACTIVE' as const],
      nameContains: 'full',
      page: 1,
      pageSize: 100,
    };
    const processing = await client.listAssets(opts, query);
    expect(processing.items).toHaveLength(1);
    expect(processing.items[0]).toMatchObject({
      status: 'PROCESSING',
      type: 'IMAGE',
      failure: null,
    });

    prefer = 'example=active';
    const active = await client.listAssets(opts, { ...query, types: ['AUDIO'] });
    expect(active.items.map((asset) => [asset.id, asset.type])).toEqual([
      ['asset-20260602153907-p0q9r', 'AUDIO'],
    ]);

    prefer = 'example=failed';
    const failed = await client.listAssets(opts, { page: 1, pageSize: 10 });
    expect(failed.items[0]).toMatchObject({
      status: 'FAILED',
      groupId: 'group-20260331145705-7hq2d',
      failure: { code: 'FaceMismatch', message: 'Face consistency verification failed.' },
    });
  });

  it('⑧ getAsset maps the poll result', async () => {
    await expect(client.getAsset(opts, ASSET)).resolves.toEqual({
      id: ASSET,
      groupId: 'group-20260602153837-5vm6c',
      name: 'full-body',
      type: 'IMAGE',
      status: 'PROCESSING',
      failure: null,
      previewUrl: `https://ark-assets.tos-cn-beijing.volces.com/${ASSET}.jpg?X-Tos-Expires=43200`,
      createdAt: new Date('2026-06-02T07:39:01Z'),
      updatedAt: new Date('2026-06-02T07:39:01Z'),
    });
    prefer = 'example=active';
    await expect(client.getAsset(opts, ASSET)).resolves.toMatchObject({ status: 'ACTIVE' });
    prefer = 'example=failed';
    await expect(client.getAsset(opts, 'asset-20260602154001-f4c3e')).resolves.toMatchObject({
      status: 'FAILED',
      failure: { code: 'FaceMismatch' },
    });
  });

  it('⑨ updateAsset and ⑩ deleteAsset resolve', async () => {
    await expect(
      client.updateAsset(opts, ASSET, { name: 'full-body-front' }),
    ).resolves.toBeUndefined();
    await expect(client.deleteAsset(opts, ASSET)).resolves.toBeUndefined();
  });

  it('⑪ startVerification returns the token and the H5 link', async () => {
    await expect(
      client.startVerification(opts, {
        callbackUrl: 'https://app.example.com/verification/done',
        language: 'en',
      }),
    ).resolves.toEqual({
      token: '202603311449168C23BA26A1B2C3D4E5F6',
      h5Link:
        'https://h5-v2.kych5.com?configId=seedance-avatar&bytedToken=202603311449168C23BA26A1B2C3D4E5F6&lng=en',
    });
    await expect(
      client.startVerification(opts, { callbackUrl: 'https://app.example.com/done' }),
    ).resolves.toMatchObject({ token: '202603311449168C23BA26A1B2C3D4E5F6' });
  });

  it('⑪ startVerification passes on the link lifetime of an answer with ExpiresIn', async () => {
    prefer = 'example=withExpiresIn';
    await expect(
      client.startVerification(opts, { callbackUrl: 'https://app.example.com/verification/done' }),
    ).resolves.toEqual({
      token: '202603311449168C23BA26A1B2C3D4E5F6',
      h5Link:
        'https://h5-v2.kych5.com?configId=seedance-avatar&bytedToken=202603311449168C23BA26A1B2C3D4E5F6&lng=en',
      h5LinkTtlSeconds: 120,
    });
  });

  it('⑫ completeVerification: completed is VERIFIED, an empty GroupId is PENDING', async () => {
    prefer = 'example=completed';
    await expect(
      client.completeVerification(opts, '202603311449168C23BA26A1B2C3D4E5F6'),
    ).resolves.toEqual({
      status: 'VERIFIED',
      groupId: 'group-20260331145705-7hq2d',
    });
    prefer = 'example=pending';
    await expect(
      client.completeVerification(opts, '202603311449168C23BA26A1B2C3D4E5F6'),
    ).resolves.toEqual({
      status: 'PENDING',
    });
  });

  it('sends the model it was built with: the default, or the fast one', async () => {
    models.length = 0;
    await client.getAsset(opts, ASSET);
    expect(models.splice(0)).toEqual(['doubao-seedance-2-0-260128']);
    const fast = makeClient({ model: 'doubao-seedance-2-0-fast-260128' });
    try {
      await expect(fast.getAsset(opts, ASSET)).resolves.toMatchObject({ id: ASSET });
      await expect(fast.createGroup(opts, { name: 'fast' })).resolves.toEqual({ id: GROUP });
    } finally {
      await fast.close();
    }
    expect(models.splice(0)).toEqual([
      'doubao-seedance-2-0-fast-260128',
      'doubao-seedance-2-0-fast-260128',
    ]);
  });
});

describe('tolerated variants of the answers (mocks/CHANGELOG.md)', () => {
  it('② with TotalCount reads that count', async () => {
    prefer = 'example=totalCount';
    await expect(client.listGroups(opts, { page: 1, pageSize: 10 })).resolves.toMatchObject({
      total: 1,
      page: 1,
      pageSize: 10,
      items: [{ id: GROUP, kind: 'VIRTUAL' }],
    });
  });

  it('② with Items alone: a short page is exact, a full page promises more', async () => {
    prefer = 'example=itemsOnly';
    await expect(client.listGroups(opts, { page: 1, pageSize: 10 })).resolves.toMatchObject({
      total: 1,
      page: 1,
      pageSize: 10,
      items: [{ id: GROUP, createdAt: new Date(1_780_312_635_000) }],
    });
    // The same single item asked for as a page of one: it may not be the last.
    const full = await client.listGroups(opts, { page: 1, pageSize: 1 });
    expect(full.total).toBe(2);
  });

  it('⑦ with Items alone and Unix-second times', async () => {
    prefer = 'example=itemsOnly';
    const page = await client.listAssets(opts, { groupIds: [GROUP], page: 2, pageSize: 10 });
    expect(page).toMatchObject({ total: 11, page: 2, pageSize: 10 });
    expect(page.items).toEqual([
      expect.objectContaining({
        id: ASSET,
        type: 'IMAGE',
        status: 'ACTIVE',
        createdAt: new Date(1_780_385_941_000),
        updatedAt: new Date(1_780_385_944_000),
      }),
    ]);
  });

  it('401 with the generic gateway body is UNAUTHENTICATED, by status', async () => {
    prefer = 'code=401, example=generic';
    const error = await rejection(client.getGroup(opts, GROUP));
    expect(error).toMatchObject({
      code: 'UNAUTHENTICATED',
      upstreamCode: 'invalid_api_key',
      message: 'Invalid token.',
      status: 401,
      requestId: undefined,
    });
  });

  it('429 with the generic gateway body is RATE_LIMITED, by status, and retried', async () => {
    prefer = 'code=429, example=generic';
    const error = await rejection(client.getAsset(opts, ASSET));
    expect(error).toMatchObject({
      code: 'RATE_LIMITED',
      upstreamCode: 'upstream_asset_error',
      message: 'Volcengine asset operation failed',
      status: 429,
    });
    expect(error.retryAfter).toBeGreaterThanOrEqual(1);
    expect(sleeps).toHaveLength(2);
    for (const ms of sleeps) expect(ms).toBeGreaterThanOrEqual(1_000);
  });
});

describe('the harness catches a request that breaks the contract', () => {
  it('a model outside the enum is flagged by Prism and refused', async () => {
    const wrong = makeClient({ model: 'gpt-4' as ArkClientOptions['model'] });
    const error = await rejection(wrong.getAsset(opts, ASSET)).finally(() => wrong.close());
    expect(error.code).toBe('BAD_REQUEST');
    expect(reported.splice(0).length).toBeGreaterThan(0);
    expect((await loggedViolations()).length).toBeGreaterThan(0);
    prism.clearViolations();
  });
});

describe('documented errors map to typed errors', () => {
  it('404 NotFound.asset_id is NOT_FOUND with the request id', async () => {
    prefer = 'code=404';
    const error = await rejection(client.getAsset(opts, 'asset-20260602153901-zzzzz'));
    expect(error).toMatchObject({
      code: 'NOT_FOUND',
      status: 404,
      action: 'GetAsset',
      upstreamCode: 'NotFound.asset_id',
      requestId: '2026060119200007A1A1A1A1A1A1A1A1A7',
      message: 'The specified asset asset-20260602153901-zzzzz is not found.',
    });
  });

  it('404 NotFound.group_id is NOT_FOUND', async () => {
    prefer = 'code=404';
    const error = await rejection(client.getGroup(opts, 'group-20260601191715-zzzzz'));
    expect(error).toMatchObject({ code: 'NOT_FOUND', upstreamCode: 'NotFound.group_id' });
  });

  it('403 SubscriptionRequired and AccessDenied are FORBIDDEN', async () => {
    prefer = 'code=403, example=SubscriptionRequired';
    const subscription = await rejection(client.createGroup(opts, { name: 'mascot' }));
    expect(subscription).toMatchObject({
      code: 'FORBIDDEN',
      upstreamCode: 'SubscriptionRequired',
      requestId: '2026060119200005A1A1A1A1A1A1A1A1A5',
      outcomeUnknown: false,
    });
    prefer = 'code=403, example=AccessDenied';
    const denied = await rejection(client.listGroups(opts, { page: 1, pageSize: 10 }));
    expect(denied).toMatchObject({ code: 'FORBIDDEN', upstreamCode: 'AccessDenied' });
  });

  it('429 is RATE_LIMITED with retryAfter 2, after retries that each waited Retry-After', async () => {
    prefer = 'code=429';
    const error = await rejection(client.getAsset(opts, ASSET));
    expect(error).toMatchObject({
      code: 'RATE_LIMITED',
      retryAfter: 2,
      upstreamCode: 'Throttling',
    });
    expect(sleeps).toHaveLength(2);
    for (const ms of sleeps) expect(ms).toBeGreaterThanOrEqual(2_000);
  });

  it('429 without read retries fails at once with retryAfter 2', async () => {
    const noRetry = makeClient({ retry: { read: { maxAttempts: 1 } } });
    prefer = 'code=429, example=RateLimitExceeded';
    const error = await rejection(noRetry.listAssets(opts, { page: 1, pageSize: 10 }));
    expect(error).toMatchObject({
      code: 'RATE_LIMITED',
      retryAfter: 2,
      upstreamCode: 'RateLimitExceeded',
      status: 429,
    });
    expect(sleeps).toEqual([]);
    await noRetry.close();
  });

  it('400 on create (DownloadFailed, FormatUnsupported, MissingParameter) is BAD_REQUEST', async () => {
    const input = {
      groupId: GROUP,
      url: 'https://expired.example.com/a.jpg',
      type: 'IMAGE' as const,
    };
    for (const example of [
      'InvalidParameter.DownloadFailed',
      'InvalidParameter.FormatUnsupported',
      'InvalidParameter.FpsTooLow',
      'MissingParameter',
    ]) {
      prefer = `code=400, example=${example}`;
      const error = await rejection(client.createAsset(opts, input));
      expect(error.code).toBe('BAD_REQUEST');
      expect(error.outcomeUnknown).toBe(false);
    }
    prefer = 'code=400, example=InvalidParameter.DownloadFailed';
    expect(await rejection(client.createAsset(opts, input))).toMatchObject({
      upstreamCode: 'InvalidParameter.DownloadFailed',
      message: 'Failed to download media from the provided URL.',
    });
  });

  it('400 InvalidParameter on a list is BAD_REQUEST', async () => {
    prefer = 'code=400, example=InvalidParameter';
    const error = await rejection(client.listAssets(opts, { page: 1, pageSize: 10 }));
    expect(error).toMatchObject({ code: 'BAD_REQUEST', upstreamCode: 'InvalidParameter' });
  });

  it.each([
    ['InvalidParameter.BytedTokenExpired', 'VERIFICATION_EXPIRED'],
    ['InvalidParameter.BytedTokenUsed', 'VERIFICATION_USED'],
    ['InvalidParameter.VerificationFailed', 'VERIFICATION_FAILED'],
  ])('⑫ 400 %s is %s', async (example, code) => {
    prefer = `code=400, example=${example}`;
    const error = await rejection(
      client.completeVerification(opts, '202603311449168C23BA26A1B2C3D4E5F6'),
    );
    expect(error).toMatchObject({ code, upstreamCode: example, status: 400 });
  });

  it('⑫ 404 NotFound.BytedToken is NOT_FOUND', async () => {
    prefer = 'code=404';
    const error = await rejection(client.completeVerification(opts, 'unknown-token'));
    expect(error).toMatchObject({ code: 'NOT_FOUND', upstreamCode: 'NotFound.BytedToken' });
  });

  it('401 is UNAUTHENTICATED', async () => {
    prefer = 'code=401';
    const error = await rejection(client.deleteAsset(opts, ASSET));
    expect(error).toMatchObject({
      code: 'UNAUTHENTICATED',
      upstreamCode: 'Unauthorized',
      status: 401,
    });
  });

  it('500 is UPSTREAM_UNAVAILABLE; on a create the outcome is unknown', async () => {
    prefer = 'code=500';
    const read = await rejection(client.getAsset(opts, ASSET));
    expect(read).toMatchObject({
      code: 'UPSTREAM_UNAVAILABLE',
      upstreamCode: 'InternalError',
      outcomeUnknown: false,
    });
    const create = await rejection(client.createGroup(opts, { name: 'mascot' }));
    expect(create).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', outcomeUnknown: true });
    expect(create.message).toMatch(/check before repeating/);
  });

  it('404 NotFound.ProjectName on a list is NOT_FOUND', async () => {
    prefer = 'code=404';
    const error = await rejection(client.listGroups(opts, { page: 1, pageSize: 10 }));
    expect(error).toMatchObject({ code: 'NOT_FOUND', upstreamCode: 'NotFound.ProjectName' });
  });

  it('an empty credential is UNAUTHENTICATED without a request', async () => {
    const error = await rejection(client.getAsset({ credential: '' }, ASSET));
    expect(error.code).toBe('UNAUTHENTICATED');
    expect(error.status).toBeUndefined();
  });
});
