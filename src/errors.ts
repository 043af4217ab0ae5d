/**
 * Every `extensions.code` a client can see, the error classes that carry them, the one mapping
 * from `UpstreamError`, and the `formatError` that masks everything unexpected.
 */
import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { Logger } from 'pino';
import { isUpstreamError, type UpstreamError } from './upstream/errors.js';

/** The closed set of `extensions.code` values (and `AddAssetFailure.code` values). */
export const ERROR_CODES = [
  // Apollo Server's own (ApolloServerErrorCode), raised before or around execution.
  /** Something unexpected; the detail is in the server log only. */
  'INTERNAL_SERVER_ERROR',
  /** The query is not valid GraphQL syntax. */
  'GRAPHQL_PARSE_FAILED',
  /** The query does not match the schema. */
  'GRAPHQL_VALIDATION_FAILED',
  /** An automatic persisted query hash was not found; send the full query. */
  'PERSISTED_QUERY_NOT_FOUND',
  /** Persisted queries are disabled. */
  'PERSISTED_QUERY_NOT_SUPPORTED',
  /** `operationName` does not match an operation in the document. */
  'OPERATION_RESOLUTION_FAILURE',
  /** The HTTP request itself is malformed (method, body, JSON, CSRF header, size). */
  'BAD_REQUEST',
  /** An argument is invalid: ours (with `field`), a variable type, or refused upstream. */
  'BAD_USER_INPUT',
  // Ours.
  /** No credential was sent, or the upstream refused it. */
  'UNAUTHENTICATED',
  /** The credential lacks a permission or the plan. */
  'FORBIDDEN',
  /** The group or asset does not exist (or belongs to another key). */
  'NOT_FOUND',
  /** The upstream rate limit was hit; `retryAfter` is in seconds when known. */
  'RATE_LIMITED',
  /** The upstream could not be reached or failed. */
  'UPSTREAM_UNAVAILABLE',
  /** The upstream did not answer in time. */
  'UPSTREAM_TIMEOUT',
  /** The upstream answered something the gateway cannot use. */
  'UPSTREAM_BAD_RESPONSE',
  /** `addAssets` item only: the create call was sent but not confirmed; it may exist. */
  'OUTCOME_UNKNOWN',
  /** The person has not finished the liveness check yet; try again shortly. */
  'VERIFICATION_PENDING',
  /** The verification token's time ran out. */
  'VERIFICATION_EXPIRED',
  /** The verification token was already exchanged. */
  'VERIFICATION_USED',
  /** The person did not pass the liveness check. */
  'VERIFICATION_FAILED',
  /** The verification token is unknown (or belongs to another key). */
  'VERIFICATION_NOT_FOUND',
  // Ours: the gateway's own limits (HTTP and GraphQL), see README "Security".
  /** The request body is larger than `MAX_BODY_BYTES` (HTTP 413). */
  'PAYLOAD_TOO_LARGE',
  /** The query nests fields deeper than `GRAPHQL_MAX_DEPTH` (or brackets far deeper). */
  'QUERY_TOO_DEEP',
  /** The query's estimated cost is over `GRAPHQL_MAX_COST`; `cost` and `maxCost` say by how much. */
  'QUERY_TOO_COMPLEX',
  /** The query uses more aliases than `GRAPHQL_MAX_ALIASES`. */
  'TOO_MANY_ALIASES',
  /** The request holds a batch (JSON array) of more operations than `GRAPHQL_MAX_BATCH`. */
  'BATCH_TOO_LARGE',
  /** A string, a list or the variables as a whole are over their size limit; `field` names it. */
  'INPUT_TOO_LARGE',
  /** A browser request from an origin that `CORS_ORIGINS` does not list (HTTP 403). */
  'ORIGIN_NOT_ALLOWED',
  // Ours: subscriptions over WebSocket.
  /** The socket already runs `WS_MAX_SUBSCRIPTIONS_PER_CONNECTION` operations; the others go on. */
  'TOO_MANY_SUBSCRIPTIONS',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

const KNOWN_CODES: ReadonlySet<string> = new Set(ERROR_CODES);

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

export class BadUserInputError extends GatewayError {
  readonly code = 'BAD_USER_INPUT';
  /**
   * @param field the argument path, e.g. `input.name` or `assets[2].url`; `null` when the
   *   upstream refused the input and the field is unknown.
   */
  constructor(
    message: string,
    readonly field: string | null,
    extra: { upstreamCode?: string; upstream?: UpstreamInfo } = {},
    cause?: Error,
  ) {
    super(
      'BAD_USER_INPUT',
      message,
      { ...(field === null ? {} : { field }), ...stripUndefined(extra) },
      cause,
    );
  }
}

export class UnauthenticatedError extends GatewayError {
  readonly code = 'UNAUTHENTICATED';
  static readonly MISSING =
    'No upstream credential: send Authorization: Bearer <your upstream API key>.';
  constructor(message = UnauthenticatedError.MISSING, upstream?: UpstreamInfo, cause?: Error) {
    super('UNAUTHENTICATED', message, stripUndefined({ upstream }), cause);
  }
}

/** Errors that carry nothing but optional upstream diagnostics. */
abstract class SimpleUpstreamError extends GatewayError {
  protected constructor(
    code: ErrorCode,
    message: string,
    upstream?: UpstreamInfo,
    cause?: Error,
    extra: Record<string, unknown> = {},
  ) {
    super(code, message, stripUndefined({ ...extra, upstream }), cause);
  }
}

export class ForbiddenError extends SimpleUpstreamError {
  readonly code = 'FORBIDDEN';
  constructor(
    message = 'The upstream refused this credential the permission (or the plan) for this call.',
    upstream?: UpstreamInfo,
    cause?: Error,
  ) {
    super('FORBIDDEN', message, upstream, cause);
  }
}

export class NotFoundError extends SimpleUpstreamError {
  readonly code = 'NOT_FOUND';
  constructor(message = 'Not found.', upstream?: UpstreamInfo, cause?: Error) {
    super('NOT_FOUND', message, upstream, cause);
  }
}

export class RateLimitedError extends SimpleUpstreamError {
  readonly code = 'RATE_LIMITED';
  constructor(retryAfter: number | null, upstream?: UpstreamInfo, cause?: Error) {
    super(
      'RATE_LIMITED',
      retryAfter === null
        ? 'The upstream rate limit was reached; try again later.'
        : `The upstream rate limit was reached; try again in ${retryAfter} s.`,
      upstream,
      cause,
      retryAfter === null ? {} : { retryAfter },
    );
  }
}

export class UpstreamUnavailableError extends SimpleUpstreamError {
  readonly code = 'UPSTREAM_UNAVAILABLE';
  constructor(upstream?: UpstreamInfo, cause?: Error) {
    super(
      'UPSTREAM_UNAVAILABLE',
      'The upstream service is unavailable; try again later.',
      upstream,
      cause,
    );
  }
}

export class UpstreamTimeoutError extends SimpleUpstreamError {
  readonly code = 'UPSTREAM_TIMEOUT';
  constructor(upstream?: UpstreamInfo, cause?: Error) {
    super('UPSTREAM_TIMEOUT', 'The upstream service did not answer in time.', upstream, cause);
  }
}

export class UpstreamBadResponseError extends SimpleUpstreamError {
  readonly code = 'UPSTREAM_BAD_RESPONSE';
  constructor(upstream?: UpstreamInfo, cause?: Error) {
    super(
      'UPSTREAM_BAD_RESPONSE',
      'The upstream service answered something the gateway could not understand.',
      upstream,
      cause,
    );
  }
}

export class VerificationPendingError extends SimpleUpstreamError {
  readonly code = 'VERIFICATION_PENDING';
  constructor() {
    super(
      'VERIFICATION_PENDING',
      'The person has not finished the liveness check yet; try again in a few seconds.',
    );
  }
}

export class VerificationExpiredError extends SimpleUpstreamError {
  readonly code = 'VERIFICATION_EXPIRED';
  constructor(upstream?: UpstreamInfo, cause?: Error) {
    super(
      'VERIFICATION_EXPIRED',
      'The verification token has expired; start a new verification.',
      upstream,
      cause,
    );
  }
}

export class VerificationUsedError extends SimpleUpstreamError {
  readonly code = 'VERIFICATION_USED';
  constructor(upstream?: UpstreamInfo, cause?: Error) {
    super(
      'VERIFICATION_USED',
      'The verification token was already exchanged elsewhere; find its group with groups(filter: { kind: REAL }).',
      upstream,
      cause,
    );
  }
}

export class VerificationFailedError extends SimpleUpstreamError {
  readonly code = 'VERIFICATION_FAILED';
  constructor(upstream?: UpstreamInfo, cause?: Error) {
    super(
      'VERIFICATION_FAILED',
      'The person did not pass the liveness check; start a new verification.',
      upstream,
      cause,
    );
  }
}

export class VerificationNotFoundError extends SimpleUpstreamError {
  readonly code = 'VERIFICATION_NOT_FOUND';
  constructor(upstream?: UpstreamInfo, cause?: Error) {
    super('VERIFICATION_NOT_FOUND', 'The verification token is unknown.', upstream, cause);
  }
}

/** `extensions.http` tells Apollo Server the HTTP status; it never reaches the client. */
function httpStatus(status: number): { http: { status: number } } {
  return { http: { status } };
}

/**
 * The gateway's own per-client rate limit (`RATE_LIMIT_PER_MINUTE`), as opposed to the upstream's
 * (`RateLimitedError`). Same code, so clients handle both alike.
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
  constructor(maxSubscriptions: number) {
    super(
      'TOO_MANY_SUBSCRIPTIONS',
      `This connection already runs ${maxSubscriptions} subscriptions; end one or open another connection.`,
      { maxSubscriptions },
    );
  }
}

/** Friendlier text for upstream input codes users meet often. */
const UPSTREAM_INPUT_MESSAGES: Readonly<Record<string, string>> = {
  'InvalidParameter.DownloadFailed':
    'The upstream could not download the file from its URL; make sure it is public and not expired.',
  'InvalidParameter.FormatUnsupported':
    'The upstream does not support this file format for this asset type.',
  'InvalidParameter.FpsTooLow': 'The video frame rate is too low (24-60 fps are accepted).',
};

function upstreamInfo(error: UpstreamError): UpstreamInfo {
  return { requestId: error.requestId ?? null, code: error.upstreamCode ?? null };
}

/**
 * The one mapping from the port's `UpstreamError` to what a client sees. Messages are ours:
 * the upstream message may quote URLs, so only the upstream code and request id pass through.
 */
export function fromUpstreamError(error: UpstreamError): GatewayError {
  const upstream = upstreamInfo(error);
  switch (error.code) {
    case 'NOT_FOUND':
      return new NotFoundError(
        error.upstreamCode ? `Not found (${error.upstreamCode}).` : 'Not found.',
        upstream,
        error,
      );
    case 'UNAUTHENTICATED':
      return new UnauthenticatedError(
        'The upstream refused the credential; check your upstream API key.',
        upstream,
        error,
      );
    case 'FORBIDDEN':
      return new ForbiddenError(undefined, upstream, error);
    case 'BAD_REQUEST': {
      const known = error.upstreamCode ? UPSTREAM_INPUT_MESSAGES[error.upstreamCode] : undefined;
      const message =
        known ??
        (error.upstreamCode
          ? `The upstream refused the input (${error.upstreamCode}).`
          : 'The upstream refused the input.');
      return new BadUserInputError(
        message,
        null,
        { upstreamCode: error.upstreamCode, upstream },
        error,
      );
    }
    case 'RATE_LIMITED':
      return new RateLimitedError(error.retryAfter ?? null, upstream, error);
    case 'UPSTREAM_UNAVAILABLE':
      return new UpstreamUnavailableError(upstream, error);
    case 'UPSTREAM_TIMEOUT':
      return new UpstreamTimeoutError(upstream, error);
    case 'UPSTREAM_BAD_RESPONSE':
      return new UpstreamBadResponseError(upstream, error);
    case 'VERIFICATION_EXPIRED':
      return new VerificationExpiredError(upstream, error);
    case 'VERIFICATION_USED':
      return new VerificationUsedError(upstream, error);
    case 'VERIFICATION_FAILED':
      return new VerificationFailedError(upstream, error);
  }
}

export const INTERNAL_ERROR_MESSAGE = 'Internal server error.';

/**
 * Apollo's `formatError`. Passes our errors and Apollo's request errors through, maps a stray
 * `UpstreamError` once more, and masks anything else as `INTERNAL_SERVER_ERROR` with a generic
 * message, logging the full error.
 */
export function createFormatError(
  logger: Logger,
): (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError {
  return (formatted, error) => {
    const original = unwrapResolverError(error);
    if (original instanceof GatewayError) return formatted;
    if (isUpstreamError(original)) {
      const mapped = fromUpstreamError(original);
      return { ...formatted, message: mapped.message, extensions: mapped.extensions };
    }
    const code = formatted.extensions?.['code'];
    // Apollo's request errors (parse, validation, variable coercion, persisted queries, bad
    // HTTP requests) happen before execution: they have no path and carry a known code.
    if (
      formatted.path === undefined &&
      typeof code === 'string' &&
      code !== 'INTERNAL_SERVER_ERROR' &&
      KNOWN_CODES.has(code)
    ) {
      return formatted;
    }
    logger.error({ err: original, path: formatted.path }, 'unexpected error while executing');
    return {
      message: INTERNAL_ERROR_MESSAGE,
      ...(formatted.locations ? { locations: formatted.locations } : {}),
      ...(formatted.path ? { path: formatted.path } : {}),
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    };
  };
}

function stripUndefined<T extends Record<string, unknown>>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
