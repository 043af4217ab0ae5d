/**
 * Real-person verification tokens in the ledger: each token is recorded as its tenant's when
 * started, and its outcome when exchanged — the `VERIFIED` group becoming the tenant's in the
 * same transaction. So a restart or another instance answers a repeated exchange with the same
 * group (no second upstream call, which would say `VERIFICATION_USED`), and in server-key mode a
 * tenant cannot exchange or follow another tenant's token: it reads as unknown.
 */
import { VerificationNotFoundError } from '../errors/gateway-error.js';
import type { GatewayContext } from '../graphql/context.js';
import { ledgerCall } from '../graphql/tenancy.js';
import type { VerificationRecord } from '../ledger/index.js';

/** Records a token the caller just started, pending until `expiresAt`. */
export async function saveStarted(
  ctx: GatewayContext,
  token: string,
  expiresAt: Date,
): Promise<void> {
  const { ledger, tenant } = ctx.tenancy;
  if (ledger) await ledgerCall(() => ledger.saveVerification(tenant, token, expiresAt));
}

/**
 * What the ledger knows of the caller's token, checked before any upstream call: refuses a token
 * the (isolated) tenant never started with `VERIFICATION_NOT_FOUND`.
 * @returns the group when the token was already exchanged, else null.
 */
export async function knownVerifiedGroup(
  ctx: GatewayContext,
  token: string,
): Promise<string | null> {
  const { ledger, tenant, isolated } = ctx.tenancy;
  if (!ledger) return null;
  const record: VerificationRecord | null = await ledgerCall(() =>
    ledger.verification(tenant, token),
  );
  if (record === null && isolated) throw new VerificationNotFoundError();
  return record?.state === 'VERIFIED' ? record.groupId : null;
}

/** Records that the token was exchanged for `groupId`, which becomes the tenant's. */
export async function saveVerified(
  ctx: GatewayContext,
  token: string,
  groupId: string,
): Promise<void> {
  const { ledger, tenant } = ctx.tenancy;
  if (ledger) {
    await ledgerCall(() =>
      ledger.settleVerification(tenant, token, { state: 'VERIFIED', groupId }),
    );
  }
}
