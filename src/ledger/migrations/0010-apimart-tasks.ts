import type { Kysely, Migration } from 'kysely';

/**
 * What the apimart dialect must remember because apimart cannot answer it (issue 11): groups
 * with their kind, review tasks, and each submitted asset under a provisional id that stays
 * valid after the review gives it an upstream id. Verification exchanges that answered a task
 * are kept by token hash. Rows are per `scope` (a hash of the upstream key). Portable DDL only.
 */
export const apimartTasks: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('apimart_groups')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('scope', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('name', 'text')
      .addColumn('description', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('apimart_groups_by_scope')
      .on('apimart_groups')
      .columns(['scope', 'created_at'])
      .execute();

    await db.schema
      .createTable('apimart_tasks')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('scope', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('group_id', 'text')
      .addColumn('token_hash', 'text')
      .addColumn('open', 'integer', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('apimart_tasks_open')
      .on('apimart_tasks')
      .columns(['scope', 'open', 'group_id'])
      .execute();
    await db.schema
      .createIndex('apimart_tasks_by_token')
      .on('apimart_tasks')
      .columns(['scope', 'token_hash'])
      .execute();

    await db.schema
      .createTable('apimart_assets')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('scope', 'text', (c) => c.notNull())
      .addColumn('task_id', 'text', (c) => c.notNull())
      .addColumn('item_index', 'integer', (c) => c.notNull())
      .addColumn('group_id', 'text', (c) => c.notNull())
      .addColumn('name', 'text')
      .addColumn('asset_type', 'text', (c) => c.notNull())
      .addColumn('url', 'text', (c) => c.notNull())
      .addColumn('upstream_id', 'text')
      .addColumn('uri', 'text')
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('failure_code', 'text')
      .addColumn('failure_message', 'text')
      .addColumn('deleted', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('apimart_assets_by_group')
      .on('apimart_assets')
      .columns(['scope', 'group_id', 'created_at'])
      .execute();
    await db.schema
      .createIndex('apimart_assets_by_task')
      .on('apimart_assets')
      .columns(['task_id', 'item_index'])
      .execute();
  },
};
