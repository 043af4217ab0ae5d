/**
 * Failures without a usable answer become `UpstreamError`s here, whatever the dialect: undici
 * and socket codes, deadlines, cancellations, the size cap, and bodies that break the contract.
 * Answers that are errors are the dialect's to map (Ark: `ark/envelope.ts`). Nothing else in the
 * gateway inspects undici codes.
 *
 * Secrets: messages are built from our own words plus the upstream's own error message; anything
 * that came from elsewhere (an undici message, an abort reason) goes through `redact` first, and
 * the original error object is never attached as `cause` (it could hold headers or the URL).
 */
import { UpstreamError, type UpstreamErrorCode } from '../errors.js';

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

/** Why a call stopped without an answer, when it was our decision rather than the network's. */
export type StopReason =
  | { kind: 'deadline'; timeoutMs: number }
  | { kind: 'cancelled' }
  | { kind: 'too-large'; limit: number };

export interface TransportFailure {
  action: string;
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
  action: string,
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

/** The same error, marked as possibly carried out (a create or exchange that may have arrived). */
export function withOutcomeUnknown(error: UpstreamError): UpstreamError {
  return new UpstreamError(
    error.code,
    `${error.message} The upstream may have carried it out: check before repeating it.`,
    {
      action: error.action,
      status: error.status,
      upstreamCode: error.upstreamCode,
      requestId: error.requestId,
      retryAfter: error.retryAfter,
      outcomeUnknown: true,
    },
  );
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/**
 * The fields of an OpenAI-style error object, `{ code, type, message }`, as apimart and the
 * resellers' own gateways in front of Ark send it (inside `{ error: … }`), read leniently: only
 * non-empty strings are kept. Each dialect decides where the object sits and what it means.
 */
export function errorFields(error: Record<string, unknown>): {
  code?: string;
  type?: string;
  message?: string;
} {
  const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);
  return { code: text(error.code), type: text(error.type), message: text(error.message) };
}
