import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('loadConfig', () => {
  it('uses the documented defaults for an empty environment', () => {
    expect(loadConfig({})).toEqual({
      port: 4000,
      host: '127.0.0.1',
      upstreamUrl: null,
      upstreamApiKey: null,
      defaultModel: 'doubao-seedance-2-0-260128',
      simulatorActivationMs: 3000,
      verificationTtlSeconds: 120,
      logLevel: 'info',
      nodeEnv: 'development',
    });
  });

  it('reads every variable', () => {
    const config = loadConfig({
      PORT: '8080',
      HOST: '0.0.0.0',
      UPSTREAM_URL: 'https://api.example.com/',
      UPSTREAM_API_KEY: 'sk-123',
      DEFAULT_MODEL: 'doubao-seedance-2-0-fast-260128',
      SIMULATOR_ACTIVATION_MS: '0',
      VERIFICATION_TTL_SECONDS: '30',
      LOG_LEVEL: 'debug',
      NODE_ENV: 'production',
    });
    expect(config).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      upstreamUrl: 'https://api.example.com',
      upstreamApiKey: 'sk-123',
      defaultModel: 'doubao-seedance-2-0-fast-260128',
      simulatorActivationMs: 0,
      verificationTtlSeconds: 30,
      logLevel: 'debug',
      nodeEnv: 'production',
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
    ['DEFAULT_MODEL', 'gpt-4'],
    ['SIMULATOR_ACTIVATION_MS', 'soon'],
    ['VERIFICATION_TTL_SECONDS', '0'],
    ['LOG_LEVEL', 'verbose'],
    ['NODE_ENV', 'staging'],
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
