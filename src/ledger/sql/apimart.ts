/**
 * The apimart dialect's memory (`ApimartLedger`): groups with their kind, review tasks, and the
 * assets submitted in them under provisional ids.
 */
import { sql, type ExpressionBuilder, type Selectable } from 'kysely';
import type {
  ApimartAssetFilter,
  ApimartAssetRecord,
  ApimartGroupRecord,
  ApimartLedger,
  AssetType,
  AvatarKind,
  ReviewStatus,
} from '../ledger.js';
import type { LedgerTables } from '../tables.js';
import type { SqlContext } from './context.js';

type GroupRow = Selectable<LedgerTables['apimart_groups']>;
type AssetRow = Selectable<LedgerTables['apimart_assets']>;

export function apimartSql({ db, clock, run }: SqlContext): ApimartLedger {
  return {
    saveGroup(scope, group) {
      const at = clock();
      return run(async () => {
        await db
          .insertInto('apimart_groups')
          .values({ ...group, scope, created_at: at, updated_at: at })
          .onConflict((oc) => oc.column('id').doNothing())
          .execute();
      });
    },

    group(scope, id) {
      return run(async () => {
        const row = await db
          .selectFrom('apimart_groups')
          .selectAll()
          .where('scope', '=', scope)
          .where('id', '=', id)
          .executeTakeFirst();
        return row ? toGroup(row) : null;
      });
    },

    pageGroups(scope, filter, page, pageSize) {
      if (filter.ids?.length === 0) return Promise.resolve({ items: [], total: 0 });
      return run(async () => {
        let base = db.selectFrom('apimart_groups').where('scope', '=', scope);
        if (filter.ids) base = base.where('id', 'in', [...filter.ids]);
        if (filter.kind) base = base.where('kind', '=', filter.kind);
        const name = likePattern(filter.nameContains);
        if (name) base = base.where(sql<boolean>`lower(name) like ${name} escape '!'`);
        const [count, rows] = await Promise.all([
          base.select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow(),
          base
            .selectAll()
            .orderBy('created_at', 'desc')
            .orderBy('id', 'desc')
            .limit(pageSize)
            .offset((page - 1) * pageSize)
            .execute(),
        ]);
        return { items: rows.map(toGroup), total: Number(count.n) };
      });
    },

    updateGroup(scope, id, patch) {
      if (patch.name === undefined && patch.description === undefined) return Promise.resolve();
      return run(async () => {
        await db
          .updateTable('apimart_groups')
          .set({ ...patch, updated_at: clock() })
          .where('scope', '=', scope)
          .where('id', '=', id)
          .execute();
      });
    },

    forgetGroup(scope, id) {
      return run(() =>
        db.transaction().execute(async (trx) => {
          await trx
            .deleteFrom('apimart_assets')
            .where('scope', '=', scope)
            .where('group_id', '=', id)
            .execute();
          await trx
            .deleteFrom('apimart_tasks')
            .where('scope', '=', scope)
            .where('group_id', '=', id)
            .execute();
          await trx
            .deleteFrom('apimart_groups')
            .where('scope', '=', scope)
            .where('id', '=', id)
            .execute();
        }),
      );
    },

    saveReviewTask(scope, task) {
      const at = clock();
      return run(() =>
        db.transaction().execute(async (trx) => {
          await trx
            .insertInto('apimart_tasks')
            .values({
              id: task.id,
              scope,
              kind: 'review',
              group_id: task.groupId,
              token_hash: null,
              open: 1,
              status: 'submitted',
              created_at: at,
              updated_at: at,
            })
            .execute();
          if (task.assets.length === 0) return;
          await trx
            .insertInto('apimart_assets')
            .values(
              task.assets.map((a) => ({
                id: a.id,
                scope,
                task_id: task.id,
                item_index: a.index,
                group_id: task.groupId,
                name: a.name,
                asset_type: a.type,
                url: a.url,
                upstream_id: null,
                uri: null,
                status: 'PROCESSING',
                failure_code: null,
                failure_message: null,
                deleted: 0,
                created_at: at,
                updated_at: at,
              })),
            )
            .execute();
        }),
      );
    },

    openTasks(scope, groupIds) {
      if (groupIds?.length === 0) return Promise.resolve([]);
      return run(async () => {
        let query = db
          .selectFrom('apimart_tasks as t')
          .select('t.id')
          .where('t.scope', '=', scope)
          .where('t.kind', '=', 'review')
          .where('t.open', '=', 1)
          .where(({ exists, selectFrom }) =>
            exists(
              selectFrom('apimart_assets as a')
                .select('a.id')
                .whereRef('a.task_id', '=', 't.id')
                .where('a.deleted', '=', 0),
            ),
          );
        if (groupIds) query = query.where('t.group_id', 'in', [...groupIds]);
        const rows = await query.orderBy('t.created_at').orderBy('t.id').execute();
        return rows.map((r) => r.id);
      });
    },

    settleTask(scope, taskId, outcome) {
      const at = clock();
      return run(() =>
        db.transaction().execute(async (trx) => {
          const updated = await trx
            .updateTable('apimart_tasks')
            .set({ status: outcome.status, open: outcome.final ? 0 : 1, updated_at: at })
            .where('scope', '=', scope)
            .where('id', '=', taskId)
            .where('open', '=', 1)
            .executeTakeFirst();
          // Already settled (by another instance), or unknown: nothing changes.
          if (!outcome.final || Number(updated.numUpdatedRows) === 0) return [];
          const found = new Map(outcome.assets.map((a) => [a.index, a]));
          const rows = await trx
            .selectFrom('apimart_assets')
            .select(['id', 'item_index', 'deleted'])
            .where('task_id', '=', taskId)
            .execute();
          const toDelete: string[] = [];
          for (const row of rows) {
            const result = found.get(Number(row.item_index));
            const status: ReviewStatus = result?.status ?? 'FAILED';
            const failure =
              status === 'FAILED'
                ? (outcome.failure ?? {
                    code: 'RESULT_MISSING',
                    message: 'The review ended without a result for this asset.',
                  })
                : null;
            if (row.deleted === 1) {
              if (result?.upstreamId) toDelete.push(result.upstreamId);
              continue;
            }
            await trx
              .updateTable('apimart_assets')
              .set({
                upstream_id: result?.upstreamId ?? null,
                uri: result?.uri ?? null,
                status,
                failure_code: failure?.code ?? null,
                failure_message: failure?.message ?? null,
                updated_at: at,
              })
              .where('id', '=', row.id)
              .execute();
          }
          return toDelete;
        }),
      );
    },

    asset(scope, id) {
      return run(async () => {
        const row = await db
          .selectFrom('apimart_assets')
          .selectAll()
          .where('scope', '=', scope)
          .where('id', '=', id)
          .where('deleted', '=', 0)
          .executeTakeFirst();
        return row ? toAsset(row) : null;
      });
    },

    pageAssets(scope, filter, page, pageSize) {
      if (
        filter.ids?.length === 0 ||
        filter.groupIds?.length === 0 ||
        filter.statuses?.length === 0 ||
        filter.types?.length === 0
      ) {
        return Promise.resolve({ items: [], total: 0 });
      }
      return run(async () => {
        const base = db
          .selectFrom('apimart_assets')
          .where('scope', '=', scope)
          .where('deleted', '=', 0)
          .where((eb) => eb.and(assetConditions(eb, scope, filter)));
        const [count, rows] = await Promise.all([
          base.select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow(),
          base
            .selectAll()
            .orderBy('created_at', 'desc')
            .orderBy('task_id', 'desc')
            .orderBy('item_index')
            .limit(pageSize)
            .offset((page - 1) * pageSize)
            .execute(),
        ]);
        return { items: rows.map(toAsset), total: Number(count.n) };
      });
    },

    renameAsset(scope, id, name) {
      return run(async () => {
        await db
          .updateTable('apimart_assets')
          .set({ name, updated_at: clock() })
          .where('scope', '=', scope)
          .where('id', '=', id)
          .execute();
      });
    },

    markAssetDeleted(scope, id) {
      return run(async () => {
        await db
          .updateTable('apimart_assets')
          .set({ deleted: 1, updated_at: clock() })
          .where('scope', '=', scope)
          .where('id', '=', id)
          .execute();
      });
    },

    forgetAsset(scope, id) {
      return run(async () => {
        await db
          .deleteFrom('apimart_assets')
          .where('scope', '=', scope)
          .where('id', '=', id)
          .execute();
      });
    },

    saveVerificationTask(scope, tokenHash, taskId) {
      const at = clock();
      return run(async () => {
        await db
          .insertInto('apimart_tasks')
          .values({
            id: taskId,
            scope,
            kind: 'verification',
            group_id: null,
            token_hash: tokenHash,
            open: 1,
            status: 'submitted',
            created_at: at,
            updated_at: at,
          })
          .onConflict((oc) => oc.column('id').doNothing())
          .execute();
      });
    },

    verificationTask(scope, tokenHash) {
      return run(async () => {
        const row = await db
          .selectFrom('apimart_tasks')
          .select('id')
          .where('scope', '=', scope)
          .where('kind', '=', 'verification')
          .where('token_hash', '=', tokenHash)
          .orderBy('created_at', 'desc')
          .executeTakeFirst();
        return row?.id ?? null;
      });
    },
  };
}

