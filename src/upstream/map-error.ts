/**
 * The one place where upstream failures become `UpstreamError`s: HTTP status, the envelope's
 * `ResponseMetadata.Error.Code`, undici error codes, deadlines and cancellations. Nothing else
 * in the gateway inspects status numbers or undici codes.
 *
 * Secrets: messages are built from our own words plus the upstream's `Error.Message`; anything
 * that came from elsewhere (an undici message, an abort reason) goes through `redact` first, and
 * the original error object is never attached as `cause` (it could hold headers or the URL).
 */
import { UpstreamError, type UpstreamErrorCode } from './errors.js';
import type { UpstreamAction } from './policy.js';

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

/** HTTP statuses. Other 4xx are `BAD_REQUEST`, other 5xx `UPSTREAM_UNAVAILABLE`. */
export const STATUS_CODES: Readonly<Record<number, UpstreamErrorCode>> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  408: 'UPSTREAM_TIMEOUT',
  429: 'RATE_LIMITED',
  500: 'UPSTREAM_UNAVAILABLE',
  502: 'UPSTREAM_UNAVAILABLE',
  503: 'UPSTREAM_UNAVAILABLE',
  504: 'UPSTREAM_TIMEOUT',
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

/** undici and socket error codes. */
export const TRANSPORT_CODES: Readonly<Record<string, UpstreamErrorCode>> = {
  UND_ERR_CONNECT_TIMEOUT: 'UPSTREAM_UNAVAILABLE',
  ECONNREFUSED: 'UPSTREAM_UNAVAILABLE',
  ENOTFOUND: 'UPSTREAM_UNAVAILABLE',
  EAI_AGAIN: 'UPSTREAM_UNAVAILABLE',
  EHOSTUNREACH: 'UPSTREAM_UNAVAILABLE',
  ENETUNREACH: 'UPSTREAM_UNAVAILABLE',
  ENETDOWN: 'UPSTREAM_UNAVAILABLE',
  EHOSTDOWN: 'UPSTREAM_UNAVAILABLE',
  ECONNRESET: 'UPSTREAM_UNAVAILABLE',
  EPIPE: 'UPSTREAM_UNAVAILABLE',
  UND_ERR_SOCKET: 'UPSTREAM_UNAVAILABLE',
  UND_ERR_CLOSED: 'UPSTREAM_UNAVAILABLE',
  UND_ERR_DESTROYED: 'UPSTREAM_UNAVAILABLE',
  UND_ERR_HEADERS_TIMEOUT: 'UPSTREAM_TIMEOUT',
  UND_ERR_BODY_TIMEOUT: 'UPSTREAM_TIMEOUT',
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: 'UPSTREAM_BAD_RESPONSE',
  UND_ERR_RES_EXCEEDED_MAX_SIZE: 'UPSTREAM_BAD_RESPONSE',
};

/** Failures where nothing was written to the upstream yet. */
const CONNECT_PHASE = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTDOWN',
]);

/** Connection-level failures that a retry may cure (the "retry on reset" class). */
const CONNECTION_LOST = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

export function isConnectPhase(code: string | undefined): boolean {
  return code !== undefined && CONNECT_PHASE.has(code);
}

export function isConnectionLost(code: string | undefined): boolean {
  return code !== undefined && CONNECTION_LOST.has(code);
}

export interface HttpFailure {
  action: UpstreamAction;
  status: number;
  /** The parsed body, if it was JSON. */
  body: unknown;
  /** `Retry-After` in seconds, already parsed. */
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
    (ok ? familyOf(upstreamCode) : byStatus(status));
  const message =
    envelope.message !== undefined && envelope.message !== ''
      ? redact(envelope.message, failure.secrets)
      : `${action} failed with HTTP ${status}${upstreamCode ? ` (${upstreamCode})` : ''}.`;
  return new UpstreamError(code, message, {
    action,
    status,
    upstreamCode,
    requestId: envelope.requestId,
    retryAfter,
  });
}

function byStatus(status: number): UpstreamErrorCode {
  const exact = STATUS_CODES[status];
  if (exact) return exact;
  if (status >= 400 && status < 500) return 'BAD_REQUEST';
  if (status >= 500) return 'UPSTREAM_UNAVAILABLE';
  return 'UPSTREAM_BAD_RESPONSE';
}

function familyOf(upstreamCode: string | undefined): UpstreamErrorCode {
  if (upstreamCode !== undefined) {
    for (const [pattern, code] of CODE_FAMILIES) if (pattern.test(upstreamCode)) return code;
  }
  return 'UPSTREAM_BAD_RESPONSE';
}

