/**
 * The ledger over Kysely: one implementation for both stores, in four parts (`sql/ownership.ts`,
 * `sql/verifications.ts`, `sql/idempotency.ts`, and the apimart dialect's `sql/apimart.ts`). `sqlite.ts` and `postgres.ts` only open the
 * database, run the migrations and say which driver errors mean "unavailable".
 *
 * Races are settled by the database, never by an in-memory lock, so they hold across instances:
 * an insert that loses to a primary key (`ON CONFLICT DO NOTHING`, zero rows) or an update whose
 * `WHERE` no longer matches (zero rows) tells the caller it lost.
 */
import { sql, type Kysely } from 'kysely';
import type { Ledger } from './ledger.js';
import type { SqlContext } from './sql/context.js';
import { apimartSql } from './sql/apimart.js';
import { idempotencySql } from './sql/idempotency.js';
import { ownershipSql } from './sql/ownership.js';
import { verificationSql } from './sql/verifications.js';
import type { LedgerTables } from './tables.js';

/** Timing shared by both stores. */
export interface LedgerTiming {
  /**
   * The clock, in epoch milliseconds (tests pass their own).
   * @default Date.now
   */
  now?: () => number;
  /**
   * How long an idempotency record answers retries.
   * @default 86_400_000 (24 h)
   */
  idempotencyTtlMs?: number;
  /**
   * How long an attempt holds an idempotency record before another may take it over (its holder
   * is presumed dead): longer than the slowest create, retries included.
   * @default 120_000
   */
  idempotencyLeaseMs?: number;
}

/** What a store hands the shared implementation. */
export interface StoreParts {
  store: Ledger['store'];
  db: Kysely<LedgerTables>;
  /** Turns a driver error meaning "cannot answer now" into a `LedgerUnavailableError`. */
  translate(error: unknown): unknown;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** The ledger on a Kysely database that `migrateToLatest` has brought up to date. */
export function createSqlLedger(parts: StoreParts, timing: LedgerTiming = {}): Ledger {
  const { db, translate } = parts;
  const clock = timing.now ?? Date.now;
  const context: SqlContext = {
    db,
    clock,
    async run(operation) {
      try {
        return await operation();
      } catch (error) {
        throw translate(error);
      }
    },
  };
  return {
    store: parts.store,
    apimart: apimartSql(context),
    ...ownershipSql(context),
    ...verificationSql(context),
    ...idempotencySql(context, {
      ttlMs: timing.idempotencyTtlMs ?? DAY_MS,
      leaseMs: timing.idempotencyLeaseMs ?? 120_000,
    }),

    purgeExpired() {
      const now = clock();
      return context.run(async () => {
        const [a, b] = await Promise.all([
          db.deleteFrom('ledger_idempotency').where('expires_at', '<=', now).executeTakeFirst(),
          db.deleteFrom('ledger_verifications').where('expires_at', '<=', now).executeTakeFirst(),
        ]);
        return Number(a.numDeletedRows) + Number(b.numDeletedRows);
      });
    },

    async ping() {
      try {
        await sql`select 1`.execute(db);
        return true;
      } catch {
        return false;
      }
    },

    close: () => db.destroy(),
  };
}
