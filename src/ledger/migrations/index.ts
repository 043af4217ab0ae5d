/**
 * The ledger's versioned migrations, in code so that the build ships them. Both stores run the
 * same list at open; Kysely records what ran in `kysely_migration`. Append new versions with the
 * next number; never edit one that has shipped.
 */
import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { initial } from './0001-initial.js';
import { apimartTasks } from './0010-apimart-tasks.js';

const migrations: Record<string, Migration> = {
  '0001-initial': initial,
  '0010-apimart-tasks': apimartTasks,
};

const provider: MigrationProvider = {
  getMigrations: async () => migrations,
};

/**
 * Brings the schema up to the latest version; rejects with the failing migration's error.
 * @param schema PostgreSQL: the schema holding the ledger (and Kysely's migration tables).
 */
export async function migrateToLatest(db: Kysely<unknown>, schema?: string): Promise<void> {
  const migrator = new Migrator({
    db,
    provider,
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
  const { error } = await migrator.migrateToLatest();
  if (error) throw error;
}
