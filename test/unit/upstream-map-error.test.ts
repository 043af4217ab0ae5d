/**
 * The one mapping from upstream failures to `UpstreamError`: the table, row by row, and the
 * promise that no credential or keyed URL ends up in an error.
 */
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { UpstreamError } from '../../src/upstream/errors.js';
import { mapHttpError, THROTTLED_RETRY_AFTER_S } from '../../src/upstream/ark/envelope.js';
import {
  badResponse,
  mapTransportError,
  parseRetryAfter,
  redact,
} from '../../src/upstream/http/transport-errors.js';

function envelope(code?: string, message?: string) {
  return {
    ResponseMetadata: {
      RequestId: 'req-1',
      Action: 'GetAsset',
      ...(code ? { Error: { Code: code, Message: message ?? `${code} happened` } } : {}),
    },
  };
}

describe('mapHttpError', () => {
  it.each([
    [400, 'InvalidParameter', 'BAD_REQUEST'],
    [400, 'MissingParameter.Name', 'BAD_REQUEST'],
    [400, 'InvalidParameter.DownloadFailed', 'BAD_REQUEST'],
    [400, 'InvalidParameter.BytedTokenExpired', 'VERIFICATION_EXPIRED'],
    [400, 'InvalidParameter.BytedTokenUsed', 'VERIFICATION_USED'],
    [400, 'InvalidParameter.VerificationFailed', 'VERIFICATION_FAILED'],
    [401, 'Unauthorized', 'UNAUTHENTICATED'],
    [403, 'AccessDenied', 'FORBIDDEN'],
    [403, 'SubscriptionRequired', 'FORBIDDEN'],
    [403, 'SignatureDoesNotMatch', 'UPSTREAM_UNAVAILABLE'],
    [401, 'InvalidAccessKeyId', 'UPSTREAM_UNAVAILABLE'],
    [404, 'NotFound.asset_id', 'NOT_FOUND'],
    [404, 'NotFound.group_id', 'NOT_FOUND'],
    [404, 'NotFound.BytedToken', 'NOT_FOUND'],
    [408, undefined, 'UPSTREAM_TIMEOUT'],
    [409, 'Conflict', 'BAD_REQUEST'],
    [422, undefined, 'BAD_REQUEST'],
    [429, 'Throttling', 'RATE_LIMITED'],
    [429, 'RateLimitExceeded', 'RATE_LIMITED'],
    [500, 'InternalError', 'UPSTREAM_UNAVAILABLE'],
    [502, undefined, 'UPSTREAM_UNAVAILABLE'],
    [503, undefined, 'UPSTREAM_UNAVAILABLE'],
    [504, undefined, 'UPSTREAM_TIMEOUT'],
    [599, undefined, 'UPSTREAM_UNAVAILABLE'],
    [302, undefined, 'UPSTREAM_BAD_RESPONSE'],
    // An `Error` inside a 200 envelope: the code's family decides.
    [200, 'NotFound.asset_id', 'NOT_FOUND'],
    [200, 'InvalidParameter.Name', 'BAD_REQUEST'],
    [200, 'Throttling', 'RATE_LIMITED'],
    [200, 'InternalError', 'UPSTREAM_UNAVAILABLE'],
    [200, 'SomethingNew', 'UPSTREAM_BAD_RESPONSE'],
  ] as const)('HTTP %s with %s is %s', (status, upstreamCode, code) => {
    const error = mapHttpError({ action: 'GetAsset', status, body: envelope(upstreamCode) });
    expect(error.code).toBe(code);
    expect(error).toMatchObject({
      status,
      action: 'GetAsset',
      upstreamCode,
      outcomeUnknown: false,
    });
    if (upstreamCode) expect(error.requestId).toBe('req-1');
  });

  it('keeps the upstream message, request id and Retry-After', () => {
    const error = mapHttpError({
      action: 'ListAssets',
      status: 429,
      body: envelope('Throttling', 'Request was denied due to request throttling.'),
      retryAfter: 2,
    });
    expect(error).toMatchObject({
      code: 'RATE_LIMITED',
      message: 'Request was denied due to request throttling.',
      requestId: 'req-1',
      retryAfter: 2,
    });
  });

  it('reads the generic gateway body (code, message, redacted) and maps it by status', () => {
    const gatewayOwn = {
      error: {
        code: 'invalid_api_key',
        message: 'Invalid API key sk-generic-SECRET',
        type: 'authentication_error',
      },
    };
    const error = mapHttpError({
      action: 'GetAsset',
      status: 401,
      body: gatewayOwn,
      secrets: ['sk-generic-SECRET'],
    });
    expect(error).toMatchObject({
      code: 'UNAUTHENTICATED',
      upstreamCode: 'invalid_api_key',
      requestId: undefined,
    });
    expect(error.message).toContain('Invalid API key');
    expect(error.message).not.toContain('sk-generic-SECRET');
    // A reseller's code that looks like a Volcengine family does not override the status.
    const throttled = { error: { code: 'NotFound', message: 'slow down', type: 'rate_limit' } };
    expect(mapHttpError({ action: 'GetAsset', status: 429, body: throttled }).code).toBe(
      'RATE_LIMITED',
    );
  });

  it("maps a reseller's 402 (a spent balance) to PAYMENT_REQUIRED, as apimart's", () => {
    const spent = {
      error: { code: 'insufficient_quota', message: 'balance too low', type: 'payment_required' },
    };
    expect(mapHttpError({ action: 'CreateAssetGroup', status: 402, body: spent })).toMatchObject({
      code: 'PAYMENT_REQUIRED',
      upstreamCode: 'insufficient_quota',
      message: 'balance too low',
    });
    expect(mapHttpError({ action: 'GetAsset', status: 402, body: undefined }).code).toBe(
      'PAYMENT_REQUIRED',
    );
  });

  it('maps a body in no known envelope (or none) by status alone', () => {
    expect(
      mapHttpError({ action: 'GetAsset', status: 401, body: { detail: 'nope' } }),
    ).toMatchObject({
      code: 'UNAUTHENTICATED',
      upstreamCode: undefined,
      message: 'GetAsset failed with HTTP 401.',
    });
    expect(mapHttpError({ action: 'GetAsset', status: 502, body: undefined }).code).toBe(
      'UPSTREAM_UNAVAILABLE',
    );
  });

  it('a 429 without Retry-After still says to wait one rate window', () => {
    const error = mapHttpError({ action: 'ListAssets', status: 429, body: envelope('Throttling') });
    expect(error.retryAfter).toBe(THROTTLED_RETRY_AFTER_S);
    expect(THROTTLED_RETRY_AFTER_S).toBeGreaterThan(0);
    // Other errors carry no wait.
    expect(
      mapHttpError({ action: 'ListAssets', status: 503, body: undefined }).retryAfter,
    ).toBeUndefined();
  });
});

