import type { Kysely, Migration } from 'kysely';

/** Ownership, verification tokens and idempotency records. Portable DDL only (SQLite and PG). */
export const initial: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('ledger_resources')
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('tenant', 'text', (c) => c.notNull())
      .addColumn('avatar_kind', 'text')
      .addColumn('group_id', 'text')
      .addColumn('asset_type', 'text')
      .addColumn('name', 'text')
      .addColumn('url', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('ledger_resources_pk', ['kind', 'id'])
      .execute();
    await db.schema
      .createIndex('ledger_resources_by_tenant')
      .on('ledger_resources')
      .columns(['tenant', 'kind', 'created_at'])
      .execute();
    await db.schema
      .createIndex('ledger_resources_by_group')
      .on('ledger_resources')
      .columns(['group_id'])
      .execute();

    await db.schema
      .createTable('ledger_verifications')
      .addColumn('tenant', 'text', (c) => c.notNull())
      .addColumn('token_hash', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('group_id', 'text')
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('claimed_until', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('ledger_verifications_pk', ['tenant', 'token_hash'])
      .execute();
    await db.schema
      .createIndex('ledger_verifications_by_expiry')
      .on('ledger_verifications')
      .columns(['expires_at'])
      .execute();

    // The primary key is what lets exactly one of two concurrent begins win, on any instance.
    await db.schema
      .createTable('ledger_idempotency')
      .addColumn('tenant', 'text', (c) => c.notNull())
      .addColumn('scope', 'text', (c) => c.notNull())
      .addColumn('idem_key', 'text', (c) => c.notNull())
      .addColumn('input_hash', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('holder', 'text')
      .addColumn('lease_until', 'bigint', (c) => c.notNull())
      .addColumn('answer', 'text')
      .addColumn('note', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('ledger_idempotency_pk', ['tenant', 'scope', 'idem_key'])
      .execute();
    await db.schema
      .createIndex('ledger_idempotency_by_expiry')
      .on('ledger_idempotency')
      .columns(['expires_at'])
      .execute();
  },
};
