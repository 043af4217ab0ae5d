/**
 * The ledger's public surface: `openLedger` picks the store from the configuration
 * (`DATABASE_URL` set: PostgreSQL; unset: a SQLite file at `LEDGER_PATH`).
 */
import { LedgerConfigError } from './errors.js';
import type { Ledger } from './ledger.js';
import { openPostgresLedger, type PostgresLedgerOptions } from './postgres.js';
import { openSqliteLedger } from './sqlite.js';
import type { LedgerTiming } from './store.js';

export * from './ledger.js';
export { LedgerConfigError, LedgerUnavailableError, isLedgerUnavailable } from './errors.js';
export { beginIdempotentWaiting, hashInput, type AwaitBeginOptions } from './idempotency.js';
export type { LedgerTiming } from './store.js';
export { IN_MEMORY_LEDGER } from './sqlite.js';

/** Where the SQLite ledger lives when `LEDGER_PATH` is unset (relative to the working directory). */
export const DEFAULT_LEDGER_PATH = './data/avatar-gateway.sqlite';

export interface OpenLedgerOptions extends LedgerTiming {
  /**
   * `DATABASE_URL`: a `postgres://` or `postgresql://` URL selects PostgreSQL.
   * @default null (SQLite)
   */
  databaseUrl?: string | null;
  /**
   * `LEDGER_PATH`: the SQLite file.
   * @default DEFAULT_LEDGER_PATH
   */
  path?: string;
  /**
   * PostgreSQL only: the schema holding the tables, created when missing.
   * @default the connection's current schema
   */
  schema?: string;
  /** PostgreSQL only: told about idle connections lost. */
  logger?: PostgresLedgerOptions['logger'];
}

/**
 * Opens the configured store and runs its migrations.
 * @throws LedgerConfigError naming the variable to fix; LedgerUnavailableError when PostgreSQL
 *   cannot be reached.
 */
export async function openLedger(options: OpenLedgerOptions = {}): Promise<Ledger> {
  const { databaseUrl, path, schema, logger, ...timing } = options;
  if (databaseUrl) {
    if (!/^postgres(ql)?:\/\//.test(databaseUrl)) {
      throw new LedgerConfigError(
        'DATABASE_URL must be a postgres:// (or postgresql://) URL; leave it unset for the SQLite ledger.',
      );
    }
    return openPostgresLedger({
      ...timing,
      url: databaseUrl,
      ...(schema ? { schema } : {}),
      ...(logger ? { logger } : {}),
    });
  }
  return openSqliteLedger({ ...timing, path: path ?? DEFAULT_LEDGER_PATH });
}

/**
 * Refuses SQLite when instances share work through Redis: each would keep its own ledger, and
 * tenants would see different resources depending on the instance that answers.
 * @throws LedgerConfigError naming DATABASE_URL.
 */
export function assertSharedLedger(config: {
  databaseUrl?: string | null;
  redisUrl?: string | null;
}): void {
  if (config.redisUrl && !config.databaseUrl) {
    throw new LedgerConfigError(
      'REDIS_URL is set (several gateway instances) but DATABASE_URL is not: each instance would keep its own SQLite ledger. Set DATABASE_URL to a shared PostgreSQL (postgres://…).',
    );
  }
}

/**
 * The ledger's variables, read from an environment: `DATABASE_URL`, `LEDGER_PATH` and
 * `LEDGER_SCHEMA` (PostgreSQL only). The CLI reads them so; the gateway's config should too.
 */
export function ledgerEnv(
  env: NodeJS.ProcessEnv,
): Pick<OpenLedgerOptions, 'databaseUrl' | 'path' | 'schema'> {
  const schema = env.LEDGER_SCHEMA?.trim();
  return {
    databaseUrl: env.DATABASE_URL?.trim() || null,
    path: env.LEDGER_PATH?.trim() || DEFAULT_LEDGER_PATH,
    ...(schema ? { schema } : {}),
  };
}
