/**
 * The simulator's apimart face: the apimart calls of `mocks/openapi.yaml` (tag `apimart`) over
 * the same `SimulatorState` as the Ark face (`ark-http.ts`), with the same H5 page and preview
 * files (`h5-page.ts`) and the same deterministic inputs (`fail-face`, `fail-moderation`,
 * `download-fails`). A test runs it behind Prism's validating proxy, so its answers cannot drift
 * from the contract.
 *
 * What it answers where apimart's documents are silent (all **Inferred** in the contract):
 * - real-avatar step 2 answers a task: `completed` with `result.group_id` once the person passed
 *   the H5 check, else `processing`, and reading that task later asks again; a token that is
 *   unknown, used, expired or failed is a 400 (`byted_token_*`, `verification_failed`);
 * - a review batch with `download-fails` in a URL is accepted, and that asset ends `Failed`
 *   (apimart fetches asynchronously); results give no per-asset reason, as apimart's do not;
 * - the management endpoints answer the Volcengine envelope with Ark-shaped items (M8), page
 *   with `page_number`/`page_size` (default 20), and leave out `Error` (no reasons);
 * - errors are `{error: {code, message, type}}`: 401 `authentication_error`, 400
 *   `invalid_request_error`, 404 `not_found`/`task_not_found` where the call documents a 404.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { UpstreamError } from '../upstream/errors.js';
import { ASSET_TYPES } from '../upstream/ark/mapping.js';
import type { AssetType, CallOptions } from '../upstream/port.js';
import { assetToWire, groupToWire, obj, optStr, readJson, requireFields, str } from './ark-http.js';
import {
  bearer,
  matchRoute,
  mountHandler,
  sendJson,
  serveHandler,
  type RunningSimulator,
  type SimulatorHandlerOptions,
} from './http-kit.js';
import type { NewReview, SimulatorState } from './state.js';
import type { SimulatorTask } from './tasks.js';

type Json = Record<string, unknown>;

interface Call {
  opts: CallOptions;
  params: Record<string, string>;
  query: URLSearchParams;
  body: Json;
}

interface Route {
  method: string;
  pattern: RegExp;
  /** Whether the contract documents a 404 here; else an unknown group is a 400. */
  has404: boolean;
  run(state: SimulatorState, call: Call): Promise<Json>;
}

/** The `model` a review task reports when the call names none (M3). */
const DEFAULT_MODEL = 'doubao-seedance-2.0';

const LIBRARY = '/v1/seedance2/private-avatar';

