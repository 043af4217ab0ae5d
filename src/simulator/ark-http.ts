/**
 * The simulator's Ark face: the REST contract of `mocks/openapi.yaml` (the twelve Ark
 * interfaces) over a `SimulatorState`, with the H5 liveness page (`h5-page.ts`) beside it. The
 * gateway's real Ark client talks to it exactly as it would to the upstream, so the embedded
 * default exercises the same code path as production; a test runs it behind Prism's validating
 * proxy so its answers cannot drift from the contract. The wire enums and model names come from
 * the Ark dialect (`upstream/ark/mapping.ts`, `upstream/ark/models.ts`), never re-declared here.
 *
 * `createSimulatorHandler` returns a plain `node:http` request handler, to mount on any server
 * (the gateway mounts it under `/simulator`); `startSimulator` runs it on a port of its own.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { UpstreamError, type UpstreamErrorCode } from '../upstream/errors.js';
import { ASSET_TYPES, KINDS, STATUSES } from '../upstream/ark/mapping.js';
import { ARK_MODELS } from '../upstream/ark/models.js';
import type { Asset, CallOptions, Group } from '../upstream/port.js';
import {
  bearer,
  matchRoute,
  mountHandler,
  sendJson,
  serveHandler,
  type RunningSimulator,
  type SimulatorHandlerOptions,
} from './http-kit.js';
import { readText } from './read-body.js';
import type { SimulatorState } from './state.js';

const MODELS: ReadonlySet<string> = new Set(ARK_MODELS);
/** Larger request bodies are refused, as `InvalidParameter.Body`. */
const MAX_BODY_BYTES = 1 << 20;

/** How each upstream error code answers on the wire, when the state gave no upstream code. */
const ERROR_WIRE: Record<UpstreamErrorCode, { status: number; code: string }> = {
  NOT_FOUND: { status: 404, code: 'NotFound' },
  UNAUTHENTICATED: { status: 401, code: 'Unauthorized' },
  FORBIDDEN: { status: 403, code: 'AccessDenied' },
  BAD_REQUEST: { status: 400, code: 'InvalidParameter' },
  // Ark has no 402; the nearest it says is a missing plan.
  PAYMENT_REQUIRED: { status: 403, code: 'SubscriptionRequired' },
  RATE_LIMITED: { status: 429, code: 'Throttling' },
  UPSTREAM_UNAVAILABLE: { status: 500, code: 'InternalError' },
  UPSTREAM_TIMEOUT: { status: 500, code: 'InternalError' },
  UPSTREAM_BAD_RESPONSE: { status: 500, code: 'InternalError' },
  VERIFICATION_EXPIRED: { status: 400, code: 'InvalidParameter.BytedTokenExpired' },
  VERIFICATION_USED: { status: 400, code: 'InvalidParameter.BytedTokenUsed' },
  VERIFICATION_FAILED: { status: 400, code: 'InvalidParameter.VerificationFailed' },
};

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
  action: string;
  run(state: SimulatorState, call: Call): Promise<Json>;
}

