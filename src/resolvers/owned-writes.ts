/**
 * Creations and deletions that the ledger must hear about: a group created is recorded as the
 * caller's tenant's (by `idempotently`) before the client sees its id, so a crash can never
 * leave a group the client saw without an owner; a deleted resource is forgotten.
 */
import type { GatewayContext } from '../graphql/context.js';
import { ledgerCall } from '../graphql/tenancy.js';
import type { ResourceKind } from '../ledger/index.js';
import { isUpstreamError } from '../upstream/errors.js';
import type { CallOptions, Group, NewGroup } from '../upstream/port.js';
import { predatesAttempt, type Finished } from './idempotent.js';

/**
 * Creates a group, to be recorded as the tenant's (`owned`). With `note` (an earlier attempt of
 * the same idempotency key ended without confirmation), first looks upstream for the group that
 * attempt may have created: a virtual group of the same name that nobody owns yet and that is
 * not older than that attempt (`predatesAttempt`).
 */
export async function createOwnedGroup(
  ctx: GatewayContext,
  opts: CallOptions,
  input: NewGroup,
  note?: unknown,
): Promise<Finished<Group>> {
  await ctx.tenancy.assertWritable();
  const found = note === undefined ? null : await findUnownedGroup(ctx, opts, input.name, note);
  const id = found?.id ?? (await ctx.upstream.createGroup(opts, input)).id;
  const owned = { groups: [{ id, kind: 'VIRTUAL' as const, name: input.name }] };
  if (found) return { done: found, owned };
  // The group exists now: if reading it back fails, report it as created from the input.
  const group = await ctx.loaders.group.load(id).catch((error: unknown) => {
    ctx.logger.warn({ err: error, groupId: id }, 'could not read back a created group');
    return null;
  });
  const created: Group = group ?? {
    id,
    name: input.name,
    description: input.description ?? null,
    kind: 'VIRTUAL',
    createdAt: null,
    updatedAt: null,
  };
  return { done: created, owned };
}

/** The newest virtual group named exactly `name`, not older than the attempt, owned by nobody. */
async function findUnownedGroup(
  ctx: GatewayContext,
  opts: CallOptions,
  name: string,
  note: unknown,
): Promise<Group | null> {
  const { ledger } = ctx.tenancy;
  const page = await ctx.upstream.listGroups(opts, {
    nameContains: name,
    kind: 'VIRTUAL',
    page: 1,
    pageSize: 100,
  });
  for (const group of page.items) {
    if (group.name !== name || predatesAttempt(group.createdAt, note)) continue;
    if (!ledger || (await ledgerCall(() => ledger.ownerOf('group', group.id))) === null) {
      return group;
    }
  }
  return null;
}

/**
 * Deletes a resource upstream (`remove`), then forgets it in the ledger. One the upstream no longer
 * has (deleted behind the gateway's back) is forgotten too, so it leaves the tenant's pages and
 * `total`; the caller still hears `NOT_FOUND`. That `NOT_FOUND` proves the resource gone only for
 * what the caller owns: in pass-through mode it means "not in this key's library", so another
 * key's resource is never forgotten for it. The deletion happened either way: a ledger failure
 * now only leaves a stale entry (left out of pages, as the resource is gone), so it is logged, not
 * reported.
 */
export async function deleteOwned(
  ctx: GatewayContext,
  kind: ResourceKind,
  id: string,
  remove: () => Promise<void>,
): Promise<void> {
  const forget = async () => {
    const ledger = ctx.tenancy.ledger;
    if (!ledger) return;
    await ledger.forget(kind, id).catch((error: unknown) => {
      ctx.logger.warn({ err: error }, 'ledger: could not forget a deleted resource');
    });
  };
  try {
    await remove();
  } catch (error) {
    if (isUpstreamError(error) && error.code === 'NOT_FOUND' && (await ownsIt(ctx, kind, id))) {
      await forget();
    }
    throw error;
  }
  await forget();
}

/** Whether the caller's tenant is the resource's recorded owner (checked already when isolated). */
async function ownsIt(ctx: GatewayContext, kind: ResourceKind, id: string): Promise<boolean> {
  const { ledger, isolated, tenant } = ctx.tenancy;
  if (!ledger) return false;
  if (isolated) return true;
  return (await ledger.ownerOf(kind, id).catch(() => null)) === tenant;
}

/** A stored answer's timestamps come back from JSON as strings: make them dates again. */
export function reviveDates<T extends { createdAt: Date | null; updatedAt: Date | null }>(
  stored: unknown,
): T {
  const value = stored as T;
  return {
    ...value,
    createdAt: value.createdAt === null ? null : new Date(value.createdAt),
    updatedAt: value.updatedAt === null ? null : new Date(value.updatedAt),
  };
}
