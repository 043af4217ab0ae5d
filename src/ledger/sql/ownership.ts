/**
 * Who owns which group and asset: recording, reading, paging and the operators' assign/list.
 */
import { sql, type ExpressionBuilder, type Selectable } from 'kysely';
import type {
  AssetType,
  AssignDetails,
  AvatarKind,
  Ledger,
  LedgerEntry,
  ListFilter,
  NewOwnedAsset,
  NewOwnedGroup,
  OwnedFacts,
  OwnedFilter,
  OwnedPage,
  ResourceKind,
} from '../ledger.js';
import type { LedgerTables } from '../tables.js';
import type { Db, SqlContext } from './context.js';

const LIST_LIMIT = 1000;

type ResourceRow = Selectable<LedgerTables['ledger_resources']>;

type OwnershipMethods =
  | 'recordGroup'
  | 'recordAssets'
  | 'ownerOf'
  | 'filterOwned'
  | 'pageOwned'
  | 'rename'
  | 'forget'
  | 'assign'
  | 'list';

export function ownershipSql({ db, clock, run }: SqlContext): Pick<Ledger, OwnershipMethods> {
  return {
    recordGroup(tenant: string, group: NewOwnedGroup): Promise<void> {
      return run(() => insertGroup(db, tenant, group, clock()));
    },

    recordAssets(tenant: string, groupId: string, assets: readonly NewOwnedAsset[]): Promise<void> {
      if (assets.length === 0) return Promise.resolve();
      return run(() => insertAssets(db, tenant, { groupId, assets }, clock()));
    },

    ownerOf(kind: ResourceKind, id: string): Promise<string | null> {
      return run(async () => {
        const row = await db
          .selectFrom('ledger_resources')
          .select('tenant')
          .where('kind', '=', kind)
          .where('id', '=', id)
          .executeTakeFirst();
        return row?.tenant ?? null;
      });
    },

    filterOwned(tenant: string, kind: ResourceKind, ids: readonly string[]): Promise<string[]> {
      if (ids.length === 0) return Promise.resolve([]);
      return run(async () => {
        const rows = await db
          .selectFrom('ledger_resources')
          .select('id')
          .where('tenant', '=', tenant)
          .where('kind', '=', kind)
          .where('id', 'in', [...new Set(ids)])
          .execute();
        const owned = new Set(rows.map((r) => r.id));
        return [...new Set(ids)].filter((id) => owned.has(id));
      });
    },

    pageOwned(
      tenant: string,
      kind: ResourceKind,
      filter: OwnedFilter,
      page: number,
      pageSize: number,
    ): Promise<OwnedPage> {
      // `IN ()` is not SQL: an empty list matches nothing.
      if (
        filter.ids?.length === 0 ||
        filter.groupIds?.length === 0 ||
        filter.assetTypes?.length === 0
      ) {
        return Promise.resolve({ ids: [], total: 0 });
      }
      return run(async () => {
        const base = db
          .selectFrom('ledger_resources')
          .where('tenant', '=', tenant)
          .where('kind', '=', kind)
          .where((eb) => eb.and(ownedConditions(eb, filter)));
        const [count, rows] = await Promise.all([
          base.select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow(),
          base
            .select(['id', 'group_id'])
            .orderBy('created_at', 'desc')
            .orderBy('id', 'desc')
            .limit(pageSize)
            .offset((page - 1) * pageSize)
            .execute(),
        ]);
        const ids = rows.map((r) => r.id);
        const total = Number(count.n);
        if (kind === 'group') return { ids, total };
        const groupIds = [
          ...new Set(rows.flatMap((r) => (r.group_id === null ? [] : [r.group_id]))),
        ];
        return { ids, total, groupIds };
      });
    },

    rename(kind: ResourceKind, id: string, name: string): Promise<void> {
      return run(async () => {
        await db
          .updateTable('ledger_resources')
          .set({ name })
          .where('kind', '=', kind)
          .where('id', '=', id)
          .execute();
      });
    },

    forget(kind: ResourceKind, id: string): Promise<void> {
      return run(() =>
        db.transaction().execute(async (trx) => {
          await trx
            .deleteFrom('ledger_resources')
            .where('kind', '=', kind)
            .where('id', '=', id)
            .execute();
          // The upstream deletes a group's assets with it.
          if (kind === 'group') {
            await trx
              .deleteFrom('ledger_resources')
              .where('kind', '=', 'asset')
              .where('group_id', '=', id)
              .execute();
          }
        }),
      );
    },

    assign(
      kind: ResourceKind,
      id: string,
      tenant: string,
      details: AssignDetails = {},
    ): Promise<string | null> {
      const createdAt = clock();
      return run(() =>
        db.transaction().execute(async (trx) => {
          const previous = await trx
            .selectFrom('ledger_resources')
            .select('tenant')
            .where('kind', '=', kind)
            .where('id', '=', id)
            .executeTakeFirst();
          const given = {
            ...(details.avatarKind !== undefined ? { avatar_kind: details.avatarKind } : {}),
            ...(details.groupId !== undefined ? { group_id: details.groupId } : {}),
            ...(details.assetType !== undefined ? { asset_type: details.assetType } : {}),
            ...(details.name !== undefined ? { name: details.name } : {}),
          };
          await trx
            .insertInto('ledger_resources')
            .values({
              kind,
              id,
              tenant,
              avatar_kind: null,
              group_id: null,
              asset_type: null,
              name: null,
              url: null,
              created_at: createdAt,
              ...given,
            })
            .onConflict((oc) => oc.columns(['kind', 'id']).doUpdateSet({ tenant, ...given }))
            .execute();
          return previous?.tenant ?? null;
        }),
      );
    },

    list(
      filter: ListFilter,
      options: { after?: { kind: ResourceKind; id: string }; limit?: number } = {},
    ): Promise<LedgerEntry[]> {
      const { after, limit = LIST_LIMIT } = options;
      return run(async () => {
        let query = db.selectFrom('ledger_resources').selectAll();
        if (filter.tenant !== undefined) query = query.where('tenant', '=', filter.tenant);
        if (filter.kind !== undefined) query = query.where('kind', '=', filter.kind);
        if (after) {
          query = query.where((eb) =>
            eb.or([
              eb('kind', '>', after.kind),
              eb.and([eb('kind', '=', after.kind), eb('id', '>', after.id)]),
            ]),
          );
        }
        const rows = await query.orderBy('kind').orderBy('id').limit(limit).execute();
        return rows.map(toEntry);
      });
    },
  };
}