/** The twelve interfaces, in contract order. */
const ROUTES: Route[] = [
  {
    method: 'POST',
    pattern: /^\/v1\/private-avatar\/groups$/,
    action: 'CreateAssetGroup',
    async run(state, { opts, body }) {
      requireFields(body, ['Name']);
      if (body.GroupType !== undefined && body.GroupType !== 'AIGC') {
        throw invalid('GroupType', 'Only AIGC groups can be created.');
      }
      const { id } = await state.createGroup(opts, {
        name: str(body, 'Name'),
        description: optStr(body, 'Description'),
      });
      return { Id: id };
    },
  },
  {
    method: 'POST',
    pattern: /^\/v1\/private-avatar\/groups\/list$/,
    action: 'ListAssetGroups',
    async run(state, { opts, body }) {
      const filter = obj(body, 'Filter');
      const page = await state.listGroups(opts, {
        nameContains: optStr(filter, 'Name'),
        ids: optStrings(filter, 'GroupIds'),
        kind: optEnum(filter, 'GroupType', KINDS.fromWire),
        ...paging(body),
      });
      return {
        Total: page.total,
        PageNumber: page.page,
        PageSize: page.pageSize,
        Items: page.items.map(groupToWire),
      };
    },
  },
  {
    method: 'GET',
    pattern: /^\/v1\/private-avatar\/groups\/(?<id>[^/]+)$/,
    action: 'GetAssetGroup',
    async run(state, { opts, params }) {
      return groupToWire(await state.getGroup(opts, params.id!));
    },
  },
  {
    method: 'PATCH',
    pattern: /^\/v1\/private-avatar\/groups\/(?<id>[^/]+)$/,
    action: 'UpdateAssetGroup',
    async run(state, { opts, params, body }) {
      requireFields(body, ['Id']);
      if (body.Id !== params.id) throw invalid('Id', 'Id must equal the path id.');
      await state.updateGroup(opts, params.id!, {
        name: optStr(body, 'Name'),
        description: optStr(body, 'Description'),
      });
      return { Id: params.id };
    },
  },
  {
    method: 'DELETE',
    pattern: /^\/v1\/private-avatar\/groups\/(?<id>[^/]+)$/,
    action: 'DeleteAssetGroup',
    async run(state, { opts, params }) {
      await state.deleteGroup(opts, params.id!);
      return {};
    },
  },
  {
    method: 'POST',
    pattern: /^\/v1\/private-avatar\/assets$/,
    action: 'CreateAsset',
    async run(state, { opts, body }) {
      requireFields(body, ['GroupId', 'URL', 'AssetType']);
      const type = optEnum(body, 'AssetType', ASSET_TYPES.fromWire)!;
      const { id } = await state.createAsset(opts, {
        groupId: str(body, 'GroupId'),
        url: str(body, 'URL'),
        type,
        name: optStr(body, 'Name'),
      });
      return { Id: id };
    },
  },
  {
    method: 'POST',
    pattern: /^\/v1\/private-avatar\/assets\/list$/,
    action: 'ListAssets',
    async run(state, { opts, body }) {
      const filter = obj(body, 'Filter');
      const statuses = optStrings(filter, 'Statuses')?.map((status) => {
        const domain = lookup(STATUSES.fromWire, status);
        if (!domain) throw invalid('Filter.Statuses', `Unknown status ${status}.`);
        return domain;
      });
      const page = await state.listAssets(opts, {
        groupIds: optStrings(filter, 'GroupIds'),
        kind: optEnum(filter, 'GroupType', KINDS.fromWire),
        statuses,
        nameContains: optStr(filter, 'Name'),
        ...paging(body),
      });
      return {
        Total: page.total,
        PageNumber: page.page,
        PageSize: page.pageSize,
        Items: page.items.map(assetToWire),
      };
    },
  },
  {
    method: 'GET',
    pattern: /^\/v1\/private-avatar\/assets\/(?<id>[^/]+)$/,
    action: 'GetAsset',
    async run(state, { opts, params }) {
      return assetToWire(await state.getAsset(opts, params.id!));
    },
  },
  {
    method: 'PATCH',
    pattern: /^\/v1\/private-avatar\/assets\/(?<id>[^/]+)$/,
    action: 'UpdateAsset',
    async run(state, { opts, params, body }) {
      requireFields(body, ['Id']);
      if (body.Id !== params.id) throw invalid('Id', 'Id must equal the path id.');
      const name = optStr(body, 'Name');
      if (name !== undefined) await state.updateAsset(opts, params.id!, { name });
      else await state.getAsset(opts, params.id!);
      return {};
    },
  },
  {
    method: 'DELETE',
    pattern: /^\/v1\/private-avatar\/assets\/(?<id>[^/]+)$/,
    action: 'DeleteAsset',
    async run(state, { opts, params }) {
      await state.deleteAsset(opts, params.id!);
      return {};
    },
  },
  {
    method: 'POST',
    pattern: /^\/v1\/real-avatar\/auth\/session$/,
    action: 'CreateVisualValidateSession',
    async run(state, { opts, body }) {
      requireFields(body, ['CallbackURL']);
      const language = optStr(body, 'Lng');
      if (language !== undefined && !['zh', 'en', 'zh-Hant'].includes(language)) {
        throw invalid('Lng', 'Lng must be zh, en or zh-Hant.');
      }
      const callbackUrl = str(body, 'CallbackURL');
      const session = await state.startVerification(opts, {
        callbackUrl,
        language: language as 'zh' | 'en' | 'zh-Hant' | undefined,
      });
      return { BytedToken: session.token, H5Link: session.h5Link, CallbackURL: callbackUrl };
    },
  },
  {
    method: 'POST',
    pattern: /^\/v1\/real-avatar\/groups\/from-token$/,
    action: 'GetVisualValidateResult',
    async run(state, { opts, body }) {
      requireFields(body, ['BytedToken']);
      const result = await state.completeVerification(opts, str(body, 'BytedToken'));
      return { GroupId: result.status === 'VERIFIED' ? result.groupId : '' };
    },
  },
];

