/**
 * Ark's answers: the Volcengine `ResponseMetadata` envelope, and the one mapping from an error
 * answer (HTTP status, `ResponseMetadata.Error.Code`) to an `UpstreamError` plus its
 * `AnswerClass` for the retry rules. Within the Ark dialect, nothing else inspects status numbers.
 */
import { UpstreamError, type UpstreamErrorCode } from '../errors.js';
import type { AnswerClass } from '../http/retry.js';
import { codeOfStatus } from '../http/status-codes.js';
import { errorFields, isRecord, redact } from '../http/transport-errors.js';
import type { ArkAction } from './actions.js';

/** Upstream codes that decide on their own, whatever the status. */
export const CODE_OVERRIDES: Readonly<Record<string, UpstreamErrorCode>> = {
  'InvalidParameter.BytedTokenExpired': 'VERIFICATION_EXPIRED',
  'InvalidParameter.BytedTokenUsed': 'VERIFICATION_USED',
  'InvalidParameter.VerificationFailed': 'VERIFICATION_FAILED',
  // The gateway failed to sign its own call to Volcengine (its AK/SK, not the caller's key):
  // the caller can do nothing about it (upstream-api.md §3.2).
  SignatureDoesNotMatch: 'UPSTREAM_UNAVAILABLE',
  InvalidAccessKeyId: 'UPSTREAM_UNAVAILABLE',
};

/** For an `Error` inside a 2xx envelope (no status to go by): the code's family decides. */
export const CODE_FAMILIES: ReadonlyArray<readonly [RegExp, UpstreamErrorCode]> = [
  [/^NotFound(\.|$)/, 'NOT_FOUND'],
  [/^(InvalidParameter|MissingParameter)(\.|$)/, 'BAD_REQUEST'],
  [/^(AccessDenied|SubscriptionRequired)(\.|$)/, 'FORBIDDEN'],
  [/^(Unauthorized|Unauthenticated)(\.|$)/, 'UNAUTHENTICATED'],
  [/^(Throttling|RateLimitExceeded)(\.|$)/, 'RATE_LIMITED'],
  [/^(InternalError|ServiceUnavailable)(\.|$)/, 'UPSTREAM_UNAVAILABLE'],
];

/**
 * How an error status bears on repeating the call (see `AnswerClass`). 429 and 503 refuse before
 * any work; 502 and 504 come from a proxy that may have passed the call on; a 500 may come after
 * the work was done. Everything else, and any `Error` inside a 2xx envelope, is `final`.
 */
export const ANSWER_CLASSES: Readonly<Record<number, AnswerClass>> = {
  429: 'throttled',
  500: 'failed',
  502: 'gateway',
  503: 'overloaded',
  504: 'gateway',
};

export function answerClassOf(status: number): AnswerClass {
  return ANSWER_CLASSES[status] ?? 'final';
}

/**
 * Seconds to wait after a throttled answer that does not say: one window of the per-second
 * limits (upstream-api.md §3.5).
 */
export const THROTTLED_RETRY_AFTER_S = 1;

export interface HttpFailure {
  action: ArkAction;
  status: number;
  /** The parsed body, if it was JSON. */
  body: unknown;
  /** `Retry-After` in seconds, already parsed; absent when the answer had none. */
  retryAfter?: number;
  /** Strings that must not appear in the error (the credential), if the upstream echoes them. */
  secrets?: readonly string[];
}

/** Maps an answer that is an error: a non-2xx status, or a 2xx envelope carrying `Error`. */
export function mapHttpError(failure: HttpFailure): UpstreamError {
  const { action, status, retryAfter } = failure;
  const envelope = readEnvelope(failure.body);
  const upstreamCode = envelope.code;
  const ok = status >= 200 && status < 300;
  const code: UpstreamErrorCode =
    (upstreamCode !== undefined ? CODE_OVERRIDES[upstreamCode] : undefined) ??
    (ok ? familyOf(upstreamCode) : codeOfStatus(status));
  const message =
    envelope.message !== undefined && envelope.message !== ''
      ? redact(envelope.message, failure.secrets)
      : `${action} failed with HTTP ${status}${upstreamCode ? ` (${upstreamCode})` : ''}.`;
  return new UpstreamError(code, message, {
    action,
    status,
    upstreamCode,
    requestId: envelope.requestId,
    // A throttled answer without `Retry-After` still means "wait" (recorded 429s under load came
    // without it, upstream-evidence.md §1): every reader of `retryAfter` (the retry loop, the
    // status and verification budgets, the client's error) then waits one rate window.
    retryAfter: retryAfter ?? (code === 'RATE_LIMITED' ? THROTTLED_RETRY_AFTER_S : undefined),
  });
}

function familyOf(upstreamCode: string | undefined): UpstreamErrorCode {
  if (upstreamCode !== undefined) {
    for (const [pattern, code] of CODE_FAMILIES) if (pattern.test(upstreamCode)) return code;
  }
  return 'UPSTREAM_BAD_RESPONSE';
}

/**
 * Reads an answer's envelope leniently: error bodies are not validated, but what can be read is
 * kept. Two shapes: Volcengine's `ResponseMetadata` (with `Error.Code`/`Message`), and the
 * generic `{ error: { code, message, type } }` that resellers' own gateways send for their
 * errors (401, 402, 429; upstream-evidence.md §1). The generic body has no request id, and its
 * codes are the reseller's, so the status decides the class (`mapHttpError`); it only ever
 * describes an error status (a 2xx carrying it is no Ark answer, and fails the contract check).
 */
export function readEnvelope(body: unknown): {
  shape: 'envelope' | 'generic' | 'none';
  requestId?: string;
  code?: string;
  message?: string;
} {
  if (!isRecord(body)) return { shape: 'none' };
  const meta = body.ResponseMetadata;
  if (isRecord(meta)) {
    const error = isRecord(meta.Error) ? meta.Error : undefined;
    return {
      shape: 'envelope',
      requestId: stringOr(meta.RequestId),
      code: stringOr(error?.Code),
      message: stringOr(error?.Message),
    };
  }
  if (!isRecord(body.error)) return { shape: 'none' };
  const { code, message } = errorFields(body.error);
  return { shape: 'generic', code, message };
}

function stringOr(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
