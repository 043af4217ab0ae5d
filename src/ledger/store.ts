/**
 * The ledger over Kysely: one implementation for both stores. `sqlite.ts` and `postgres.ts` only
 * open the database, run the migrations and say which driver errors mean "unavailable".
 *
 * Races are settled by the database, never by an in-memory lock, so they hold across instances:
 * an insert that loses to a primary key (`ON CONFLICT DO NOTHING`, zero rows) or an update whose
 * `WHERE` no longer matches (zero rows) tells the caller it lost.
 */
import { createHash, randomUUID } from 'node:crypto';
import { sql, type ExpressionBuilder, type Kysely, type Selectable } from 'kysely';
import type {
  AssetType,
  AssignDetails,
  AvatarKind,
  IdempotencyBegin,
  IdempotencyClaim,
  IdempotencyKey,
  Ledger,
  LedgerEntry,
  ListFilter,
  NewOwnedAsset,
  NewOwnedGroup,
  OwnedFilter,
  OwnedPage,
  ResourceKind,
  VerificationClaim,
  VerificationOutcome,
  VerificationRecord,
  VerificationState,
} from './ledger.js';
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
const LIST_LIMIT = 1000;
// Remembered verified tokens are kept this long when the ledger never saw the token start.
const UNKNOWN_TOKEN_RETENTION_MS = DAY_MS;

type Db = Kysely<LedgerTables>;
type ResourceRow = Selectable<LedgerTables['ledger_resources']>;

export class SqlLedger implements Ledger {
  readonly store: Ledger['store'];
  private readonly db: Db;
  private readonly translate: (error: unknown) => unknown;
  private readonly now: () => number;
  private readonly ttlMs: number;
  private readonly leaseMs: number;

  constructor(parts: StoreParts, timing: LedgerTiming = {}) {
    this.store = parts.store;
    this.db = parts.db;
    this.translate = parts.translate;
    this.now = timing.now ?? Date.now;
    this.ttlMs = timing.idempotencyTtlMs ?? DAY_MS;
    this.leaseMs = timing.idempotencyLeaseMs ?? 120_000;
  }

  // Ownership

  recordGroup(tenant: string, group: NewOwnedGroup): Promise<void> {
    return this.run(() => insertGroup(this.db, tenant, group, this.now()));
  }

  recordAssets(tenant: string, groupId: string, assets: readonly NewOwnedAsset[]): Promise<void> {
    if (assets.length === 0) return Promise.resolve();
    const createdAt = this.now();
    return this.run(async () => {
      await this.db
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
    });
  }

  ownerOf(kind: ResourceKind, id: string): Promise<string | null> {
    return this.run(async () => {
      const row = await this.db
        .selectFrom('ledger_resources')
        .select('tenant')
        .where('kind', '=', kind)
        .where('id', '=', id)
        .executeTakeFirst();
      return row?.tenant ?? null;
    });
  }