export type { RunningSimulator, SimulatorHandlerOptions } from './http-kit.js';

/**
 * A request handler serving the contract over `state`. Returns `false` (and leaves the response
 * alone) for requests outside `basePath`, so it can share a server with other handlers.
 */
export function createSimulatorHandler(
  state: SimulatorState,
  options: SimulatorHandlerOptions = {},
): (req: IncomingMessage, res: ServerResponse) => boolean {
  return mountHandler(
    state,
    options,
    (req, res, path, query) => handle(state, req, res, path, query),
    () => envelope('Unknown', errorBody(undefined)),
  );
}

/** Runs the simulator on its own HTTP server. */
export async function startSimulator(
  state: SimulatorState,
  options: { port?: number; host?: string } = {},
): Promise<RunningSimulator> {
  return serveHandler(createSimulatorHandler(state), options);
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
    const code = matched === 405 ? 'MethodNotAllowed' : 'NotFound.Route';
    return sendJson(
      res,
      matched,
      envelope('Unknown', { Code: code, Message: `${method} ${path}` }),
    );
  }

  const { route, params } = matched;
  try {
    const credential = bearer(req.headers.authorization);
    if (!credential) {
      throw new UpstreamError('UNAUTHENTICATED', 'Invalid or missing API key.');
    }
    const body = method === 'POST' || method === 'PATCH' ? await readJson(req) : {};
    const model = method === 'POST' || method === 'PATCH' ? body.model : query.get('model');
    if (model === undefined || model === null) throw missing('model');
    if (typeof model !== 'string' || !MODELS.has(model)) {
      throw invalid('model', `model must be one of ${[...MODELS].join(', ')}.`);
    }
    const result = await route.run(state, { opts: { credential }, params, query, body });
    sendJson(res, 200, { ...envelope(route.action), Result: result });
  } catch (error) {
    const { status, body } = wireError(error);
    sendJson(res, status, envelope(route.action, body));
  }
}

function envelope(action: string, error?: { Code: string; Message: string }): Json {
  const stamp = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return {
    ResponseMetadata: {
      RequestId: stamp + randomBytes(10).toString('hex').toUpperCase(),
      Action: action,
      Version: '2024-01-01',
      Service: 'ark',
      Region: 'cn-beijing',
      ...(error ? { Error: error } : {}),
    },
  };
}

function wireError(error: unknown): { status: number; body: { Code: string; Message: string } } {
  if (!(error instanceof UpstreamError)) {
    return { status: 500, body: errorBody(error) };
  }
  const wire = ERROR_WIRE[error.code];
  return {
    status: wire.status,
    body: { Code: error.upstreamCode ?? wire.code, Message: error.message },
  };
}

function errorBody(error: unknown): { Code: string; Message: string } {
  void error;
  return { Code: 'InternalError', Message: 'The request failed due to an internal error.' };
}

