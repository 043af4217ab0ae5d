/**
 * What each of the gateway's error codes means to a person, and what to do next. The codes are
 * the closed list of `extensions.code` in the README ("Errors"); an unknown code falls back to
 * the gateway's own message.
 */
import type { CombinedError } from 'urql';

const MESSAGES: Record<string, string> = {
  BAD_USER_INPUT: 'Something you entered was not accepted.',
  UNAUTHENTICATED:
    'The gateway did not accept your key or token. Sign out and sign in again with a valid one.',
  FORBIDDEN: 'Your key is not allowed to do this (missing permission or plan).',
  NOT_FOUND: 'It no longer exists: it may have been deleted meanwhile. Reload the list.',
  PAYMENT_REQUIRED:
    'The upstream account has no balance left for this. Top it up with the vendor, then try again.',
  RATE_LIMITED: 'Too many requests right now. Wait a moment and try again.',
  UPSTREAM_UNAVAILABLE: 'The asset service cannot be reached right now. Try again in a minute.',
  UPSTREAM_TIMEOUT: 'The asset service did not answer in time. Try again.',
  UPSTREAM_BAD_RESPONSE:
    'The asset service answered something unexpected. Try again; if it persists, contact support.',
  OUTCOME_UNKNOWN:
    'The upload was sent but not confirmed: it may exist. Check the list before adding it again.',
  VERIFICATION_PENDING: 'The person has not finished the liveness check yet.',
  VERIFICATION_EXPIRED: 'The verification token expired. Start a new verification.',
  VERIFICATION_USED:
    'This verification was already used elsewhere. Look for the group among the real-person groups.',
  VERIFICATION_FAILED: 'The person did not pass the liveness check. Start a new verification.',
  VERIFICATION_NOT_FOUND: 'This verification is unknown. Start a new one.',
  LEDGER_UNAVAILABLE: 'The gateway cannot reach its database right now. Try again in a moment.',
  INTERNAL_SERVER_ERROR: 'The gateway hit an unexpected error. Try again; the log has the detail.',
  SERVICE_UNAVAILABLE:
    'Live updates are paused: the gateway cannot reach its shared store. Try again in a few seconds.',
  PAYLOAD_TOO_LARGE: 'The request is too large. Send fewer items at once.',
  BATCH_TOO_LARGE: 'Too many operations in one request.',
  QUERY_TOO_DEEP: 'The request nests too deeply for this gateway.',
  QUERY_TOO_COMPLEX: 'The request asks for too much at once. Use a smaller page size.',
  TOO_MANY_ALIASES: 'The request uses too many aliases.',
  INPUT_TOO_LARGE: 'A value is too long, or a list has too many items.',
  TOO_MANY_SUBSCRIPTIONS: 'Too many live views are open at once. Close some tabs and reload.',
  ORIGIN_NOT_ALLOWED: 'This page’s origin may not call the gateway (CORS_ORIGINS).',
  GRAPHQL_PARSE_FAILED: 'The console sent an invalid request. Reload the page.',
  GRAPHQL_VALIDATION_FAILED:
    'The console and the gateway disagree on the API. Reload the page after an upgrade.',
  BAD_REQUEST: 'The gateway refused the request as malformed.',
  PERSISTED_QUERY_NOT_FOUND: 'The gateway refused the request as malformed.',
  PERSISTED_QUERY_NOT_SUPPORTED: 'The gateway refused the request as malformed.',
  OPERATION_RESOLUTION_FAILURE: 'The gateway refused the request as malformed.',
};

/** One error as a person reads it: what happened, in words, plus the code for support. */
export interface Explained {
  code: string;
  text: string;
  /** The gateway's own message, e.g. which field broke which rule. */
  detail: string | null;
}

export function explainCode(code: string, detail: string | null = null): Explained {
  const text = MESSAGES[code] ?? detail ?? 'Something went wrong.';
  return { code, text, detail: detail === text ? null : detail };
}

export function explain(error: CombinedError): Explained {
  if (error.networkError && error.graphQLErrors.length === 0) {
    return {
      code: 'NETWORK',
      text: 'The gateway cannot be reached. Check that it is running, then try again.',
      detail: error.networkError.message,
    };
  }
  const first = error.graphQLErrors[0];
  const code = first?.extensions?.['code'];
  return explainCode(
    typeof code === 'string' ? code : 'INTERNAL_SERVER_ERROR',
    first?.message ?? null,
  );
}

/** Every code the console has words for (the README's list), for tests. */
export const EXPLAINED_CODES: readonly string[] = Object.keys(MESSAGES);
