import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import type { JwtConfig } from '../../src/config/index.js';
import { createAccess, fingerprint, type AccessConfig } from '../../src/security/access.js';
import { secretHash } from '../../src/util/secret-hash.js';

const SERVER_KEY = 'sk-server-0123456789';
const TOKEN_A = 'gateway-token-a-0123456789';
const TOKEN_B = 'gateway-token-b-0123456789';
const JWT: JwtConfig = {
  jwksUrl: 'https://auth.example.com/jwks.json',
  issuer: 'https://auth.example.com/',
  audience: ['avatar-gateway'],
};

function config(overrides: Partial<AccessConfig> = {}): AccessConfig {
  return {
    upstreamApiKey: SERVER_KEY,
    gatewayTokens: [TOKEN_A, TOKEN_B],
    jwt: null,
    allowUnauthenticated: false,
    ...overrides,
  };
}

describe('pass-through access (no UPSTREAM_API_KEY)', () => {
  const access = createAccess(config({ upstreamApiKey: null, gatewayTokens: [] }));

  it('forwards the caller’s Bearer key as the credential, under a hashed principal', async () => {
    const result = await access.authenticate('Bearer caller-key-1');
    expect(result).toEqual({
      ok: true,
      credential: 'caller-key-1',
      principal: { id: `key:${fingerprint('caller-key-1')}`, kind: 'upstream-key' },
      tenant: `key:${secretHash('caller-key-1')}`,
      admin: false,
    });
    expect(access.mode).toBe('pass-through');
    if (result.ok) expect(result.principal.id).not.toContain('caller-key-1');
  });

  it('gives two keys two principals', async () => {
    const a = await access.authenticate('Bearer key-a');
    const b = await access.authenticate('bearer   key-b ');
    expect(a.ok && b.ok && a.principal.id !== b.principal.id).toBe(true);
  });

  it.each([
    [undefined, 'No upstream credential'],
    ['', 'No upstream credential'],
    ['Basic dXNlcjpwYXNz', 'must be "Bearer <token>"'],
    ['Bearer', 'must be "Bearer <token>"'],
    ['Bearer two words', 'must be "Bearer <token>"'],
  ])('refuses %j with UNAUTHENTICATED', async (header, message) => {
    const result = await access.authenticate(header);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.extensions.code).toBe('UNAUTHENTICATED');
      expect(result.error.message).toContain(message);
    }
  });
});

describe('server-key access with gateway tokens', () => {
  const access = createAccess(config());

  it('grants the server key to each listed token, with a principal per token', async () => {
    const a = await access.authenticate(`Bearer ${TOKEN_A}`);
    const b = access.authenticateSync(`Bearer ${TOKEN_B}`);
    expect(a).toMatchObject({
      ok: true,
      credential: SERVER_KEY,
      principal: { kind: 'gateway-token' },
    });
    expect(b).toMatchObject({ ok: true, credential: SERVER_KEY });
    if (a.ok && b.ok) {
      expect(a.principal.id).not.toBe(b.principal.id);
      expect(a.principal.id).not.toContain(TOKEN_A);
    }
  });

  it.each([
    [undefined, 'No credential'],
    [`Bearer ${TOKEN_A}x`, 'not valid'],
    [`Bearer ${TOKEN_A.slice(0, -1)}`, 'not valid'],
    [`Bearer ${SERVER_KEY}`, 'not valid'],
    [TOKEN_A, 'must be "Bearer <token>"'],
  ])('refuses %j without ever handing out the server key', async (header, message) => {
    for (const result of [await access.authenticate(header), access.authenticateSync(header)]) {
      expect(result.ok).toBe(false);
      expect(JSON.stringify(result)).not.toContain(SERVER_KEY);
      if (!result.ok) expect(result.error.message).toContain(message);
    }
  });

  it('refuses to be built open to anyone unless allowUnauthenticated is set', () => {
    expect(() => createAccess(config({ gatewayTokens: [] }))).toThrow(/ALLOW_UNAUTHENTICATED/);
    const open = createAccess(config({ gatewayTokens: [], allowUnauthenticated: true }));
    expect(open.authenticateSync(undefined)).toEqual({
      ok: true,
      credential: SERVER_KEY,
      principal: { id: 'anonymous', kind: 'anonymous' },
      tenant: 'anonymous',
      admin: false,
    });
  });

  it('ignores allowUnauthenticated once tokens are configured: a token is then always needed', async () => {
    const access = createAccess(config({ allowUnauthenticated: true }));
    expect(await access.authenticate(undefined)).toMatchObject({ ok: false });
    expect(await access.authenticate('Bearer wrong-token-0123456789')).toMatchObject({ ok: false });
    expect(await access.authenticate(`Bearer ${TOKEN_B}`)).toMatchObject({ ok: true });
  });
});