/** apimart's calls, in contract order. */
const ROUTES: Route[] = [
  {
    method: 'POST',
    pattern: /^\/v1\/seedance2\/real-avatar$/,
    has404: false,
    async run(state, { opts, body }) {
      // One endpoint, three steps told apart by the body (seed 004).
      if (body.group_id !== undefined || body.assets !== undefined) {
        requireFields(body, ['group_id', 'assets']);
        const type = assetType(body, 'Video', ['Video', 'Image']);
        const task = await state.startReviewTask(opts, {
          groupId: str(body, 'group_id'),
          type,
          items: items(body),
        });
        return accepted(task, DEFAULT_MODEL);
      }
      if (body.byted_token !== undefined) {
        requireFields(body, ['byted_token']);
        const task = await state.startVerificationTask(opts, str(body, 'byted_token'));
        return { code: 200, data: taskData(task) };
      }
      requireFields(body, ['callback_url']);
      const task = await state.startSessionTask(opts, { callbackUrl: str(body, 'callback_url') });
      return { code: 200, data: { id: task.id, status: task.status } };
    },
  },
  {
    method: 'POST',
    pattern: /^\/v1\/seedance2\/private-avatar$/,
    has404: false,
    async run(state, { opts, body }) {
      const single = body.assets === undefined && body.url !== undefined;
      const review: NewReview = {
        ...target(body),
        type: assetType(body, 'Image', ['Image', 'Video', 'Audio']),
        items: single ? [{ url: str(body, 'url'), name: optStr(body, 'name') }] : items(body),
      };
      return accepted(await state.startReviewTask(opts, review), DEFAULT_MODEL);
    },
  },
  {
    method: 'GET',
    pattern: /^\/v1\/tasks\/(?<id>[^/]+)$/,
    has404: true,
    async run(state, { opts, params }) {
      return { code: 200, data: taskData(await state.getTask(opts, params.id!)) };
    },
  },
  {
    method: 'GET',
    pattern: new RegExp(`^${LIBRARY}/groups$`),
    has404: false,
    async run(state, { opts, query }) {
      const page = await state.listGroups(opts, {
        nameContains: query.get('name') ?? undefined,
        ...paging(query),
      });
      return library(listResult(page, page.items.map(groupToWire)));
    },
  },
  {
    method: 'POST',
    pattern: new RegExp(`^${LIBRARY}/groups$`),
    has404: false,
    async run(state, { opts, body }) {
      requireFields(body, ['name']);
      const { id } = await state.createGroup(opts, {
        name: str(body, 'name'),
        description: optStr(body, 'description'),
      });
      return library({ Id: id });
    },
  },
  {
    method: 'GET',
    pattern: new RegExp(`^${LIBRARY}/groups/(?<id>[^/]+)$`),
    has404: true,
    async run(state, { opts, params }) {
      return library(groupToWire(await state.getGroup(opts, params.id!)));
    },
  },
  {
    method: 'PATCH',
    pattern: new RegExp(`^${LIBRARY}/groups/(?<id>[^/]+)$`),
    has404: true,
    async run(state, { opts, params, body }) {
      await state.updateGroup(opts, params.id!, {
        name: optStr(body, 'name'),
        description: optStr(body, 'description'),
      });
      return library({ Id: params.id });
    },
  },
  {
    method: 'DELETE',
    pattern: new RegExp(`^${LIBRARY}/groups/(?<id>[^/]+)$`),
    has404: true,
    async run(state, { opts, params }) {
      await state.deleteGroup(opts, params.id!);
      return library({});
    },
  },
  {
    method: 'GET',
    pattern: new RegExp(`^${LIBRARY}/assets$`),
    has404: false,
    async run(state, { opts, query }) {
      const groupId = query.get('group_id');
      const page = await state.listAssets(opts, {
        groupIds: groupId ? [groupId] : undefined,
        nameContains: query.get('name') ?? undefined,
        ...paging(query),
      });
      return library(listResult(page, page.items.map(libraryAsset)));
    },
  },
  {
    method: 'POST',
    pattern: new RegExp(`^${LIBRARY}/assets$`),
    has404: false,
    async run(state, { opts, body }) {
      requireFields(body, ['asset_type', 'assets']);
      const task = await state.startReviewTask(opts, {
        ...target(body),
        type: assetType(body, 'Image', ['Image', 'Video', 'Audio']),
        items: items(body),
      });
      return accepted(task, optStr(body, 'model') ?? DEFAULT_MODEL);
    },
  },
  {
    method: 'GET',
    pattern: new RegExp(`^${LIBRARY}/assets/(?<id>[^/]+)$`),
    has404: true,
    async run(state, { opts, params }) {
      return library(libraryAsset(await state.getAsset(opts, params.id!)));
    },
  },
  {
    method: 'PATCH',
    pattern: new RegExp(`^${LIBRARY}/assets/(?<id>[^/]+)$`),
    has404: true,
    async run(state, { opts, params, body }) {
      requireFields(body, ['name']);
      await state.updateAsset(opts, params.id!, { name: str(body, 'name') });
      return library({});
    },
  },
  {
    method: 'DELETE',
    pattern: new RegExp(`^${LIBRARY}/assets/(?<id>[^/]+)$`),
    has404: true,
    async run(state, { opts, params }) {
      await state.deleteAsset(opts, params.id!);
      return library({});
    },
  },
];