/** `%part%`, lower-cased, with `!` escaping the wildcards (Kysely has no ESCAPE clause). */
function likePattern(part: string | undefined): string | null {
  if (part === undefined || part === '') return null;
  return `%${part.toLowerCase().replace(/[!%_]/g, '!$&')}%`;
}

function assetConditions(
  eb: ExpressionBuilder<LedgerTables, 'apimart_assets'>,
  scope: string,
  filter: ApimartAssetFilter,
) {
  const conditions = [];
  if (filter.ids) conditions.push(eb('id', 'in', [...filter.ids]));
  if (filter.groupIds) conditions.push(eb('group_id', 'in', [...filter.groupIds]));
  if (filter.statuses) conditions.push(eb('status', 'in', [...filter.statuses]));
  if (filter.types) conditions.push(eb('asset_type', 'in', [...filter.types]));
  const name = likePattern(filter.nameContains);
  if (name) conditions.push(sql<boolean>`lower(name) like ${name} escape '!'`);
  if (filter.kind) {
    conditions.push(
      eb(
        'group_id',
        'in',
        eb
          .selectFrom('apimart_groups')
          .select('apimart_groups.id')
          .where('apimart_groups.scope', '=', scope)
          .where('apimart_groups.kind', '=', filter.kind),
      ),
    );
  }
  return conditions;
}

function toGroup(row: GroupRow): ApimartGroupRecord {
  return {
    id: row.id,
    kind: row.kind as AvatarKind,
    name: row.name,
    description: row.description,
    createdAt: new Date(Number(row.created_at)),
    updatedAt: new Date(Number(row.updated_at)),
  };
}

function toAsset(row: AssetRow): ApimartAssetRecord {
  return {
    id: row.id,
    groupId: row.group_id,
    taskId: row.task_id,
    index: Number(row.item_index),
    name: row.name,
    type: row.asset_type as AssetType,
    url: row.url,
    upstreamId: row.upstream_id,
    uri: row.uri,
    status: row.status as ReviewStatus,
    failure:
      row.failure_code === null
        ? null
        : { code: row.failure_code, message: row.failure_message ?? '' },
    createdAt: new Date(Number(row.created_at)),
    updatedAt: new Date(Number(row.updated_at)),
  };
}
