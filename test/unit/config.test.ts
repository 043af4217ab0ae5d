import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, loadSimulatorConfig } from '../../src/config/index.js';

describe('loadConfig', () => {
  it('uses the documented defaults for an empty environment', () => {
    expect(loadConfig({})).toEqual({
      port: 4000,
      host: '127.0.0.1',
      upstreamDialect: 'ark',
      upstreamUrl: null,
      upstreamApiKey: null,
      defaultModel: 'doubao-seedance-2-0-260128',
      simulatorActivationMs: 3000,
      verificationTtlSeconds: 1800,
      h5LinkTtlSeconds: 120,
      logLevel: 'info',
      nodeEnv: 'development',
      createAssetPerMinute: 3,
      upstreamTimeoutMs: 15_000,
      gatewayTokens: [],
      adminTokens: [],
      jwtTenantClaim: 'sub',
      jwt: null,
      allowUnauthenticated: false,
      databaseUrl: null,
      ledgerPath: null,
      ledgerSchema: null,
      graphqlIntrospection: true,
      graphqlLandingPage: true,
      consoleEnabled: true,
      corsOrigins: [],
      limits: {
        maxBodyBytes: 1_048_576,
        maxDepth: 10,
        maxCost: 1000,
        maxAliases: 30,
        maxBatch: 1,
        maxTokens: 10_000,
        maxStringLength: 2048,
        maxListLength: 1000,
        maxVariablesBytes: 65_536,
        maxSelections: 500,
      },
      rateLimit: { perMinute: 600, burst: 100, perIpPerMinute: 1200, perIpBurst: 200 },
      redisUrl: null,
      shutdownTimeoutMs: 10_000,
      shutdownDelayMs: 0,
      httpRequestTimeoutMs: 30_000,
      trustProxyHops: 0,
      assetUrlsAllowInternal: false,
      pollIntervalMs: 2000,
      redisKeyPrefix: 'avatar-gateway:',
      ws: {
        keepAliveMs: 12_000,
        maxSubscriptionsPerConnection: 50,
        maxWatchedAssets: 100_000,
        maxPayloadBytes: 65_536,
        connectionInitTimeoutMs: 3000,
        maxMessagesPerSecond: 20,
        maxConnections: 10_000,
        maxConnectionsPerIp: 250,
        maxSubscriptions: 20_000,
        closeTimeoutMs: 1000,
      },
    });
  });

  it('reads the live-status variables (polling, Redis keys, WebSocket limits)', () => {
    const config = loadConfig({
      POLL_INTERVAL_MS: '250',
      REDIS_KEY_PREFIX: 'staging:avatars:',
      WS_KEEPALIVE_MS: '0',
      WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: '5',
      WS_MAX_PAYLOAD_BYTES: '4096',
      WS_CONNECTION_INIT_TIMEOUT_MS: '500',
      WS_MAX_MESSAGES_PER_SECOND: '7',
    });
    expect(config).toMatchObject({
      pollIntervalMs: 250,
      redisKeyPrefix: 'staging:avatars:',
      ws: {
        keepAliveMs: 0,
        maxSubscriptionsPerConnection: 5,
        maxPayloadBytes: 4096,
        connectionInitTimeoutMs: 500,
        maxMessagesPerSecond: 7,
      },
    });
    for (const [name, value] of [
      ['POLL_INTERVAL_MS', '5'],
      ['REDIS_KEY_PREFIX', 'has space:'],
      ['WS_KEEPALIVE_MS', 'often'],
      ['WS_MAX_SUBSCRIPTIONS_PER_CONNECTION', '0'],
      ['WS_MAX_PAYLOAD_BYTES', '100'],
      ['WS_CONNECTION_INIT_TIMEOUT_MS', '0'],
    ]) {
      expect(() => loadConfig({ [name!]: value }), name).toThrow(name);
    }
  });

  it('reads every variable', () => {
    const config = loadConfig({
      PORT: '8080',
      HOST: '0.0.0.0',
      UPSTREAM_URL: 'https://api.example.com/',
      UPSTREAM_API_KEY: 'sk-123',
      UPSTREAM_TIMEOUT_MS: '2500',
      GATEWAY_TOKENS: ' token-one-0123456789 , token-two-0123456789,,',
      ALLOW_UNAUTHENTICATED: 'false',
      CORS_ORIGINS: 'https://app.example.com, http://localhost:5173/',
      GRAPHQL_INTROSPECTION: 'true',
      GRAPHQL_LANDING_PAGE: 'false',
      MAX_BODY_BYTES: '2048',
      GRAPHQL_MAX_DEPTH: '5',
      GRAPHQL_MAX_COST: '50',
      GRAPHQL_MAX_ALIASES: '0',
      GRAPHQL_MAX_BATCH: '5',
      GRAPHQL_MAX_TOKENS: '500',
      GRAPHQL_MAX_STRING_LENGTH: '100',
      GRAPHQL_MAX_LIST_LENGTH: '10',
      GRAPHQL_MAX_VARIABLES_BYTES: '1024',
      RATE_LIMIT_PER_MINUTE: '0',
      RATE_LIMIT_BURST: '5',
      REDIS_URL: 'redis://:pw@redis.internal:6379/2',
      SHUTDOWN_TIMEOUT_MS: '500',
      DEFAULT_MODEL: 'doubao-seedance-2-0-fast-260128',
      SIMULATOR_ACTIVATION_MS: '0',
      VERIFICATION_TTL_SECONDS: '30',
      H5_LINK_TTL_SECONDS: '20',
      LOG_LEVEL: 'debug',
      NODE_ENV: 'production',
    });
    expect(config).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      upstreamUrl: 'https://api.example.com',
      upstreamApiKey: 'sk-123',
      upstreamTimeoutMs: 2500,
      defaultModel: 'doubao-seedance-2-0-fast-260128',
      simulatorActivationMs: 0,
      verificationTtlSeconds: 30,
      h5LinkTtlSeconds: 20,
      logLevel: 'debug',
      nodeEnv: 'production',
      gatewayTokens: ['token-one-0123456789', 'token-two-0123456789'],
      jwt: null,
      allowUnauthenticated: false,
      corsOrigins: ['https://app.example.com', 'http://localhost:5173'],
      graphqlIntrospection: true,
      graphqlLandingPage: false,
      limits: {
        maxBodyBytes: 2048,
        maxDepth: 5,
        maxCost: 50,
        maxAliases: 0,
        maxBatch: 5,
        maxTokens: 500,
        maxStringLength: 100,
        maxListLength: 10,
        maxVariablesBytes: 1024,
      },
      rateLimit: { perMinute: 0, burst: 5 },
      redisUrl: 'redis://:pw@redis.internal:6379/2',
      shutdownTimeoutMs: 500,
    });
  });

  it('returns a frozen object', () => {
    const config = loadConfig({});
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('treats empty values as unset', () => {
    expect(loadConfig({ UPSTREAM_URL: '', UPSTREAM_API_KEY: '', PORT: ' ' })).toMatchObject({
      upstreamUrl: null,
      upstreamApiKey: null,
      port: 4000,
    });
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '65536'],
    ['PORT', '-1'],
    ['PORT', '80.5'],
    ['UPSTREAM_URL', 'not a url'],
    ['UPSTREAM_URL', 'ftp://example.com'],
    ['UPSTREAM_URL', 'https://user:pass@example.com'],
    ['UPSTREAM_API_KEY', 'has space'],
    ['UPSTREAM_TIMEOUT_MS', '50'],
    ['UPSTREAM_TIMEOUT_MS', 'slow'],
    ['DEFAULT_MODEL', 'gpt-4'],
    ['UPSTREAM_DIALECT', 'openai'],
    ['SIMULATOR_ACTIVATION_MS', 'soon'],
    ['VERIFICATION_TTL_SECONDS', '0'],
    ['VERIFICATION_TTL_SECONDS', '86401'],
    ['H5_LINK_TTL_SECONDS', '0'],
    ['H5_LINK_TTL_SECONDS', '2m'],
    ['LOG_LEVEL', 'verbose'],
    ['NODE_ENV', 'staging'],
    ['GATEWAY_TOKENS', 'short'],
    ['ALLOW_UNAUTHENTICATED', 'yes'],
    ['GRAPHQL_INTROSPECTION', '1'],
    ['GRAPHQL_LANDING_PAGE', 'on'],
    ['CORS_ORIGINS', '*'],
    ['CORS_ORIGINS', 'https://app.example.com/path'],
    ['CORS_ORIGINS', 'ftp://files.example.com'],
    ['MAX_BODY_BYTES', '10'],
    ['GRAPHQL_MAX_DEPTH', '0'],
    ['GRAPHQL_MAX_COST', 'lots'],
    ['GRAPHQL_MAX_ALIASES', '-1'],
    ['GRAPHQL_MAX_BATCH', '0'],
    ['GRAPHQL_MAX_TOKENS', '1'],
    ['GRAPHQL_MAX_STRING_LENGTH', '1.5'],
    ['GRAPHQL_MAX_LIST_LENGTH', '0'],
    ['GRAPHQL_MAX_VARIABLES_BYTES', '2097152'],
    ['RATE_LIMIT_PER_MINUTE', 'fast'],
    ['RATE_LIMIT_BURST', '0'],
    ['REDIS_URL', 'http://redis:6379'],
    ['REDIS_URL', 'not a url'],
    ['SHUTDOWN_TIMEOUT_MS', '-5'],
    ['JWT_JWKS_URL', 'http://auth.example.com/jwks.json'],
    ['JWT_ISSUER', 'https://auth.example.com/'],
    ['JWT_AUDIENCE', 'avatar-gateway'],
  ])('rejects %s=%j with an error naming the variable', (name, value) => {
    let caught: unknown;
    try {
      loadConfig({ [name]: value });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).variable).toBe(name);
    expect((caught as ConfigError).message).toContain(name);
  });

  it('never puts the API key in an error message', () => {
    expect(() => loadConfig({ UPSTREAM_API_KEY: 'secret key' })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('secret') }),
    );
  });
});

