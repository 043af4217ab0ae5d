/**
 * Real-person verification tokens: who may exchange one now, and what the exchange answered.
 * Tokens are stored as digests only.
 */
import { createHash } from 'node:crypto';
import type {
  Ledger,
  VerificationClaim,
  VerificationOutcome,
  VerificationRecord,
  VerificationState,
} from '../ledger.js';
import type { SqlContext } from './context.js';
import { insertGroup } from './ownership.js';

// Verified tokens are remembered this long when the ledger never saw the token start.
const UNKNOWN_TOKEN_RETENTION_MS = 24 * 60 * 60 * 1000;

type VerificationMethods =
  'saveVerification' | 'verification' | 'claimVerification' | 'settleVerification';

export function verificationSql({ db, clock, run }: SqlContext): Pick<Ledger, VerificationMethods> {
  function readVerification(tenant: string, hash: string) {
    return db
      .selectFrom('ledger_verifications')
      .select(['state', 'group_id', 'expires_at'])
      .where('tenant', '=', tenant)
      .where('token_hash', '=', hash)
      .executeTakeFirst();
  }

  return {
    saveVerification(tenant: string, token: string, expiresAt: Date): Promise<void> {
      const now = clock();
      return run(async () => {
        await db
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
    },

    verification(tenant: string, token: string): Promise<VerificationRecord | null> {
      return run(async () => {
        const row = await readVerification(tenant, tokenHash(token));
        return row ? toVerification(row, clock()) : null;
      });
    },

    claimVerification(
      tenant: string,
      token: string,
      options: { leaseMs: number; expiresAt: Date },
    ): Promise<VerificationClaim> {
      const now = clock();
      const hash = tokenHash(token);
      return run(async () => {
        const inserted = await db
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
        const taken = await db
          .updateTable('ledger_verifications')
          .set({ claimed_until: now + options.leaseMs, updated_at: now })
          .where('tenant', '=', tenant)
          .where('token_hash', '=', hash)
          .where('state', '=', 'PENDING')
          .where('claimed_until', '<=', now)
          .where('expires_at', '>', now)
          .executeTakeFirst();
        if (Number(taken.numUpdatedRows) === 1) return { status: 'claimed' };
        const row = await readVerification(tenant, hash);
        if (!row) return { status: 'busy' }; // purged meanwhile; the next claim inserts it again
        const record = toVerification(row, now);
        return record.state === 'PENDING' ? { status: 'busy' } : { status: 'settled', record };
      });
    },

    settleVerification(tenant: string, token: string, outcome: VerificationOutcome): Promise<void> {
      const now = clock();
      const groupId = outcome.state === 'VERIFIED' ? outcome.groupId : null;
      return run(() =>
        db.transaction().execute(async (trx) => {
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
    },
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
