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
import type { CallRequest } from '../http/dialect.js';
import { createTransport, type HttpOptions } from '../http/options.js';
import type { RateLimit } from '../http/pacer.js';
import { withOverrides, type CallKind, type RetryRule } from '../http/retry.js';
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
import { DEFAULT_MODEL, type ArkModel } from './models.js';
import type { operations } from './wire.js';

export type { HttpOptions } from '../http/options.js';
export type { UpstreamLogger, UpstreamMetrics } from '../http/transport.js';

/** Ark's options; the engine's (`baseUrl`, deadlines, pool, clock, logging) are `HttpOptions`. */
export interface ArkClientOptions extends HttpOptions {
  /**
   * The `model` routing field every call sends. The port's `CallOptions` carry no routing: one
   * client routes every call the same way.
   * @default DEFAULT_MODEL ('doubao-seedance-2-0-260128')
   */
  model?: ArkModel;
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
  const transport = createTransport(
    createArkDialect({
      contract: loadContract(options.contractUrl),
      model: options.model ?? DEFAULT_MODEL,
    }),
    options,
    {
      rateLimits: { ...DEFAULT_RATE_LIMITS, ...options.rateLimits },
      retryRules: withOverrides(RETRY_RULES, options.retry),
    },
  );

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
      return {
        token: Result.BytedToken,
        h5Link: unescapeLink(Result.H5Link),
        // Inferred, one deployment sends it (contract ⑪): the link's lifetime, not the token's.
        ...(Result.ExpiresIn !== undefined && { h5LinkTtlSeconds: Result.ExpiresIn }),
      };
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