describe('loadConfig: access', () => {
  const JWT = {
    JWT_JWKS_URL: 'https://auth.example.com/.well-known/jwks.json',
    JWT_ISSUER: 'https://auth.example.com/',
    JWT_AUDIENCE: 'avatar-gateway, avatar-gateway-staging',
  };

  function failure(env: Record<string, string>): ConfigError {
    try {
      loadConfig(env);
    } catch (error) {
      if (error instanceof ConfigError) return error;
      throw error;
    }
    throw new Error('expected a ConfigError');
  }

  it('refuses a server-held key that anyone could spend, naming the variables to set', () => {
    const error = failure({ UPSTREAM_API_KEY: 'server-secret-key' });
    expect(error.variable).toBe('UPSTREAM_API_KEY');
    for (const name of ['GATEWAY_TOKENS', 'JWT_JWKS_URL', 'ALLOW_UNAUTHENTICATED']) {
      expect(error.message).toContain(name);
    }
    expect(error.message).not.toContain('server-secret-key');
  });

  it('accepts a server-held key with tokens, with a JWKS, or with ALLOW_UNAUTHENTICATED=true', () => {
    expect(
      loadConfig({ UPSTREAM_API_KEY: 'k-123', GATEWAY_TOKENS: 'a-long-gateway-token' }),
    ).toMatchObject({ gatewayTokens: ['a-long-gateway-token'] });
    expect(loadConfig({ UPSTREAM_API_KEY: 'k-123', ...JWT }).jwt).toEqual({
      jwksUrl: 'https://auth.example.com/.well-known/jwks.json',
      issuer: 'https://auth.example.com/',
      audience: ['avatar-gateway', 'avatar-gateway-staging'],
    });
    expect(loadConfig({ UPSTREAM_API_KEY: 'k-123', ALLOW_UNAUTHENTICATED: 'true' })).toMatchObject({
      allowUnauthenticated: true,
      gatewayTokens: [],
      jwt: null,
    });
  });

  it('refuses client tokens or a JWKS without a server-held key (pass-through has no room for them)', () => {
    expect(failure({ GATEWAY_TOKENS: 'a-long-gateway-token' }).variable).toBe('GATEWAY_TOKENS');
    expect(failure(JWT).variable).toBe('JWT_JWKS_URL');
  });

  it('needs all three JWT variables, and an https key set (http on loopback only)', () => {
    const base = { UPSTREAM_API_KEY: 'k-123', ...JWT };
    expect(failure({ ...base, JWT_ISSUER: '' }).variable).toBe('JWT_ISSUER');
    expect(failure({ ...base, JWT_AUDIENCE: ' , ' }).variable).toBe('JWT_AUDIENCE');
    expect(failure({ ...base, JWT_JWKS_URL: 'http://auth.example.com/jwks' }).variable).toBe(
      'JWT_JWKS_URL',
    );
    expect(loadConfig({ ...base, JWT_JWKS_URL: 'http://127.0.0.1:9999/jwks' }).jwt?.jwksUrl).toBe(
      'http://127.0.0.1:9999/jwks',
    );
  });

  it('never puts a token in an error message, and refuses reusing the upstream key as a token', () => {
    const short = failure({ UPSTREAM_API_KEY: 'k-123', GATEWAY_TOKENS: 'good-long-token-1,tiny' });
    expect(short.message).toContain('token #2');
    expect(short.message).not.toMatch(/tiny|good-long/);
    const reused = failure({
      UPSTREAM_API_KEY: 'same-key-0123456789',
      GATEWAY_TOKENS: 'same-key-0123456789',
    });
    expect(reused.variable).toBe('GATEWAY_TOKENS');
    expect(reused.message).not.toContain('same-key');
  });

  it('turns introspection and the landing page off in production unless configured', () => {
    const production = { NODE_ENV: 'production', UPSTREAM_URL: 'https://api.example.com' };
    expect(loadConfig(production)).toMatchObject({
      graphqlIntrospection: false,
      graphqlLandingPage: false,
    });
    expect(loadConfig({ ...production, GRAPHQL_INTROSPECTION: 'true' }).graphqlIntrospection).toBe(
      true,
    );
    expect(loadConfig({ GRAPHQL_LANDING_PAGE: 'false' }).graphqlLandingPage).toBe(false);
  });

  it('serves the web console outside production, and in it only with CONSOLE_ENABLED', () => {
    const production = { NODE_ENV: 'production', UPSTREAM_URL: 'https://api.example.com' };
    expect(loadConfig(production).consoleEnabled).toBe(false);
    expect(loadConfig({ ...production, CONSOLE_ENABLED: 'true' }).consoleEnabled).toBe(true);
    expect(loadConfig({ CONSOLE_ENABLED: 'false' }).consoleEnabled).toBe(false);
  });

  it('never puts a Redis URL (which may hold a password) in an error message', () => {
    const error = failure({ REDIS_URL: 'http://:hunter2@redis:6379' });
    expect(error.variable).toBe('REDIS_URL');
    expect(error.message).not.toContain('hunter2');
  });

  it('runs the simulator outside production by default, and by name only in production', () => {
    expect(loadConfig({}).upstreamUrl).toBeNull();
    expect(loadConfig({ UPSTREAM_URL: ' simulator ' }).upstreamUrl).toBeNull();
    expect(
      loadConfig({ NODE_ENV: 'production', UPSTREAM_URL: 'simulator' }).upstreamUrl,
    ).toBeNull();

    for (const unset of [{}, { UPSTREAM_URL: '' }, { UPSTREAM_URL: '  ' }] as Array<
      Record<string, string>
    >) {
      const error = failure({ NODE_ENV: 'production', ...unset });
      expect(error.variable).toBe('UPSTREAM_URL');
      expect(error.message).toMatch(/NODE_ENV=production/);
      expect(error.message).toContain('"simulator"');
    }
    expect(failure({ UPSTREAM_URL: 'Simulator' }).variable).toBe('UPSTREAM_URL');
  });
});

