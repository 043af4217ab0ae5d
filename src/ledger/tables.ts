/**
 * The ledger's tables as Kysely sees them. Times are epoch milliseconds in `bigint` columns
 * (PostgreSQL returns them as strings, SQLite as numbers: read them through `Number`).
 * The DDL is in `migrations/`.
 */
import type { ColumnType } from 'kysely';

/** Written as a number, read as whatever the driver gives for `bigint`. */
type Millis = ColumnType<number | string, number, number>;

export interface ResourcesTable {
  kind: string;
  id: string;
  tenant: string;
  avatar_kind: string | null;
  group_id: string | null;
  asset_type: string | null;
  name: string | null;
  url: string | null;
  created_at: Millis;
}

export interface VerificationsTable {
  tenant: string;
  token_hash: string;
  state: string;
  group_id: string | null;
  expires_at: Millis;
  claimed_until: Millis;
  updated_at: Millis;
}

export interface IdempotencyTable {
  tenant: string;
  scope: string;
  idem_key: string;
  input_hash: string;
  state: string;
  holder: string | null;
  lease_until: Millis;
  answer: string | null;
  note: string | null;
  created_at: Millis;
  expires_at: Millis;
}

export interface LedgerTables {
  ledger_resources: ResourcesTable;
  ledger_verifications: VerificationsTable;
  ledger_idempotency: IdempotencyTable;
}
