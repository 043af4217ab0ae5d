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
  /** Those of `ids` the caller may see: all when not isolated, else one ledger query. */
  visible(kind: ResourceKind, ids: readonly string[]): Promise<ReadonlySet<string>>;
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
  const visible = async (kind: ResourceKind, ids: readonly string[]) => {
    if (!isolated || ledger === null) return new Set(ids);
    return new Set(await ledgerCall(() => ledger.filterOwned(tenant, kind, ids)));
  };
  return {
    tenant,
    ledger,
    isolated,
    visible,
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