describe('loadSimulatorConfig', () => {
  it('uses the documented defaults for an empty environment', () => {
    expect(loadSimulatorConfig({})).toEqual({
      port: 4020,
      host: '127.0.0.1',
      activationMs: 3000,
      tokenTtlMs: 1_800_000,
      h5LinkTtlMs: 120_000,
    });
  });

  it('reads its address and the simulator settings it shares with the gateway', () => {
    const config = loadSimulatorConfig({
      SIMULATOR_PORT: '0',
      SIMULATOR_HOST: '0.0.0.0',
      SIMULATOR_ACTIVATION_MS: '250',
      VERIFICATION_TTL_SECONDS: '30',
      H5_LINK_TTL_SECONDS: '20',
    });
    expect(config).toEqual({
      port: 0,
      host: '0.0.0.0',
      activationMs: 250,
      tokenTtlMs: 30_000,
      h5LinkTtlMs: 20_000,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it.each([
    ['SIMULATOR_PORT', '65536'],
    ['SIMULATOR_PORT', 'http'],
    ['SIMULATOR_ACTIVATION_MS', 'soon'],
  ])('names %s when it is %j', (variable, value) => {
    expect(() => loadSimulatorConfig({ [variable]: value })).toThrow(
      expect.objectContaining({ name: 'ConfigError', variable }),
    );
  });
});
