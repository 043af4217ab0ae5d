/**
 * What `watch` does: check the target, hold the tenant and the entries it needs, subscribe to
 * the tenant's bus channel, read first states (coalesced across concurrent watches), and attach
 * a subscription with its first events. Holds are released whatever happens; the registry
 * drops what nothing uses any more.
 */
import { UpstreamError } from '../upstream/errors.js';
import type { Asset } from '../upstream/port.js';
import type { StatusSource } from '../upstream/status-source.js';
import { abortable, within, type LoopLogger } from '../util/time.js';
import type { PubSub } from './broker/broker.js';
import { diffAsset, isFinal } from './diff.js';
import {
  InvalidWatchTargetError,
  StatusBrokerUnavailableError,
  StatusWatcherFullError,
  StatusWatcherStoppedError,
  type StatusSubscription,
  type WatchTarget,
} from './events.js';
import { staleEvent, type Fanout } from './fanout.js';
import { publish } from './publish.js';
import type { Reader } from './reads.js';
import {
  setBasis,
  type AssetEntry,
  type GroupEntry,
  type Registry,
  type Tenant,
  type WatchSubscription,
} from './registry.js';

export interface SubscribeDeps {
  readonly registry: Registry;
  readonly fanout: Fanout;
  readonly reader: (tenant: Tenant) => Reader;
  readonly source: StatusSource;
  readonly pubsub: PubSub;
  readonly logger: LoopLogger;
  /** The most asset ids one `watch` accepts. */
  readonly maxAssetIds: number;
  /** The most assets kept over all tenants; a `watch` that would add more is refused. */
  readonly maxWatchedAssets: number;
  /** How long `watch` waits for the tenant's channel before giving up. */
  readonly brokerTimeoutMs: number;
  readonly stopped: () => boolean;
  /** Starts the loop, or wakes it: there is something to poll. */
  readonly wake: () => void;
}

/** See `StatusWatcher.watch`. */
export async function watch(
  deps: SubscribeDeps,
  target: WatchTarget,
  signal: AbortSignal | undefined,
): Promise<StatusSubscription> {
  const { registry } = deps;
  if (deps.stopped()) throw new StatusWatcherStoppedError();
  const { credential, assetIds, groupId } = validate(target, deps.maxAssetIds);
  signal?.throwIfAborted();

  const tenant = registry.holdTenant(credential);
  deps.wake();
  const entries: AssetEntry[] = [];
  let group: GroupEntry | null = null;
  try {
    await abortable(channelReady(deps, tenant), signal);
    // Checked and held with no await between: concurrent watches cannot overshoot together.
    checkRoom(deps, tenant, assetIds, groupId);
    if (groupId !== undefined) group = holdGroup(deps, tenant, groupId);
    for (const id of assetIds) entries.push(holdAsset(deps, tenant, id));
    const loads = [group?.load, ...entries.map((entry) => entry.load)].filter(
      (load): load is Promise<void> => load !== null && load !== undefined,
    );
    if (loads.length > 0) await abortable(Promise.all(loads), signal);
    if (deps.stopped()) throw new StatusWatcherStoppedError();
    signal?.throwIfAborted();
    for (const entry of entries) {
      if (entry.gone || entry.current === null) throw notFound(entry.id);
    }
    return attach(deps, tenant, entries, group, signal);
  } finally {
    for (const entry of entries) registry.releaseAsset(entry);
    if (group) registry.releaseGroup(group);
    registry.releaseTenant(tenant);
  }
}

