/**
 * A PostgreSQL ledger of its own for one test file: the variables to give `loadConfig`
 * (`DATABASE_URL` and a fresh `LEDGER_SCHEMA`, which gateways behind `REDIS_URL` need) and
 * `drop()` for afterAll.
 */
import { dropSchema, PG_URL } from '../ledger/stores.js';

export interface TestLedgerEnv {
  readonly env: { DATABASE_URL: string; LEDGER_SCHEMA: string };
  drop(): Promise<void>;
}

export function pgLedgerEnv(): TestLedgerEnv {
  const schema = `gw_test_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  return { env: { DATABASE_URL: PG_URL, LEDGER_SCHEMA: schema }, drop: () => dropSchema(schema) };
}
