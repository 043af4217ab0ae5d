/**
 * What an HTTP error status means when the upstream says nothing more specific, for every
 * dialect. A dialect maps its own codes first (Ark's `ResponseMetadata.Error.Code`, apimart's
 * error `type`) and falls back to this table.
 *
 * 402 is `PAYMENT_REQUIRED` for both: apimart documents it for a spent balance, and the Ark-style
 * resellers' own gateways answer it the same way (upstream-evidence.md §1 and §6, item 6). A 402
 * read as "bad input" would send a user hunting for a mistake that is not there.
 */
import type { UpstreamErrorCode } from '../errors.js';

export const STATUS_CODES: Readonly<Record<number, UpstreamErrorCode>> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  402: 'PAYMENT_REQUIRED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  408: 'UPSTREAM_TIMEOUT',
  429: 'RATE_LIMITED',
  500: 'UPSTREAM_UNAVAILABLE',
  502: 'UPSTREAM_UNAVAILABLE',
  503: 'UPSTREAM_UNAVAILABLE',
  504: 'UPSTREAM_TIMEOUT',
};

/** The table's code for `status`; other 4xx are `BAD_REQUEST`, other 5xx `UPSTREAM_UNAVAILABLE`. */
export function codeOfStatus(status: number): UpstreamErrorCode {
  return (
    STATUS_CODES[status] ??
    (status >= 500
      ? 'UPSTREAM_UNAVAILABLE'
      : status >= 400
        ? 'BAD_REQUEST'
        : 'UPSTREAM_BAD_RESPONSE')
  );
}
