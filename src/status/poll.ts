/**
 * One tenant's share of a loop iteration, for what this instance holds the leases of: find
 * which assets and groups are due, read them within the rate budget (batched by the source's
 * `planReads`, plus group sweeps), diff the answers against the published basis, adjust
 * intervals (back-off, failures) and stage `stale` notices. It returns what to publish — an
 * `Outbox` — and never delivers: every instance, this one included, delivers what it receives
 * from the bus (`fanout.ts`).
 */
import { isUpstreamError } from '../upstream/errors.js';
import type { Asset } from '../upstream/port.js';
import type { StatusSource } from '../upstream/status-source.js';
import { chunk, mapLimit } from '../util/map-limit.js';
import type { BusItem } from './bus-codec.js';
import { diffSnapshots, normalisePoll, type Change, type Observation } from './diff.js';
import type { Outbox } from './publish.js';
import type { Reader } from './reads.js';
import {
  pollable,
  setBasis,
  type AssetEntry,
  type GroupEntry,
  type Registry,
  type Tenant,
} from './registry.js';
import type { Counters, Settings } from './settings.js';

/** A sweep reads further pages only while every item is new, at most this many. */
const MAX_SWEEP_PAGES = 10;

export interface PollDeps {
  readonly registry: Registry;
  readonly source: StatusSource;
  readonly settings: Pick<
    Settings,
    | 'intervalMs'
    | 'maxIntervalMs'
    | 'backoffAfterMs'
    | 'backoffFactor'
    | 'staleAfterMs'
    | 'batch'
    | 'concurrency'
  >;
  readonly reader: (tenant: Tenant) => Reader;
  readonly now: () => number;
}

interface Failure {
  reason: string;
  /** Lengthen the interval (an upstream error), or retry next interval (no budget). */
  backoff: boolean;
}

/** What is due this iteration. */
interface Due {
  /** Held, pollable assets due by the horizon, longest-waiting first. */
  assets: AssetEntry[];
  /** Every held, pollable asset, per group (a list of a group covers them all). */
  pollableByGroup: Map<string, AssetEntry[]>;
  groups: GroupEntry[];
}

interface ReadResults {
  listed: Asset[];
  fetched: Asset[];
  gone: string[];
  failed: Map<AssetEntry, Failure>;
  /** New to the swept groups. */
  discovered: Asset[];
}

/** Polls what is due for `tenant` and returns the items to publish (possibly none). */
export async function pollTenant(
  deps: PollDeps,
  tenant: Tenant,
  startedAt: number,
  counters: Counters,
): Promise<Outbox> {
  const out: Outbox = { items: [], reverts: [] };
  if (tenant.released) return out;
  const horizon = startedAt + deps.settings.intervalMs / 2;
  const due = findDue(tenant, horizon);
  if (due.assets.length > 0 || due.groups.length > 0) {
    const reader = deps.reader(tenant);
    const reads = await readAssets(deps, tenant, reader, due, horizon, counters);
    const discovered = await sweepGroups(deps, tenant, reader, due.groups, counters, out);
    applyResults(deps, tenant, { ...reads, discovered }, out);
  }
  announceStale(deps, tenant, out.items);
  return out;
}

/** Step 1: the held assets and groups due by `horizon`. */
function findDue(tenant: Tenant, horizon: number): Due {
  const assets: AssetEntry[] = [];
  const pollableByGroup = new Map<string, AssetEntry[]>();
  for (const entry of tenant.assets.values()) {
    if (!entry.held || !pollable(entry)) continue;
    const list = pollableByGroup.get(entry.groupId!);
    if (list) list.push(entry);
    else pollableByGroup.set(entry.groupId!, [entry]);
    if (entry.nextDueAt <= horizon) assets.push(entry);
  }
  // Longest-waiting first, so that assets put off for lack of budget are read next time.
  assets.sort((x, y) => x.nextDueAt - y.nextDueAt);
  const groups = [...tenant.groups.values()].filter(
    (group) => group.held && group.loaded && group.nextDueAt <= horizon,
  );
  return { assets, pollableByGroup, groups };
}

