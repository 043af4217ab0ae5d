/**
 * The apimart client against scripted `node:http` upstreams on port 0, over a real SQLite
 * ledger: the `{code, data}` envelope, the error body, 402, creates never resent, the
 * undocumented step-2 answers, review tasks resolving provisional ids, and one task read shared
 * by concurrent readers.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openLedger, type Ledger } from '../../src/ledger/index.js';
import { DEFAULT_RATE_LIMITS } from '../../src/upstream/apimart/actions.js';
import { createApimartClient, type ApimartClient } from '../../src/upstream/apimart/client.js';
import { UpstreamError } from '../../src/upstream/errors.js';

const KEY = 'sk-apimart-test-SECRET-1a2b3c';
const opts = { credential: KEY };
const NO_PACING = Object.fromEntries(Object.keys(DEFAULT_RATE_LIMITS).map((a) => [a, null]));

interface Seen {
  method: string;
  url: string;
  body: any;
}
type Reply = { status?: number; body: unknown; headers?: Record<string, string> };
type Script = (req: Seen, call: number) => Reply | 'reset';

let dir: string;
let ledger: Ledger;
/** The client's clock: each test moves it past the task-reuse window where it needs a new read. */
const clock = { now: 0 };
const closers: Array<() => Promise<unknown>> = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'apimart-unit-'));
  ledger = await openLedger({ path: join(dir, 'ledger.sqlite') });
});

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await ledger.close();
  await rm(dir, { recursive: true, force: true });
});

