/**
 * What the SQL of each part of the ledger needs: the database, the clock, and `run`, which turns
 * a driver's "cannot answer now" into `LedgerUnavailableError`.
 */
import type { Kysely } from 'kysely';
import type { LedgerTables } from '../tables.js';

export type Db = Kysely<LedgerTables>;

export interface SqlContext {
  db: Db;
  /** Epoch milliseconds. */
  clock: () => number;
  run<T>(operation: () => Promise<T>): Promise<T>;
}
