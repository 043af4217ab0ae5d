/**
 * The per-request context resolvers receive: the upstream port, the request's credential (as
 * `CallOptions`), per-request loaders, the clock and the logger. It knows nothing of HTTP: the
 * transport hands over the `Authorization` header value only.
 */
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { UnauthenticatedError } from './errors.js';
import { createLoaders, type Loaders } from './loaders.js';
import type { CallOptions, Upstream } from './upstream/port.js';

export interface GatewayContext {
  readonly upstream: Upstream;
  readonly loaders: Loaders;
  readonly logger: Logger;
  /** The clock, for `expiresAt`. */
  readonly now: () => Date;
  readonly verificationTtlSeconds: number;
  /**
   * The options for every upstream call of this request. Throws `UNAUTHENTICATED` when there
   * is no credential, so call it before doing anything that needs one.
   */
  callOptions(): CallOptions;
}

export interface ContextDeps {
  upstream: Upstream;
  logger: Logger;
  /** @default () => new Date() */
  now?: () => Date;
}

export type ContextConfig = Pick<
  Config,
  'upstreamApiKey' | 'defaultModel' | 'verificationTtlSeconds'
>;

/**
 * The upstream credential for a request: the server's `UPSTREAM_API_KEY` when configured,
 * otherwise the caller's `Authorization: Bearer <key>`; `null` when neither is usable.
 */
export function resolveCredential(
  authorization: string | undefined,
  serverKey: string | null,
): string | null {
  if (serverKey !== null) return serverKey;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? '');
  return match?.[1] ?? null;
}

export function createContext(
  config: ContextConfig,
  deps: ContextDeps,
  request: { authorization?: string },
): GatewayContext {
  const credential = resolveCredential(request.authorization, config.upstreamApiKey);
  const options: CallOptions | null =
    credential === null ? null : { credential, model: config.defaultModel };
  const callOptions = (): CallOptions => {
    if (options === null) throw new UnauthenticatedError();
    return options;
  };
  return {
    upstream: deps.upstream,
    loaders: createLoaders(deps.upstream, callOptions),
    logger: deps.logger,
    now: deps.now ?? (() => new Date()),
    verificationTtlSeconds: config.verificationTtlSeconds,
    callOptions,
  };
}
