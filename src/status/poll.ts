/**
 * One tenant's share of a loop iteration, for what this instance holds the leases of: plan which
 * assets and groups are due, read them within the rate budget (`planReads` batching, group
 * sweeps), diff the answers against the published basis, adjust intervals (back-off, failures),
 * announce staleness, and publish the resulting items in one message.
 */
import { isUpstreamError } from '../upstream/errors.js';
import type { Asset, CallOptions } from '../upstream/port.js';
import { chunk, mapLimit } from '../util/map-limit.js';
import { applyStatus, publish } from './fanout.js';
import { diffSnapshots, normalisePoll, planReads, type Change, type Observation } from './diff.js';
import { listPages, noteError } from './reads.js';
import {
  callOptions,
  MAX_GROUP_IDS,
  newAssetEntry,
  PAGE_SIZE,
  pollable,
  setBasis,
  type AssetEntry,
  type Counters,
  type GroupEntry,
  type Tenant,
  type WatcherCore,
} from './registry.js';
import type { BusItem } from './bus-codec.js';

/** A sweep reads further pages only while every item is new, at most this many. */
const MAX_SWEEP_PAGES = 10;

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

/** What the iteration publishes; `reverts` undo its state changes if publishing fails. */
interface Outbox {
  items: BusItem[];
  reverts: Array<() => void>;
}

