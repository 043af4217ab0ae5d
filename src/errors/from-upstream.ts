/**
 * The one mapping from the upstream port's `UpstreamError` to what a client sees. Resolvers do
 * not catch upstream errors: graphql-js wraps them and `formatError` maps them here, as does
 * `addAssets` for its per-item failures.
 */
import type { UpstreamError, UpstreamErrorCode } from '../upstream/errors.js';
import type { ErrorCode } from './codes.js';
import { UpstreamFailureError, type GatewayError, type UpstreamInfo } from './gateway-error.js';

interface UpstreamFailure {
  readonly code: ErrorCode;
  /** Ours: the upstream message may quote URLs, so only its code and request id pass through. */
  readonly message: string | ((error: UpstreamError) => string);
  /** Extensions besides `code` and `upstream`; `undefined` values are left out. */
  readonly extensions?: (error: UpstreamError) => Record<string, unknown>;
}

/** Friendlier text for upstream input codes users meet often. */
const UPSTREAM_INPUT_MESSAGES: Readonly<Record<string, string>> = {
  'InvalidParameter.DownloadFailed':
    'The upstream could not download the file from its URL; make sure it is public and not expired.',
  'InvalidParameter.FormatUnsupported':
    'The upstream does not support this file format for this asset type.',
  'InvalidParameter.FpsTooLow': 'The video frame rate is too low (24-60 fps are accepted).',
};

const UPSTREAM_FAILURES: { readonly [C in UpstreamErrorCode]: UpstreamFailure } = {
  NOT_FOUND: {
    code: 'NOT_FOUND',
    message: (e) => (e.upstreamCode ? `Not found (${e.upstreamCode}).` : 'Not found.'),
  },
  UNAUTHENTICATED: {
    code: 'UNAUTHENTICATED',
    message: 'The upstream refused the credential; check your upstream API key.',
  },
  FORBIDDEN: {
    code: 'FORBIDDEN',
    message: 'The upstream refused this credential the permission (or the plan) for this call.',
  },
  BAD_REQUEST: {
    code: 'BAD_USER_INPUT',
    message: (e) =>
      (e.upstreamCode ? UPSTREAM_INPUT_MESSAGES[e.upstreamCode] : undefined) ??
      (e.upstreamCode
        ? `The upstream refused the input (${e.upstreamCode}).`
        : 'The upstream refused the input.'),
    extensions: (e) => ({ upstreamCode: e.upstreamCode }),
  },
  PAYMENT_REQUIRED: {
    code: 'PAYMENT_REQUIRED',
    message:
      'The upstream account has no balance (or plan) left for this call; top it up with the upstream vendor, then try again.',
  },
  RATE_LIMITED: {
    code: 'RATE_LIMITED',
    message: (e) =>
      e.retryAfter === undefined
        ? 'The upstream rate limit was reached; try again later.'
        : `The upstream rate limit was reached; try again in ${e.retryAfter} s.`,
    // Seconds, as in the `Retry-After` header.
    extensions: (e) => ({ retryAfter: e.retryAfter }),
  },
  UPSTREAM_UNAVAILABLE: {
    code: 'UPSTREAM_UNAVAILABLE',
    message: 'The upstream service is unavailable; try again later.',
  },
  UPSTREAM_TIMEOUT: {
    code: 'UPSTREAM_TIMEOUT',
    message: 'The upstream service did not answer in time.',
  },
  UPSTREAM_BAD_RESPONSE: {
    code: 'UPSTREAM_BAD_RESPONSE',
    message: 'The upstream service answered something the gateway could not understand.',
  },
  VERIFICATION_EXPIRED: {
    code: 'VERIFICATION_EXPIRED',
    message: 'The verification token has expired; start a new verification.',
  },
  VERIFICATION_USED: {
    code: 'VERIFICATION_USED',
    message:
      'The verification token was already exchanged elsewhere; find its group with groups(filter: { kind: REAL }).',
  },
  VERIFICATION_FAILED: {
    code: 'VERIFICATION_FAILED',
    message: 'The person did not pass the liveness check; start a new verification.',
  },
};

/** ⑫ answers `NOT_FOUND` for a token it does not know (or another key's). */
const TOKEN_NOT_FOUND: UpstreamFailure = {
  code: 'VERIFICATION_NOT_FOUND',
  message: 'The verification token is unknown.',
};

/** The upstream actions of ⑫, the token exchange, as each dialect names it on its errors. */
const TOKEN_EXCHANGE_ACTIONS: ReadonlySet<string | undefined> = new Set([
  'GetVisualValidateResult',
  'RealAvatarResult',
]);

export function fromUpstreamError(error: UpstreamError): GatewayError {
  const failure =
    error.code === 'NOT_FOUND' && TOKEN_EXCHANGE_ACTIONS.has(error.action)
      ? TOKEN_NOT_FOUND
      : UPSTREAM_FAILURES[error.code];
  const message = typeof failure.message === 'string' ? failure.message : failure.message(error);
  return new UpstreamFailureError(
    failure.code,
    message,
    upstreamInfo(error),
    error,
    failure.extensions?.(error),
  );
}

function upstreamInfo(error: UpstreamError): UpstreamInfo {
  return { requestId: error.requestId ?? null, code: error.upstreamCode ?? null };
}
