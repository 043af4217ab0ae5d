/**
 * Who may call, and with which upstream credential. Two modes:
 *
 * - **pass-through** (`UPSTREAM_API_KEY` unset): the caller's `Authorization: Bearer <key>` *is*
 *   the upstream key; the gateway forwards it and the upstream decides. Each key sees its own
 *   upstream account only.
 * - **server-key** (`UPSTREAM_API_KEY` set): every call uses the server's key; callers prove
 *   themselves with a gateway token (`GATEWAY_TOKENS`, compared in constant time over SHA-256
 *   digests) or a JWT (`JWT_JWKS_URL`, `JWT_ISSUER`, `JWT_AUDIENCE`). Anonymous use only with
 *   `ALLOW_UNAUTHENTICATED=true`.
 *
 * One function, `authenticate(authorizationHeaderValue)`, serves HTTP and WebSocket alike.
 * Transport-free: it sees a header value, never a request.
 */
import { hash, timingSafeEqual } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { namedToken, type Config } from '../config/index.js';
import { UnauthenticatedError } from '../errors/gateway-error.js';
import { secretHash } from '../util/secret-hash.js';

export type AccessMode = 'pass-through' | 'server-key';

/** Who is calling, safe to log and to key a rate limit on: never a secret. */
export interface Principal {
  /**
   * Stable per caller: `key:<16 hex>` (SHA-256 of an upstream key), `token:<16 hex>` (of a
   * gateway token), `jwt:<iss> <sub>`, or `anonymous`.
   */
  readonly id: string;
  readonly kind: 'upstream-key' | 'gateway-token' | 'jwt' | 'anonymous';
}

export type AccessResult =
  | {
      readonly ok: true;
      /** The upstream API key to call with. Never log it. */
      readonly credential: string;
      readonly principal: Principal;
      /**
       * The ledger's tenant of this caller (see README "Tenants and the ledger"): the hash of the
       * upstream key (pass-through), the gateway token's name, the JWT's `JWT_TENANT_CLAIM`, or
       * `anonymous`. Not secret.
       */
      readonly tenant: string;
      /** An `ADMIN_TOKENS` holder: sees every tenant's resources. */
      readonly admin: boolean;
    }
  | { readonly ok: false; readonly error: UnauthenticatedError };

export interface Access {
  readonly mode: AccessMode;
  /**
   * Checks an `Authorization` header value (`undefined`/`null` when absent). Resolves, never
   * rejects: a refusal is `{ ok: false, error }` with an `UNAUTHENTICATED` error to throw or send.
   */
  authenticate(authorization: string | null | undefined): Promise<AccessResult>;
  /**
   * The same without I/O, for in-process callers: a JWT (which may need the key set) is refused
   * here; use `authenticate` for it.
   */
  authenticateSync(authorization: string | null | undefined): AccessResult;
}

export type AccessConfig = Pick<
  Config,
  'upstreamApiKey' | 'gatewayTokens' | 'jwt' | 'allowUnauthenticated'
> &
  Partial<Pick<Config, 'adminTokens' | 'jwtTenantClaim'>>;

export interface AccessOptions {
  /**
   * Where JWT signing keys come from.
   * @default createRemoteJWKSet(config.jwt.jwksUrl) when `config.jwt` is set
   */
  jwks?: JWTVerifyGetKey;
}

/** Asymmetric algorithms only: a JWKS never holds shared secrets, and `none` is never accepted. */
const JWT_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
];

const MESSAGES = {
  malformed: 'The Authorization header must be "Bearer <token>".',
  missingClient: 'No credential: send Authorization: Bearer <gateway token>.',
  badToken: 'The token is not valid.',
  jwtUnavailable: 'The token could not be checked right now; try again shortly.',
} as const;

/** jose codes meaning the key set could not be fetched or read. */
const KEY_SET_FAILURES: ReadonlySet<string> = new Set([
  'ERR_JWKS_TIMEOUT',
  'ERR_JWKS_INVALID',
  'ERR_JOSE_GENERIC',
]);

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;
const JWT_SHAPE = /^[\w-]+\.[\w-]+\.[\w-]+$/;

// One-shot `hash`: about a fifth of `createHash().update().digest()` (no Hash object), and it
// runs on every request.
function sha256(value: string): Buffer {
  return hash('sha256', value, 'buffer');
}

/** A short, non-reversible label for a secret. */
export function fingerprint(secret: string): string {
  return hash('sha256', secret, 'hex').slice(0, 16);
}

function refuse(message: string): AccessResult {
  return { ok: false, error: new UnauthenticatedError(message) };
}

/**
 * Builds the access check for a configuration. Throws when a server-held key would be open to
 * anyone without `allowUnauthenticated` (config parsing refuses that too; this guards configs
 * built by hand).
 */
