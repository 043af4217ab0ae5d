import { ApolloServerErrorCode } from '@apollo/server/errors';
import { GraphQLError } from 'graphql';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/errors/codes.js';
import { createFormatError } from '../../src/errors/format.js';
import { fromUpstreamError } from '../../src/errors/from-upstream.js';
import { BadUserInputError, GatewayError, NotFoundError } from '../../src/errors/gateway-error.js';
import { UPSTREAM_ERROR_CODES, UpstreamError } from '../../src/upstream/errors.js';

function capture() {
  const lines: Array<Record<string, any>> = [];
  const logger = pino(
    { level: 'debug' },
    { write: (line: string) => void lines.push(JSON.parse(line)) },
  );
  return { lines, formatError: createFormatError(logger) };
}

describe('the closed list of codes', () => {
  it('includes every Apollo Server code and no duplicates', () => {
    for (const code of Object.values(ApolloServerErrorCode)) expect(ERROR_CODES).toContain(code);
    expect(new Set(ERROR_CODES).size).toBe(ERROR_CODES.length);
  });

  it('maps every upstream code to a listed code', () => {
    for (const code of UPSTREAM_ERROR_CODES) {
      const mapped = fromUpstreamError(new UpstreamError(code, 'x'));
      expect(mapped).toBeInstanceOf(GatewayError);
      expect(ERROR_CODES).toContain(mapped.extensions.code);
      expect(mapped.code).toBe(mapped.extensions.code);
    }
  });
});

describe('fromUpstreamError', () => {
  const details = {
    requestId: '20260601111715ABCDEF',
    upstreamCode: 'NotFound.asset_id',
    status: 404,
    action: 'GetAsset',
  };

  it.each([
    ['NOT_FOUND', 'NOT_FOUND'],
    ['UNAUTHENTICATED', 'UNAUTHENTICATED'],
    ['FORBIDDEN', 'FORBIDDEN'],
    ['BAD_REQUEST', 'BAD_USER_INPUT'],
    ['PAYMENT_REQUIRED', 'PAYMENT_REQUIRED'],
    ['RATE_LIMITED', 'RATE_LIMITED'],
    ['UPSTREAM_UNAVAILABLE', 'UPSTREAM_UNAVAILABLE'],
    ['UPSTREAM_TIMEOUT', 'UPSTREAM_TIMEOUT'],
    ['UPSTREAM_BAD_RESPONSE', 'UPSTREAM_BAD_RESPONSE'],
    ['VERIFICATION_EXPIRED', 'VERIFICATION_EXPIRED'],
    ['VERIFICATION_USED', 'VERIFICATION_USED'],
    ['VERIFICATION_FAILED', 'VERIFICATION_FAILED'],
  ] as const)('maps %s to %s and keeps the request id', (from, to) => {
    const mapped = fromUpstreamError(new UpstreamError(from, 'x', details));
    expect(mapped.extensions.code).toBe(to);
    expect(mapped.extensions.upstream).toEqual({
      requestId: '20260601111715ABCDEF',
      code: 'NotFound.asset_id',
    });
  });

  it('adds upstreamCode to BAD_USER_INPUT and explains known codes', () => {
    const mapped = fromUpstreamError(
      new UpstreamError('BAD_REQUEST', 'Failed to download https://secret.example.com/x', {
        upstreamCode: 'InvalidParameter.DownloadFailed',
      }),
    );
    expect(mapped.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      upstreamCode: 'InvalidParameter.DownloadFailed',
    });
    expect(mapped.message).toMatch(/could not download/);
  });

  it('carries retryAfter on RATE_LIMITED', () => {
    const mapped = fromUpstreamError(
      new UpstreamError('RATE_LIMITED', 'slow down', { retryAfter: 7 }),
    );
    expect(mapped.extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfter: 7 });
    expect(mapped.message).toContain('7 s');
  });

  it('maps NOT_FOUND of the token exchange (⑫) to VERIFICATION_NOT_FOUND, and only that one', () => {
    const unknownToken = fromUpstreamError(
      new UpstreamError('NOT_FOUND', 'x', {
        action: 'GetVisualValidateResult',
        upstreamCode: 'NotFound.BytedToken',
        requestId: 'r-1',
      }),
    );
    expect(unknownToken.message).toBe('The verification token is unknown.');
    expect(unknownToken.extensions).toEqual({
      code: 'VERIFICATION_NOT_FOUND',
      upstream: { requestId: 'r-1', code: 'NotFound.BytedToken' },
    });
    const unknownGroup = fromUpstreamError(new UpstreamError('NOT_FOUND', 'x', details));
    expect(unknownGroup.extensions.code).toBe('NOT_FOUND');
    expect(unknownGroup.message).toBe('Not found (NotFound.asset_id).');
  });

  it('never passes the upstream message, URLs or headers through', () => {
    const leaky = new UpstreamError(
      'UPSTREAM_UNAVAILABLE',
      'connect ECONNREFUSED https://internal.example:8443/v1?key=sk-secret',
      { cause: new Error('Authorization: Bearer sk-secret') },
    );
    const mapped = fromUpstreamError(leaky);
    expect(JSON.stringify({ message: mapped.message, extensions: mapped.extensions })).not.toMatch(
      /secret|internal\.example|Bearer/,
    );
  });
});

