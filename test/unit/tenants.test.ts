/**
 * Who a caller is to the ledger: named gateway tokens, admins, the JWT tenant claim, and the
 * hashed key in pass-through mode.
 */
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, namedToken } from '../../src/config/index.js';
import { createAccess } from '../../src/security/access.js';
import { secretHash } from '../../src/util/secret-hash.js';

const SERVER_KEY = 'sk-server-0123456789';

describe('namedToken', () => {
  it('splits name:token, and names a bare token after its hash', () => {
    expect(namedToken('acme:acme-token-0123456789')).toEqual({
      name: 'acme',
      token: 'acme-token-0123456789',
    });
    const bare = namedToken('bare-token-0123456789');
    expect(bare.token).toBe('bare-token-0123456789');
    expect(bare.name).toMatch(/^token:[0-9a-f]{16}$/);
    expect(bare.name).not.toContain('bare-token');
  });
});

describe('GATEWAY_TOKENS and ADMIN_TOKENS', () => {
  it('checks the token part of a named entry', () => {
    expect(() =>
      loadConfig({ UPSTREAM_API_KEY: SERVER_KEY, GATEWAY_TOKENS: 'acme:short' }),
    ).toThrow(ConfigError);
    expect(() => loadConfig({ UPSTREAM_API_KEY: SERVER_KEY, ADMIN_TOKENS: 'ops:short' })).toThrow(
      /ADMIN_TOKENS/,
    );
  });

  it('refuses ADMIN_TOKENS without a server-held key, as GATEWAY_TOKENS', () => {
    expect(() => loadConfig({ ADMIN_TOKENS: 'ops:ops-token-0123456789' })).toThrow(
      /ADMIN_TOKENS: needs UPSTREAM_API_KEY/,
    );
    // Admins alone are a client authentication: the key is not open to anyone.
    expect(
      loadConfig({ UPSTREAM_API_KEY: SERVER_KEY, ADMIN_TOKENS: 'ops:ops-token-0123456789' })
        .adminTokens,
    ).toHaveLength(1);
  });

  it('gives each token its name as tenant, and admins their flag', () => {
    const access = createAccess(
      loadConfig({
        UPSTREAM_API_KEY: SERVER_KEY,
        GATEWAY_TOKENS: 'acme:acme-token-0123456789,bare-token-0123456789',
        ADMIN_TOKENS: 'ops:ops-token-0123456789',
      }),
    );
    expect(access.authenticateSync('Bearer acme-token-0123456789')).toMatchObject({
      ok: true,
      tenant: 'acme',
      admin: false,
    });
    expect(access.authenticateSync('Bearer bare-token-0123456789')).toMatchObject({
      ok: true,
      tenant: namedToken('bare-token-0123456789').name,
      admin: false,
    });
    expect(access.authenticateSync('Bearer ops-token-0123456789')).toMatchObject({
      ok: true,
      tenant: 'ops',
      admin: true,
    });
    // The name is not a credential.
    expect(access.authenticateSync('Bearer acme')).toMatchObject({ ok: false });
  });
});

describe('pass-through tenants', () => {
  it('are a hash of the upstream key, never the key', () => {
    const result = createAccess(loadConfig({})).authenticateSync('Bearer my-upstream-key');
    expect(result).toMatchObject({ ok: true, tenant: `key:${secretHash('my-upstream-key')}` });
  });
});

describe('JWT_TENANT_CLAIM', () => {
  it('names the tenant from the configured claim, and refuses a JWT without it', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
    const config = loadConfig({
      UPSTREAM_API_KEY: SERVER_KEY,
      JWT_JWKS_URL: 'https://auth.example.com/jwks.json',
      JWT_ISSUER: 'https://auth.example.com/',
      JWT_AUDIENCE: 'avatar-gateway',
      JWT_TENANT_CLAIM: 'org',
    });
    const access = createAccess(config, { jwks: createLocalJWKSet({ keys: [jwk] }) });
    const sign = (claims: Record<string, unknown>) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setIssuer('https://auth.example.com/')
        .setAudience('avatar-gateway')
        .setSubject('user-1')
        .setExpirationTime('5m')
        .sign(privateKey);
    expect(await access.authenticate(`Bearer ${await sign({ org: 'acme' })}`)).toMatchObject({
      ok: true,
      tenant: 'jwt:acme',
    });
    expect(await access.authenticate(`Bearer ${await sign({})}`)).toMatchObject({ ok: false });
  });
});
