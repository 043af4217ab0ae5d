/**
 * The closed set of `extensions.code` values a client can see, each with its one-line meaning.
 * The README lists the same codes (a test keeps the two in step).
 */

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
  /** The upstream account has run out of balance or plan for this call (an upstream 402); top it up. */
  'PAYMENT_REQUIRED',
  /** The upstream rate limit was hit; `retryAfter` is in seconds when known. */
  'RATE_LIMITED',
  /** The upstream could not be reached or failed. */
  'UPSTREAM_UNAVAILABLE',
  /** The upstream did not answer in time. */
  'UPSTREAM_TIMEOUT',
  /** The upstream answered something the gateway cannot use. */
  'UPSTREAM_BAD_RESPONSE',
  /** The gateway's shared state (Redis) is unreachable; try again shortly. */
  'SERVICE_UNAVAILABLE',
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
  /** The gateway's ledger (its database) cannot answer now; retry shortly. */
  'LEDGER_UNAVAILABLE',
  // Ours: the gateway's own limits (HTTP and GraphQL), see README "Security".
  /** The request body is larger than `MAX_BODY_BYTES` (HTTP 413). */
  'PAYLOAD_TOO_LARGE',
  /** The query nests fields deeper than `GRAPHQL_MAX_DEPTH` (or brackets far deeper). */
  'QUERY_TOO_DEEP',
  /**
   * The query's estimated cost is over `GRAPHQL_MAX_COST` (`cost`, `maxCost` say by how much), or
   * it selects more than `GRAPHQL_MAX_SELECTIONS` fields (`maxSelections`).
   */
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
  /**
   * The socket already runs `WS_MAX_SUBSCRIPTIONS_PER_CONNECTION` operations, or the process
   * `WS_MAX_SUBSCRIPTIONS`, or it keeps `WS_MAX_WATCHED_ASSETS` assets (both `scope: "server"`);
   * the others go on.
   */
  'TOO_MANY_SUBSCRIPTIONS',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

const KNOWN_CODES: ReadonlySet<string> = new Set(ERROR_CODES);

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && KNOWN_CODES.has(value);
}
