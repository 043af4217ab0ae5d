/**
 * The Ark dialect on its own, without a socket: how a port call becomes a request (paths, the
 * `{id}` parameter, the dialect's `model` in the body or the query) and how an answer is read (success,
 * the envelope's error, the answer class the retry rules go by, contract violations).
 */
import { describe, expect, it } from 'vitest';
import { loadContract } from '../../src/upstream/ark/contract.js';
import { createArkDialect } from '../../src/upstream/ark/dialect.js';
import { ANSWER_CLASSES } from '../../src/upstream/ark/envelope.js';
import { DEFAULT_MODEL } from '../../src/upstream/ark/models.js';
import type { HttpAnswer } from '../../src/upstream/http/dialect.js';

const dialect = createArkDialect({ contract: loadContract(), model: DEFAULT_MODEL });
const who = { credential: 'sk-dialect-test' };
const ASSET = {
  ResponseMetadata: { RequestId: 'req-1', Action: 'GetAsset' },
  Result: {
    Id: 'asset-20260602153901-x7k2m',
    AssetType: 'Image',
    GroupId: 'group-20260602153837-5vm6c',
    Status: 'Active',
  },
};
const answer = (status: number, body: unknown, more: Partial<HttpAnswer> = {}): HttpAnswer => ({
  status,
  body,
  json: true,
  ...more,
});
const failure = (code: string, message = `${code} happened`) => ({
  ResponseMetadata: {
    RequestId: 'req-2',
    Action: 'GetAsset',
    Error: { Code: code, Message: message },
  },
});

describe('buildRequest', () => {
  it('puts the id in the path and its model in the query of a GET', () => {
    expect(dialect.buildRequest('getAsset', who, { id: 'a/1 b' })).toEqual({
      method: 'GET',
      path: `/v1/private-avatar/assets/a%2F1%20b?model=${DEFAULT_MODEL}`,
    });
  });

  it('puts the model it was built with into the body of a POST, before the fields', () => {
    const fast = createArkDialect({
      contract: loadContract(),
      model: 'doubao-seedance-2-0-fast-260128',
    });
    const request = fast.buildRequest('listAssets', who, {
      body: { PageNumber: 1, PageSize: 10 },
    });
    expect(request).toEqual({
      method: 'POST',
      path: '/v1/private-avatar/assets/list',
      body: { model: 'doubao-seedance-2-0-fast-260128', PageNumber: 1, PageSize: 10 },
    });
  });

  it('sends a body with the model even when the call has none (PATCH)', () => {
    expect(dialect.buildRequest('updateGroup', who, { id: 'g-1' })).toEqual({
      method: 'PATCH',
      path: '/v1/private-avatar/groups/g-1',
      body: { model: DEFAULT_MODEL },
    });
  });

  it('names each method by its Volcengine action and kind', () => {
    expect(dialect.actions.getAsset).toMatchObject({ action: 'GetAsset', kind: 'read' });
    expect(dialect.actions.completeVerification).toMatchObject({
      action: 'GetVisualValidateResult',
      kind: 'exchange',
    });
  });
});

describe('classify', () => {
  it('passes a success that meets the contract', () => {
    expect(dialect.classify('getAsset', answer(200, ASSET), [])).toEqual({ ok: true, body: ASSET });
  });

  it.each([
    [429, 'Throttling', 'RATE_LIMITED', 'throttled'],
    [503, 'ServiceUnavailable', 'UPSTREAM_UNAVAILABLE', 'overloaded'],
    [502, 'InternalError', 'UPSTREAM_UNAVAILABLE', 'gateway'],
    [504, 'InternalError', 'UPSTREAM_TIMEOUT', 'gateway'],
    [500, 'InternalError', 'UPSTREAM_UNAVAILABLE', 'failed'],
    [404, 'NotFound.asset_id', 'NOT_FOUND', 'final'],
    [400, 'InvalidParameter.BytedTokenUsed', 'VERIFICATION_USED', 'final'],
    // An `Error` inside a 2xx envelope is a verdict, even a throttling one.
    [200, 'Throttling', 'RATE_LIMITED', 'final'],
  ] as const)('HTTP %s with %s: %s, %s', (status, upstreamCode, code, answerClass) => {
    const classified = dialect.classify('getAsset', answer(status, failure(upstreamCode)), []);
    expect(classified).toMatchObject({
      ok: false,
      answer: answerClass,
      error: { code, status, upstreamCode, requestId: 'req-2', action: 'GetAsset' },
    });
  });

  it('keeps Retry-After and redacts the credential if the upstream echoes it', () => {
    const classified = dialect.classify(
      'getAsset',
      answer(429, failure('Throttling', 'slow down, sk-dialect-test'), { retryAfter: 2 }),
      ['sk-dialect-test'],
    );
    expect(classified).toMatchObject({ ok: false, error: { retryAfter: 2 } });
    expect(!classified.ok && classified.error.message).not.toContain('sk-dialect-test');
  });

  it('calls a 2xx that is not JSON, or breaks the contract, unreadable', () => {
    expect(dialect.classify('getAsset', answer(200, undefined, { json: false }), [])).toMatchObject(
      {
        ok: false,
        answer: 'unreadable',
        error: { code: 'UPSTREAM_BAD_RESPONSE', status: 200 },
      },
    );
    const broken = { ...ASSET, Result: { ...ASSET.Result, Status: 'Sleeping' } };
    expect(dialect.classify('getAsset', answer(200, broken), [])).toMatchObject({
      ok: false,
      answer: 'unreadable',
      error: { code: 'UPSTREAM_BAD_RESPONSE', requestId: 'req-1' },
    });
  });

  it('maps the generic gateway body by status; on a 2xx it is no Ark answer: unreadable', () => {
    const generic = { error: { code: 'rate_limit_exceeded', message: 'slow', type: 'rate_limit' } };
    expect(dialect.classify('getAsset', answer(429, generic), [])).toMatchObject({
      ok: false,
      answer: 'throttled',
      error: { code: 'RATE_LIMITED', upstreamCode: 'rate_limit_exceeded', message: 'slow' },
    });
    expect(dialect.classify('createAsset', answer(200, generic), [])).toMatchObject({
      ok: false,
      answer: 'unreadable',
      error: { code: 'UPSTREAM_BAD_RESPONSE', status: 200 },
    });
  });

  it('maps an error body that is not JSON by status alone', () => {
    expect(dialect.classify('getAsset', answer(503, undefined, { json: false }), [])).toMatchObject(
      {
        ok: false,
        answer: 'overloaded',
        error: { code: 'UPSTREAM_UNAVAILABLE', upstreamCode: undefined },
      },
    );
  });

  it('classes only the statuses the retry rules care about; the rest are final', () => {
    expect(Object.keys(ANSWER_CLASSES).map(Number)).toEqual([429, 500, 502, 503, 504]);
    expect(dialect.classify('getAsset', answer(501, undefined), [])).toMatchObject({
      answer: 'final',
    });
  });
});