type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

describe('server-key access with JWTs', () => {
  let privateKey: PrivateKey;
  let otherKey: PrivateKey;
  let jwk: JWK;

  beforeAll(async () => {
    const mine = await generateKeyPair('ES256', { extractable: true });
    privateKey = mine.privateKey;
    // The key set holds the public half of `privateKey` only.
    jwk = { ...(await exportJWK(mine.publicKey)), kid: 'k1', alg: 'ES256' };
    otherKey = (await generateKeyPair('ES256')).privateKey;
  });

  function access() {
    return createAccess(config({ gatewayTokens: [TOKEN_A], jwt: JWT }), {
      jwks: createLocalJWKSet({ keys: [jwk] }),
    });
  }

  async function sign(
    claims: { iss?: string; aud?: string; sub?: string; exp?: string | number } = {},
    key: PrivateKey = privateKey,
  ) {
    const jwt = new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuedAt();
    jwt.setIssuer(claims.iss ?? JWT.issuer).setAudience(claims.aud ?? 'avatar-gateway');
    if (claims.sub !== '') jwt.setSubject(claims.sub ?? 'user-42');
    jwt.setExpirationTime(claims.exp ?? '5m');
    return jwt.sign(key);
  }

  it('grants the server key to a valid JWT, with the subject as principal', async () => {
    const result = await access().authenticate(`Bearer ${await sign()}`);
    expect(result).toEqual({
      ok: true,
      credential: SERVER_KEY,
      principal: { id: `jwt:${JWT.issuer} user-42`, kind: 'jwt' },
      tenant: 'jwt:user-42',
      admin: false,
    });
  });

  it('still accepts the static tokens beside JWTs', async () => {
    expect(await access().authenticate(`Bearer ${TOKEN_A}`)).toMatchObject({ ok: true });
  });

  it.each([
    ['another issuer', { iss: 'https://evil.example.com/' }],
    ['another audience', { aud: 'someone-else' }],
    ['no subject', { sub: '' }],
    ['an expired token', { exp: Math.floor(Date.now() / 1000) - 60 }],
  ])('refuses %s', async (_, claims) => {
    const result = await access().authenticate(`Bearer ${await sign(claims)}`);
    expect(result).toMatchObject({ ok: false, error: { message: 'The token is not valid.' } });
  });

  it('refuses a token signed by a key outside the set, and an unsigned one', async () => {
    const forged = await sign({}, otherKey);
    expect(await access().authenticate(`Bearer ${forged}`)).toMatchObject({ ok: false });
    const [header, payload] = (await sign()).split('.');
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${payload}.`;
    expect(await access().authenticate(`Bearer ${none}`)).toMatchObject({ ok: false });
    expect(await access().authenticate(`Bearer ${header}.${payload}.AAAA`)).toMatchObject({
      ok: false,
    });
  });

  it('refuses JWTs on the synchronous path, which cannot fetch keys', async () => {
    expect(access().authenticateSync(`Bearer ${await sign()}`)).toMatchObject({ ok: false });
  });

  it('says “try again” when the key set cannot be fetched', async () => {
    const unreachable = createAccess(
      config({ jwt: { ...JWT, jwksUrl: 'http://127.0.0.1:9/jwks.json' } }),
    );
    const result = await unreachable.authenticate(`Bearer ${await sign()}`);
    expect(result).toMatchObject({
      ok: false,
      error: { message: expect.stringMatching(/try again/) },
    });
  });
});
