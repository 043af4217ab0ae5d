/**
 * The Ark client: the `Upstream` port over the twelve REST interfaces of `mocks/openapi.yaml`.
 * Each method builds its Ark body and maps the result (`mapping.ts`); the call itself goes
 * through the dialect-free engine (`../http/transport.ts`) with Ark's dialect (`dialect.ts`) and
 * tables (`actions.ts`). Requests and results are typed by the generated `wire.d.ts`, so a
 * contract change shows up here as a type error; results are also checked at run time.
 *
 * ```ts
 * const upstream = createArkClient({ baseUrl: config.upstreamUrl });
 * const group = await upstream.getGroup({ credential }, 'group-20260601191715-9q47m');
 * await upstream.close();
 * ```
 */
import type { Dispatcher } from 'undici';
import type { CallRequest } from '../http/dialect.js';
import type { RateLimit } from '../http/pacer.js';
import {
  DEFAULT_BACKOFF,
  withOverrides,
  type Backoff,
  type CallKind,
  type RetryRule,
} from '../http/retry.js';
import {
  sleepUnlessAborted,
  Transport,
  type UpstreamLogger,
  type UpstreamMetrics,
} from '../http/transport.js';
import { badResponse } from '../http/transport-errors.js';
import type { CallOptions, Upstream } from '../port.js';
import {
  ACTIONS,
  DEFAULT_RATE_LIMITS,
  RETRY_RULES,
  type ArkAction,
  type PortMethod,
} from './actions.js';
import { loadContract, type OperationId } from './contract.js';
import { createArkDialect } from './dialect.js';
import {
  kindToWire,
  statusToWire,
  toAsset,
  toGroup,
  toPage,
  toVerificationResult,
  typeToWire,
  unescapeLink,
  type Wire,
} from './mapping.js';
import { DEFAULT_MODEL } from './models.js';
import type { operations } from './wire.js';

export type { UpstreamLogger, UpstreamMetrics } from '../http/transport.js';

export interface ArkClientOptions {
  /**
   * Base URL of the upstream gateway, e.g. `https://gateway.example.com`; a path prefix is kept.
   * Must not carry credentials or a query string (the key goes in `CallOptions.credential`).
   */
  baseUrl: string;
  /**
   * The `model` routing field when a call does not name one.
   * @default 'doubao-seedance-2-0-260128'
   */
  defaultModel?: string;
  /**
   * Overall deadline of one call in ms, pacing waits and retries included. The caller's
   * `signal` can end it earlier.
   * @default 15000
   */
  timeoutMs?: number;
  /**
   * Time to establish a TCP/TLS connection, in ms.
   * @default 3000
   */
  connectTimeoutMs?: number;
  /**
   * Time from sending to the complete response headers, in ms. undici checks it with a coarse
   * timer (about 1 s resolution); `timeoutMs` is the precise bound.
   * @default 10000
   */
  headersTimeoutMs?: number;
  /**
   * Longest silence between two body chunks, in ms (same coarse timer as `headersTimeoutMs`).
   * @default 10000
   */
  bodyTimeoutMs?: number;
  /**
   * Larger response bodies are cut off and reported as `UPSTREAM_BAD_RESPONSE`.
   * @default 1048576 (1 MiB; a page of 100 assets is about 60 KiB)
   */
  maxResponseBytes?: number;
  /**
   * Keep-alive connections to the upstream origin: bounds concurrent calls; more calls queue
   * (within their deadline). Ignored with `dispatcher`.
   * @default 16
   */
  connections?: number;
  /**
   * How long an idle keep-alive connection is kept, in ms. Ignored with `dispatcher`.
   * @default 4000
   */
  keepAliveTimeoutMs?: number;
  /**
   * Send through this undici dispatcher instead of the client's own `Pool` (tests add
   * interceptors this way). `close()` does not close it; its creator does.
   * @default undefined (a Pool per origin, owned by the client)
   */
  dispatcher?: Dispatcher;
  /**
   * Client-side pacing per (credential, action), overriding `DEFAULT_RATE_LIMITS`; `null` turns
   * pacing off for an action. Set `CreateAsset` to your plan (3, 120 or 300 per minute).
   * @default DEFAULT_RATE_LIMITS (the documented per-account limits)
   */
  rateLimits?: Partial<Record<ArkAction, RateLimit | null>>;
  /**
   * Overrides of the retry rules per kind of call, e.g. `{ read: { maxAttempts: 1 } }`.
   * @default RETRY_RULES
   */
  retry?: Partial<Record<CallKind, Partial<RetryRule>>>;
  /**
   * Exponential backoff between attempts (jittered; never shorter than `Retry-After`).
   * @default { baseMs: 100, maxMs: 2000 }
   */
  backoff?: Partial<Backoff>;
  /**
   * The clock, in ms; used for deadlines, pacing and `Retry-After` dates.
   * @default Date.now
   */
  now?: () => number;
  /**
   * Waits between attempts and for pacing; must reject when `signal` aborts.
   * @default setTimeout from node:timers/promises
   */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /**
   * Jitter source in [0, 1).
   * @default Math.random
   */
  random?: () => number;
  /**
   * Receives retry and pacing notes (`warn`, `debug`); a pino logger fits.
   * @default undefined (silent)
   */
  logger?: UpstreamLogger;
  /**
   * Told of every call's action, outcome (`ok` or the error code) and duration, retries included;
   * the gateway passes its Prometheus metrics.
   * @default undefined
   */
  metrics?: UpstreamMetrics;
  /**
   * The contract whose response schemas are enforced at run time.
   * @default mocks/openapi.yaml, resolved from this module
   */
  contractUrl?: URL;
}

