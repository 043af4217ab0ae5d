/**
 * The registry on its own: reference-counted holds, dropping what nothing uses, and the one
 * place that says "stop polling key X" (`onUnpolled`). No broker, no upstream, no loop.
 */
import { describe, expect, it } from 'vitest';
import { RateBudget } from '../../src/status/rate-budget.js';
import { Registry, leaseKey } from '../../src/status/registry.js';
import type { Asset } from '../../src/upstream/port.js';
import { SILENT_LOGGER } from '../../src/util/time.js';

const CREDENTIAL = 'key-registry-0123456789';

function asset(id: string, patch: Partial<Asset> = {}): Asset {
  return {
    id,
    groupId: 'g1',
    name: null,
    type: 'IMAGE',
    status: 'PROCESSING',
    failure: null,
    previewUrl: null,
    createdAt: null,
    updatedAt: null,
    ...patch,
  };
}

function setup() {
  const unpolled: string[] = [];
  const registry = new Registry({
    intervalMs: 1000,
    now: () => 0,
    newBudget: () => new RateBudget({ read: 1 }, () => 0),
    onUnpolled: (key) => unpolled.push(key),
    logger: SILENT_LOGGER,
  });
  return { registry, unpolled };
}

/** Claims every lease the registry offers, as if this instance won them all. */
function holdAllLeases(registry: Registry): void {
  const targets = registry.leaseTargets();
  registry.markHeld(targets, new Set(targets.map((target) => target.key)));
}

describe('status registry', () => {
  it('keys a tenant by a hash of the credential and shares it between holds', () => {
    const { registry } = setup();
    const a = registry.holdTenant(CREDENTIAL);
    const b = registry.holdTenant(CREDENTIAL);
    expect(b).toBe(a);
    expect(a.key).toMatch(/^[0-9a-f]{32}$/);
    expect(a.key).not.toContain(CREDENTIAL);
    registry.releaseTenant(a);
    expect(registry.has(a.key)).toBe(true);
    registry.releaseTenant(b);
    expect(registry.has(a.key)).toBe(false);
    expect(a.released).toBe(true);
  });

  it('drops an entry when its last hold is released, and the tenant with it', async () => {
    const { registry, unpolled } = setup();
    const tenant = registry.holdTenant(CREDENTIAL);
    let unsubscribed = 0;
    tenant.channel = Promise.resolve(async () => void unsubscribed++);
    const first = registry.holdAsset(tenant, 'a1');
    expect(registry.holdAsset(tenant, 'a1')).toBe(first);
    registry.releaseAsset(first);
    expect(tenant.assets.get('a1')).toBe(first);
    registry.releaseAsset(first);
    expect(tenant.assets.has('a1')).toBe(false);
    // Never polled here: nothing to stop.
    expect(unpolled).toEqual([]);
    registry.releaseTenant(tenant);
    expect(registry.size).toBe(0);
    await tenant.channel;
    await Promise.resolve();
    expect(unsubscribed).toBe(1);
  });

  it('reports the lease of a held entry to onUnpolled when it is dropped, once', () => {
    const { registry, unpolled } = setup();
    const tenant = registry.holdTenant(CREDENTIAL);
    const entry = registry.holdAsset(tenant, 'a1');
    registry.setFirstState(entry, asset('a1'));
    holdAllLeases(registry);
    expect(entry.held).toBe(true);
    registry.releaseAsset(entry);
    expect(unpolled).toEqual([`${tenant.key}:a:a1`]);
    expect(leaseKey(entry)).toBe(`${tenant.key}:a:a1`);
    registry.stopPolling(entry);
    expect(unpolled).toHaveLength(1);
  });

  it('keeps the assets a group knows until the group goes, then stops polling both', () => {
    const { registry, unpolled } = setup();
    const tenant = registry.holdTenant(CREDENTIAL);
    const group = registry.holdGroup(tenant, 'g1');
    group.loaded = true;
    group.known.add('a1');
    const entry = registry.addAsset(tenant, 'a1');
    registry.setFirstState(entry, asset('a1'));
    holdAllLeases(registry);
    registry.dropAssetIfUnused(entry);
    expect(tenant.assets.get('a1')).toBe(entry);
    registry.releaseGroup(group);
    expect(tenant.groups.size).toBe(0);
    expect(tenant.assets.size).toBe(0);
    expect(unpolled).toEqual([`${tenant.key}:g:g1`, `${tenant.key}:a:a1`]);
  });

  it('gives back a lease won for an entry that turned final meanwhile, and forgets failures of leases lost', () => {
    const { registry, unpolled } = setup();
    const tenant = registry.holdTenant(CREDENTIAL);
    const done = registry.holdAsset(tenant, 'done');
    const lost = registry.holdAsset(tenant, 'lost');
    registry.setFirstState(done, asset('done'));
    registry.setFirstState(lost, asset('lost'));
    lost.failingSince = 5;
    lost.staleAnnounced = true;
    const targets = registry.leaseTargets();
    expect(targets.map((target) => target.key).sort()).toEqual(
      [`${tenant.key}:a:done`, `${tenant.key}:a:lost`].sort(),
    );
    done.current = asset('done', { status: 'ACTIVE' });
    registry.markHeld(targets, new Set([`${tenant.key}:a:done`]));
    expect(done.held).toBe(false);
    expect(unpolled).toEqual([`${tenant.key}:a:done`]);
    expect(lost).toMatchObject({ held: false, failingSince: null, staleAnnounced: false });
  });

  it('releases what a subscription held when it closes', () => {
    const { registry } = setup();
    const tenant = registry.holdTenant(CREDENTIAL);
    const entry = registry.holdAsset(tenant, 'a1');
    registry.setFirstState(entry, asset('a1'));
    const subscription = registry.subscribe(tenant, undefined);
    entry.subscribers.add(subscription);
    subscription.entries.add(entry);
    registry.releaseAsset(entry);
    registry.releaseTenant(tenant);
    expect(registry.subscriptions.size).toBe(1);
    expect(registry.size).toBe(1);
    subscription.close();
    expect(registry.subscriptions.size).toBe(0);
    expect(tenant.assets.size).toBe(0);
    expect(registry.size).toBe(0);
  });
});