/**
 * Step 2: reads the due assets per the source's `planReads`. A watched asset missing from a
 * complete list of not-final assets is read with `getAsset` too; what could not be read is in
 * `failed`.
 */
async function readAssets(
  deps: PollDeps,
  tenant: Tenant,
  reader: Reader,
  due: Due,
  horizon: number,
  counters: Counters,
): Promise<Omit<ReadResults, 'discovered'>> {
  const { source, settings } = deps;
  const listed: Asset[] = [];
  const fetched: Asset[] = [];
  const gone: string[] = [];
  const failed = new Map<AssetEntry, Failure>();
  const plan = source.planReads({
    due: due.assets.map((entry) => ({ id: entry.id, groupId: entry.groupId! })),
    processingByGroup: tenant.processingByGroup,
    batch: settings.batch,
  });
  const toGet = new Set(plan.gets);

  await mapLimit(plan.lists, settings.concurrency, async (groupIds) => {
    const inChunk = groupIds.flatMap((groupId) => due.pollableByGroup.get(groupId) ?? []);
    try {
      const {
        items: found,
        complete,
        total,
      } = await reader.listPages(
        { groupIds, statuses: [...source.pollStatuses], page: 1, pageSize: source.pageSize },
        counters,
      );
      listed.push(...found);
      const seen = new Set(found.map((asset) => asset.id));
      const counts = new Map(groupIds.map((groupId) => [groupId, 0]));
      for (const asset of found) counts.set(asset.groupId, (counts.get(asset.groupId) ?? 0) + 1);
      for (const [groupId, count] of counts) {
        // An incomplete list only bounds the count: assume the worst.
        tenant.processingByGroup.set(groupId, complete ? count : Math.max(count, total));
      }
      for (const entry of inChunk) {
        if (seen.has(entry.id)) continue;
        // Gone from a complete list of not-final assets: it changed (or was deleted): read it.
        if (complete) toGet.add(entry.id);
        else if (entry.nextDueAt <= horizon)
          failed.set(entry, { reason: 'RATE_BUDGET', backoff: false });
      }
    } catch (error) {
      const reason = reader.noteError('list', error, true);
      counters.errors++;
      for (const entry of inChunk) {
        if (entry.nextDueAt <= horizon) failed.set(entry, { reason, backoff: true });
      }
    }
  });

  await mapLimit([...toGet], settings.concurrency, async (id) => {
    const entry = tenant.assets.get(id);
    if (!entry || !entry.held || !pollable(entry)) return;
    if (!reader.take('asset', counters)) {
      failed.set(entry, { reason: 'RATE_BUDGET', backoff: false });
      return;
    }
    try {
      fetched.push(await reader.upstream.getAsset(reader.options, id));
    } catch (error) {
      if (isUpstreamError(error) && error.code === 'NOT_FOUND') {
        gone.push(id);
        return;
      }
      counters.errors++;
      failed.set(entry, { reason: reader.noteError('asset', error, true), backoff: true });
    }
  });

  return { listed, fetched, gone, failed };
}

/**
 * Step 3: lists due groups newest first (no status filter) and returns the assets none of them
 * knew: assets added by other clients, even ones that turned final before a list of not-final
 * assets could see them. Further pages are read only while a whole page is new. When the list's
 * total shows that assets the groups' subscribers were shown are gone, `findDeleted` looks for
 * them (deleted by other clients, final or not). An asset
 * already watched directly here is not re-read: its current state goes to the outbox, so that
 * the group's subscribers (here and on other instances) learn about it.
 */
