/**
 * The embedded store: one SQLite file (better-sqlite3), in WAL mode so that readers never wait
 * for the writer, with a busy timeout so that a second process (the operators' CLI) waits for
 * the lock instead of failing. For one gateway instance only: instances behind Redis share
 * PostgreSQL (`assertSharedLedger`).
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { LedgerConfigError, LedgerUnavailableError, messageOf } from './errors.js';
import type { Ledger } from './ledger.js';
import { migrateToLatest } from './migrations/index.js';
import { createSqlLedger, type LedgerTiming } from './store.js';
import type { LedgerTables } from './tables.js';

export interface SqliteLedgerOptions extends LedgerTiming {
  /** The database file (`LEDGER_PATH`); its directory is created when missing. */
  path: string;
  /**
   * How long a write waits for another process's lock before failing.
   * @default 5000
   */
  busyTimeoutMs?: number;
}

/** A SQLite ledger that lives as long as the process (SQLite's own name for it). */
export const IN_MEMORY_LEDGER = ':memory:';

/**
 * Opens (creating when needed) the ledger file and brings its schema up to date.
 * @throws LedgerConfigError naming `LEDGER_PATH` when the file or its directory cannot be
 *   written (read-only file, unwritable directory, full disk, not a database).
 */
export async function openSqliteLedger(options: SqliteLedgerOptions): Promise<Ledger> {
  const inMemory = options.path === IN_MEMORY_LEDGER;
  const path = inMemory ? options.path : resolve(options.path);
  const refuse = (what: string, error: unknown) =>
    new LedgerConfigError(`LEDGER_PATH: ${what} (${path}): ${sqliteMessage(error)}`, {
      cause: error,
    });
  try {
    if (!inMemory) mkdirSync(dirname(path), { recursive: true });
  } catch (error) {
    throw refuse('cannot create the directory of the ledger file', error);
  }
  let database: Database.Database;
  try {
    database = new Database(path, { timeout: options.busyTimeoutMs ?? 5000 });
  } catch (error) {
    throw refuse('cannot open the ledger file', error);
  }
  try {
    // SQLite opens a file it may not write read-only without a word; these writes find out.
    const mode = database.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal' && !inMemory) throw new Error(`journal_mode is ${String(mode)}, not wal`);
    // Rewriting the header's user_version with its own value is a real write that changes
    // nothing (BEGIN IMMEDIATE alone succeeds on a read-only file in WAL mode).
    const version = Number(database.pragma('user_version', { simple: true }));
    database.pragma(`user_version = ${version}`);
  } catch (error) {
    database.close();
    throw refuse('the ledger file must be writable', error);
  }
  const db = new Kysely<LedgerTables>({ dialect: new SqliteDialect({ database }) });
  try {
    await migrateAlongsideOthers(db as Kysely<unknown>);
  } catch (error) {
    await db.destroy();
    throw refuse('cannot bring the ledger schema up to date', error);
  }
  const translate = (error: unknown): unknown =>
    isSqliteFault(error)
      ? new LedgerUnavailableError(
          `The ledger file (LEDGER_PATH=${path}) cannot be used now: ${sqliteMessage(error)}`,
          { cause: error },
        )
      : error;
  return createSqlLedger({ store: 'sqlite', db, translate }, options);
}

/**
 * Kysely takes no migration lock on SQLite, so two processes opening the same new file at once
 * (a gateway and the CLI, or parallel test workers) may both start the same migration; the one
 * that loses fails ("table … already exists", or busy). Trying again finds the schema done.
 */
async function migrateAlongsideOthers(db: Kysely<unknown>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await migrateToLatest(db);
    } catch (error) {
      if (attempt >= MIGRATION_ATTEMPTS) throw error;
      await sleep(25 * attempt);
    }
  }
}

const MIGRATION_ATTEMPTS = 5;

/** Errors of the file rather than of the statement: busy, full, read-only, I/O, gone. */
function isSqliteFault(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (
    typeof code === 'string' &&
    /^SQLITE_(BUSY|LOCKED|FULL|READONLY|IOERR|CANTOPEN|CORRUPT|NOTADB|PERM)/.test(code)
  );
}

/**
 * SQLite's message, with a hint where its words do not name the likely cause: writing to an
 * existing file on a full disk says only "disk I/O error".
 */
export function sqliteMessage(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  const message = messageOf(error);
  if (code === 'SQLITE_FULL' || (typeof code === 'string' && code.startsWith('SQLITE_IOERR'))) {
    return `${message} (is the disk full, or the file on a device that cannot be written?)`;
  }
  return message;
}