/** A scripted upstream and a client pointed at it; `seen` records every request. */
async function upstream(script: Script): Promise<{ client: ApimartClient; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.on('data', (chunk) => (raw += chunk));
    req.on('end', () => {
      const request = { method: req.method!, url: req.url!, body: raw ? JSON.parse(raw) : null };
      seen.push(request);
      const reply = script(request, seen.length);
      if (reply === 'reset') return void req.socket.destroy();
      res.writeHead(reply.status ?? 200, {
        'content-type': 'application/json',
        ...reply.headers,
      });
      res.end(JSON.stringify(reply.body));
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  const client = createApimartClient({
    baseUrl: `http://127.0.0.1:${port}`,
    ledger: ledger.apimart,
    rateLimits: NO_PACING,
    timeoutMs: 2_000,
    sleep: async () => {},
    backoff: { baseMs: 1, maxMs: 2 },
    now: () => clock.now,
  });
  closers.push(() => new Promise((resolve) => server.close(resolve)));
  closers.push(() => client.close());
  return { client, seen };
}

const ok = (data: unknown): Reply => ({ body: { code: 200, data } });
const GROUP = 'group-20260601191715-9q47m';
const createdGroup: Reply = {
  body: { ResponseMetadata: { RequestId: 'r' }, Result: { Id: GROUP } },
};

/** A scripted apimart that knows one group and answers review tasks from `review`. */
function withGroup(rest: Script): Script {
  return (req, call) =>
    req.method === 'POST' && req.url === '/v1/seedance2/private-avatar/groups'
      ? createdGroup
      : rest(req, call);
}

describe('uploads and review tasks', () => {
  it('uploads a batch as one review task, and resolves provisional ids when it ends', async () => {
    let review: unknown = { id: 'task_R', status: 'processing', progress: 40 };
    const { client, seen } = await upstream(
      withGroup((req) => {
        if (req.url === '/v1/seedance2/private-avatar')
          return ok({ id: 'task_R', status: 'processing' });
        if (req.url === '/v1/tasks/task_R') return ok(review);
        throw new Error(`unexpected ${req.method} ${req.url}`);
      }),
    );
    await client.createGroup(opts, { name: 'mascot' });
    const { ids } = await client.createAssets!(opts, [
      { groupId: GROUP, url: 'https://x.test/a.png', type: 'IMAGE', name: 'a' },
      { groupId: GROUP, url: 'https://x.test/b.png', type: 'IMAGE' },
    ]);
    expect(ids).toEqual(['task_R-0', 'task_R-1']);
    expect(seen[1]).toMatchObject({
      method: 'POST',
      body: {
        group_id: GROUP,
        asset_type: 'Image',
        project_name: 'default',
        assets: [{ url: 'https://x.test/a.png', name: 'a' }, { url: 'https://x.test/b.png' }],
      },
    });

    expect(await client.getAsset(opts, 'task_R-0')).toMatchObject({
      id: 'task_R-0',
      groupId: GROUP,
      name: 'a',
      type: 'IMAGE',
      status: 'PROCESSING',
      uri: null,
    });

    // Seed 004's partial failure: the task fails, keeps its result, and gives one reason.
    review = {
      id: 'task_R',
      status: 'failed',
      progress: 100,
      result: {
        assets: [
          { asset_id: 'asset_a', asset_url: 'asset://asset_a', status: 'Active' },
          { asset_id: 'asset_b', asset_url: 'asset://asset_b', status: 'Failed' },
        ],
      },
      error: { code: 'task_failed', message: '部分素材审核失败' },
    };
    clock.now += 1000; // past the reuse window of the last read
    const page = await client.listAssets(opts, { groupIds: [GROUP], page: 1, pageSize: 10 });
    expect(page.items.map((a) => [a.id, a.status, a.uri, a.failure?.code ?? null])).toEqual([
      ['task_R-0', 'ACTIVE', 'asset://asset_a', null],
      ['task_R-1', 'FAILED', 'asset://asset_b', 'task_failed'],
    ]);
    const reads = seen.filter((r) => r.url === '/v1/tasks/task_R').length;
    // An ended task is answered from the ledger: no further reads.
    clock.now += 1000;
    await client.getAsset(opts, 'task_R-1');
    await client.listAssets(opts, { groupIds: [GROUP], page: 1, pageSize: 10 });
    expect(seen.filter((r) => r.url === '/v1/tasks/task_R')).toHaveLength(reads);
  });

  it('ends the assets of a task apimart no longer knows FAILED, instead of failing every read', async () => {
    let taskStatus = 500;
    const { client, seen } = await upstream(
      withGroup((req) => {
        if (req.url === '/v1/seedance2/private-avatar')
          return ok({ id: 'task_G', status: 'processing' });
        if (req.url === '/v1/tasks/task_G') {
          const code = taskStatus === 404 ? 'task_not_found' : 'server_error';
          return { status: taskStatus, body: { error: { code, message: code, type: code } } };
        }
        throw new Error(`unexpected ${req.method} ${req.url}`);
      }),
    );
    await client.createGroup(opts, { name: 'mascot' });
    await client.createAssets!(opts, [
      { groupId: GROUP, url: 'https://x.test/a.png', type: 'IMAGE', name: 'a' },
    ]);
    const list = () => client.listAssets(opts, { groupIds: [GROUP], page: 1, pageSize: 10 });
    // Another failure stays a failure: the task may still end.
    await expect(list()).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });

    taskStatus = 404;
    clock.now += 1000;
    const page = await list();
    expect(page.items.map((a) => [a.id, a.status, a.uri, a.failure?.code ?? null])).toEqual([
      ['task_G-0', 'FAILED', null, 'task_not_found'],
    ]);
    // Settled: later reads come from the ledger.
    const reads = seen.filter((r) => r.url === '/v1/tasks/task_G').length;
    clock.now += 1000;
    expect(await client.getAsset(opts, 'task_G-0')).toMatchObject({ status: 'FAILED' });
    await list();
    expect(seen.filter((r) => r.url === '/v1/tasks/task_G')).toHaveLength(reads);
  });

  it('forgets a group or asset that apimart no longer has when deleting it, still NOT_FOUND', async () => {
    const gone = { status: 404, body: { error: { code: 'not_found', message: 'x', type: 'x' } } };
    const { client } = await upstream(
      withGroup((req) => {
        if (req.url === '/v1/seedance2/private-avatar')
          return ok({ id: 'task_D', status: 'processing' });
        if (req.url === '/v1/tasks/task_D')
          return ok({
            id: 'task_D',
            status: 'completed',
            result: { assets: [{ asset_id: 'asset_d', status: 'Active' }] },
          });
        if (req.method === 'DELETE') return gone;
        throw new Error(`unexpected ${req.method} ${req.url}`);
      }),
    );
    await client.createGroup(opts, { name: 'mascot' });
    await client.createAssets!(opts, [
      { groupId: GROUP, url: 'https://x.test/a.png', type: 'IMAGE' },
    ]);
    expect(await client.getAsset(opts, 'task_D-0')).toMatchObject({ status: 'ACTIVE' });

    await expect(client.deleteAsset(opts, 'task_D-0')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const assets = await client.listAssets(opts, { groupIds: [GROUP], page: 1, pageSize: 10 });
    expect(assets.total).toBe(0);
    await expect(client.deleteGroup(opts, GROUP)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await client.listGroups(opts, { page: 1, pageSize: 10 })).total).toBe(0);
    await expect(client.getGroup(opts, GROUP)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('reads an open task once per reuse window: a list and a sweep of one interval share it', async () => {
    const { client, seen } = await upstream(
      withGroup(() => ok({ id: 'task_W', status: 'processing' })),
    );
    await client.createGroup(opts, { name: 'g' });
    await client.createAsset(opts, { groupId: GROUP, url: 'https://x.test/a.png', type: 'IMAGE' });
    const list = () => client.listAssets(opts, { groupIds: [GROUP], page: 1, pageSize: 10 });
    const taskReads = () => seen.filter((r) => r.url === '/v1/tasks/task_W').length;
    await list();
    clock.now += 999;
    await list();
    expect(taskReads()).toBe(1);
    clock.now += 1;
    await list();
    expect(taskReads()).toBe(2);
  });

  it('reads an open task once for many concurrent readers of its assets', async () => {
    const { client, seen } = await upstream(
      withGroup((req) =>
        req.url === '/v1/seedance2/private-avatar'
          ? ok({ id: 'task_C', status: 'processing' })
          : ok({ id: 'task_C', status: 'processing' }),
      ),
    );
    await client.createGroup(opts, { name: 'g' });
    const items = Array.from({ length: 20 }, (_, i) => ({
      groupId: GROUP,
      url: `https://x.test/${i}.png`,
      type: 'IMAGE' as const,
    }));
    const { ids } = await client.createAssets!(opts, items);
    await Promise.all([
      ...ids.map((id) => client.getAsset(opts, id)),
      client.listAssets(opts, {
        groupIds: [GROUP],
        statuses: ['PROCESSING'],
        page: 1,
        pageSize: 100,
      }),
    ]);
    expect(seen.filter((r) => r.url === '/v1/tasks/task_C')).toHaveLength(1);
  });

  it('refuses more than 20 items in a task, audio for a real person, and an unknown group', async () => {
    const { client, seen } = await upstream(() => ok({}));
    const item = { groupId: 'nope', url: 'https://x.test/a.png', type: 'IMAGE' as const };
    await expect(client.createAssets!(opts, Array(21).fill(item))).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    await expect(client.createAsset(opts, item)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await ledger.apimart.saveGroup(
      (await import('../../src/util/secret-hash.js')).secretHash(KEY),
      { id: 'real-1', kind: 'REAL', name: null, description: null },
    );
    await expect(
      client.createAsset(opts, { ...item, groupId: 'real-1', type: 'AUDIO' }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    expect(seen).toEqual([]);
  });

  it('never resends an upload whose answer was lost: the outcome is unknown', async () => {
    const { client, seen } = await upstream(
      withGroup((req) => (req.url === '/v1/seedance2/private-avatar' ? 'reset' : ok({}))),
    );
    await client.createGroup(opts, { name: 'g' });
    const error = await client
      .createAsset(opts, { groupId: GROUP, url: 'https://x.test/a.png', type: 'IMAGE' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ outcomeUnknown: true });
    expect(seen.filter((r) => r.url === '/v1/seedance2/private-avatar')).toHaveLength(1);
  });

  it('reports an upload it could not record as of unknown outcome, not as a failure', async () => {
    const { client } = await upstream(withGroup(() => ok({ id: 'task_L', status: 'processing' })));
    await client.createGroup(opts, { name: 'g' });
    await ledger.apimart.saveReviewTask('someone', { id: 'task_L', groupId: 'x', assets: [] });
    // The task id is taken: recording the upload fails after apimart accepted it.
    await expect(
      client.createAsset(opts, { groupId: GROUP, url: 'https://x.test/a.png', type: 'IMAGE' }),
    ).rejects.toMatchObject({ outcomeUnknown: true });
  });

  it('retries a task read after a 503, and a 429 after its Retry-After', async () => {
    const { client } = await upstream(
      withGroup((req, call) => {
        if (req.url === '/v1/seedance2/private-avatar')
          return ok({ id: 'task_T', status: 'processing' });
        if (call === 3)
          return {
            status: 503,
            body: { error: { code: 'x', message: 'busy', type: 'server_error' } },
          };
        if (call === 4)
          return {
            status: 429,
            body: {
              error: { code: 'rate_limit_error', message: 'slow', type: 'rate_limit_error' },
            },
            headers: { 'retry-after': '1' },
          };
        return ok({
          id: 'task_T',
          status: 'completed',
          result: { assets: [{ asset_id: 'u', status: 'Active' }] },
        });
      }),
    );
    await client.createGroup(opts, { name: 'g' });
    await client.createAsset(opts, { groupId: GROUP, url: 'https://x.test/a.png', type: 'IMAGE' });
    expect(await client.getAsset(opts, 'task_T-0')).toMatchObject({
      status: 'ACTIVE',
      uri: 'asset://u',
    });
  });
});

describe('errors', () => {
  const errorBody = (code: string, type: string, message: string) => ({
    error: { code, message, type },
  });

  it.each([
    [
      402,
      errorBody('insufficient_balance', 'payment_required', 'Insufficient balance'),
      'PAYMENT_REQUIRED',
    ],
    [
      401,
      errorBody('invalid_api_key', 'authentication_error', 'Invalid API key'),
      'UNAUTHENTICATED',
    ],
    [400, errorBody('invalid_request_error', 'invalid_request_error', 'bad url'), 'BAD_REQUEST'],
    [429, errorBody('rate_limit_error', 'rate_limit_error', 'slow down'), 'RATE_LIMITED'],
    [500, errorBody('server_error', 'server_error', 'oops'), 'UPSTREAM_UNAVAILABLE'],
  ] as const)('maps HTTP %i with its error body to the right code', async (status, body, code) => {
    const { client } = await upstream(() => ({ status, body }));
    const error = await client
      .startVerification(opts, { callbackUrl: 'https://app.test/done' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ code, status, upstreamCode: body.error.code });
  });

  it('reads a 2xx envelope whose code is not 200 as the error it names', async () => {
    const { client } = await upstream(() => ({
      body: { code: 402, error: { code: 'x', message: 'no balance', type: 'payment_required' } },
    }));
    await expect(
      client.startVerification(opts, { callbackUrl: 'https://app.test/done' }),
    ).rejects.toMatchObject({ code: 'PAYMENT_REQUIRED' });
  });

  it('keeps the key out of error messages', async () => {
    const { client } = await upstream(() => ({
      status: 400,
      body: { error: { code: 'x', message: `key ${KEY} is wrong`, type: 'invalid_request_error' } },
    }));
    const error = (await client
      .startVerification(opts, { callbackUrl: 'https://app.test/done' })
      .catch((e: unknown) => e)) as Error;
    expect(error.message).not.toContain(KEY);
  });
});

describe('real-person verification', () => {
  it('starts with step 1, then reads the task for the token and the link', async () => {
    const { client, seen } = await upstream((req) =>
      req.method === 'POST'
        ? ok({ id: 'task_S', status: 'completed' })
        : ok({
            id: 'task_S',
            status: 'completed',
            result: { byted_token: 'tok', h5_link: 'https://h5.test/?t=tok' },
          }),
    );
    expect(
      await client.startVerification(opts, {
        callbackUrl: 'https://app.test/done',
        language: 'en',
      }),
    ).toEqual({
      token: 'tok',
      h5Link: 'https://h5.test/?t=tok',
    });
    expect(seen.map((r) => `${r.method} ${r.url}`)).toEqual([
      'POST /v1/seedance2/real-avatar',
      'GET /v1/tasks/task_S',
    ]);
    expect(seen[0]!.body).toEqual({
      callback_url: 'https://app.test/done',
      project_name: 'default',
    });
  });

  it.each([
    ['data.group_id', { group_id: 'g-1' }],
    ['data.GroupId', { GroupId: 'g-1' }],
    ['data.result.group_id', { id: 't', status: 'completed', result: { group_id: 'g-1' } }],
    ['data.result.GroupId', { result: { GroupId: 'g-1' } }],
  ])('accepts the group id at %s, and remembers the group as REAL', async (_where, data) => {
    const { client } = await upstream(() => ok(data));
    expect(await client.completeVerification(opts, 'tok')).toEqual({
      status: 'VERIFIED',
      groupId: 'g-1',
    });
    expect(await client.getGroup(opts, 'g-1')).toMatchObject({ id: 'g-1', kind: 'REAL' });
  });

  it('polls the task a step-2 answer gave, instead of redeeming the token again', async () => {
    let task: unknown = { id: 'task_V', status: 'processing' };
    const { client, seen } = await upstream((req) => (req.method === 'POST' ? ok(task) : ok(task)));
    expect(await client.completeVerification(opts, 'tok')).toEqual({ status: 'PENDING' });
    task = { id: 'task_V', status: 'completed', result: { group_id: 'g-2' } };
    expect(await client.completeVerification(opts, 'tok')).toEqual({
      status: 'VERIFIED',
      groupId: 'g-2',
    });
    expect(seen.map((r) => r.method)).toEqual(['POST', 'GET']);
  });

  it.each([[{ result: { something: 1 } }], [{ id: 'task_X', status: 'completed' }], ['just text']])(
    'answers UPSTREAM_BAD_RESPONSE for an unknown step-2 shape %j',
    async (data) => {
      const { client } = await upstream(() => ok(data));
      await expect(client.completeVerification(opts, 'tok')).rejects.toMatchObject({
        code: 'UPSTREAM_BAD_RESPONSE',
      });
    },
  );

  it.each([
    ['byted_token_expired', 'VERIFICATION_EXPIRED'],
    ['byted_token_used', 'VERIFICATION_USED'],
    ['verification_failed', 'VERIFICATION_FAILED'],
    ['byted_token_not_found', 'NOT_FOUND'],
  ])('tells a step-2 refusal %s as %s', async (upstreamCode, code) => {
    const { client } = await upstream(() => ({
      status: 400,
      body: { error: { code: upstreamCode, message: 'refused', type: 'invalid_request_error' } },
    }));
    await expect(client.completeVerification(opts, 'tok')).rejects.toMatchObject({ code });
  });

  it('answers PENDING when step 2 says the person has not finished', async () => {
    const { client } = await upstream(() => ({
      status: 400,
      body: {
        error: {
          code: 'verification_pending',
          message: 'not completed yet',
          type: 'invalid_request_error',
        },
      },
    }));
    expect(await client.completeVerification(opts, 'tok')).toEqual({ status: 'PENDING' });
  });
});
