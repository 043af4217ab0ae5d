/**
 * The shared store: PostgreSQL through a `pg` pool, for gateways running as several instances.
 * The pool reconnects by itself: while the server is down, operations fail fast with
 * `LedgerUnavailableError` and `ping()` is false; once it is back, they work again without a
 * restart.
 */
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { LedgerConfigError, LedgerUnavailableError, messageOf } from './errors.js';
import type { Ledger } from './ledger.js';
import { migrateToLatest } from './migrations/index.js';
import { createSqlLedger, type LedgerTiming } from './store.js';
import type { LedgerTables } from './tables.js';

export interface PostgresLedgerOptions extends LedgerTiming {
  /** `postgres://…` (`DATABASE_URL`). */
  url: string;
  /**
   * The schema holding the ledger's tables, created when missing (tests use one per run).
   * @default the connection's current schema (normally `public`)
   */
  schema?: string;
  /**
   * Most connections the pool opens.
   * @default 10
   */
  poolSize?: number;
  /**
   * How long to wait for a connection before the operation fails as unavailable.
   * @default 5000
   */
  connectTimeoutMs?: number;
  /**
   * Longest a statement may run on the server.
   * @default 10000
   */
  statementTimeoutMs?: number;
  /** Told about connections lost while idle (the pool replaces them). */
  logger?: { warn(details: object, message: string): void };
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Connects, creates the schema when asked to, and brings the tables up to date.
 * @throws LedgerUnavailableError when the server cannot be reached; LedgerConfigError for a bad
 *   schema name or a failing migration.
 */
export async function openPostgresLedger(options: PostgresLedgerOptions): Promise<Ledger> {
  const { schema } = options;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new LedgerConfigError(
      `The ledger schema "${schema}" must be a lower-case SQL name (letters, digits, _).`,
    );
  }
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    idleTimeoutMillis: 30_000,
    statement_timeout: options.statementTimeoutMs ?? 10_000,
    application_name: 'avatar-gateway-ledger',
    // Every connection resolves the ledger's unqualified table names in its schema.
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  // An 'error' without a listener would crash the process. The pool listens on idle
  // connections; a connection in use (the server went away mid-query) has only this one, and
  // its query fails with the same error.
  pool.on('error', (error) => {
    options.logger?.warn({ err: error }, 'ledger: lost an idle PostgreSQL connection');
  });
  pool.on('connect', (client) => {
    client.on('error', () => {});
  });
  const db = new Kysely<LedgerTables>({ dialect: new PostgresDialect({ pool }) });
  try {
    let tableSchema = schema;
    if (schema) {
      await pool.query(`create schema if not exists ${schema}`);
    } else {
      const result = await pool.query<{ schema: string }>('select current_schema() as schema');
      tableSchema = result.rows[0]?.schema ?? 'public';
    }
    // Named, so that Kysely does not mistake another schema's migration table for ours.
    await migrateToLatest(db as Kysely<unknown>, tableSchema);
  } catch (error) {
    await db.destroy();
    const translated = translatePg(error);
    if (translated !== error) throw translated;
    throw new LedgerConfigError(
      `DATABASE_URL: cannot bring the ledger schema up to date: ${messageOf(error)}`,
      { cause: error },
    );
  }
  return createSqlLedger({ store: 'postgres', db, translate: translatePg }, options);
}

/** Connection failures (refused, reset, timed out, server shutting down, disk full) → unavailable. */
function translatePg(error: unknown): unknown {
  if (!isConnectionFault(error)) return error;
  return new LedgerUnavailableError(
    `The ledger's PostgreSQL (DATABASE_URL) is unavailable: ${messageOf(error)}`,
    { cause: error },
  );
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);
// SQLSTATE: class 08 connection exception; admin/crash shutdown, cannot connect now; out of
// disk or connections; a read-only standby.
const UNAVAILABLE_STATES = /^(08...|57P0[123]|53[13]00|25006)$/;

function isConnectionFault(error: unknown): boolean {
  if (error instanceof AggregateError) return error.errors.some(isConnectionFault);
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || UNAVAILABLE_STATES.test(code))) {
    return true;
  }
  // pg's own wording when a connection ends or cannot be had in time.
  return /Connection terminated|timeout exceeded when trying to connect|connection error/i.test(
    error.message,
  );
}
