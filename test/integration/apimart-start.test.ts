/**
 * Starting in the apimart dialect against a real upstream: the client's memory is the ledger, so
 * instances that share Redis must share it too (PostgreSQL), and start-up says so.
 */
import { pino } from 'pino';
import { afterEach, expect, it, vi } from 'vitest';
import { startGateway } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';

afterEach(() => {
  vi.unstubAllEnvs();
});

it('refuses several instances (REDIS_URL) on per-instance SQLite ledgers, naming DATABASE_URL', async () => {
  vi.stubEnv('DATABASE_URL', '');
  const config = loadConfig({
    PORT: '0',
    LOG_LEVEL: 'silent',
    UPSTREAM_DIALECT: 'apimart',
    UPSTREAM_URL: 'http://127.0.0.1:9',
    REDIS_URL: 'redis://127.0.0.1:6379',
  });
  await expect(startGateway(config, { logger: pino({ level: 'silent' }) })).rejects.toThrow(
    /DATABASE_URL/,
  );
});