/** Records a group for a tenant unless it is recorded already (its first owner stays). */
export async function insertGroup(
  db: Db,
  tenant: string,
  group: NewOwnedGroup,
  createdAt: number,
): Promise<void> {
  await db
    .insertInto('ledger_resources')
    .values({
      kind: 'group',
      id: group.id,
      tenant,
      avatar_kind: group.kind,
      group_id: null,
      asset_type: null,
      name: group.name ?? null,
      url: null,
      created_at: createdAt,
    })
    .onConflict((oc) => oc.columns(['kind', 'id']).doNothing())
    .execute();
}

/** Inserts assets of one group as the tenant's; those already recorded are left as they are. */
export async function insertAssets(
  db: Db,
  tenant: string,
  { groupId, assets }: { groupId: string; assets: readonly NewOwnedAsset[] },
  createdAt: number,
): Promise<void> {
  if (assets.length === 0) return;
  await db
    .insertInto('ledger_resources')
    .values(
      assets.map((a) => ({
        kind: 'asset',
        id: a.id,
        tenant,
        avatar_kind: null,
        group_id: groupId,
        asset_type: a.type,
        name: a.name ?? null,
        url: a.url,
        created_at: createdAt,
      })),
    )
    .onConflict((oc) => oc.columns(['kind', 'id']).doNothing())
    .execute();
}

/** Records what an operation created as the tenant's (see `OwnedFacts`). */
export async function insertFacts(
  db: Db,
  tenant: string,
  facts: OwnedFacts,
  createdAt: number,
): Promise<void> {
  for (const group of facts.groups ?? []) await insertGroup(db, tenant, group, createdAt);
  if (facts.assets) await insertAssets(db, tenant, facts.assets, createdAt);
}

function ownedConditions(
  eb: ExpressionBuilder<LedgerTables, 'ledger_resources'>,
  filter: OwnedFilter,
) {
  const conditions = [];
  if (filter.ids) conditions.push(eb('id', 'in', [...filter.ids]));
  if (filter.groupIds) conditions.push(eb('group_id', 'in', [...filter.groupIds]));
  if (filter.assetTypes) conditions.push(eb('asset_type', 'in', [...filter.assetTypes]));
  if (filter.nameContains !== undefined && filter.nameContains !== '') {
    const pattern = `%${filter.nameContains.toLowerCase().replace(/[!%_]/g, '!$&')}%`;
    // Kysely has no ESCAPE clause; `!` escapes the wildcards the same way on both stores.
    conditions.push(sql<boolean>`lower(name) like ${pattern} escape '!'`);
  }
  if (filter.avatarKind) {
    // A group has its own avatar kind; an asset has its group's.
    conditions.push(
      eb.or([
        eb.and([eb('kind', '=', 'group'), eb('avatar_kind', '=', filter.avatarKind)]),
        eb.and([
          eb('kind', '=', 'asset'),
          eb(
            'group_id',
            'in',
            eb
              .selectFrom('ledger_resources as g')
              .select('g.id')
              .where('g.kind', '=', 'group')
              .where('g.avatar_kind', '=', filter.avatarKind),
          ),
        ]),
      ]),
    );
  }
  return conditions;
}

function toEntry(row: ResourceRow): LedgerEntry {
  return {
    kind: row.kind as ResourceKind,
    id: row.id,
    tenant: row.tenant,
    avatarKind: row.avatar_kind as AvatarKind | null,
    groupId: row.group_id,
    assetType: row.asset_type as AssetType | null,
    name: row.name,
    url: row.url,
    createdAt: new Date(Number(row.created_at)),
  };
}
