/**
 * Idempotent creates over the ledger (`createGroup`, `addAssets` with an `idempotencyKey`).
 *
 * A key is scoped to the caller's tenant and the operation. The first attempt runs; a retry with
 * the same input replays its stored answer with no upstream call; the same key with other input
 * is refused; a retry arriving while the first runs (on any instance) waits for it. An attempt
 * that may have created something without the gateway learning it (`OUTCOME_UNKNOWN`) is marked
 * so, and the next retry reconciles — looks upstream for what it created — before sending again.
 */
import { BadUserInputError } from '../errors/gateway-error.js';
import type { GatewayContext } from '../graphql/context.js';
import { ledgerCall } from '../graphql/tenancy.js';
import { isUpstreamError } from '../upstream/errors.js';
import {
  beginIdempotentWaiting,
  hashInput,
  type IdempotencyClaim,
  type Ledger,
  type OwnedFacts,
} from '../ledger/index.js';

export interface IdempotentRun<T> {
  /** The operation's scope, e.g. `createGroup` or `addAssets:<groupId>`. */
  scope: string;
  /** The client's key; without one (or without a ledger) the operation just runs. */
  key: string | null | undefined;
  /** What must match for a replay (the checked arguments, without the key). */
  input: unknown;
  /**
   * Runs the operation; `note` comes from a reconciliation (see `reconcile`): the earlier
   * attempt's note, with `sentAt`, when the first attempt began (see `predatesAttempt`).
   */
  run(note?: unknown): Promise<Finished<T>>;
  /** Turns a stored answer (through JSON) back into one. */
  revive(stored: unknown): T;
}

/**
 * How an attempt ended: `done` is stored for replays; `unknown` (some effect unconfirmed) is
 * answered now and stored as a note for the next retry's `run(note)` to reconcile from. `owned`
 * is what it created: recorded as the tenant's before the answer leaves, in the same transaction
 * as the idempotency outcome when there is a key.
 */
export type Finished<T> = ({ done: T } | { unknown: T; note: unknown }) & { owned?: OwnedFacts };

/** How long a retry waits for a concurrent first attempt before giving up. */
const WAIT_MS = 60_000;

export async function idempotently<T>(ctx: GatewayContext, op: IdempotentRun<T>): Promise<T> {
  const { ledger, tenant } = ctx.tenancy;
  const outcome = (finished: Finished<T>) =>
    'done' in finished ? finished.done : finished.unknown;
  if (op.key == null || ledger === null) {
    const finished = await op.run();
    const { owned } = finished;
    if (ledger && owned) await ledgerCall(() => recordFacts(ledger, tenant, owned));
    return outcome(finished);
  }
  const key = { tenant, scope: op.scope, key: checkKey(op.key) };
  const begun = await ledgerCall(() =>
    beginIdempotentWaiting(ledger, key, hashInput(op.input), { timeoutMs: WAIT_MS }),
  );
  switch (begun.status) {
    case 'replay':
      return op.revive(begun.answer);
    case 'mismatch':
      throw new BadUserInputError(
        'This idempotencyKey was already used with other input; use a new key for a new request.',
        'idempotencyKey',
      );
    case 'in-progress':
      throw new BadUserInputError(
        'A request with this idempotencyKey is still running; retry it shortly.',
        'idempotencyKey',
      );
    case 'new': {
      const sentAt = ctx.now().getTime();
      return settle(ledger, begun.claim, op.input, sentAt, op.run(), outcome);
    }
    case 'reconcile': {
      const note = (begun.note ?? {}) as Record<string, unknown>;
      // The first attempt's start bounds what a reconciliation may take for its own.
      const sentAt = typeof note.sentAt === 'number' ? note.sentAt : ctx.now().getTime();
      return settle(ledger, begun.claim, op.input, sentAt, op.run({ ...note, sentAt }), outcome);
    }
  }
}

/**
 * How much earlier than the gateway's clock the upstream may stamp what an attempt created: a
 * reconciliation ignores resources created before the first attempt by more than this.
 */
export const RECONCILE_CLOCK_SKEW_MS = 5 * 60 * 1000;

/**
 * Whether a resource found upstream during a reconciliation predates the first attempt (`note`
 * as `run` received it): an unowned resource that old was made outside the gateway, and
 * claiming it would hand it to the caller's tenant. Unknown creation times do not exclude.
 */
export function predatesAttempt(createdAt: Date | null, note: unknown): boolean {
  const sentAt = (note as { sentAt?: unknown } | undefined)?.sentAt;
  if (createdAt === null || typeof sentAt !== 'number') return false;
  return createdAt.getTime() < sentAt - RECONCILE_CLOCK_SKEW_MS;
}

async function settle<T>(
  ledger: Ledger,
  claim: IdempotencyClaim,
  input: unknown,
  sentAt: number,
  running: Promise<Finished<T>>,
  outcome: (finished: Finished<T>) => T,
): Promise<T> {
  let finished: Finished<T>;
  try {
    finished = await running;
  } catch (error) {
    // Sent but unconfirmed: the next retry reconciles from the input instead of sending again.
    // Anything else created nothing (partial effects come back as `unknown`): a retry sends.
    await (
      isUpstreamError(error) && error.outcomeUnknown
        ? ledger.markOutcomeUnknown(claim, { input, sentAt })
        : ledger.releaseIdempotent(claim)
    ).catch(() => undefined);
    throw error;
  }
  await ledgerCall(() =>
    'done' in finished
      ? ledger.completeIdempotent(claim, finished.done, finished.owned)
      : ledger.markOutcomeUnknown(
          claim,
          { ...(finished.note as Record<string, unknown>), sentAt },
          finished.owned,
        ),
  );
  return outcome(finished);
}

/** Without an idempotency record: just the ownership. */
async function recordFacts(ledger: Ledger, tenant: string, owned: OwnedFacts): Promise<void> {
  for (const group of owned.groups ?? []) await ledger.recordGroup(tenant, group);
  if (owned.assets) await ledger.recordAssets(tenant, owned.assets.groupId, owned.assets.assets);
}

function checkKey(key: string): string {
  if (key.length === 0 || key.length > 128) {
    throw new BadUserInputError('idempotencyKey must be 1-128 characters.', 'idempotencyKey');
  }
  return key;
}