async function sweepGroups(
  deps: PollDeps,
  tenant: Tenant,
  reader: Reader,
  groups: readonly GroupEntry[],
  counters: Counters,
  out: Outbox,
): Promise<Asset[]> {
  const { source, now } = deps;
  const { intervalMs, maxIntervalMs, backoffAfterMs, backoffFactor, concurrency } = deps.settings;
  const discovered: Asset[] = [];
  await mapLimit(chunk(groups, source.maxGroupIds), concurrency, async (batch) => {
    const byId = new Map(batch.map((group) => [group.id, group]));
    const found = new Set<string>();
    /** Assets new to the groups, and what the upstream says the groups hold now. */
    const news = new Set<string>();
    let total = 0;
    try {
      for (let page = 1; page <= MAX_SWEEP_PAGES; page++) {
        if (!reader.take('list', counters)) return;
        const result = await reader.upstream.listAssets(reader.options, {
          groupIds: [...byId.keys()],
          page,
          pageSize: source.pageSize,
        });
        total = result.total;
        let fresh = 0;
        for (const asset of result.items) {
          const group = byId.get(asset.groupId);
          if (!group || group.known.has(asset.id)) continue;
          fresh++;
          news.add(asset.id);
          found.add(asset.groupId);
          const existing = tenant.assets.get(asset.id)?.current;
          if (existing) {
            // Watched directly here already: only the group's subscribers are new to it.
            out.items.push({ kind: 'status', asset: existing });
            continue;
          }
          discovered.push(asset);
        }
        if (fresh < result.items.length || page * source.pageSize >= result.total) break;
      }
      const shown = batch.reduce((sum, group) => sum + group.known.size, news.size);
      if (total < shown) await findDeleted(deps, reader, batch, counters, out);
      const at = now();
      for (const group of batch) {
        if (found.has(group.id)) {
          group.intervalMs = intervalMs;
          group.quietSince = at;
        } else if (at - group.quietSince >= backoffAfterMs) {
          group.intervalMs = Math.min(maxIntervalMs, group.intervalMs * backoffFactor);
        }
        group.nextDueAt = at + group.intervalMs;
      }
    } catch (error) {
      counters.errors++;
      reader.noteError('list', error, true);
      const at = now();
      for (const group of batch) {
        group.intervalMs = Math.min(maxIntervalMs, group.intervalMs * 2);
        group.nextDueAt = at + group.intervalMs;
      }
    }
  });
  return discovered;
}

/**
 * Step 3b: the groups hold fewer assets than their subscribers were shown: lists them whole
 * and reads each shown asset missing from the list; those not found are staged as `deleted`
 * (final ones included: nothing else reads them). Without budget for all of it, the next sweep
 * tries again.
 */
async function findDeleted(
  deps: PollDeps,
  reader: Reader,
  groups: readonly GroupEntry[],
  counters: Counters,
  out: Outbox,
): Promise<void> {
  const { source, settings } = deps;
  const { items, complete } = await reader.listPages(
    { groupIds: groups.map((group) => group.id), page: 1, pageSize: source.pageSize },
    counters,
  );
  if (!complete) return;
  const listed = new Set(items.map((asset) => asset.id));
  const missing = groups.flatMap((group) => [...group.known].filter((id) => !listed.has(id)));
  await mapLimit(missing, settings.concurrency, async (id) => {
    if (!reader.take('asset', counters)) return;
    try {
      await reader.upstream.getAsset(reader.options, id);
    } catch (error) {
      if (isUpstreamError(error) && error.code === 'NOT_FOUND') {
        out.items.push({ kind: 'deleted', assetId: id });
        return;
      }
      counters.errors++;
      reader.noteError('asset', error, true);
    }
  });
}

/**
 * Step 4: diff what was read against the basis of what this instance speaks for; record
 * successes and failures on the entries; stage `recovered`, `deleted` and `status` items.
 */
