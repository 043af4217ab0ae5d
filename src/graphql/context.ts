/**
 * The per-request context resolvers receive: the upstream port, the request's credential (as
 * `CallOptions`), per-request loaders, the clock and the logger. It knows nothing of HTTP: the
 * transport hands over the outcome of `authenticate` (`src/security/access.ts`) only.
 */
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import { UnauthenticatedError } from '../errors/gateway-error.js';
import type { Ledger } from '../ledger/index.js';
import { createLoaders, type Loaders } from './loaders.js';
import { createTenancy, type Tenancy } from './tenancy.js';
import type { AccessResult } from '../security/access.js';
import type { StatusWatcher } from '../status/index.js';
import type { VerificationService } from '../verification/index.js';
import type { CallOptions, Upstream } from '../upstream/port.js';

/**
 * The live services resolvers need: subscribe, and keep `addAssets` and ⑫ consistent with
 * subscribers. `subscriptions/live.ts` implements it.
 */
export interface LiveServices {
  readonly watcher: StatusWatcher;
  readonly verifications: VerificationService;
}

export interface GatewayContext {
  readonly upstream: Upstream;
  readonly loaders: Loaders;
  readonly logger: Logger;
  /** The clock, for a verification's `expiresAt` and `h5LinkExpiresAt`. */
  readonly now: () => Date;
  /** `VERIFICATION_TTL_SECONDS`: how long a verification token may be exchanged. */
  readonly verificationTtlSeconds: number;
  /** `H5_LINK_TTL_SECONDS`: how long an H5 link opens, when the upstream does not say. */
  readonly h5LinkTtlSeconds: number;
  /** Who the caller is to the ledger, and what it may see (`tenancy.ts`). */
  readonly tenancy: Tenancy;
  /** `ASSET_URLS_ALLOW_INTERNAL`: asset URLs may point at internal addresses. */
  readonly assetUrlsAllowInternal: boolean;
  /**
   * The options for every upstream call of this request. Throws `UNAUTHENTICATED` when there
   * is no credential, so call it before doing anything that needs one.
   */
  callOptions(): CallOptions;
  /**
   * The status watcher and verification poller, when the server runs them (subscriptions, and
   * mutations that must agree with subscribers).
   */
  readonly live?: LiveServices;
}

export interface ContextDeps {
  upstream: Upstream;
  logger: Logger;
  /** @default () => new Date() */
  now?: () => Date;
  /** @default none: no subscriptions */
  live?: LiveServices;
  /**
   * The ledger: who owns what, verification tokens, idempotent creates.
   * @default none: nothing is recorded and every caller sees the whole upstream library
   */
  ledger?: Ledger;
}

export type ContextConfig = Pick<
  Config,
  'verificationTtlSeconds' | 'h5LinkTtlSeconds' | 'assetUrlsAllowInternal'
>;

/** What a transport hands over: the outcome of `Access.authenticate`, and its logger. */
export interface ContextRequest {
  access: AccessResult;
  /**
   * The request's logger (e.g. with its request id).
   * @default deps.logger
   */
  logger?: Logger;
  /** Forwarded to the upstream with every call this request makes. */
  requestId?: string;
}

export function createContext(
  config: ContextConfig,
  deps: ContextDeps,
  request: ContextRequest,
): GatewayContext {
  const { access } = request;
  const options: CallOptions | null = access.ok
    ? {
        credential: access.credential,
        ...(request.requestId ? { requestId: request.requestId } : {}),
      }
    : null;
  const callOptions = (): CallOptions => {
    if (options === null) {
      throw new UnauthenticatedError(access.ok ? undefined : access.error.message);
    }
    return options;
  };
  const tenancy = createTenancy(access, deps.ledger ?? null);
  return {
    upstream: deps.upstream,
    tenancy,
    loaders: createLoaders(deps.upstream, callOptions, tenancy.visible),
    logger: request.logger ?? deps.logger,
    now: deps.now ?? (() => new Date()),
    verificationTtlSeconds: config.verificationTtlSeconds,
    h5LinkTtlSeconds: config.h5LinkTtlSeconds,
    assetUrlsAllowInternal: config.assetUrlsAllowInternal,
    callOptions,
    ...(deps.live ? { live: deps.live } : {}),
  };
}