  filterOwned(tenant: string, kind: ResourceKind, ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.run(async () => {
      const rows = await this.db
        .selectFrom('ledger_resources')
        .select('id')
        .where('tenant', '=', tenant)
        .where('kind', '=', kind)
        .where('id', 'in', [...new Set(ids)])
        .execute();
      const owned = new Set(rows.map((r) => r.id));
      return [...new Set(ids)].filter((id) => owned.has(id));
    });
  }

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
    return this.run(async () => {
      const base = this.db
        .selectFrom('ledger_resources')
        .where('tenant', '=', tenant)
        .where('kind', '=', kind)
        .where((eb) => eb.and(ownedConditions(eb, filter)));
      const [count, rows] = await Promise.all([
        base.select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow(),
        base
          .select('id')
          .orderBy('created_at', 'desc')
          .orderBy('id', 'desc')
          .limit(pageSize)
          .offset((page - 1) * pageSize)
          .execute(),
      ]);
      return { ids: rows.map((r) => r.id), total: Number(count.n) };
    });
  }

  rename(kind: ResourceKind, id: string, name: string): Promise<void> {
    return this.run(async () => {
      await this.db
        .updateTable('ledger_resources')
        .set({ name })
        .where('kind', '=', kind)
        .where('id', '=', id)
        .execute();
    });
  }

  forget(kind: ResourceKind, id: string): Promise<void> {
    return this.run(() =>
      this.db.transaction().execute(async (trx) => {
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
  }

  // Operators

  assign(
    kind: ResourceKind,
    id: string,
    tenant: string,
    details: AssignDetails = {},
  ): Promise<string | null> {
    const createdAt = this.now();
    return this.run(() =>
      this.db.transaction().execute(async (trx) => {
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
  }

  list(
    filter: ListFilter,
    options: { after?: { kind: ResourceKind; id: string }; limit?: number } = {},
  ): Promise<LedgerEntry[]> {
    const { after, limit = LIST_LIMIT } = options;
    return this.run(async () => {
      let query = this.db.selectFrom('ledger_resources').selectAll();
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
  }

  // Verification tokens

  saveVerification(tenant: string, token: string, expiresAt: Date): Promise<void> {
    const now = this.now();
    return this.run(async () => {
      await this.db
        .insertInto('ledger_verifications')
        .values({
          tenant,
          token_hash: tokenHash(token),
          state: 'PENDING',
          group_id: null,
          expires_at: expiresAt.getTime(),
          claimed_until: 0,
          updated_at: now,
        })
        .onConflict((oc) => oc.columns(['tenant', 'token_hash']).doNothing())
        .execute();
    });
  }

  verification(tenant: string, token: string): Promise<VerificationRecord | null> {
    return this.run(async () => {
      const row = await this.readVerification(tenant, tokenHash(token));
      return row ? toVerification(row, this.now()) : null;
    });
  }

  claimVerification(
    tenant: string,
    token: string,
    options: { leaseMs: number; expiresAt: Date },
  ): Promise<VerificationClaim> {
    const now = this.now();
    const hash = tokenHash(token);
    return this.run(async () => {
      const inserted = await this.db
        .insertInto('ledger_verifications')
        .values({
          tenant,
          token_hash: hash,
          state: 'PENDING',
          group_id: null,
          expires_at: options.expiresAt.getTime(),
          claimed_until: now + options.leaseMs,
          updated_at: now,
        })
        .onConflict((oc) => oc.columns(['tenant', 'token_hash']).doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1) return { status: 'claimed' };
      // Only a pending, unexpired token whose last claim ran out can be claimed again.
      const taken = await this.db
        .updateTable('ledger_verifications')
        .set({ claimed_until: now + options.leaseMs, updated_at: now })
        .where('tenant', '=', tenant)
        .where('token_hash', '=', hash)
        .where('state', '=', 'PENDING')
        .where('claimed_until', '<=', now)
        .where('expires_at', '>', now)
        .executeTakeFirst();
      if (Number(taken.numUpdatedRows) === 1) return { status: 'claimed' };
      const row = await this.readVerification(tenant, hash);
      if (!row) return { status: 'busy' }; // purged meanwhile; the next claim inserts it again
      const record = toVerification(row, now);
      return record.state === 'PENDING' ? { status: 'busy' } : { status: 'settled', record };
    });
  }

  settleVerification(tenant: string, token: string, outcome: VerificationOutcome): Promise<void> {
    const now = this.now();
    const groupId = outcome.state === 'VERIFIED' ? outcome.groupId : null;
    return this.run(() =>
      this.db.transaction().execute(async (trx) => {
        const settled = {
          state: outcome.state,
          group_id: groupId,
          claimed_until: 0,
          updated_at: now,
        };
        await trx
          .insertInto('ledger_verifications')
          .values({
            tenant,
            token_hash: tokenHash(token),
            expires_at: now + UNKNOWN_TOKEN_RETENTION_MS,
            ...settled,
          })
          .onConflict((oc) => oc.columns(['tenant', 'token_hash']).doUpdateSet(settled))
          .execute();
        if (groupId !== null) await insertGroup(trx, tenant, { id: groupId, kind: 'REAL' }, now);
      }),
    );
  }

  // Idempotency

  beginIdempotent(key: IdempotencyKey, inputHash: string): Promise<IdempotencyBegin> {
    return this.run(async () => {
      // A record deleted between the insert and the read (released, purged) means: try again.
      for (;;) {
        const now = this.now();
        const attempt = randomUUID();
        await this.db
          .deleteFrom('ledger_idempotency')
          .where(byKey(key))
          .where('expires_at', '<=', now)
          .execute();
        const inserted = await this.db
          .insertInto('ledger_idempotency')
          .values({
            tenant: key.tenant,
            scope: key.scope,
            idem_key: key.key,
            input_hash: inputHash,
            state: 'pending',
            holder: attempt,
            lease_until: now + this.leaseMs,
            answer: null,
            note: null,
            created_at: now,
            expires_at: now + this.ttlMs,
          })
          .onConflict((oc) => oc.columns(['tenant', 'scope', 'idem_key']).doNothing())
          .executeTakeFirst();
        if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1) {
          return { status: 'new', claim: { ...key, attempt } };
        }
        const row = await this.db
          .selectFrom('ledger_idempotency')
          .selectAll()
          .where(byKey(key))
          .executeTakeFirst();
        if (!row) continue;
        if (row.input_hash !== inputHash) return { status: 'mismatch' };
        if (row.state === 'done') return { status: 'replay', answer: parseJson(row.answer) };
        if (row.state === 'pending' && Number(row.lease_until) > now) {
          return { status: 'in-progress' };
        }
        // Unknown outcome, or a holder gone past its lease: take it over, if nobody was quicker.
        const taken = await this.db
          .updateTable('ledger_idempotency')
          .set({ state: 'pending', holder: attempt, lease_until: now + this.leaseMs })
          .where(byKey(key))
          .where('state', '=', row.state)
          .where('holder', row.holder === null ? 'is' : '=', row.holder)
          .where('lease_until', '=', Number(row.lease_until))
          .executeTakeFirst();
        if (Number(taken.numUpdatedRows) !== 1) return { status: 'in-progress' };
        return { status: 'reconcile', claim: { ...key, attempt }, note: parseJson(row.note) };
      }
    });
  }

  completeIdempotent(claim: IdempotencyClaim, answer: unknown): Promise<void> {
    return this.settleClaim(claim, {
      state: 'done',
      holder: null,
      answer: JSON.stringify(answer ?? null),
      note: null,
    });
  }

  markOutcomeUnknown(claim: IdempotencyClaim, note: unknown): Promise<void> {
    // lease_until 0: the next begin takes it over at once, to reconcile.
    return this.settleClaim(claim, {
      state: 'unknown',
      lease_until: 0,
      note: JSON.stringify(note ?? null),
    });
  }

  releaseIdempotent(claim: IdempotencyClaim): Promise<void> {
    return this.run(async () => {
      await this.db
        .deleteFrom('ledger_idempotency')
        .where(byKey(claim))
        .where('holder', '=', claim.attempt)
        .execute();
    });
  }

  // Housekeeping

  purgeExpired(): Promise<number> {
    const now = this.now();
    return this.run(async () => {
      const [a, b] = await Promise.all([
        this.db.deleteFrom('ledger_idempotency').where('expires_at', '<=', now).executeTakeFirst(),
        this.db
          .deleteFrom('ledger_verifications')
          .where('expires_at', '<=', now)
          .executeTakeFirst(),
      ]);
      return Number(a.numDeletedRows) + Number(b.numDeletedRows);
    });
  }

  async ping(): Promise<boolean> {
    try {
      await sql`select 1`.execute(this.db);
      return true;
    } catch {
      return false;
    }
  }

  close(): Promise<void> {
    return this.db.destroy();
  }

  // Helpers

  private async run<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw this.translate(error);
    }
  }

  /**
   * Finishes a claim if it is still the holder's. A claim taken over (its lease ran out) is
   * not: the update matches nothing, and the newer holder's outcome stands.
   */
  private settleClaim(
    claim: IdempotencyClaim,
    changes: Partial<
      Pick<LedgerTables['ledger_idempotency'], 'state' | 'holder' | 'answer' | 'note'>
    > & {
      lease_until?: number;
    },
  ): Promise<void> {
    return this.run(async () => {
      await this.db
        .updateTable('ledger_idempotency')
        .set(changes)
        .where(byKey(claim))
        .where('holder', '=', claim.attempt)
        .execute();
    });
  }

  private readVerification(tenant: string, hash: string) {
    return this.db
      .selectFrom('ledger_verifications')
      .select(['state', 'group_id', 'expires_at'])
      .where('tenant', '=', tenant)
      .where('token_hash', '=', hash)
      .executeTakeFirst();
  }
}

async function insertGroup(
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

/** Matches one idempotency record. */
function byKey(key: IdempotencyKey) {
  return (eb: ExpressionBuilder<LedgerTables, 'ledger_idempotency'>) =>
    eb.and({ tenant: key.tenant, scope: key.scope, idem_key: key.key });
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

function toVerification(
  row: { state: string; group_id: string | null; expires_at: number | string },
  now: number,
): VerificationRecord {
  const expiresAt = Number(row.expires_at);
  const state = row.state as VerificationState;
  return {
    state: state === 'PENDING' && expiresAt <= now ? 'EXPIRED' : state,
    groupId: row.group_id,
    expiresAt: new Date(expiresAt),
  };
}

/** Tokens are bearer secrets for one exchange: the ledger keeps only their digest. */
function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function parseJson(text: string | null): unknown {
  return text === null ? null : (JSON.parse(text) as unknown);
}