/**
 * A request handler serving apimart's calls over `state`, plus the H5 page (`/h5/verify`) and
 * previews (`/files/…`). Returns `false` (and leaves the response alone) for requests outside
 * `basePath`, so it can share a server with other handlers.
 */
export function createApimartSimulatorHandler(
  state: SimulatorState,
  options: SimulatorHandlerOptions = {},
): (req: IncomingMessage, res: ServerResponse) => boolean {
  return mountHandler(
    state,
    options,
    (req, res, path, query) => handle(state, req, res, path, query),
    serverError,
  );
}

/** Runs the apimart face on its own HTTP server. */
export async function startApimartSimulator(
  state: SimulatorState,
  options: { port?: number; host?: string } = {},
): Promise<RunningSimulator> {
  return serveHandler(createApimartSimulatorHandler(state), options);
}

async function handle(
  state: SimulatorState,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  query: URLSearchParams,
): Promise<void> {
  const method = req.method ?? 'GET';
  const matched = matchRoute(ROUTES, method, path);
  if (typeof matched === 'number') {
    const error = apimartError('not_found', `${method} ${path}`, 'invalid_request_error');
    return sendJson(res, matched, error);
  }

  const { route, params } = matched;
  try {
    const credential = bearer(req.headers.authorization);
    if (!credential) throw new UpstreamError('UNAUTHENTICATED', 'Invalid API key');
    const body = method === 'POST' || method === 'PATCH' ? await readJson(req) : {};
    // The key alone selects the data.
    const opts: CallOptions = { credential };
    sendJson(res, 200, await route.run(state, { opts, params, query, body }));
  } catch (error) {
    const { status, body } = wireError(error, route.has404);
    sendJson(res, status, body);
  }
}

/** How a rejection answers on the wire, in apimart's error body. */
function wireError(error: unknown, has404: boolean): { status: number; body: Json } {
  if (!(error instanceof UpstreamError)) return { status: 500, body: serverError() };
  const invalid = (code: string) => ({
    status: 400,
    body: apimartError(code, error.message, 'invalid_request_error'),
  });
  switch (error.code) {
    case 'UNAUTHENTICATED':
      return { status: 401, body: apimartError(401, error.message, 'authentication_error') };
    case 'BAD_REQUEST':
      return invalid('invalid_request_error');
    case 'VERIFICATION_USED':
      return invalid('byted_token_used');
    case 'VERIFICATION_EXPIRED':
      return invalid('byted_token_expired');
    case 'VERIFICATION_FAILED':
      return invalid('verification_failed');
    case 'NOT_FOUND':
      if (error.upstreamCode === 'NotFound.BytedToken') return invalid('byted_token_not_found');
      if (!has404) return invalid('group_not_found');
      return {
        status: 404,
        body: apimartError(
          error.upstreamCode === 'NotFound.task_id' ? 'task_not_found' : 'not_found',
          error.message,
          'invalid_request_error',
        ),
      };
    case 'RATE_LIMITED':
      return {
        status: 429,
        body: apimartError('rate_limit_error', error.message, 'rate_limit_error'),
      };
    default:
      return { status: 500, body: serverError() };
  }
}

function apimartError(code: string | number, message: string, type: string): Json {
  return { error: { code, message, type } };
}

function serverError(): Json {
  return apimartError(
    'server_error',
    'The request failed due to an internal error.',
    'server_error',
  );
}

