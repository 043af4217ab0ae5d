/**
 * What a caller may see and change, from its tenant and the ledger (README "Tenants and the
 * ledger").
 *
 * Isolation applies in server-key mode, where every caller shares one upstream library: a
 * caller then sees only the resources the ledger records as its tenant's, and anything else —
 * another tenant's, nobody's, or nothing at all — reads as absent, through the same error and
 * without an upstream call, so that nothing tells them apart. In pass-through mode the caller's
 * own upstream key is the boundary: reads answer upstream as before, while creations are still
 * recorded (a later move to a server key keeps ownership). Admins (`ADMIN_TOKENS`) see everything.
 */
import { LedgerUnavailableGatewayError, NotFoundError } from '../errors/gateway-error.js';
import { isLedgerUnavailable, type Ledger, type ResourceKind } from '../ledger/index.js';
import type { AccessResult } from '../security/access.js';

export interface Tenancy {
  /** The caller's tenant; `''` without a credential (`callOptions` refuses those first). */
  readonly tenant: string;
  /** The ledger, when the gateway runs one. */
  readonly ledger: Ledger | null;
  /** Whether reads and changes are limited to what the tenant owns. */
  readonly isolated: boolean;
  /**
   * Those of `ids` the caller may see: all when not isolated, else one ledger query (none when
   * this request already learnt them from the ledger, see `remember`).
   */
  visible(kind: ResourceKind, ids: readonly string[]): Promise<ReadonlySet<string>>;
  /** Notes ids this request read from the tenant's own ledger entries, so they are not checked again. */
  remember(kind: ResourceKind, ids: readonly string[]): void;
  /**
   * Refuses with `NOT_FOUND` unless the caller may act on `id`; the same error whether the
   * resource is another tenant's or does not exist.
   */
  assertVisible(kind: ResourceKind, id: string): Promise<void>;
  /**
   * Refuses with `LEDGER_UNAVAILABLE` when the ledger cannot answer now: called before an
   * upstream create, so that an outage refuses the create rather than leaving it unowned.
   */
  assertWritable(): Promise<void>;
}

export function createTenancy(access: AccessResult, ledger: Ledger | null): Tenancy {
  const tenant = access.ok ? access.tenant : '';
  const isolated =
    ledger !== null && access.ok && !access.admin && access.principal.kind !== 'upstream-key';
  // Per request: ids known to be the tenant's. Never holds a refusal, so a resource the tenant
  // loses meanwhile is seen as its own for the rest of the request at most.
  const known: Record<ResourceKind, Set<string>> = { group: new Set(), asset: new Set() };
  const visible = async (kind: ResourceKind, ids: readonly string[]) => {
    if (!isolated || ledger === null) return new Set(ids);
    const unknown = ids.filter((id) => !known[kind].has(id));
    if (unknown.length === 0) return new Set(ids);
    const owned = await ledgerCall(() => ledger.filterOwned(tenant, kind, unknown));
    for (const id of owned) known[kind].add(id);
    return new Set(ids.filter((id) => known[kind].has(id)));
  };
  return {
    tenant,
    ledger,
    isolated,
    visible,
    remember(kind, ids) {
      for (const id of ids) known[kind].add(id);
    },
    async assertVisible(kind, id) {
      if (!(await visible(kind, [id])).has(id)) throw new NotFoundError();
    },
    async assertWritable() {
      if (ledger && !(await ledger.ping())) throw new LedgerUnavailableGatewayError();
    },
  };
}

/** Runs a ledger call, turning "the store cannot answer" into the client's `LEDGER_UNAVAILABLE`. */
export async function ledgerCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (isLedgerUnavailable(error)) throw new LedgerUnavailableGatewayError(error);
    throw error;
  }
}
