/**
 * The ledger at start-up: several instances on SQLite files are refused, naming DATABASE_URL, and
 * a ledger that cannot be opened stops start-up with one line naming the variable to fix.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { startGateway } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { describeStartupFailure } from '../../src/startup-failure.js';

const NAMES = { port: 'PORT', host: 'HOST' };
const quiet = { logger: pino({ level: 'silent' }) };

describe('the ledger at start-up', () => {
  it('refuses REDIS_URL without DATABASE_URL, naming it', async () => {
    const config = loadConfig({ PORT: '0', REDIS_URL: 'redis://127.0.0.1:6379' });
    const failure = await startGateway(config, quiet).then(
      () => null,
      (error: unknown) => error,
    );
    expect(describeStartupFailure(failure, NAMES)).toMatch(/DATABASE_URL/);
  });

  it('stops with one line naming LEDGER_PATH when the file cannot be a ledger', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ledger-startup-'));
    try {
      // A directory where the file's directory should be.
      await writeFile(join(dir, 'file'), 'not a directory');
      const config = loadConfig({ PORT: '0', LEDGER_PATH: join(dir, 'file', 'ledger.sqlite') });
      const failure = await startGateway(config, quiet).then(
        () => null,
        (error: unknown) => error,
      );
      expect(describeStartupFailure(failure, NAMES)).toMatch(/^LEDGER_PATH: /);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