function validate(
  target: WatchTarget,
  maxAssetIds: number,
): { credential: string; assetIds: string[]; groupId: string | undefined } {
  if (typeof target.credential !== 'string' || target.credential === '') {
    throw new UpstreamError('UNAUTHENTICATED', 'Missing credential.');
  }
  const assetIds = [...new Set(target.assetIds ?? [])];
  if (assetIds.some((id) => typeof id !== 'string' || id.trim() === '')) {
    throw new InvalidWatchTargetError('Asset ids must be non-empty strings.', 'assetIds');
  }
  if (assetIds.length > maxAssetIds) {
    throw new InvalidWatchTargetError(
      `At most ${maxAssetIds} asset ids can be watched at once.`,
      'assetIds',
    );
  }
  const groupId = target.groupId;
  if (groupId !== undefined && (typeof groupId !== 'string' || groupId.trim() === '')) {
    throw new InvalidWatchTargetError('The group id must be a non-empty string.', 'groupId');
  }
  if (assetIds.length === 0 && groupId === undefined) {
    throw new InvalidWatchTargetError('Watch at least one asset id or a group id.', 'assetIds');
  }
  return { credential: target.credential, assetIds, groupId };
}

/**
 * Refuses a watch that would add assets beyond `maxWatchedAssets`: its new asset ids, or a new
 * group (whose assets are not known yet) once the limit is reached.
 */
function checkRoom(
  deps: SubscribeDeps,
  tenant: Tenant,
  assetIds: readonly string[],
  groupId: string | undefined,
): void {
  let adding = assetIds.filter((id) => !tenant.assets.has(id)).length;
  if (groupId !== undefined && !tenant.groups.has(groupId)) adding = Math.max(adding, 1);
  if (adding > 0 && deps.registry.countAssets() + adding > deps.maxWatchedAssets) {
    throw new StatusWatcherFullError(deps.maxWatchedAssets);
  }
}

/**
 * The tenant's channel, subscribed within `brokerTimeoutMs`; otherwise (or when subscribing
 * fails) `StatusBrokerUnavailableError`. A subscribe still pending is kept: the next watch
 * waits on the same one, and it takes effect when the broker is back.
 */
async function channelReady(deps: SubscribeDeps, tenant: Tenant): Promise<void> {
  try {
    await within(
      ensureChannel(deps, tenant),
      deps.brokerTimeoutMs,
      () => new StatusBrokerUnavailableError(),
    );
  } catch (error) {
    if (error instanceof StatusBrokerUnavailableError) throw error;
    throw new StatusBrokerUnavailableError({ cause: error });
  }
}

/** Subscribes the tenant to its bus channel once; what arrives goes to the fan-out. */
function ensureChannel(deps: SubscribeDeps, tenant: Tenant): Promise<() => Promise<void>> {
  if (!tenant.channel) {
    const channel = deps.pubsub.subscribe(tenant.key, (message) =>
      deps.fanout.receive(tenant, message),
    );
    tenant.channel = channel;
    channel.catch(() => {
      if (tenant.channel === channel) tenant.channel = null;
    });
  }
  return tenant.channel;
}

/** The asset's entry, held for a `watch` (its initial read started if needed). */
function holdAsset(deps: SubscribeDeps, tenant: Tenant, id: string): AssetEntry {
  const entry = deps.registry.holdAsset(tenant, id);
  if (entry.current === null && entry.load === null && !entry.gone) {
    entry.load = loadAsset(deps, entry);
  }
  return entry;
}

/** The group's entry, held for a `watch` (its initial read started if new). */
function holdGroup(deps: SubscribeDeps, tenant: Tenant, id: string): GroupEntry {
  const group = deps.registry.holdGroup(tenant, id);
  if (!group.loaded && group.load === null) group.load = loadGroup(deps, group);
  return group;
}

function loadAsset(deps: SubscribeDeps, entry: AssetEntry): Promise<void> {
  const tenant = entry.tenant;
  const reader = deps.reader(tenant);
  const loading = (entry.loading = new AbortController());
  const load: Promise<void> = reader
    .initial('asset', (options) => reader.upstream.getAsset(options, entry.id), loading.signal)
    .then(
      (asset) => {
        if (entry.load === load) [entry.load, entry.loading] = [null, null];
        applyRead(deps, entry, asset);
      },
      (error: unknown) => {
        if (entry.load === load) [entry.load, entry.loading] = [null, null];
        if (entry.current === null && tenant.assets.get(entry.id) === entry) {
          tenant.assets.delete(entry.id);
        }
        throw error;
      },
    );
  load.catch(() => undefined);
  return load;
}

