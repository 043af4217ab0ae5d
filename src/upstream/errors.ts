/**
 * The one error type the upstream port rejects with, in dialect-neutral codes. Every failure is
 * turned into an `UpstreamError` once, at the boundary: an error answer (HTTP status, the
 * vendor's own code) by its dialect (Ark: `ark/envelope.ts`), anything without an answer (an
 * undici error, the deadline, a body too large or unreadable) by `http/transport-errors.ts`.
 * Nothing above it inspects status numbers. Like `port.ts`, this file imports nothing.
 */

export const UPSTREAM_ERROR_CODES = [
  /** The group, asset or token does not exist (or is not visible to this credential). */
  'NOT_FOUND',
  /** The credential is missing or was refused upstream. */
  'UNAUTHENTICATED',
  /** The credential is valid but lacks a permission or the plan (`SubscriptionRequired`). */
  'FORBIDDEN',
  /** The upstream refused the input (`InvalidParameter.*`, `MissingParameter.*`). */
  'BAD_REQUEST',
  /** The account behind the credential has no balance or plan left for this call (an upstream 402). */
  'PAYMENT_REQUIRED',
  /** The upstream rate limit was hit; `retryAfter` says when to try again. */
  'RATE_LIMITED',
  /** The upstream could not be reached, reset the connection or answered 5xx. */
  'UPSTREAM_UNAVAILABLE',
  /** The upstream did not answer within the deadline. */
  'UPSTREAM_TIMEOUT',
  /** The upstream answered something that breaks the contract (bad JSON, wrong shape, too big). */
  'UPSTREAM_BAD_RESPONSE',
  /** ⑫: the token's time ran out before it was exchanged. */
  'VERIFICATION_EXPIRED',
  /** ⑫: the token was already exchanged once. */
  'VERIFICATION_USED',
  /** ⑫: the person did not pass the liveness check. */
  'VERIFICATION_FAILED',
] as const;

export type UpstreamErrorCode = (typeof UPSTREAM_ERROR_CODES)[number];

export interface UpstreamErrorDetails {
  /** The upstream action, e.g. `GetAsset`. */
  action?: string;
  /** HTTP status, when an answer arrived. */
  status?: number;
  /** The vendor's own error code (Ark: `ResponseMetadata.Error.Code`, e.g. `NotFound.asset_id`). */
  upstreamCode?: string;
  /** The vendor's request id (Ark: `ResponseMetadata.RequestId`), for support tickets. */
  requestId?: string;
  /**
   * Seconds to wait before retrying, from `Retry-After`; on a `RATE_LIMITED` answer without that
   * header, the dialect's default wait (Ark: 1 s), so a throttle always means some wait.
   */
  retryAfter?: number;
  /**
   * True when a create timed out or lost its connection after the request was sent: the
   * upstream may have created the resource. Such calls are never retried blindly.
   */
  outcomeUnknown?: boolean;
  cause?: unknown;
}

export class UpstreamError extends Error {
  override readonly name = 'UpstreamError';
  readonly action?: string;
  readonly status?: number;
  readonly upstreamCode?: string;
  readonly requestId?: string;
  readonly retryAfter?: number;
  readonly outcomeUnknown: boolean;

  constructor(
    readonly code: UpstreamErrorCode,
    message: string,
    details: UpstreamErrorDetails = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.action = details.action;
    this.status = details.status;
    this.upstreamCode = details.upstreamCode;
    this.requestId = details.requestId;
    this.retryAfter = details.retryAfter;
    this.outcomeUnknown = details.outcomeUnknown ?? false;
  }
}

export function isUpstreamError(error: unknown): error is UpstreamError {
  return error instanceof UpstreamError;
}