describe('formatError', () => {
  it('passes expected errors through untouched', () => {
    const { formatError, lines } = capture();
    const error = new NotFoundError();
    const formatted = {
      message: error.message,
      extensions: { code: 'NOT_FOUND' },
      path: ['group'],
    };
    const located = new GraphQLError(error.message, { path: ['group'], originalError: error });
    expect(formatError(formatted, located)).toBe(formatted);
    expect(lines).toEqual([]);
  });

  it("passes Apollo's request errors through", () => {
    const { formatError } = capture();
    const formatted = { message: 'Syntax Error', extensions: { code: 'GRAPHQL_PARSE_FAILED' } };
    expect(formatError(formatted, new GraphQLError('Syntax Error'))).toBe(formatted);
  });

  it('maps an UpstreamError that reached it', () => {
    const { formatError } = capture();
    const upstream = new UpstreamError('UPSTREAM_TIMEOUT', 'timed out after 10s at https://x');
    const located = new GraphQLError(upstream.message, {
      path: ['groups'],
      originalError: upstream,
    });
    const formatted = formatError({ message: upstream.message, path: ['groups'] }, located);
    expect(formatted.message).not.toContain('https://x');
    expect(formatted.extensions).toMatchObject({ code: 'UPSTREAM_TIMEOUT' });
    expect(formatted.path).toEqual(['groups']);
  });

  it('masks an unexpected error and logs it in full', () => {
    const { formatError, lines } = capture();
    const boom = new TypeError('Cannot read properties of undefined (secret detail)');
    const located = new GraphQLError(boom.message, {
      path: ['asset', 'name'],
      originalError: boom,
    });
    const formatted = formatError(
      {
        message: boom.message,
        path: ['asset', 'name'],
        extensions: { code: 'INTERNAL_SERVER_ERROR' },
      },
      located,
    );
    expect(formatted).toEqual({
      message: 'Internal server error.',
      path: ['asset', 'name'],
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 50,
      err: { message: boom.message, type: 'TypeError' },
    });
  });

  it('masks a GraphQLError with an unknown code raised during execution', () => {
    const { formatError } = capture();
    const odd = new GraphQLError('odd', { extensions: { code: 'SOMETHING_ELSE' } });
    const located = new GraphQLError('odd', { path: ['x'], originalError: odd });
    expect(
      formatError({ message: 'odd', path: ['x'], extensions: { code: 'SOMETHING_ELSE' } }, located)
        .extensions,
    ).toEqual({ code: 'INTERNAL_SERVER_ERROR' });
  });

  it('pins each class to its code', () => {
    const error = new BadUserInputError('bad', 'input.name');
    expect(error.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'input.name' });
    expect(error).toBeInstanceOf(GraphQLError);
  });
});
