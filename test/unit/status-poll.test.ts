/**
 * One tenant's poll on its own: it reads upstream and returns an outbox of bus items, with
 * reverts, and delivers nothing — there is no broker and no subscriber here at all.
 */
import { describe, expect, it } from 'vitest';
import { pollTenant, type PollDeps } from '../../src/status/poll.js';
import { RateBudget } from '../../src/status/rate-budget.js';
import { Reader } from '../../src/status/reads.js';
import { Registry, type Tenant } from '../../src/status/registry.js';
import type { Counters } from '../../src/status/settings.js';
import { arkStatusSource } from '../../src/upstream/ark/status-source.js';
import { SILENT_LOGGER, sleepUntilAborted } from '../../src/util/time.js';
import { controlledSimulator, CountingUpstream, seedAssets } from '../helpers/status-harness.js';

const KEY = 'key-poll-0123456789';
const INTERVAL = 1000;

async function setup() {
  const { sim, activate } = controlledSimulator();
  const upstream = new CountingUpstream(sim);
  let now = 1_000_000;
  const clock = () => now;
  const registry = new Registry({
    intervalMs: INTERVAL,
    now: clock,
    newBudget: () => new RateBudget(arkStatusSource.rates, clock),
    onUnpolled: () => undefined,
    logger: SILENT_LOGGER,
  });
  const totals = { pollsTotal: 0, pollErrorsTotal: 0, subscribeReadsTotal: 0 };
  const deps: PollDeps = {
    registry,
    source: arkStatusSource,
    settings: {
      intervalMs: INTERVAL,
      maxIntervalMs: 30 * INTERVAL,
      backoffAfterMs: 5 * INTERVAL,
      backoffFactor: 1.5,
      staleAfterMs: 3 * INTERVAL,
      batch: true,
      concurrency: 4,
    },
    reader: (tenant) =>
      new Reader(
        {
          upstream,
          source: arkStatusSource,
          signal: new AbortController().signal,
          now: clock,
          sleep: sleepUntilAborted,
          logger: SILENT_LOGGER,
          totals,
        },
        tenant,
      ),
    now: clock,
  };
  const counters = (): Counters => ({ calls: { asset: 0, list: 0 }, errors: 0 });
  const poll = (tenant: Tenant) => pollTenant(deps, tenant, now, counters());
  const later = (ms: number) => void (now += ms);
  return { sim, activate, upstream, registry, poll, later };
}

/** Claims every lease the registry offers, as if this instance won them all. */
function holdAllLeases(registry: Registry): void {
  const targets = registry.leaseTargets();
  registry.markHeld(targets, new Set(targets.map((target) => target.key)));
}

describe('status poll: returns what to publish, delivers nothing', () => {
  it('stages a sweep’s finds as status items: new assets and ones watched here directly', async () => {
    const { sim, upstream, registry, poll, later } = await setup();
    const {
      groupIds: [groupId],
      assetIds: [watchedId],
    } = await seedAssets(sim, KEY, 1, 1);
    const tenant = registry.holdTenant(KEY);
    // The group was loaded before `watched` existed; `watched` is watched directly.
    const group = registry.holdGroup(tenant, groupId!);
    group.loaded = true;
    const watched = registry.holdAsset(tenant, watchedId!);
    const current = await sim.getAsset({ credential: KEY }, watchedId!);
    registry.setFirstState(watched, current);
    const added = await sim.createAsset(
      { credential: KEY },
      { groupId: groupId!, url: 'https://example.com/face.jpg', type: 'IMAGE' },
    );
    holdAllLeases(registry);
    later(INTERVAL);

    const out = await poll(tenant);

    expect(upstream.count('listAssets')).toBeGreaterThan(0);
    expect(out.items.find((item) => item.kind === 'status' && item.asset.id === watchedId)).toEqual(
      { kind: 'status', asset: current },
    );
    expect(out.items).toContainEqual({
      kind: 'status',
      asset: expect.objectContaining({ id: added.id }),
    });
    // Delivery (and so the group learning `watched`) happens when the items come back from the
    // bus, not here; the discovered asset is known already, and a revert undoes that.
    expect(group.known.has(watchedId!)).toBe(false);
    expect(group.known.has(added.id)).toBe(true);
    expect(tenant.assets.has(added.id)).toBe(true);
    for (const revert of out.reverts) revert();
    expect(group.known.has(added.id)).toBe(false);
    expect(tenant.assets.has(added.id)).toBe(false);
  });

  it('stages a change with the new basis, and its revert puts the old basis back', async () => {
    const { sim, activate, registry, poll, later } = await setup();
    const {
      assetIds: [id],
    } = await seedAssets(sim, KEY, 1, 1);
    const tenant = registry.holdTenant(KEY);
    const entry = registry.holdAsset(tenant, id!);
    const before = await sim.getAsset({ credential: KEY }, id!);
    registry.setFirstState(entry, before);
    holdAllLeases(registry);
    activate();
    later(INTERVAL);

    const out = await poll(tenant);

    expect(out.items).toEqual([
      { kind: 'status', asset: expect.objectContaining({ id, status: 'ACTIVE' }) },
    ]);
    expect(entry.basis?.status).toBe('ACTIVE');
    // Nothing delivered: the subscribers' state is still the old one.
    expect(entry.current).toBe(before);
    for (const revert of out.reverts) revert();
    expect(entry.basis).toBe(before);
  });

  it('reads nothing it does not hold the lease of', async () => {
    const { sim, upstream, registry, poll, later } = await setup();
    const {
      assetIds: [id],
    } = await seedAssets(sim, KEY, 1, 1);
    const tenant = registry.holdTenant(KEY);
    const entry = registry.holdAsset(tenant, id!);
    registry.setFirstState(entry, await sim.getAsset({ credential: KEY }, id!));
    later(INTERVAL);

    const out = await poll(tenant);

    expect(out).toEqual({ items: [], reverts: [] });
    expect(upstream.count()).toBe(0);
  });
});
