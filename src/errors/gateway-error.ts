/**
 * The errors a client can meet on purpose: `GatewayError`, one class per refusal of the
 * gateway's own (arguments, credentials, limits, CORS, its own rate limit), and
 * `UpstreamFailureError` for every upstream failure, built only by `fromUpstreamError`.
 */
import { GraphQLError } from 'graphql';
import type { ErrorCode } from './codes.js';

/** Upstream diagnostics safe to show a client: never URLs, headers or keys. */
export interface UpstreamInfo {
  requestId: string | null;
  code: string | null;
}

/** The base of every expected error: a `GraphQLError` whose code is fixed by its class. */
export abstract class GatewayError extends GraphQLError {
  abstract readonly code: ErrorCode;
  protected constructor(
    code: ErrorCode,
    message: string,
    extensions: Record<string, unknown> = {},
    originalError?: Error,
  ) {
    super(message, {
      extensions: { ...extensions, code },
      ...(originalError ? { originalError } : {}),
    });
  }
}

/**
 * An upstream failure as a client sees it: our message (the upstream's may quote URLs) and
 * `extensions.upstream` with its request id and code. `fromUpstreamError` picks code and message.
 */
export class UpstreamFailureError extends GatewayError {
  constructor(
    readonly code: ErrorCode,
    message: string,
    upstream: UpstreamInfo,
    cause: Error,
    extensions: Record<string, unknown> = {},
  ) {
    super(code, message, { ...stripUndefined(extensions), upstream }, cause);
  }
}

export class BadUserInputError extends GatewayError {
  readonly code = 'BAD_USER_INPUT';
  /** @param field the argument path, e.g. `input.name` or `assets[2].url`. */
  constructor(
    message: string,
    readonly field: string,
  ) {
    super('BAD_USER_INPUT', message, { field });
  }
}

export class UnauthenticatedError extends GatewayError {
  readonly code = 'UNAUTHENTICATED';
  static readonly MISSING =
    'No upstream credential: send Authorization: Bearer <your upstream API key>.';
  constructor(message = UnauthenticatedError.MISSING) {
    super('UNAUTHENTICATED', message);
  }
}

export class NotFoundError extends GatewayError {
  readonly code = 'NOT_FOUND';
  constructor(message = 'Not found.') {
    super('NOT_FOUND', message);
  }
}

/** The ledger's database cannot answer now (PostgreSQL down, a full disk); retry shortly. */
export class LedgerUnavailableGatewayError extends GatewayError {
  readonly code = 'LEDGER_UNAVAILABLE';
  constructor(cause?: Error) {
    super(
      'LEDGER_UNAVAILABLE',
      "The gateway's ledger is unavailable right now; try again shortly.",
      {},
      cause,
    );
  }
}

/**
 * A verification token the caller's tenant never started through the gateway (server-key mode):
 * refused before any upstream call, like a token that does not exist.
 */
export class VerificationNotFoundError extends GatewayError {
  readonly code = 'VERIFICATION_NOT_FOUND';
  constructor() {
    super('VERIFICATION_NOT_FOUND', 'The verification token is unknown.');
  }
}

/** ⑫ answered that the person has not finished yet: not a failure upstream, a refusal of ours. */
export class VerificationPendingError extends GatewayError {
  readonly code = 'VERIFICATION_PENDING';
  constructor() {
    super(
      'VERIFICATION_PENDING',
      'The person has not finished the liveness check yet; try again in a few seconds.',
    );
  }
}

/** `extensions.http` tells Apollo Server the HTTP status; it never reaches the client. */
function httpStatus(status: number): { http: { status: number } } {
  return { http: { status } };
}

/**
 * The gateway's own per-client rate limit (`RATE_LIMIT_PER_MINUTE`), answered with HTTP 429, as
 * opposed to the upstream's (an `UpstreamFailureError`, HTTP 200). Same code, so clients handle
 * both alike.
 */
export class GatewayRateLimitedError extends GatewayError {
  readonly code = 'RATE_LIMITED';
  constructor(readonly retryAfter: number) {
    super('RATE_LIMITED', `Too many requests; try again in ${retryAfter} s.`, {
      retryAfter,
      ...httpStatus(429),
    });
  }
}

export class PayloadTooLargeError extends GatewayError {
  readonly code = 'PAYLOAD_TOO_LARGE';
  constructor(readonly maxBytes: number) {
    super('PAYLOAD_TOO_LARGE', `The request body is larger than ${maxBytes} bytes.`, {
      maxBytes,
      ...httpStatus(413),
    });
  }
}