export function createAccess(config: AccessConfig, options: AccessOptions = {}): Access {
  const serverKey = config.upstreamApiKey;
  if (serverKey === null) return passThrough();

  // Admins' tokens are checked alongside the others, in the same constant-time loop.
  const known = [
    ...config.gatewayTokens.map((entry) => ({ ...namedToken(entry), admin: false })),
    ...(config.adminTokens ?? []).map((entry) => ({ ...namedToken(entry), admin: true })),
  ];
  const tokenDigests = known.map((t) => sha256(t.token));
  const tenantClaim = config.jwtTenantClaim ?? 'sub';
  const jwt = config.jwt;
  if (tokenDigests.length === 0 && jwt === null && !config.allowUnauthenticated) {
    throw new Error(
      'UPSTREAM_API_KEY is set without GATEWAY_TOKENS or JWT_JWKS_URL: refusing to start (set ALLOW_UNAUTHENTICATED=true to accept anonymous use of the key)',
    );
  }
  const jwks = jwt ? (options.jwks ?? createRemoteJWKSet(new URL(jwt.jwksUrl))) : null;
  const open = tokenDigests.length === 0 && jwt === null;

  const granted = (principal: Principal, tenant: string, admin = false): AccessResult => ({
    ok: true,
    credential: serverKey,
    principal,
    tenant,
    admin,
  });

  /** Undefined: not a gateway token (maybe a JWT). */
  function checkToken(token: string): AccessResult | undefined {
    const digest = sha256(token);
    // Compare with every token, whatever matches, so timing says nothing about which one.
    let matched = -1;
    tokenDigests.forEach((candidate, i) => {
      if (timingSafeEqual(digest, candidate) && matched === -1) matched = i;
    });
    const entry = known[matched];
    if (entry === undefined) return undefined;
    return granted(
      { id: `token:${fingerprint(token)}`, kind: 'gateway-token' },
      entry.name,
      entry.admin,
    );
  }

  function pre(authorization: string | null | undefined): AccessResult | string {
    if (authorization === undefined || authorization === null || authorization.trim() === '') {
      return open
        ? granted({ id: 'anonymous', kind: 'anonymous' }, 'anonymous')
        : refuse(MESSAGES.missingClient);
    }
    if (open) return granted({ id: 'anonymous', kind: 'anonymous' }, 'anonymous');
    const token = BEARER.exec(authorization)?.[1];
    if (token === undefined) return refuse(MESSAGES.malformed);
    return checkToken(token) ?? token;
  }

  return {
    mode: 'server-key',
    authenticateSync(authorization) {
      const result = pre(authorization);
      return typeof result === 'string' ? refuse(MESSAGES.badToken) : result;
    },
    async authenticate(authorization) {
      const result = pre(authorization);
      if (typeof result !== 'string') return result;
      if (jwt === null || jwks === null || !JWT_SHAPE.test(result)) {
        return refuse(MESSAGES.badToken);
      }
      try {
        const { payload } = await jwtVerify(result, jwks, {
          issuer: jwt.issuer,
          audience: [...jwt.audience],
          algorithms: JWT_ALGORITHMS,
          requiredClaims: ['sub', 'exp'],
          clockTolerance: 5,
        });
        const subject = String(payload.sub).slice(0, 128);
        const tenant = payload[tenantClaim];
        if (typeof tenant !== 'string' || tenant === '') return refuse(MESSAGES.badToken);
        return granted(
          { id: `jwt:${jwt.issuer} ${subject}`, kind: 'jwt' },
          `jwt:${tenant.slice(0, 128)}`,
        );
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        // The key set could not be fetched: our problem, not the caller's token.
        if (typeof code !== 'string' || KEY_SET_FAILURES.has(code)) {
          return refuse(MESSAGES.jwtUnavailable);
        }
        return refuse(MESSAGES.badToken);
      }
    },
  };
}

function passThrough(): Access {
  function check(authorization: string | null | undefined): AccessResult {
    if (authorization === undefined || authorization === null || authorization.trim() === '') {
      return refuse(UnauthenticatedError.MISSING);
    }
    const key = BEARER.exec(authorization)?.[1];
    if (key === undefined) return refuse(MESSAGES.malformed);
    return {
      ok: true,
      credential: key,
      principal: { id: `key:${fingerprint(key)}`, kind: 'upstream-key' },
      // The key itself is the boundary upstream; the ledger keeps only a hash of it.
      tenant: `key:${secretHash(key)}`,
      admin: false,
    };
  }
  return {
    mode: 'pass-through',
    authenticateSync: check,
    authenticate: async (authorization) => check(authorization),
  };
}