/** A group as a Volcengine item (also the apimart library's, M8). */
export function groupToWire(group: Group): Json {
  return {
    Id: group.id,
    Name: group.name ?? '',
    Description: group.description ?? '',
    GroupType: KINDS.toWire[group.kind],
    ProjectName: 'default',
    ...(group.createdAt ? { CreateTime: isoSeconds(group.createdAt) } : {}),
    ...(group.updatedAt ? { UpdateTime: isoSeconds(group.updatedAt) } : {}),
  };
}

/** An asset as a Volcengine item (also the apimart library's, M8). */
export function assetToWire(asset: Asset): Json {
  return {
    Id: asset.id,
    ...(asset.name !== null ? { Name: asset.name } : {}),
    ...(asset.previewUrl ? { URL: asset.previewUrl } : {}),
    AssetType: ASSET_TYPES.toWire[asset.type],
    GroupId: asset.groupId,
    Status: STATUSES.toWire[asset.status],
    ...(asset.failure
      ? { Error: { Code: asset.failure.code, Message: asset.failure.message } }
      : {}),
    ProjectName: 'default',
    ...(asset.createdAt ? { CreateTime: isoSeconds(asset.createdAt) } : {}),
    ...(asset.updatedAt ? { UpdateTime: isoSeconds(asset.updatedAt) } : {}),
  };
}

function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function paging(body: Json): { page: number; pageSize: number } {
  const page = body.PageNumber ?? 1;
  const pageSize = body.PageSize ?? 10;
  if (!Number.isInteger(page) || (page as number) < 1)
    throw invalid('PageNumber', 'PageNumber must be an integer of at least 1.');
  if (!Number.isInteger(pageSize) || (pageSize as number) < 1 || (pageSize as number) > 100) {
    throw invalid('PageSize', 'PageSize must be an integer from 1 to 100.');
  }
  return { page: page as number, pageSize: pageSize as number };
}

export function requireFields(body: Json, fields: string[]): void {
  for (const field of fields) {
    if (body[field] === undefined || body[field] === null || body[field] === '')
      throw missing(field);
  }
}

export function str(body: Json, field: string): string {
  const value = body[field];
  if (typeof value !== 'string') throw invalid(field, `${field} must be a string.`);
  return value;
}

export function optStr(body: Json, field: string): string | undefined {
  return body[field] === undefined ? undefined : str(body, field);
}

function optStrings(body: Json, field: string): string[] | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw invalid(field, `${field} must be an array of strings.`);
  }
  return value as string[];
}

/** `values[key]` for a key from the wire, which may be none of the table's. */
function lookup<T>(values: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(values, key) ? values[key] : undefined;
}

function optEnum<T>(body: Json, field: string, values: Readonly<Record<string, T>>): T | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  const mapped = typeof value === 'string' ? lookup(values, value) : undefined;
  if (mapped === undefined) {
    throw invalid(field, `${field} must be one of ${Object.keys(values).join(', ')}.`);
  }
  return mapped;
}

export function obj(body: Json, field: string): Json {
  const value = body[field];
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(field, `${field} must be an object.`);
  }
  return value as Json;
}

function missing(field: string): UpstreamError {
  return new UpstreamError('BAD_REQUEST', `The required parameter ${field} is missing.`, {
    upstreamCode: `MissingParameter.${field}`,
  });
}

function invalid(field: string, message: string): UpstreamError {
  return new UpstreamError('BAD_REQUEST', message, {
    upstreamCode: `InvalidParameter.${field}`,
  });
}

export async function readJson(req: IncomingMessage): Promise<Json> {
  const text = await readText(req, MAX_BODY_BYTES, () =>
    invalid('Body', 'The request body is too large.'),
  );
  if (text.trim() === '') throw missing('Body');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalid('Body', 'The request body is not valid JSON.');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw invalid('Body', 'The request body must be a JSON object.');
  }
  return parsed as Json;
}