/** A task's `data`, as `GET /v1/tasks/{id}` and step 2 answer it. */
function taskData(task: SimulatorTask): Json {
  const created = unixSeconds(task.createdAt);
  const data: Json = { id: task.id, status: task.status, progress: task.progress, created };
  if (task.completedAt) {
    data.completed = unixSeconds(task.completedAt);
    data.actual_time = Math.max(0, (data.completed as number) - created);
  }
  if (task.session) {
    data.result = {
      byted_token: task.session.token,
      h5_link: task.session.h5Link,
      raw_response: {},
    };
  } else if (task.kind === 'verification' && task.groupId) {
    data.result = { group_id: task.groupId };
  } else if (task.reviewed) {
    const reviewed = task.reviewed.map((item) => ({
      asset_id: item.assetId,
      asset_url: `asset://${item.assetId}`,
      status: item.status,
    }));
    data.result = {
      assets: reviewed,
      usable_assets: reviewed.filter((item) => item.status === 'Active'),
      failed_assets: reviewed.filter((item) => item.status === 'Failed'),
    };
  }
  // A review that rejected some assets fails with `task_failed` (seed 004); no reason per asset.
  if (task.status === 'failed') {
    data.error = task.failure
      ? { code: verificationCode(task.failure.code), message: task.failure.message }
      : { code: 'task_failed', message: 'Some assets failed review' };
  }
  return data;
}

function verificationCode(code: string): string {
  switch (code) {
    case 'VERIFICATION_USED':
      return 'byted_token_used';
    case 'VERIFICATION_EXPIRED':
      return 'byted_token_expired';
    case 'VERIFICATION_FAILED':
      return 'verification_failed';
    default:
      return 'byted_token_not_found';
  }
}

/** The answer of a call that started a review task (M3). */
function accepted(task: SimulatorTask, model: string): Json {
  return {
    code: 200,
    data: {
      id: task.id,
      object: 'seedance.avatar.asset.task',
      status: task.status,
      progress: task.progress,
      model,
    },
  };
}

/** The Volcengine envelope of the management endpoints (M8). */
function library(result: Json): Json {
  const stamp = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return {
    ResponseMetadata: { RequestId: stamp + randomBytes(10).toString('hex').toUpperCase() },
    Result: result,
  };
}

function listResult(page: { total: number; page: number; pageSize: number }, items: Json[]): Json {
  return { Items: items, Total: page.total, PageNumber: page.page, PageSize: page.pageSize };
}

/** An Ark-shaped asset item without `Error`: apimart gives no per-asset reason (M7). */
function libraryAsset(asset: Parameters<typeof assetToWire>[0]): Json {
  const { Error: _reason, ...item } = assetToWire(asset);
  return item;
}

/** `group_id`, else `group` (a new group); neither also makes a new group (M7 "不传自动创建"). */
function target(body: Json): Pick<NewReview, 'groupId' | 'group'> {
  if (body.group_id !== undefined) return { groupId: str(body, 'group_id') };
  if (body.group === undefined) return {};
  const group = obj(body, 'group');
  requireFields(group, ['name']);
  return { group: { name: str(group, 'name'), description: optStr(group, 'description') } };
}

function items(body: Json): NewReview['items'] {
  const value = body.assets;
  if (!Array.isArray(value)) {
    throw new UpstreamError('BAD_REQUEST', 'assets must be an array.');
  }
  return value.map((item, index) => {
    if (typeof item !== 'object' || item === null || typeof item.url !== 'string') {
      throw new UpstreamError('BAD_REQUEST', `assets[${index}].url is required.`);
    }
    return { url: item.url as string, name: optStr(item as Json, 'name') };
  });
}

function assetType(body: Json, fallback: string, allowed: string[]): AssetType {
  const wire = optStr(body, 'asset_type') ?? fallback;
  if (!allowed.includes(wire)) {
    throw new UpstreamError('BAD_REQUEST', `asset_type must be one of ${allowed.join(', ')}.`);
  }
  return ASSET_TYPES.fromWire[wire as keyof typeof ASSET_TYPES.fromWire]!;
}

function paging(query: URLSearchParams): { page: number; pageSize: number } {
  const number = (name: string, fallback: number) => {
    const text = query.get(name);
    const value = text === null ? fallback : Number(text);
    if (!Number.isInteger(value))
      throw new UpstreamError('BAD_REQUEST', `${name} must be an integer.`);
    return value;
  };
  // The state refuses a page below 1 or a size outside 1-100.
  return { page: number('page_number', 1), pageSize: number('page_size', 20) };
}

function unixSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}
