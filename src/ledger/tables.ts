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

/** apimart dialect (migration 0010): groups and their kind. */
export interface ApimartGroupsTable {
  id: string;
  scope: string;
  kind: string;
  name: string | null;
  description: string | null;
  created_at: Millis;
  updated_at: Millis;
}

/** apimart dialect: review and verification tasks; `open` is 1 until the task ends. */
export interface ApimartTasksTable {
  id: string;
  scope: string;
  kind: string;
  group_id: string | null;
  token_hash: string | null;
  open: number;
  status: string;
  created_at: Millis;
  updated_at: Millis;
}

/** apimart dialect: submitted assets under their provisional ids. `deleted` is 0 or 1. */
export interface ApimartAssetsTable {
  id: string;
  scope: string;
  task_id: string;
  item_index: number;
  group_id: string;
  name: string | null;
  asset_type: string;
  url: string;
  upstream_id: string | null;
  uri: string | null;
  status: string;
  failure_code: string | null;
  failure_message: string | null;
  deleted: number;
  created_at: Millis;
  updated_at: Millis;
}

export interface LedgerTables {
  ledger_resources: ResourcesTable;
  ledger_verifications: VerificationsTable;
  ledger_idempotency: IdempotencyTable;
  apimart_groups: ApimartGroupsTable;
  apimart_tasks: ApimartTasksTable;
  apimart_assets: ApimartAssetsTable;
}