export async function pollTenant(
  w: WatcherCore,
  tenant: Tenant,
  startedAt: number,
  counters: Counters,
): Promise<void> {
  if (tenant.released) return;
  const horizon = startedAt + w.settings.intervalMs / 2;
  const due = findDue(tenant, horizon);
  const out: Outbox = { items: [], reverts: [] };
  if (due.assets.length > 0 || due.groups.length > 0) {
    const results = await readDue(w, tenant, due, horizon, counters);
    applyResults(w, tenant, results, out);
  }
  announceStale(w, tenant, out.items);
  if (out.items.length > 0 && !tenant.released && !w.stopped) {
    await publish(w, tenant, out.items, out.reverts);
  }
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

/** Step 2: read the due assets, then sweep the due groups. */
async function readDue(
  w: WatcherCore,
  tenant: Tenant,
  due: Due,
  horizon: number,
  counters: Counters,
): Promise<ReadResults> {
  const options = callOptions(w, tenant);
  const reads = await readAssets(w, tenant, options, due, horizon, counters);
  const discovered = await sweepGroups(w, tenant, options, due.groups, counters);
  return { ...reads, discovered };
}

/**
 * Step 3: diff what was read against the basis of what this instance speaks for; record
 * successes and failures on the entries; stage `recovered`, `deleted` and `status` items.
 */
function applyResults(w: WatcherCore, tenant: Tenant, results: ReadResults, out: Outbox): void {
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
  const changed = new Set(
    changes.map((change) => (change.kind === 'status' ? change.asset.id : change.assetId)),
  );

  const at = w.now();
  for (const id of relevant.keys()) {
    const entry = tenant.assets.get(id);
    if (!entry) continue;
    failed.delete(entry);
    if (entry.staleAnnounced || entry.stale) out.items.push({ kind: 'recovered', assetId: id });
    entry.staleAnnounced = false;
    succeeded(w, entry, at, changed.has(id));
  }
  for (const change of changes) stageChange(w, tenant, change, out);
  for (const [entry, failure] of failed) markFailed(w, entry, at, failure);
}

function stageChange(w: WatcherCore, tenant: Tenant, change: Change, out: Outbox): void {
  if (change.kind === 'deleted') {
    out.items.push({ kind: 'deleted', assetId: change.assetId });
    return;
  }
  const asset = change.asset;
  let entry = tenant.assets.get(asset.id);
  if (!entry) {
    // Discovered by this instance's sweep or list: known to the group from now on (its
    // subscribers get it, with `previousStatus: null`, when the message comes back).
    const discovered = newAssetEntry(w, tenant, asset.id);
    discovered.groupId = asset.groupId;
    tenant.assets.set(asset.id, discovered);
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
 * Step 4: `stale` items for held assets whose reads have failed for `staleAfterMs`. Checked
 * every interval, also for assets not due yet (backed off).
 */
function announceStale(w: WatcherCore, tenant: Tenant, items: BusItem[]): void {
  const at = w.now();
  for (const entry of tenant.assets.values()) {
    if (
      entry.held &&
      entry.failingSince !== null &&
      !entry.staleAnnounced &&
      at - entry.failingSince >= w.settings.staleAfterMs &&
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

/**
 * Reads the due assets per `planReads`. A watched asset missing from a complete
 * `PROCESSING` list is read with `getAsset` too; what could not be read is in `failed`.
 */
async function readAssets(
  w: WatcherCore,
  tenant: Tenant,
  options: CallOptions,
  due: Due,
  horizon: number,
  counters: Counters,
): Promise<Omit<ReadResults, 'discovered'>> {
  const listed: Asset[] = [];
  const fetched: Asset[] = [];
  const gone: string[] = [];
  const failed = new Map<AssetEntry, Failure>();
  const plan = planReads({
    due: due.assets.map((entry) => ({ id: entry.id, groupId: entry.groupId! })),
    processingByGroup: tenant.processingByGroup,
    batch: w.settings.batch,
  });
  const toGet = new Set(plan.gets);

  await mapLimit(plan.lists, w.settings.concurrency, async (groupIds) => {
    const inChunk = groupIds.flatMap((groupId) => due.pollableByGroup.get(groupId) ?? []);
    try {
      const {
        items: found,
        complete,
        total,
      } = await listPages(
        w,
        tenant,
        options,
        { groupIds, statuses: ['PROCESSING'], page: 1, pageSize: PAGE_SIZE },
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
        // Gone from a complete PROCESSING list: it changed (or was deleted): read it.
        if (complete) toGet.add(entry.id);
        else if (entry.nextDueAt <= horizon)
          failed.set(entry, { reason: 'RATE_BUDGET', backoff: false });
      }
    } catch (error) {
      const reason = noteError(w, tenant, 'ListAssets', error, true);
      counters.errors++;
      for (const entry of inChunk) {
        if (entry.nextDueAt <= horizon) failed.set(entry, { reason, backoff: true });
      }
    }
  });

  await mapLimit([...toGet], w.settings.concurrency, async (id) => {
    const entry = tenant.assets.get(id);
    if (!entry || !entry.held || !pollable(entry)) return;
    if (!tenant.budget.tryTake('GetAsset')) {
      failed.set(entry, { reason: 'RATE_BUDGET', backoff: false });
      return;
    }
    counters.GetAsset++;
    w.totals.pollsTotal++;
    try {
      fetched.push(await w.upstream.getAsset(options, id));
    } catch (error) {
      if (isUpstreamError(error) && error.code === 'NOT_FOUND') {
        gone.push(id);
        return;
      }
      counters.errors++;
      failed.set(entry, {
        reason: noteError(w, tenant, 'GetAsset', error, true),
        backoff: true,
      });
    }
  });

  return { listed, fetched, gone, failed };
}

/**
 * Lists due groups newest first (no status filter) and returns the assets none of them knew:
 * assets added by other clients, even ones that turned final before a `PROCESSING` list could
 * see them. Further pages are read only while a whole page is new.
 */
async function sweepGroups(
  w: WatcherCore,
  tenant: Tenant,
  options: CallOptions,
  groups: readonly GroupEntry[],
  counters: Counters,
): Promise<Asset[]> {
  const { intervalMs, maxIntervalMs, backoffAfterMs, backoffFactor } = w.settings;
  const discovered: Asset[] = [];
  await mapLimit(chunk(groups, MAX_GROUP_IDS), w.settings.concurrency, async (batch) => {
    const byId = new Map(batch.map((group) => [group.id, group]));
    const found = new Set<string>();
    try {
      for (let page = 1; page <= MAX_SWEEP_PAGES; page++) {
        if (!tenant.budget.tryTake('ListAssets')) return;
        counters.ListAssets++;
        w.totals.pollsTotal++;
        const result = await w.upstream.listAssets(options, {
          groupIds: [...byId.keys()],
          page,
          pageSize: PAGE_SIZE,
        });
        let fresh = 0;
        for (const asset of result.items) {
          const group = byId.get(asset.groupId);
          if (!group || group.known.has(asset.id)) continue;
          fresh++;
          found.add(asset.groupId);
          const existing = tenant.assets.get(asset.id)?.current;
          if (existing) {
            // Watched directly here already: only this group's subscribers are new to it.
            applyStatus(w, tenant, existing);
            continue;
          }
          discovered.push(asset);
        }
        if (fresh < result.items.length || page * PAGE_SIZE >= result.total) break;
      }
      const at = w.now();
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
      noteError(w, tenant, 'ListAssets', error, true);
      const at = w.now();
      for (const group of batch) {
        group.intervalMs = Math.min(maxIntervalMs, group.intervalMs * 2);
        group.nextDueAt = at + group.intervalMs;
      }
    }
  });
  return discovered;
}

/** A good read: the interval resets on a change or a recovery, and backs off when quiet. */
function succeeded(w: WatcherCore, entry: AssetEntry, at: number, changed: boolean): void {
  const { intervalMs, maxIntervalMs, backoffAfterMs, backoffFactor } = w.settings;
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
function markFailed(w: WatcherCore, entry: AssetEntry, at: number, failure: Failure): void {
  const { intervalMs, maxIntervalMs } = w.settings;
  entry.failingSince ??= at;
  // A read put off for budget after an upstream error (e.g. a 429 pausing the budget for its
  // Retry-After) keeps that error as the reason subscribers see.
  if (failure.backoff || entry.failReason === null) entry.failReason = failure.reason;
  if (failure.backoff) {
    entry.intervalMs = Math.min(maxIntervalMs, Math.max(entry.intervalMs, intervalMs) * 2);
    entry.nextDueAt = at + entry.intervalMs;
  }
}
