/**
 * The two access modes over real HTTP, with the production logger capturing every line: nothing
 * of one key's (data, errors, secrets) reaches another key's answers, and no key, token or H5
 * link reaches the log.
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { createServer } from '../../src/server.js';
import { SimulatorState } from '../../src/simulator/state.js';
import type { CallOptions } from '../../src/upstream/port.js';
import { errorCodes, startTestGateway, type TestGateway } from '../helpers/http-gateway.js';

let gateway: TestGateway | undefined;
let jwks: Server | undefined;
afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
  await new Promise<void>((resolve) => (jwks ? jwks.close(() => resolve()) : resolve()));
  jwks = undefined;
});

const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` });

describe('pass-through: each caller’s upstream key', () => {
  const KEY_A = 'sk-alpha-7f3e9c1d2b4a';
  const KEY_B = 'sk-bravo-0c8d6e5f4a3b';

  it('keeps key A’s data, errors and secrets out of key B’s answers and out of the log', async () => {
    gateway = await startTestGateway({
      overrides: {
        // An upstream client bug that quotes the request: the log must not keep the key.
        getAsset: async (opts: CallOptions) => {
          throw new Error(`GetAsset failed; request had Authorization: Bearer ${opts.credential}`);
        },
      },
    });
    const g = gateway;
    const asA = (q: string, v?: Record<string, unknown>) => g.gql(q, v, bearer(KEY_A));
    const asB = (q: string, v?: Record<string, unknown>) => g.gql(q, v, bearer(KEY_B));

    const group = (
      await asA('mutation { createGroup(input: { name: "alpha-private-group" }) { id } }')
    ).body.data.createGroup.id as string;
    const asset = (
      await asA(
        'mutation($g: ID!) { addAssets(groupId: $g, assets: [{ url: "https://e.com/alpha.jpg", type: IMAGE, name: "alpha-asset" }]) { assets { id } } }',
        { g: group },
      )
    ).body.data.addAssets.assets[0].id as string;
    const verification = (
      await asA(
        'mutation { startRealPersonVerification(callbackUrl: "https://a.example/cb") { token h5Link } }',
      )
    ).body.data.startRealPersonVerification as { token: string; h5Link: string };
    const aSees = await asA('{ groups { total items { name assets { total } } } }');
    expect(aSees.body.data.groups).toEqual({
      total: 1,
      items: [{ name: 'alpha-private-group', assets: { total: 1 } }],
    });

    const bAnswers = [
      await asB('{ groups { total items { id name } } assets { total items { id name } } }'),
      await asB('query($g: ID!) { group(id: $g) { id name } }', { g: group }),
      await asB('query($a: ID!) { asset(id: $a) { id } }', { a: asset }),
      await asB('mutation($g: ID!) { updateGroup(id: $g, input: { name: "mine" }) { id } }', {
        g: group,
      }),
      await asB('mutation($g: ID!) { deleteGroup(id: $g) }', { g: group }),
      await asB('mutation($a: ID!) { renameAsset(id: $a, name: "mine") { id } }', { a: asset }),
      await asB('mutation($t: String!) { completeRealPersonVerification(token: $t) { id } }', {
        t: verification.token,
      }),
      await asB(
        'mutation($g: ID!) { addAssets(groupId: $g, assets: [{ url: "https://e.com/b.jpg", type: IMAGE }]) { assets { id } failures { code message } } }',
        { g: group },
      ),
    ];
    expect(bAnswers[0]!.body.data).toEqual({
      groups: { total: 0, items: [] },
      assets: { total: 0, items: [] },
    });
    expect(bAnswers[1]!.body.data).toEqual({ group: null });
    expect(bAnswers.slice(3, 7).map((a) => errorCodes(a.body))).toEqual([
      ['NOT_FOUND'],
      ['NOT_FOUND'],
      ['NOT_FOUND'],
      ['VERIFICATION_NOT_FOUND'],
    ]);
    expect(bAnswers[7]!.body.data.addAssets.failures[0].code).toBe('NOT_FOUND');
    // The asset read hits the failing upstream: masked for B, logged in full but scrubbed.
    expect(errorCodes(bAnswers[2]!.body)).toEqual(['INTERNAL_SERVER_ERROR']);

    const bText = bAnswers.map((a) => a.text).join('\n');
    for (const secret of [
      KEY_A,
      KEY_B,
      'alpha-private-group',
      'alpha-asset',
      'alpha.jpg',
      verification.h5Link,
    ]) {
      expect(bText).not.toContain(secret);
    }

    const log = g.logText();
    expect(log).toContain('GetAsset failed');
    for (const secret of [KEY_A, KEY_B, verification.h5Link, verification.token]) {
      expect(log).not.toContain(secret);
    }
    // Each request's line names its caller by a hash of the key only.
    const principals = new Set(
      g
        .logs()
        .filter((l) => l.msg === 'request')
        .map((l) => l.principal),
    );
    expect(principals.size).toBe(2);
    for (const principal of principals) expect(principal).toMatch(/^key:[0-9a-f]{16}$/);
  });

  it('answers UNAUTHENTICATED without a key, before any upstream call', async () => {
    gateway = await startTestGateway();
    const none = await gateway.gql('{ groups { total } }');
    const basic = await gateway.gql('{ groups { total } }', undefined, {
      authorization: 'Basic dXNlcjpwYXNz',
    });
    expect(errorCodes(none.body)).toEqual(['UNAUTHENTICATED']);
    expect(errorCodes(basic.body)).toEqual(['UNAUTHENTICATED']);
    expect(gateway.calls).toEqual([]);
  });
});

describe('server-held key with gateway tokens', () => {
  const SERVER_KEY = 'sk-server-held-5d4c3b2a1f';
  const TOKEN_A = 'gw-token-alpha-1a2b3c4d5e6f';
  const TOKEN_B = 'gw-token-bravo-6f5e4d3c2b1a';
  const env = { UPSTREAM_API_KEY: SERVER_KEY, GATEWAY_TOKENS: `${TOKEN_A},${TOKEN_B}` };

  it('refuses callers without a valid token before any upstream call', async () => {
    gateway = await startTestGateway({ env });
    for (const headers of [
      {},
      bearer('gw-token-wrong-000000000000'),
      bearer(SERVER_KEY),
      { authorization: TOKEN_A },
    ]) {
      const answer = await gateway.gql(
        'mutation { createGroup(input: { name: "x" }) { id } }',
        undefined,
        headers,
      );
      expect(errorCodes(answer.body)).toEqual(['UNAUTHENTICATED']);
    }
    expect(gateway.calls).toEqual([]);
  });

  it('calls upstream with the server key for each token holder, and never shows or logs it', async () => {
    gateway = await startTestGateway({ env });
    const created = await gateway.gql(
      'mutation { createGroup(input: { name: "shared" }) { id name } }',
      undefined,
      bearer(TOKEN_A),
    );
    expect(created.body.data.createGroup.name).toBe('shared');
    const listed = await gateway.gql('{ groups { total } }', undefined, bearer(TOKEN_B));
    expect(listed.body.data.groups.total).toBe(1);
    expect(new Set(gateway.calls.map((c) => (c.args[0] as CallOptions).credential))).toEqual(
      new Set([SERVER_KEY]),
    );
    const everything = created.text + listed.text + gateway.logText();
    for (const secret of [SERVER_KEY, TOKEN_A, TOKEN_B]) expect(everything).not.toContain(secret);
  });
});

describe('server-held key with JWTs', () => {
  it('accepts a JWT signed by a key in the JWKS, and refuses others without calling upstream', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    jwks = createHttpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => jwks!.listen(0, '127.0.0.1', resolve));
    const port = (jwks.address() as AddressInfo).port;
    gateway = await startTestGateway({
      env: {
        UPSTREAM_API_KEY: 'sk-server-held-jwt-mode',
        JWT_JWKS_URL: `http://127.0.0.1:${port}/jwks.json`,
        JWT_ISSUER: 'https://auth.example.com/',
        JWT_AUDIENCE: 'avatar-gateway',
      },
    });
    const sign = (exp: string | number) =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setIssuer('https://auth.example.com/')
        .setAudience('avatar-gateway')
        .setSubject('user-7')
        .setExpirationTime(exp)
        .sign(privateKey);

    const expired = await gateway.gql('{ groups { total } }', undefined, {
      authorization: `Bearer ${await sign(Math.floor(Date.now() / 1000) - 3600)}`,
    });
    expect(errorCodes(expired.body)).toEqual(['UNAUTHENTICATED']);
    expect(gateway.calls).toEqual([]);

    const token = await sign('5m');
    const ok = await gateway.gql('{ groups { total } }', undefined, bearer(token));
    expect(ok.body).toEqual({ data: { groups: { total: 0 } } });
    expect(gateway.logs().some((l) => l.principal === 'jwt:https://auth.example.com/ user-7')).toBe(
      true,
    );
    expect(gateway.logText()).not.toContain(token);
  });
});

describe('start-up', () => {
  it('refuses a server-held key without client authentication, even when the config was built by hand', async () => {
    const config = {
      ...loadConfig({ PORT: '0', NODE_ENV: 'test' }),
      upstreamApiKey: 'sk-anyone-could-spend',
    };
    await expect(
      createServer(config, { upstream: new SimulatorState(), logger: pino({ level: 'silent' }) }),
    ).rejects.toThrow(/GATEWAY_TOKENS.*ALLOW_UNAUTHENTICATED/);
  });
});
