/**
 * Starting in the apimart dialect against a real upstream: the client's memory is the ledger, so
 * instances that share Redis must share it too (PostgreSQL), and start-up says so; on the built-in
 * simulator, the ledger lives as long as the simulator does.
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

it('keeps the built-in simulator’s ledger in memory by default: a restart forgets both alike', async () => {
  const createGroup = '{"query":"mutation { createGroup(input: { name: \\"kept?\\" }) { id } }"}';
  const count = '{"query":"{ groups { total } }"}';
  const ask = async (url: string, body: string) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { authorization: 'Bearer restart-key', 'content-type': 'application/json' },
      body,
    });
    return (await response.json()) as { data: any };
  };
  const start = () =>
    startGateway(loadConfig({ PORT: '0', LOG_LEVEL: 'silent', UPSTREAM_DIALECT: 'apimart' }), {
      logger: pino({ level: 'silent' }),
    });

  const first = await start();
  try {
    await ask(first.url, createGroup);
    expect((await ask(first.url, count)).data.groups.total).toBe(1);
  } finally {
    await first.stop();
  }
  // apimart's lists are the ledger's: a ledger file kept across the restart would still count the
  // group the simulator forgot.
  const second = await start();
  try {
    expect((await ask(second.url, count)).data.groups.total).toBe(0);
  } finally {
    await second.stop();
  }
});