function loadGroup(deps: SubscribeDeps, group: GroupEntry): Promise<void> {
  const { registry, source } = deps;
  const tenant = group.tenant;
  const reader = deps.reader(tenant);
  const { signal } = (group.loading = new AbortController());
  const load: Promise<void> = (async () => {
    await reader.initial('group', (options) => reader.upstream.getGroup(options, group.id), signal);
    const listed: Asset[] = [];
    let pages = 1;
    for (let page = 1; page <= pages; page++) {
      const result = await reader.initial(
        'list',
        (options) =>
          reader.upstream.listAssets(options, {
            groupIds: [group.id],
            page,
            pageSize: source.pageSize,
          }),
        signal,
      );
      listed.push(...result.items);
      pages = Math.ceil(result.total / source.pageSize);
      if (result.items.length === 0) break;
    }
    if (tenant.groups.get(group.id) !== group) return;
    for (const asset of listed) {
      if (asset.groupId !== group.id || group.known.has(asset.id)) continue;
      group.known.add(asset.id);
      const entry = tenant.assets.get(asset.id) ?? registry.addAsset(tenant, asset.id);
      if (!entry.gone) applyRead(deps, entry, asset);
    }
  })().then(
    () => {
      [group.load, group.loading] = [null, null];
      group.loaded = true;
    },
    (error: unknown) => {
      [group.load, group.loading] = [null, null];
      registry.dropUnloadedGroup(group);
      throw error;
    },
  );
  load.catch(() => undefined);
  return load;
}

/**
 * An answer read outside the loop (initial state). A first answer becomes the entry's state
 * silently (nobody here has seen the asset); a change to a known asset is published like a
 * poll's.
 */
function applyRead(deps: SubscribeDeps, entry: AssetEntry, asset: Asset): void {
  if (entry.current === null) {
    deps.registry.setFirstState(entry, asset);
    return;
  }
  if (entry.basis && !diffAsset(entry.basis, asset)) return;
  if (!diffAsset(entry.current, asset)) return;
  const revert = setBasis(entry, asset);
  void publish(deps, entry.tenant.key, { items: [{ kind: 'status', asset }], reverts: [revert] });
}

/**
 * A new subscription to `entries` and `group`, with the first event of each asset queued (and a
 * `stale` one for those known to be stale).
 */
function attach(
  deps: SubscribeDeps,
  tenant: Tenant,
  entries: readonly AssetEntry[],
  group: GroupEntry | null,
  signal: AbortSignal | undefined,
): WatchSubscription {
  const { fanout } = deps;
  const subscription = deps.registry.subscribe(tenant, signal);
  const sent = new Set<string>();
  const stale: AssetEntry[] = [];
  const open = group ? null : new Set<string>();
  const first = (entry: AssetEntry) => {
    sent.add(entry.id);
    fanout.push(subscription, { kind: 'status', asset: entry.current!, previousStatus: null });
    if (entry.stale) stale.push(entry);
  };
  for (const entry of entries) {
    entry.subscribers.add(subscription);
    subscription.entries.add(entry);
    first(entry);
    if (open && !isFinal(entry.current!.status)) open.add(entry.id);
  }
  if (group) {
    group.subscribers.add(subscription);
    subscription.group = group;
    for (const id of group.known) {
      const entry = tenant.assets.get(id);
      if (sent.has(id) || !entry?.current || entry.gone) continue;
      first(entry);
    }
  }
  for (const entry of stale) fanout.push(subscription, staleEvent(entry));
  subscription.open = open;
  if (open && open.size === 0) subscription.finish();
  return subscription;
}

function notFound(assetId: string): UpstreamError {
  return new UpstreamError('NOT_FOUND', `The specified asset ${assetId} is not found.`, {
    upstreamCode: 'NotFound.asset_id',
  });
}