describe('mapTransportError', () => {
  const transport = (code: string) => Object.assign(new Error(`boom ${code}`), { code });

  it.each([
    ['UND_ERR_CONNECT_TIMEOUT', 'UPSTREAM_UNAVAILABLE'],
    ['ECONNREFUSED', 'UPSTREAM_UNAVAILABLE'],
    ['ENOTFOUND', 'UPSTREAM_UNAVAILABLE'],
    ['ECONNRESET', 'UPSTREAM_UNAVAILABLE'],
    ['UND_ERR_SOCKET', 'UPSTREAM_UNAVAILABLE'],
    ['UND_ERR_HEADERS_TIMEOUT', 'UPSTREAM_TIMEOUT'],
    ['UND_ERR_BODY_TIMEOUT', 'UPSTREAM_TIMEOUT'],
    ['UND_ERR_RES_CONTENT_LENGTH_MISMATCH', 'UPSTREAM_BAD_RESPONSE'],
    ['SOMETHING_ELSE', 'UPSTREAM_UNAVAILABLE'],
  ])('%s is %s', (undiciCode, code) => {
    const error = mapTransportError({
      action: 'GetAsset',
      error: transport(undiciCode),
      outcomeUnknown: false,
    });
    expect(error.code).toBe(code);
    expect(error.message).toContain(undiciCode);
    expect((error.cause as { code?: string }).code).toBe(undiciCode);
  });

  it('the deadline and a cancellation are UPSTREAM_TIMEOUT; an oversized body is BAD_RESPONSE', () => {
    const base = { action: 'GetAsset' as const, error: new Error('x'), outcomeUnknown: false };
    expect(
      mapTransportError({ ...base, stop: { kind: 'deadline', timeoutMs: 500 } }),
    ).toMatchObject({
      code: 'UPSTREAM_TIMEOUT',
      message: 'GetAsset did not complete within 500 ms.',
    });
    expect(mapTransportError({ ...base, stop: { kind: 'cancelled' } }).code).toBe(
      'UPSTREAM_TIMEOUT',
    );
    expect(mapTransportError({ ...base, stop: { kind: 'too-large', limit: 10 } }).code).toBe(
      'UPSTREAM_BAD_RESPONSE',
    );
  });

  it('says when a create may have happened', () => {
    const error = mapTransportError({
      action: 'CreateAsset',
      error: transport('ECONNRESET'),
      outcomeUnknown: true,
    });
    expect(error.outcomeUnknown).toBe(true);
    expect(error.message).toMatch(/may have taken effect/);
  });
});