function applyResults(deps: PollDeps, tenant: Tenant, results: ReadResults, out: Outbox): void {
  const { listed, fetched, gone, failed, discovered } = results;
  const observed = normalisePoll({ listed: [...listed, ...discovered], fetched, gone });
  const previous = new Map<string, Asset>();
  const relevant = new Map<string, Observation>();
  for (const [id, observation] of observed) {
    const entry = tenant.assets.get(id);
    if (entry) {
      // Only the lease holder speaks for an asset.
      if (!entry.held || entry.gone || entry.basis === null) continue;
      previous.set(id, entry.basis);
      relevant.set(id, observation);
    } else if (observation.kind === 'seen') {
      const group = tenant.groups.get(observation.asset.groupId);
      if (group?.held && group.loaded) relevant.set(id, observation);
    }
  }
  const changes = diffSnapshots(previous, relevant);
  const changed = new Set(changes.map((change) => change.asset.id));

  const at = deps.now();
  for (const id of relevant.keys()) {
    const entry = tenant.assets.get(id);
    if (!entry) continue;
    failed.delete(entry);
    if (entry.staleAnnounced || entry.stale) out.items.push({ kind: 'recovered', assetId: id });
    entry.staleAnnounced = false;
    succeeded(deps, entry, at, changed.has(id));
  }
  for (const change of changes) stageChange(deps, tenant, change, out);
  for (const [entry, failure] of failed) markFailed(deps, entry, at, failure);
}

function stageChange(deps: PollDeps, tenant: Tenant, change: Change, out: Outbox): void {
  if (change.kind === 'deleted') {
    out.items.push({ kind: 'deleted', assetId: change.asset.id });
    return;
  }
  const asset = change.asset;
  let entry = tenant.assets.get(asset.id);
  if (!entry) {
    // Discovered by this instance's sweep or list: known to the group from now on (its
    // subscribers get it, with `previousStatus: null`, when the message comes back).
    const discovered = deps.registry.addAsset(tenant, asset.id);
    discovered.groupId = asset.groupId;
    const group = tenant.groups.get(asset.groupId);
    group?.known.add(asset.id);
    out.reverts.push(() => {
      if (discovered.current !== null) return;
      group?.known.delete(asset.id);
      if (tenant.assets.get(asset.id) === discovered) tenant.assets.delete(asset.id);
    });
    entry = discovered;
  }
  out.reverts.push(setBasis(entry, asset));
  out.items.push({ kind: 'status', asset });
}

/**
 * Step 5: `stale` items for held assets whose reads have failed for `staleAfterMs`. Checked
 * every interval, also for assets not due yet (backed off).
 */
function announceStale(deps: PollDeps, tenant: Tenant, items: BusItem[]): void {
  const at = deps.now();
  for (const entry of tenant.assets.values()) {
    if (
      entry.held &&
      entry.failingSince !== null &&
      !entry.staleAnnounced &&
      at - entry.failingSince >= deps.settings.staleAfterMs &&
      pollable(entry)
    ) {
      entry.staleAnnounced = true;
      items.push({
        kind: 'stale',
        assetId: entry.id,
        since: entry.lastOkAt,
        reason: entry.failReason ?? 'UNKNOWN',
      });
    }
  }
}

/** A good read: the interval resets on a change or a recovery, and backs off when quiet. */
function succeeded(deps: PollDeps, entry: AssetEntry, at: number, changed: boolean): void {
  const { intervalMs, maxIntervalMs, backoffAfterMs, backoffFactor } = deps.settings;
  const wasFailing = entry.failingSince !== null;
  entry.lastOkAt = at;
  entry.failingSince = null;
  entry.failReason = null;
  if (changed || wasFailing) {
    entry.intervalMs = intervalMs;
    if (changed) entry.quietSince = at;
  } else if (at - entry.quietSince >= backoffAfterMs) {
    entry.intervalMs = Math.min(maxIntervalMs, entry.intervalMs * backoffFactor);
  }
  entry.nextDueAt = at + entry.intervalMs;
}

/** A failed (or put-off) read: an upstream error doubles the interval. */
function markFailed(deps: PollDeps, entry: AssetEntry, at: number, failure: Failure): void {
  const { intervalMs, maxIntervalMs } = deps.settings;
  entry.failingSince ??= at;
  // A read put off for budget after an upstream error (e.g. a 429 pausing the budget for its
  // Retry-After) keeps that error as the reason subscribers see.
  if (failure.backoff || entry.failReason === null) entry.failReason = failure.reason;
  if (failure.backoff) {
    entry.intervalMs = Math.min(maxIntervalMs, Math.max(entry.intervalMs, intervalMs) * 2);
    entry.nextDueAt = at + entry.intervalMs;
  }
}
