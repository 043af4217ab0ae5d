/**
 * After a broker outage (`PubSub.onReconnect`), events published meanwhile may be lost: this
 * re-reads what the subscribers here watch and delivers the differences locally, as if the lost
 * messages had arrived.
 */
import { isUpstreamError } from '../upstream/errors.js';
import type { StatusSource } from '../upstream/status-source.js';
import { chunk, mapLimit } from '../util/map-limit.js';
import { isFinal } from './diff.js';
import type { Fanout } from './fanout.js';
import type { Reader, ReadKind } from './reads.js';
import type { Tenant } from './registry.js';
import type { Counters } from './settings.js';

export interface ResyncDeps {
  readonly source: StatusSource;
  readonly fanout: Fanout;
  readonly reader: (tenant: Tenant) => Reader;
  /** Upstream calls in flight per credential. */
  readonly concurrency: number;
  readonly stopped: () => boolean;
}

/**
 * Reads the tenant's watched groups (every asset in them) and each other asset not final for
 * its subscribers here, and hands the answers to the fan-out. Lease holders' diff bases move
 * along (`Fanout.applyStatus`), so nothing is published twice. Resolves `false` when a read
 * failed or found no budget: the next iteration should try again.
 */
export async function resync(
  deps: ResyncDeps,
  tenant: Tenant,
  counters: Counters,
): Promise<boolean> {
  if (tenant.released) return true;
  const { source, fanout } = deps;
  const reader = deps.reader(tenant);
  const listed = new Set<string>();
  let read: ReadKind = 'list';
  try {
    const groups = [...tenant.groups.values()].filter((group) => group.loaded);
    for (const batch of chunk(groups, source.maxGroupIds)) {
      const { items, complete } = await reader.listPages(
        { groupIds: batch.map((group) => group.id), page: 1, pageSize: source.pageSize },
        counters,
      );
      for (const asset of items) {
        listed.add(asset.id);
        fanout.applyStatus(tenant, asset);
      }
      if (!complete) throw new Error('no list budget');
    }
    const unsure = [...tenant.assets.values()].filter(
      (entry) =>
        !entry.gone &&
        entry.current !== null &&
        !isFinal(entry.current.status) &&
        !listed.has(entry.id),
    );
    read = 'asset';
    await mapLimit(unsure, deps.concurrency, async (entry) => {
      if (!reader.take('asset', counters)) throw new Error('no asset budget');
      try {
        fanout.applyStatus(tenant, await reader.upstream.getAsset(reader.options, entry.id));
      } catch (error) {
        if (!isUpstreamError(error) || error.code !== 'NOT_FOUND') throw error;
        fanout.applyDeleted(tenant, entry.id);
      }
    });
    return true;
  } catch (error) {
    if (deps.stopped()) return true;
    counters.errors++;
    reader.noteError(read, error, true);
    return false;
  }
}