export class QueryTooDeepError extends GatewayError {
  readonly code = 'QUERY_TOO_DEEP';
  /** @param detail what was measured, e.g. `fields nest 12 levels deep`. */
  constructor(detail: string, maxDepth: number) {
    super('QUERY_TOO_DEEP', `The query is too deep: ${detail}; at most ${maxDepth} are allowed.`, {
      maxDepth,
      ...httpStatus(400),
    });
  }
}

export class QueryTooComplexError extends GatewayError {
  readonly code = 'QUERY_TOO_COMPLEX';
  constructor(cost: number, maxCost: number) {
    super(
      'QUERY_TOO_COMPLEX',
      `The query's estimated cost is ${cost}; at most ${maxCost} is allowed. Ask for smaller pages or fewer nested lists.`,
      { cost, maxCost, ...httpStatus(400) },
    );
  }
}

/**
 * More fields than `GRAPHQL_MAX_SELECTIONS` (fragment spreads expanded), found before
 * validation: the cost of validating is what is refused, hence `QUERY_TOO_COMPLEX` too.
 */
export class TooManySelectionsError extends GatewayError {
  readonly code = 'QUERY_TOO_COMPLEX';
  constructor(maxSelections: number) {
    super(
      'QUERY_TOO_COMPLEX',
      `The query selects more than ${maxSelections} fields (fragment spreads counted as the fields they bring); ask for fewer.`,
      { maxSelections, ...httpStatus(400) },
    );
  }
}

export class TooManyAliasesError extends GatewayError {
  readonly code = 'TOO_MANY_ALIASES';
  constructor(count: number, maxAliases: number) {
    super(
      'TOO_MANY_ALIASES',
      `The query uses ${count} aliases; at most ${maxAliases} are allowed.`,
      { maxAliases, ...httpStatus(400) },
    );
  }
}

export class BatchTooLargeError extends GatewayError {
  readonly code = 'BATCH_TOO_LARGE';
  constructor(count: number, maxBatch: number) {
    super(
      'BATCH_TOO_LARGE',
      maxBatch <= 1
        ? 'Batched operations (a JSON array) are not accepted; send one operation per request.'
        : `The batch holds ${count} operations; at most ${maxBatch} are allowed.`,
      { maxBatch, ...httpStatus(400) },
    );
  }
}

export class InputTooLargeError extends GatewayError {
  readonly code = 'INPUT_TOO_LARGE';
  /** @param field where, e.g. `variables.input.name` or `query` for a literal in the document. */
  constructor(message: string, field: string) {
    super('INPUT_TOO_LARGE', message, { field, ...httpStatus(400) });
  }
}

export class OriginNotAllowedError extends GatewayError {
  readonly code = 'ORIGIN_NOT_ALLOWED';
  constructor() {
    super('ORIGIN_NOT_ALLOWED', 'Requests from this origin are not allowed.', httpStatus(403));
  }
}

export class TooManySubscriptionsError extends GatewayError {
  readonly code = 'TOO_MANY_SUBSCRIPTIONS';
  /**
   * @param scope `connection`: this socket runs its `WS_MAX_SUBSCRIPTIONS_PER_CONNECTION`;
   * `server`: the process runs its `WS_MAX_SUBSCRIPTIONS` (try again later).
   */
  constructor(maxSubscriptions: number, scope: 'connection' | 'server' = 'connection') {
    super(
      'TOO_MANY_SUBSCRIPTIONS',
      scope === 'connection'
        ? `This connection already runs ${maxSubscriptions} subscriptions; end one or open another connection.`
        : `The server already runs its ${maxSubscriptions} subscriptions; try again later.`,
      scope === 'connection' ? { maxSubscriptions } : { maxSubscriptions, scope },
    );
  }
}

/** The process keeps its `WS_MAX_WATCHED_ASSETS` assets: a subscription adding more waits. */
export class TooManyWatchedAssetsError extends GatewayError {
  readonly code = 'TOO_MANY_SUBSCRIPTIONS';
  constructor(message: string, maxWatchedAssets: number) {
    super('TOO_MANY_SUBSCRIPTIONS', message, { maxWatchedAssets, scope: 'server' });
  }
}

/** The gateway's shared state (Redis) did not answer in time: nothing the client did wrong. */
export class ServiceUnavailableError extends GatewayError {
  readonly code = 'SERVICE_UNAVAILABLE';
  constructor(message: string, cause?: Error) {
    super('SERVICE_UNAVAILABLE', message, {}, cause);
  }
}

function stripUndefined(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
}