describe('secrets stay out of errors', () => {
  const KEY = 'sk-live-THIS-MUST-NOT-LEAK-0123456789';

  function expectClean(error: UpstreamError) {
    for (const text of [
      JSON.stringify(error),
      String(error),
      error.stack ?? '',
      error.message,
      inspect(error, { depth: 10 }),
      String((error.cause as Error | undefined)?.stack ?? ''),
    ]) {
      expect(text).not.toContain(KEY);
      expect(text).not.toContain('secret=');
    }
  }

  it('an upstream message that echoes the key', () => {
    expectClean(
      mapHttpError({
        action: 'GetAsset',
        status: 401,
        body: envelope('Unauthorized', `Invalid API key ${KEY}`),
        secrets: [KEY],
      }),
    );
  });

  it('a transport error whose message holds a keyed URL or a Bearer header', () => {
    const undiciError = Object.assign(
      new Error(
        `request to https://user:${KEY}@gw.example.com/v1?secret=${KEY} failed, Bearer ${KEY}`,
      ),
      { code: 'ECONNRESET' },
    );
    const error = mapTransportError({
      action: 'GetAsset',
      error: undiciError,
      outcomeUnknown: false,
      secrets: [KEY],
    });
    expectClean(error);
    // The original error object is not kept as the cause.
    expect(error.cause).not.toBe(undiciError);
  });

  it('redact strips URL user info, query strings and Bearer tokens even without the secret list', () => {
    expect(redact('GET https://u:p@h.example/x?key=abc#f and Bearer abc.def')).toBe(
      'GET https://h.example/x?…#f and Bearer …',
    );
  });

  it('a bad-response problem is redacted too', () => {
    expect(badResponse('GetAsset', `at https://x.example/?k=${KEY}`).message).not.toContain(KEY);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-06-01T00:00:00Z');
  it.each([
    ['2', 2],
    [' 0 ', 0],
    ['Mon, 01 Jun 2026 00:00:30 GMT', 30],
    ['Sun, 31 May 2026 23:00:00 GMT', 0],
    ['soon', undefined],
    ['', undefined],
    [undefined, undefined],
  ])('%j is %s seconds', (header, seconds) => {
    expect(parseRetryAfter(header, now)).toBe(seconds);
  });
});
