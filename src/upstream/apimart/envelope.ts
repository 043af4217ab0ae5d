/**
 * apimart's answers: the `{code, data}` envelope of a success, the error body
 * `{error: {code, message, type}}` of a failure (upstream-evidence.md §3.4), and the one mapping
 * from an error answer to an `UpstreamError` plus its `AnswerClass`. Within the apimart dialect,
 * nothing else inspects status numbers.
 */
import { UpstreamError, type UpstreamErrorCode } from '../errors.js';
import type { AnswerClass } from '../http/retry.js';
import { codeOfStatus, STATUS_CODES } from '../http/status-codes.js';
import { errorFields, isRecord, redact } from '../http/transport-errors.js';

/** The error `type`s apimart's sibling endpoints use, when the status says less. */
export const TYPE_CODES: Readonly<Record<string, UpstreamErrorCode>> = {
  invalid_request_error: 'BAD_REQUEST',
  authentication_error: 'UNAUTHENTICATED',
  payment_required: 'PAYMENT_REQUIRED',
  rate_limit_error: 'RATE_LIMITED',
};

/**
 * How an error status bears on repeating the call. apimart's own client retries 408, 429, 502,
 * 503 and 504 (M6); 408 and 429 come before any work, the 50x may come after it.
 */
export const ANSWER_CLASSES: Readonly<Record<number, AnswerClass>> = {
  408: 'overloaded',
  429: 'throttled',
  500: 'failed',
  502: 'gateway',
  503: 'overloaded',
  504: 'gateway',
};

/** Seconds to wait after a 429 that does not say (apimart documents no window). */
export const THROTTLED_RETRY_AFTER_S = 2;

export function answerClassOf(status: number): AnswerClass {
  return ANSWER_CLASSES[status] ?? 'final';
}

/** What can be read of an error body, leniently. */
export function readError(body: unknown): { code?: string; type?: string; message?: string } {
  if (!isRecord(body)) return {};
  const error = isRecord(body.error) ? body.error : isRecord(body.data) ? body.data.error : body;
  if (!isRecord(error)) return {};
  const fields = errorFields(error);
  return { ...fields, message: fields.message ?? stringOr(body.message) };
}

/** Maps an error answer (a non-2xx status, or a 2xx envelope whose `code` is not 200). */
export function mapHttpError(failure: {
  action: string;
  status: number;
  body: unknown;
  retryAfter?: number;
  secrets?: readonly string[];
}): UpstreamError {
  const { action, status, retryAfter } = failure;
  const error = readError(failure.body);
  const envelopeCode = isRecord(failure.body) ? failure.body.code : undefined;
  // A 2xx whose envelope says otherwise speaks through its `code` (an HTTP-like number).
  const effective =
    status >= 200 && status < 300 && typeof envelopeCode === 'number' ? envelopeCode : status;
  const code: UpstreamErrorCode =
    STATUS_CODES[effective] ??
    (error.type !== undefined ? TYPE_CODES[error.type] : undefined) ??
    codeOfStatus(effective);
  const upstreamCode = error.code ?? error.type;
  const message =
    error.message !== undefined && error.message !== ''
      ? redact(error.message, failure.secrets)
      : `${action} failed with HTTP ${effective}${upstreamCode ? ` (${upstreamCode})` : ''}.`;
  return new UpstreamError(code, message, {
    action,
    status,
    upstreamCode,
    retryAfter: retryAfter ?? (code === 'RATE_LIMITED' ? THROTTLED_RETRY_AFTER_S : undefined),
  });
}

/** The `data` of a success envelope, or `undefined` when the body is no `{code: 200, data}`. */
export function readData(body: unknown): unknown {
  if (!isRecord(body) || !('data' in body)) return undefined;
  if (body.code !== undefined && body.code !== 200) return undefined;
  return body.data;
}

export function stringOr(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
