/**
 * Idempotency records: one row per (tenant, scope, key), whose primary key lets exactly one of
 * concurrent begins win, on any instance.
 */
import { randomUUID } from 'node:crypto';
import type { ExpressionBuilder } from 'kysely';
import type {
  IdempotencyBegin,
  IdempotencyClaim,
  IdempotencyKey,
  Ledger,
  OwnedFacts,
} from '../ledger.js';
import type { LedgerTables } from '../tables.js';
import type { Db, SqlContext } from './context.js';
import { insertFacts } from './ownership.js';

type IdempotencyMethods =
  'beginIdempotent' | 'completeIdempotent' | 'markOutcomeUnknown' | 'releaseIdempotent';

export function idempotencySql(
  { db, clock, run }: SqlContext,
  { ttlMs, leaseMs }: { ttlMs: number; leaseMs: number },
): Pick<Ledger, IdempotencyMethods> {
  /**
   * Finishes a claim if it is still the holder's. A claim taken over (its lease ran out) is
   * not: the update matches nothing, and the newer holder's outcome stands.
   */
  function settleClaim(
    claim: IdempotencyClaim,
    changes: Partial<
      Pick<LedgerTables['ledger_idempotency'], 'state' | 'holder' | 'answer' | 'note'>
    > & {
      lease_until?: number;
    },
    owned?: OwnedFacts,
  ): Promise<void> {
    const settle = (trx: Db) =>
      trx
        .updateTable('ledger_idempotency')
        .set(changes)
        .where(byKey(claim))
        .where('holder', '=', claim.attempt)
        .execute();
    if (!owned) return run(async () => void (await settle(db)));
    const now = clock();
    return run(() =>
      db.transaction().execute(async (trx) => {
        await insertFacts(trx, claim.tenant, owned, now);
        await settle(trx);
      }),
    );
  }

  return {
    beginIdempotent(key: IdempotencyKey, inputHash: string): Promise<IdempotencyBegin> {
      return run(async () => {
        // A record deleted between the insert and the read (released, purged) means: try again.
        for (;;) {
          const now = clock();
          const attempt = randomUUID();
          await db
            .deleteFrom('ledger_idempotency')
            .where(byKey(key))
            .where('expires_at', '<=', now)
            .execute();
          const inserted = await db
            .insertInto('ledger_idempotency')
            .values({
              tenant: key.tenant,
              scope: key.scope,
              idem_key: key.key,
              input_hash: inputHash,
              state: 'pending',
              holder: attempt,
              lease_until: now + leaseMs,
              answer: null,
              note: null,
              created_at: now,
              expires_at: now + ttlMs,
            })
            .onConflict((oc) => oc.columns(['tenant', 'scope', 'idem_key']).doNothing())
            .executeTakeFirst();
          if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1) {
            return { status: 'new', claim: { ...key, attempt } };
          }
          const row = await db
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
          const taken = await db
            .updateTable('ledger_idempotency')
            .set({ state: 'pending', holder: attempt, lease_until: now + leaseMs })
            .where(byKey(key))
            .where('state', '=', row.state)
            .where('holder', row.holder === null ? 'is' : '=', row.holder)
            .where('lease_until', '=', Number(row.lease_until))
            .executeTakeFirst();
          if (Number(taken.numUpdatedRows) !== 1) return { status: 'in-progress' };
          return { status: 'reconcile', claim: { ...key, attempt }, note: parseJson(row.note) };
        }
      });
    },

    completeIdempotent(claim: IdempotencyClaim, answer: unknown, owned?: OwnedFacts) {
      return settleClaim(
        claim,
        { state: 'done', holder: null, answer: JSON.stringify(answer ?? null), note: null },
        owned,
      );
    },

    markOutcomeUnknown(claim: IdempotencyClaim, note: unknown, owned?: OwnedFacts) {
      // lease_until 0: the next begin takes it over at once, to reconcile.
      return settleClaim(
        claim,
        { state: 'unknown', lease_until: 0, note: JSON.stringify(note ?? null) },
        owned,
      );
    },

    releaseIdempotent(claim: IdempotencyClaim): Promise<void> {
      return run(async () => {
        await db
          .deleteFrom('ledger_idempotency')
          .where(byKey(claim))
          .where('holder', '=', claim.attempt)
          .execute();
      });
    },
  };
}

/** Matches one idempotency record. */
function byKey(key: IdempotencyKey) {
  return (eb: ExpressionBuilder<LedgerTables, 'ledger_idempotency'>) =>
    eb.and({ tenant: key.tenant, scope: key.scope, idem_key: key.key });
}

function parseJson(text: string | null): unknown {
  return text === null ? null : (JSON.parse(text) as unknown);
}