/**
 * Reads `ResponseMetadata` leniently: error bodies are not validated (the gateway's own errors
 * may use another envelope), but what can be read is kept.
 */
export function readEnvelope(body: unknown): {
  requestId?: string;
  code?: string;
  message?: string;
} {
  const meta = isRecord(body) ? body.ResponseMetadata : undefined;
  if (!isRecord(meta)) return {};
  const error = isRecord(meta.Error) ? meta.Error : undefined;
  return {
    requestId: typeof meta.RequestId === 'string' ? meta.RequestId : undefined,
    code: typeof error?.Code === 'string' ? error.Code : undefined,
    message: typeof error?.Message === 'string' ? error.Message : undefined,
  };
}

/** Why a call stopped without an answer, when it was our decision rather than the network's. */
export type StopReason =
  | { kind: 'deadline'; timeoutMs: number }
  | { kind: 'cancelled' }
  | { kind: 'too-large'; limit: number };

export interface TransportFailure {
  action: UpstreamAction;
  error: unknown;
  /** Set when the call was stopped by the deadline, the caller, or the size cap. */
  stop?: StopReason;
  /** The request may have reached the upstream and the call creates something. */
  outcomeUnknown: boolean;
  secrets?: readonly string[];
}

/** Maps a failure without a usable answer: a socket, timeout, abort or size problem. */
export function mapTransportError(failure: TransportFailure): UpstreamError {
  const { action, stop, outcomeUnknown } = failure;
  const errorCode = codeOf(failure.error);
  let code: UpstreamErrorCode;
  let message: string;
  if (stop?.kind === 'deadline') {
    code = 'UPSTREAM_TIMEOUT';
    message = `${action} did not complete within ${stop.timeoutMs} ms.`;
  } else if (stop?.kind === 'cancelled') {
    code = 'UPSTREAM_TIMEOUT';
    message = `${action} was cancelled by the caller.`;
  } else if (stop?.kind === 'too-large') {
    code = 'UPSTREAM_BAD_RESPONSE';
    message = `${action} answered a body larger than ${stop.limit} bytes.`;
  } else {
    code =
      (errorCode !== undefined ? TRANSPORT_CODES[errorCode] : undefined) ?? 'UPSTREAM_UNAVAILABLE';
    message = `${action} failed: ${describe(failure.error, failure.secrets)}.`;
  }
  if (outcomeUnknown) {
    message +=
      ' The request may have reached the upstream, so it may have taken effect: check before repeating it.';
  }
  return new UpstreamError(code, message, {
    action,
    outcomeUnknown,
    cause: sanitizedCause(failure.error, failure.secrets),
  });
}

/** A body that parsed but broke the contract, or did not parse at all. */
export function badResponse(
  action: UpstreamAction,
  problem: string,
  details: { status?: number; requestId?: string } = {},
): UpstreamError {
  return new UpstreamError(
    'UPSTREAM_BAD_RESPONSE',
    `${action} answered a body that breaks the contract: ${redact(problem)}.`,
    { action, ...details },
  );
}

/** `Retry-After` as seconds (delta-seconds or an HTTP date), or `undefined`. */
export function parseRetryAfter(
  header: string | string[] | undefined,
  now: number,
): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

export function codeOf(error: unknown): string | undefined {
  if (!isRecord(error)) return undefined;
  if (typeof error.code === 'string') return error.code;
  // Node wraps some socket errors: `TypeError: fetch failed` style, or AggregateError on connect.
  return isRecord(error.cause) ? codeOf(error.cause) : undefined;
}

function describe(error: unknown, secrets?: readonly string[]): string {
  const code = codeOf(error);
  const text = error instanceof Error ? error.message : String(error);
  return redact(code && !text.includes(code) ? `${code} ${text}` : text, secrets);
}

function sanitizedCause(error: unknown, secrets?: readonly string[]): Error | undefined {
  if (error === undefined) return undefined;
  const cause = new Error(describe(error, secrets));
  cause.name = error instanceof Error ? error.name : 'Error';
  const code = codeOf(error);
  if (code) Object.assign(cause, { code });
  return cause;
}

/**
 * Strips what could carry a secret from free text: the given secrets, the query string and user
 * info of any URL, and anything shaped like a Bearer token.
 */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) if (secret.length > 0) out = out.split(secret).join('…');
  return out
    .replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^/\s@]*@/gi, '$1')
    .replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^\s?#]*)\?[^\s#]*/gi, '$1?…')
    .replace(/(bearer\s+)[^\s,;]+/gi, '$1…');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
