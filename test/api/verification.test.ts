import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/index.js';
import { UpstreamError } from '../../src/upstream/errors.js';
import type { Upstream } from '../../src/upstream/port.js';
import { codes, START, startApi, TOKEN_TTL_MS, type Api } from '../helpers/api-harness.js';

const START_MUTATION = `mutation($cb: String!) {
  startRealPersonVerification(callbackUrl: $cb) { token h5Link h5LinkExpiresAt expiresAt }
}`;
const COMPLETE = `mutation($token: String!) {
  completeRealPersonVerification(token: $token) { id name kind description assets { total } }
}`;

let api: Api;

/** The API over the simulator; `config` overrides the defaults (`loadConfig`'s). */
async function start(
  overrides: Partial<Upstream> = {},
  config: Partial<Config> = {},
): Promise<void> {
  await api?.stop();
  api = await startApi({ overrides, config });
}

async function begin(
  key = 'key-a',
): Promise<{ token: string; h5Link: string; h5LinkExpiresAt: string; expiresAt: string }> {
  const result = await api.exec(START_MUTATION, { cb: 'https://app.example.com/verified' }, key);
  expect(result.errors).toBeUndefined();
  return result.data!.startRealPersonVerification;
}

const complete = (token: string, key = 'key-a') => api.exec(COMPLETE, { token }, key);

beforeEach(() => start());
afterEach(() => api?.stop());

describe('real-person verification', () => {
  it('start returns a token, the H5 link to open within 120 s, and a token good for 30 minutes', async () => {
    const session = await begin();
    expect(session).toEqual({
      token: expect.stringMatching(/^\d{14}[0-9A-F]{20}$/),
      h5Link: `http://127.0.0.1/sim/h5/verify?token=${session.token}`,
      h5LinkExpiresAt: new Date(START + 120_000).toISOString(),
      expiresAt: new Date(START + 30 * 60_000).toISOString(),
    });
    expect(api.calls.find((c) => c.method === 'startVerification')!.args[1]).toEqual({
      callbackUrl: 'https://app.example.com/verified',
    });
  });

  it('takes both lifetimes from the settings; the link never outlives the token', async () => {
    await start({}, { verificationTtlSeconds: 600, h5LinkTtlSeconds: 45 });
    expect(await begin()).toMatchObject({
      h5LinkExpiresAt: new Date(START + 45_000).toISOString(),
      expiresAt: new Date(START + 600_000).toISOString(),
    });
    await start({}, { verificationTtlSeconds: 90 });
    expect(await begin()).toMatchObject({
      h5LinkExpiresAt: new Date(START + 90_000).toISOString(),
      expiresAt: new Date(START + 90_000).toISOString(),
    });
  });

  it('dates the link by the upstream’s ExpiresIn when its answer carries one', async () => {
    let expiresIn = 300;
    await start({
      startVerification: async (opts, input) => ({
        ...(await api.state.startVerification(opts, input)),
        h5LinkTtlSeconds: expiresIn,
      }),
    });
    expect(await begin()).toMatchObject({
      h5LinkExpiresAt: new Date(START + 300_000).toISOString(),
      expiresAt: new Date(START + 30 * 60_000).toISOString(),
    });
    // Even then, not past the token.
    expiresIn = 3 * 3600;
    expect(await begin()).toMatchObject({
      h5LinkExpiresAt: new Date(START + 30 * 60_000).toISOString(),
    });
  });

  it('exchanges a check finished in time long after the link stopped opening', async () => {
    const { token, h5LinkExpiresAt } = await begin();
    api.clock.advance(100_000);
    api.state.completeLiveness(token, 'pass');
    api.clock.advance(3 * 60_000);
    expect(api.clock.now).toBeGreaterThan(Date.parse(h5LinkExpiresAt));
    const done = await complete(token);
    expect(done.errors).toBeUndefined();
    expect(done.data!.completeRealPersonVerification.kind).toBe('REAL');
  });

  it('runs end to end: PENDING, then the REAL group once, then USED', async () => {
    const { token } = await begin();
    const pending = await complete(token);
    expect(codes(pending)).toEqual(['VERIFICATION_PENDING']);
    expect(pending.errors![0]!.message).toMatch(/not finished/);

    api.state.completeLiveness(token, 'pass');
    const done = await complete(token);
    expect(done.errors).toBeUndefined();
    expect(done.data!.completeRealPersonVerification).toEqual({
      id: expect.stringMatching(/^group-/),
      name: 'Verified person 2026-06-01T11:17:15Z',
      kind: 'REAL',
      description: null,
      assets: { total: 0 },
    });

    const again = await complete(token);
    expect(codes(again)).toEqual(['VERIFICATION_USED']);

    const real = await api.exec(`{ groups(filter: { kind: REAL }) { items { id } } }`);
    expect(real.data!.groups.items).toEqual([{ id: done.data!.completeRealPersonVerification.id }]);
  });

  it('is VERIFICATION_FAILED when the person fails the liveness check', async () => {
    const { token } = await begin();
    api.state.completeLiveness(token, 'fail');
    expect(codes(await complete(token))).toEqual(['VERIFICATION_FAILED']);
  });

  it('is VERIFICATION_EXPIRED once the token’s time ran out', async () => {
    const { token } = await begin();
    api.state.completeLiveness(token, 'pass');
    api.clock.advance(TOKEN_TTL_MS);
    expect(codes(await complete(token))).toEqual(['VERIFICATION_EXPIRED']);
  });

  it('is VERIFICATION_NOT_FOUND for an unknown token, or another key’s token', async () => {
    expect(codes(await complete('20260601111715DEADBEEFDEADBEEFDEAD'))).toEqual([
      'VERIFICATION_NOT_FOUND',
    ]);
    const { token } = await begin('key-b');
    api.state.completeLiveness(token, 'pass');
    expect(codes(await complete(token, 'key-a'))).toEqual(['VERIFICATION_NOT_FOUND']);
    // The owner can still use it.
    expect((await complete(token, 'key-b')).data!.completeRealPersonVerification.kind).toBe('REAL');
  });

  it('still returns the group id when the REAL group cannot be read (the token is spent)', async () => {
    await start({
      getGroup: async () => {
        throw new UpstreamError('NOT_FOUND', 'hidden', { upstreamCode: 'NotFound.group_id' });
      },
      listGroups: async () => ({ items: [], total: 0, page: 1, pageSize: 100 }),
    });
    const { token } = await begin();
    api.state.completeLiveness(token, 'pass');
    const result = await api.exec(
      `mutation($token: String!) {
      completeRealPersonVerification(token: $token) { id name kind }
    }`,
      { token },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data!.completeRealPersonVerification).toEqual({
      id: expect.stringMatching(/^group-/),
      name: 'Verified person',
      kind: 'REAL',
    });
  });

  it('passes other upstream failures through with their own code', async () => {
    await start({
      completeVerification: async () => {
        throw new UpstreamError('RATE_LIMITED', 'slow down', { retryAfter: 3 });
      },
    });
    const result = await complete('T');
    expect(result.errors![0]!.extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfter: 3 });
  });
});