export type ArkClient = Upstream & {
  /** Closes the client's own connection pool; calls after it fail. */
  close(): Promise<void>;
};

type RequestBody<O extends OperationId> = operations[O] extends {
  requestBody: { content: { 'application/json': infer B } };
}
  ? Omit<B, 'model'>
  : never;
type Success<O extends OperationId> =
  operations[O]['responses'][200]['content']['application/json'];

export function createArkClient(options: ArkClientOptions): ArkClient {
  const base = new URL(options.baseUrl);
  if (base.username || base.password || base.search) {
    // The value is not repeated: it may be the secret.
    throw new TypeError('createArkClient: baseUrl must not carry credentials or a query string');
  }
  const transport = new Transport({
    dialect: createArkDialect({
      contract: loadContract(options.contractUrl),
      defaultModel: options.defaultModel ?? DEFAULT_MODEL,
    }),
    origin: base.origin,
    basePath: base.pathname.replace(/\/+$/, ''),
    timeoutMs: options.timeoutMs ?? 15_000,
    connectTimeoutMs: options.connectTimeoutMs ?? 3_000,
    headersTimeoutMs: options.headersTimeoutMs ?? 10_000,
    bodyTimeoutMs: options.bodyTimeoutMs ?? 10_000,
    maxResponseBytes: options.maxResponseBytes ?? 1024 * 1024,
    connections: options.connections ?? 16,
    keepAliveTimeoutMs: options.keepAliveTimeoutMs ?? 4_000,
    dispatcher: options.dispatcher,
    rateLimits: { ...DEFAULT_RATE_LIMITS, ...options.rateLimits },
    retryRules: withOverrides(RETRY_RULES, options.retry),
    backoff: { ...DEFAULT_BACKOFF, ...options.backoff },
    now: options.now ?? Date.now,
    sleep: options.sleep ?? sleepUnlessAborted,
    random: options.random ?? Math.random,
    logger: options.logger,
    metrics: options.metrics,
  });

  /** Typed by the contract: the request body of `method`'s operation, its 200 body back. */
  async function call<M extends PortMethod>(
    method: M,
    opts: CallOptions,
    request: { id?: string; body?: RequestBody<(typeof ACTIONS)[M]['operationId']> },
  ): Promise<Success<(typeof ACTIONS)[M]['operationId']>> {
    const result = await transport.call(method, opts, request as CallRequest);
    return result as Success<(typeof ACTIONS)[M]['operationId']>;
  }

  return {
    async createGroup(opts, input) {
      const { Result } = await call('createGroup', opts, {
        body: { Name: input.name, Description: input.description, GroupType: 'AIGC' },
      });
      return { id: Result.Id };
    },

    async listGroups(opts, query) {
      const { Result } = await call('listGroups', opts, {
        body: {
          Filter: {
            Name: query.nameContains,
            GroupIds: query.ids,
            GroupType: query.kind && kindToWire(query.kind),
          },
          PageNumber: query.page,
          PageSize: query.pageSize,
        },
      });
      return toPage(Result, query, (item) => toGroup(item, { kind: query.kind }));
    },

    async getGroup(opts, id) {
      const { Result } = await call('getGroup', opts, { id });
      return toGroup(Result);
    },

    async updateGroup(opts, id, patch) {
      await call('updateGroup', opts, {
        id,
        body: { Id: id, Name: patch.name, Description: patch.description },
      });
    },

    async deleteGroup(opts, id) {
      await call('deleteGroup', opts, { id });
    },

    async createAsset(opts, input) {
      const { Result } = await call('createAsset', opts, {
        body: {
          GroupId: input.groupId,
          URL: input.url,
          AssetType: typeToWire(input.type),
          Name: input.name,
        },
      });
      return { id: Result.Id };
    },

    async listAssets(opts, query) {
      const { Result } = await call('listAssets', opts, {
        body: {
          Filter: {
            GroupIds: query.groupIds,
            GroupType: query.kind && kindToWire(query.kind),
            Statuses: query.statuses?.map(statusToWire),
            Name: query.nameContains,
          },
          PageNumber: query.page,
          PageSize: query.pageSize,
        },
      });
      const onlyGroup = query.groupIds?.length === 1 ? query.groupIds[0] : undefined;
      const page = toPage(Result, query, (item: Wire['Asset']) =>
        toAsset(item, { groupId: onlyGroup }),
      );
      // The contract has no type filter: `types` is applied to the page here, and `total`
      // stays the upstream's count over every type.
      if (query.types?.length) {
        const wanted = new Set(query.types);
        page.items = page.items.filter((asset) => wanted.has(asset.type));
      }
      return page;
    },

    async getAsset(opts, id) {
      const { Result } = await call('getAsset', opts, { id });
      return toAsset(Result);
    },

    async updateAsset(opts, id, patch) {
      await call('updateAsset', opts, { id, body: { Id: id, Name: patch.name } });
    },

    async deleteAsset(opts, id) {
      await call('deleteAsset', opts, { id });
    },

    async startVerification(opts, input) {
      const { Result, ResponseMetadata } = await call('startVerification', opts, {
        body: { CallbackURL: input.callbackUrl, Lng: input.language },
      });
      if (!Result.H5Link) {
        // The contract marks `H5Link` as inferred; without it the person has nowhere to go.
        throw badResponse(ACTIONS.startVerification.action, 'Result.H5Link is missing', {
          status: 200,
          requestId: ResponseMetadata.RequestId,
        });
      }
      return { token: Result.BytedToken, h5Link: unescapeLink(Result.H5Link) };
    },

    async completeVerification(opts, token) {
      const { Result } = await call('completeVerification', opts, {
        body: { BytedToken: token },
      });
      return toVerificationResult(Result);
    },

    close: () => transport.close(),
  };
}
