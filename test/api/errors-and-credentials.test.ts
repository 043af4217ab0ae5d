import { afterEach, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/errors/codes.js';
import { UpstreamError } from '../../src/upstream/errors.js';
import type { CallOptions } from '../../src/upstream/port.js';
import { codes, startApi, type Api } from '../helpers/api-harness.js';

let api: Api;
afterEach(() => api?.stop());

describe('credentials', () => {
  it('without a caller key or a server key, answers UNAUTHENTICATED before any upstream call', async () => {
    api = await startApi();
    for (const query of [
      '{ groups { total } }',
      '{ group(id: "g") { id } }',
      '{ asset(id: "a") { id } }',
      'mutation { createGroup(input: { name: "x" }) { id } }',
      'mutation { startRealPersonVerification(callbackUrl: "https://a.example/cb") { token } }',
    ]) {
      const result = await api.exec(query, undefined, null);
      expect(codes(result)).toEqual(['UNAUTHENTICATED']);
      expect(result.errors![0]!.message).toBe(
        'No upstream credential: send Authorization: Bearer <your upstream API key>.',
      );
    }
    expect(api.calls).toEqual([]);
  });

  it('passes the caller’s Bearer key to every upstream call, and no vendor routing', async () => {
    // The configured model is the Ark client's own (`createArkClient({ model })`): it reaches
    // the wire from there (test/contract/client.test.ts, subscriptions-redis), never per call.
    api = await startApi({ config: { defaultModel: 'doubao-seedance-2-0-fast-260128' } });
    await api.exec('{ groups { total } }', undefined, 'caller-key');
    expect(api.calls[0]!.args[0]).toEqual({ credential: 'caller-key' } satisfies CallOptions);
  });

  it('uses the server key when UPSTREAM_API_KEY is set, whatever the caller sends (ALLOW_UNAUTHENTICATED)', async () => {
    api = await startApi({ config: { upstreamApiKey: 'server-key', allowUnauthenticated: true } });
    const created = await api.exec(
      'mutation { createGroup(input: { name: "shared" }) { id } }',
      undefined,
      null,
    );
    expect(created.errors).toBeUndefined();
    const listed = await api.exec('{ groups { items { name } } }', undefined, 'some-other-key');
    expect(listed.data!.groups.items).toEqual([{ name: 'shared' }]);
    expect(new Set(api.calls.map((c) => (c.args[0] as CallOptions).credential))).toEqual(
      new Set(['server-key']),
    );
  });

  it('keeps keys apart: key B cannot read, change or delete key A’s group or asset', async () => {
    api = await startApi();
    const groupId = (
      await api.exec('mutation { createGroup(input: { name: "A’s" }) { id } }', undefined, 'key-a')
    ).data!.createGroup.id;
    const assetId = (
      await api.exec(
        `mutation($g: ID!) { addAssets(groupId: $g, assets: [{ url: "https://e.com/a.jpg", type: IMAGE }]) { assets { id } } }`,
        { g: groupId },
        'key-a',
      )
    ).data!.addAssets.assets[0].id;

    const asB = (query: string) => api.exec(query, { g: groupId, a: assetId }, 'key-b');
    expect(
      (await asB('query($g: ID!, $a: ID!) { group(id: $g) { id } asset(id: $a) { id } }')).data,
    ).toEqual({
      group: null,
      asset: null,
    });
    expect((await asB('{ groups { total } assets { total } }')).data).toEqual({
      groups: { total: 0 },
      assets: { total: 0 },
    });
    expect(
      codes(await asB('mutation($g: ID!) { updateGroup(id: $g, input: { name: "mine" }) { id } }')),
    ).toEqual(['NOT_FOUND']);
    expect(codes(await asB('mutation($g: ID!) { deleteGroup(id: $g) }'))).toEqual(['NOT_FOUND']);
    expect(codes(await asB('mutation($a: ID!) { deleteAsset(id: $a) }'))).toEqual(['NOT_FOUND']);
    const added = await asB(
      `mutation($g: ID!) { addAssets(groupId: $g, assets: [{ url: "https://e.com/b.jpg", type: IMAGE }]) { failures { code } } }`,
    );
    expect(added.data!.addAssets.failures).toEqual([{ code: 'NOT_FOUND' }]);

    const stillThere = await api.exec(
      'query($g: ID!) { group(id: $g) { name assets { total } } }',
      { g: groupId },
      'key-a',
    );
    expect(stillThere.data!.group).toEqual({ name: 'A’s', assets: { total: 1 } });
  });
});

describe('errors', () => {
  it('masks an unexpected error as INTERNAL_SERVER_ERROR and logs it in full', async () => {
    api = await startApi({
      overrides: {
        listGroups: async () => {
          throw new TypeError(
            "Cannot read properties of undefined (reading 'Items') at /srv/secret.js",
          );
        },
      },
    });
    const result = await api.exec('{ groups { total } }');
    expect(result.errors).toEqual([
      {
        message: 'Internal server error.',
        locations: [{ line: 1, column: 3 }],
        path: ['groups'],
        extensions: { code: 'INTERNAL_SERVER_ERROR' },
      },
    ]);
    const logged = api.logs.find((l) => l.msg === 'unexpected error while executing');
    expect(logged?.err?.message).toContain('/srv/secret.js');
    expect(logged?.err?.stack).toBeDefined();
  });

  it('maps upstream errors to their codes, keeping the request id and never a URL', async () => {
    api = await startApi({
      overrides: {
        listAssets: async () => {
          throw new UpstreamError(
            'RATE_LIMITED',
            'Throttled at https://upstream.internal/v1?key=sk-live-1',
            {
              retryAfter: 12,
              requestId: '20260601111715A1B2',
              upstreamCode: 'Throttling',
              status: 429,
            },
          );
        },
      },
    });
    const result = await api.exec('{ assets { total } }');
    expect(result.errors![0]).toMatchObject({
      message: 'The upstream rate limit was reached; try again in 12 s.',
      extensions: {
        code: 'RATE_LIMITED',
        retryAfter: 12,
        upstream: { requestId: '20260601111715A1B2', code: 'Throttling' },
      },
    });
    expect(JSON.stringify(result)).not.toMatch(/upstream\.internal|sk-live/);
  });

  it.each([
    ['UNAUTHENTICATED', 'UNAUTHENTICATED'],
    ['FORBIDDEN', 'FORBIDDEN'],
    ['BAD_REQUEST', 'BAD_USER_INPUT'],
    ['UPSTREAM_UNAVAILABLE', 'UPSTREAM_UNAVAILABLE'],
    ['UPSTREAM_TIMEOUT', 'UPSTREAM_TIMEOUT'],
    ['UPSTREAM_BAD_RESPONSE', 'UPSTREAM_BAD_RESPONSE'],
  ] as const)('reports an upstream %s as %s', async (upstreamCode, code) => {
    api = await startApi({
      overrides: {
        listGroups: async () => {
          throw new UpstreamError(upstreamCode, 'x', { upstreamCode: 'Some.Code' });
        },
      },
    });
    const result = await api.exec('{ groups { total } }');
    expect(codes(result)).toEqual([code]);
  });

  it("passes Apollo's own request errors through with their codes", async () => {
    api = await startApi();
    expect(codes(await api.exec('{ groups { total '))).toEqual(['GRAPHQL_PARSE_FAILED']);
    expect(codes(await api.exec('{ groups { nope } }'))).toEqual(['GRAPHQL_VALIDATION_FAILED']);
  });

  it('only ever shows codes from the closed list', async () => {
    api = await startApi({
      overrides: {
        getAsset: async () => {
          throw new Error('plain');
        },
      },
    });
    const results = await Promise.all([
      api.exec('{ asset(id: "a") { id } }'),
      api.exec('{ groups { total } }', undefined, null),
      api.exec('{ nope }'),
      api.exec('{ group(id: "") { id } }'),
    ]);
    for (const code of results.flatMap(codes)) expect(ERROR_CODES).toContain(code);
  });
});
