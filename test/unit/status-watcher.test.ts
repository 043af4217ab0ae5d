import { afterEach, describe, expect, it } from 'vitest';
import {
  createMemoryBroker,
  createStatusWatcher,
  InvalidWatchTargetError,
  StatusBrokerUnavailableError,
  StatusWatcherFullError,
  StatusWatcherStoppedError,
  type StatusBroker,
  type StatusWatcher,
  type StatusWatcherOptions,
} from '../../src/status/index.js';
import { arkStatusSource } from '../../src/upstream/ark/status-source.js';
import { UpstreamError } from '../../src/upstream/errors.js';
import type { AssetQuery, CallOptions } from '../../src/upstream/port.js';
import {
  controlledSimulator,
  CountingUpstream,
  EventLog,
  seedAssets,
  TickLog,
  waitFor,
} from '../helpers/status-harness.js';

const KEY_A = 'key-a-0123456789';
const KEY_B = 'key-b-9876543210';

const stoppers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(stoppers.splice(0).map((stop) => stop()));
});

function setup(options: Partial<StatusWatcherOptions> = {}) {
  const { sim, activate } = controlledSimulator();
  const upstream = new CountingUpstream(sim);
  const ticks = new TickLog();
  const watcher = createStatusWatcher({
    upstream,
    source: arkStatusSource,
    intervalMs: 20,
    maxIntervalMs: 80,
    onTick: ticks.onTick,
    ...options,
  });
  stoppers.push(() => watcher.stop());
  return { sim, activate, upstream, ticks, watcher };
}

/**
 * Proves that nothing reads `ids` any more: with another key's subscription keeping the loop
 * busy (an idle loop does not tick), three more intervals pass without such a read.
 */
async function expectNoMoreReads(
  { sim, upstream, ticks, watcher }: ReturnType<typeof setup>,
  ids: readonly string[],
): Promise<void> {
  const watched = new Set(ids);
  const touches = () => upstream.reads.filter((read) => read.ids.some((id) => watched.has(id)));
  const before = touches().length;
  const canary = await seedAssets(sim, KEY_B, 1, 1);
  const subscription = await watcher.watch({ credential: KEY_B, assetIds: canary.assetIds });
  await ticks.next(3);
  expect(touches().length).toBe(before);
  await subscription.return();
}

function expectIdle(watcher: StatusWatcher): void {
  expect(watcher.stats()).toMatchObject({
    subscribers: 0,
    pendingWatches: 0,
    credentials: 0,
    watchedAssets: 0,
    watchedGroups: 0,
    heldLeases: 0,
  });
}

describe('status watcher: one loop for every subscriber', () => {
  it.each([
    { batch: false, perInterval: 100 },
    { batch: true, perInterval: 10 },
  ])(
    'reads each asset at most once per interval for 1,000 subscribers (batch: $batch)',
    async ({ batch, perInterval }) => {
      // Enough GetAsset budget to read all 100 at once when they finish (the default 100/s
      // was spent on the initial reads, and would spread them over a second).
      const harness = setup({ batch, rateLimits: { GetAsset: 1000 } });
      const { sim, activate, upstream, ticks, watcher } = harness;
      const { assetIds } = await seedAssets(sim, KEY_A, 10, 10);

      const logs = await Promise.all(
        Array.from({ length: 1000 }, async (_, i) => {
          const ids = [assetIds[i % 100]!, assetIds[(i * 7 + 3) % 100]!];
          return new EventLog(await watcher.watch({ credential: KEY_A, assetIds: ids }));
        }),
      );
      // Initial state: one read per asset, however many subscribers asked at once.
      expect(upstream.count('getAsset')).toBe(100);
      expect(watcher.stats()).toMatchObject({ subscribers: 1000, watchedAssets: 100 });

      for (const tick of await ticks.next(4)) {
        expect(tick.calls.asset + tick.calls.list).toBeLessThanOrEqual(perInterval);
      }
      if (batch) expect(upstream.count('getAsset')).toBe(100);

      activate();
      await Promise.all(logs.map((log) => log.untilDone()));
      for (const [i, log] of logs.entries()) {
        const id = assetIds[i % 100]!;
        expect(log.statuses(id)).toEqual([
          [null, 'PROCESSING'],
          ['PROCESSING', 'ACTIVE'],
        ]);
      }
      // Every subscription ended after its last final event, which released everything.
      expectIdle(watcher);
      await expectNoMoreReads(harness, assetIds);
    },
  );

  it('reads nothing for final assets while subscribers stay connected', async () => {
    const { sim, activate, upstream, ticks, watcher } = setup();
    const { groupIds } = await seedAssets(sim, KEY_A, 2, 5);
    const log = new EventLog(await watcher.watch({ credential: KEY_A, groupId: groupIds[0] }));
    await log.until((events) => events.length === 5, 'initial state');
    activate();
    await log.until((events) => events.length === 10, 'the final statuses');
    expect(watcher.stats()).toMatchObject({ subscribers: 1, watchedAssets: 5, pollingAssets: 0 });
    const lists = upstream.count('listAssets');
    const gets = upstream.count('getAsset');
    await ticks.next(3);
    // The group is still swept for new assets (backing off); the final assets are never read.
    expect(upstream.count('getAsset')).toBe(gets);
    expect(upstream.count('listAssets') - lists).toBeLessThanOrEqual(3);
  });

  it('sends a new subscriber the current status first, also when the asset is already final', async () => {
    const { sim, activate, watcher } = setup();
    const { assetIds } = await seedAssets(sim, KEY_A, 1, 2);
    const first = new EventLog(await watcher.watch({ credential: KEY_A, assetIds }));
    await first.until((events) => events.length === 2, 'initial state');
    expect(first.events.map((e) => e.kind === 'status' && e.previousStatus)).toEqual([null, null]);
    activate();
    await first.untilDone();

    const late = new EventLog(await watcher.watch({ credential: KEY_A, assetIds }));
    const events = await late.untilDone();
    expect(events).toHaveLength(2);
    for (const event of events) {
      expect(event).toMatchObject({
        kind: 'status',
        previousStatus: null,
        asset: { status: 'ACTIVE' },
      });
    }
  });

  it('serves a second subscriber from the shared state without reading upstream', async () => {
    const { sim, upstream, watcher } = setup();
    const { assetIds } = await seedAssets(sim, KEY_A, 1, 3);
    new EventLog(await watcher.watch({ credential: KEY_A, assetIds }));
    const reads = upstream.count('getAsset');
    const second = new EventLog(
      await watcher.watch({ credential: KEY_A, assetIds: [assetIds[1]!] }),
    );
    await second.until((events) => events.length === 1, 'initial state');
    expect(upstream.count('getAsset')).toBe(reads);
  });

  it('backs off for assets that stay PROCESSING, up to maxIntervalMs', async () => {
    const { sim, upstream, ticks, watcher } = setup({
      batch: false,
      backoffAfterMs: 0,
      maxIntervalMs: 200,
    });
    const { assetIds } = await seedAssets(sim, KEY_A, 1, 1);
    new EventLog(await watcher.watch({ credential: KEY_A, assetIds }));
    await ticks.next(30);
    const reads = upstream.reads.filter((r) => r.method === 'getAsset').map((r) => r.at);
    const gaps = reads.slice(1).map((at, i) => at - reads[i]!);
    // 30 ticks of 20 ms: without back-off that would be ~30 reads.
    expect(reads.length).toBeLessThan(15);
    expect(Math.max(...gaps)).toBeGreaterThanOrEqual(100);
  });
});

describe('status watcher: groups', () => {
  it('sees assets added to a watched group later: by a sweep, and at once via noteAssetAdded', async () => {
    const { sim, activate, upstream, watcher } = setup();
    const { groupIds } = await seedAssets(sim, KEY_A, 1, 2);
    const groupId = groupIds[0]!;
    const log = new EventLog(await watcher.watch({ credential: KEY_A, groupId }));
    await log.until((events) => events.length === 2, 'initial state');

    // Added by another client: discovered by polling.
    const { id: external } = await sim.createAsset(
      { credential: KEY_A },
      { groupId, url: 'https://example.com/b.jpg', type: 'IMAGE' },
    );
    await log.until(() => log.statuses(external).length === 1, 'the external asset');
    expect(log.statuses(external)).toEqual([[null, 'PROCESSING']]);

    // Added through the gateway: delivered before the next poll.
    const { id: added } = await sim.createAsset(
      { credential: KEY_A },
      { groupId, url: 'https://example.com/c.jpg', type: 'IMAGE' },
    );
    const reads = upstream.reads.length;
    watcher.noteAssetAdded(KEY_A, await sim.getAsset({ credential: KEY_A }, added));
    await log.until(() => log.statuses(added).length === 1, 'the noted asset');
    expect(upstream.reads.length).toBe(reads);
    expect(log.statuses(added)).toEqual([[null, 'PROCESSING']]);

    activate();
    await log.until(
      () => [external, added].every((id) => log.statuses(id).length === 2),
      'the new assets to finish',
    );
    expect(log.statuses(added)).toEqual([
      [null, 'PROCESSING'],
      ['PROCESSING', 'ACTIVE'],
    ]);
  });

  it('discovers an asset that was added and finished between two polls', async () => {
    const { sim, activate, watcher } = setup();
    const { groupIds } = await seedAssets(sim, KEY_A, 1, 1);
    const groupId = groupIds[0]!;
    const log = new EventLog(await watcher.watch({ credential: KEY_A, groupId }));
    const { id } = await sim.createAsset(
      { credential: KEY_A },
      { groupId, url: 'https://example.com/fail-face.jpg', type: 'IMAGE' },
    );
    activate();
    await log.until(() => log.statuses(id).length > 0, 'the finished asset');
    expect(log.statuses(id)).toEqual([[null, 'FAILED']]);
  });

  it('ends the watch of a deleted asset with a deleted event', async () => {
    const { sim, watcher } = setup();
    const { assetIds, groupIds } = await seedAssets(sim, KEY_A, 1, 2);
    const direct = new EventLog(
      await watcher.watch({ credential: KEY_A, assetIds: [assetIds[0]!] }),
    );
    const group = new EventLog(await watcher.watch({ credential: KEY_A, groupId: groupIds[0] }));
    await sim.deleteAsset({ credential: KEY_A }, assetIds[0]!);
    const events = await direct.untilDone();
    expect(events.at(-1)).toEqual({
      kind: 'deleted',
      asset: expect.objectContaining({
        id: assetIds[0],
        groupId: groupIds[0],
        status: 'PROCESSING',
      }),
    });
    await group.until((e) => e.some((event) => event.kind === 'deleted'), 'the deletion');
    expect(group.done).toBe(false);
  });
});

describe('status watcher: deletions of final assets', () => {
  async function finalGroup() {
    const harness = setup();
    const { sim, activate, watcher } = harness;
    const { assetIds, groupIds } = await seedAssets(sim, KEY_A, 1, 3);
    activate();
    const group = new EventLog(await watcher.watch({ credential: KEY_A, groupId: groupIds[0] }));
    await group.until(
      () => assetIds.every((id) => group.statuses(id).length === 1),
      'the first events',
    );
    expect(group.statuses(assetIds[0]!)).toEqual([[null, 'ACTIVE']]);
    return { ...harness, assetIds, groupId: groupIds[0]!, group };
  }

  const deletedEvent = (assetId: string, groupId: string) => ({
    kind: 'deleted',
    asset: expect.objectContaining({ id: assetId, groupId, status: 'ACTIVE' }),
  });

  it('tells group subscribers at once about a final asset deleted through the gateway', async () => {
    const { sim, watcher, assetIds, groupId, group } = await finalGroup();
    await sim.deleteAsset({ credential: KEY_A }, assetIds[1]!);
    watcher.noteAssetDeleted(KEY_A, assetIds[1]!);
    await group.until((e) => e.some((event) => event.kind === 'deleted'), 'the deletion', 1000);
    expect(group.events.filter((event) => event.kind === 'deleted')).toEqual([
      deletedEvent(assetIds[1]!, groupId),
    ]);
    expect(group.done).toBe(false);
  });

  it('finds a final asset deleted elsewhere on the next group sweep, once', async () => {
    const { sim, ticks, watcher, assetIds, groupId, group } = await finalGroup();
    await sim.deleteAsset({ credential: KEY_A }, assetIds[2]!);
    await group.until((e) => e.some((event) => event.kind === 'deleted'), 'the deletion');
    await ticks.next(5);
    expect(group.events.filter((event) => event.kind === 'deleted')).toEqual([
      deletedEvent(assetIds[2]!, groupId),
    ]);
    // The others stand; a new subscriber is not shown the deleted one.
    const late = new EventLog(await watcher.watch({ credential: KEY_A, groupId }));
    await late.until((e) => e.length === 2, 'the first events');
    expect(late.events.map((event) => event.kind === 'status' && event.asset.id).sort()).toEqual(
      [assetIds[0], assetIds[1]].sort(),
    );
  });
});

describe('status watcher: credentials', () => {
  it('checks at subscribe time that the credential can read the asset or group', async () => {
    const { sim, watcher } = setup();
    const { assetIds, groupIds } = await seedAssets(sim, KEY_A, 1, 1);
    const asB = { credential: KEY_B };
    await expect(watcher.watch({ ...asB, assetIds })).rejects.toMatchObject({
      name: 'UpstreamError',
      code: 'NOT_FOUND',
    });
    await expect(watcher.watch({ ...asB, groupId: groupIds[0] })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    // Also when key A already watches it: the shared state is per credential.
    new EventLog(await watcher.watch({ credential: KEY_A, assetIds }));
    await expect(watcher.watch({ ...asB, assetIds })).rejects.toBeInstanceOf(UpstreamError);
    await expect(watcher.watch({ credential: '', assetIds })).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
    });
  });

  it("never sends one key's events to another key's subscriber", async () => {
    const { sim, activate, watcher } = setup();
    const a = await seedAssets(sim, KEY_A, 1, 3);
    const b = await seedAssets(sim, KEY_B, 1, 3);
    const logA = new EventLog(await watcher.watch({ credential: KEY_A, groupId: a.groupIds[0] }));
    const logB = new EventLog(await watcher.watch({ credential: KEY_B, groupId: b.groupIds[0] }));
    const added = await sim.createAsset(
      { credential: KEY_A },
      { groupId: a.groupIds[0]!, url: 'https://example.com/x.jpg', type: 'IMAGE' },
    );
    watcher.noteAssetAdded(KEY_A, await sim.getAsset({ credential: KEY_A }, added.id));
    activate();
    await logA.until((events) => events.length === 8, "key A's events");
    await logB.until((events) => events.length === 6, "key B's events");
    const ids = (log: EventLog) =>
      new Set(log.events.map((e) => (e.kind === 'status' ? e.asset.id : '?')));
    expect(ids(logA)).toEqual(new Set([...a.assetIds, added.id]));
    expect(ids(logB)).toEqual(new Set(b.assetIds));
  });

  it('never puts a credential in channel names or lease keys', async () => {
    const inner = createMemoryBroker();
    const names: string[] = [];
    const broker: StatusBroker = {
      pubsub: {
        publish: (channel, message) => {
          names.push(channel);
          expect(message).not.toContain(KEY_A);
          return inner.pubsub.publish(channel, message);
        },
        subscribe: (channel, handler) => {
          names.push(channel);
          return inner.pubsub.subscribe(channel, handler);
        },
      },
      leases: {
        claim: (owner, keys, ttl) => {
          names.push(...keys);
          return inner.leases.claim(owner, keys, ttl);
        },
        release: (owner, keys) => inner.leases.release(owner, keys),
      },
      close: () => inner.close(),
    };
    const { sim, activate, ticks, watcher } = setup({ broker });
    const { assetIds } = await seedAssets(sim, KEY_A, 1, 2);
    const log = new EventLog(await watcher.watch({ credential: KEY_A, assetIds }));
    await ticks.next(2);
    activate();
    await log.untilDone();
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) expect(name).not.toContain(KEY_A);
  });
});

describe('status watcher: upstream failures', () => {
  it('backs off, tells subscribers the status is stale, and recovers by itself', async () => {
    const { sim, activate, upstream, ticks, watcher } = setup({
      batch: false,
      staleAfterMs: 60,
      maxIntervalMs: 160,
    });
    const { assetIds } = await seedAssets(sim, KEY_A, 1, 2);
    const log = new EventLog(await watcher.watch({ credential: KEY_A, assetIds }));
    await ticks.next(1);

    upstream.failure = new UpstreamError('UPSTREAM_UNAVAILABLE', 'down', { status: 503 });
    const failingFrom = upstream.reads.length;
    await log.until((events) => events.some((e) => e.kind === 'stale'), 'a stale event');
    await log.until(
      (events) => events.filter((e) => e.kind === 'stale').length === 2,
      'a stale event per asset',
    );
    const stale = log.events.filter((e) => e.kind === 'stale');
    for (const event of stale) {
      expect(event).toMatchObject({ kind: 'stale', reason: 'UPSTREAM_UNAVAILABLE' });
      expect(event.kind === 'stale' && event.since).toBeInstanceOf(Date);
      expect(event.asset.status).toBe('PROCESSING');
    }
    expect(stale.map((event) => event.asset.id).sort()).toEqual([...assetIds].sort());

    // Backing off: over 15 more intervals, far fewer than 15 reads per asset.
    await ticks.next(15);
    const failedReads = upstream.reads.length - failingFrom;
    expect(failedReads).toBeLessThan(2 * 10);
    expect(watcher.stats().pollErrorsTotal).toBe(failedReads);

    upstream.failure = null;
    await log.until((events) => events.some((e) => e.kind === 'recovered'), 'recovery');
    activate();
    await log.untilDone();
    const kinds = log.events.map((e) => e.kind);
    expect(kinds.filter((k) => k === 'stale')).toHaveLength(2);
    expect(kinds.indexOf('recovered')).toBeGreaterThan(kinds.lastIndexOf('stale'));
    for (const id of assetIds) {
      expect(log.statuses(id)).toEqual([
        [null, 'PROCESSING'],
        ['PROCESSING', 'ACTIVE'],
      ]);
    }
  });

  it('honours Retry-After of a RATE_LIMITED answer', async () => {
    const { sim, upstream, ticks, watcher } = setup({ batch: false });
    const { assetIds } = await seedAssets(sim, KEY_A, 1, 1);
    new EventLog(await watcher.watch({ credential: KEY_A, assetIds }));
    upstream.failure = new UpstreamError('RATE_LIMITED', 'slow down', { retryAfter: 1 });
    await waitFor(() => watcher.stats().pollErrorsTotal === 1, 'the rate-limited read');
    upstream.failure = null;
    const reads = upstream.reads.length;
    await ticks.next(10);
    expect(upstream.reads.length).toBe(reads);
  });
});

describe('status watcher: rate budget', () => {
  it('never exceeds the budget per credential; what it cannot read goes stale', async () => {
    const { sim, upstream, ticks, watcher } = setup({
      batch: false,
      rateLimits: { GetAsset: 20 },
      staleAfterMs: 60,
    });
    const { assetIds } = await seedAssets(sim, KEY_A, 1, 10);
    const log = new EventLog(await watcher.watch({ credential: KEY_A, assetIds }));
    const from = Date.now();
    const initial = upstream.count('getAsset');
    await ticks.next(10);
    const reads = upstream.count('getAsset') - initial;
    // 10 tokens left of the burst of 20, plus 20/s: far below 10 reads per interval.
    expect(reads).toBeLessThanOrEqual(10 + Math.ceil(((Date.now() - from) * 20) / 1000) + 1);
    await log.until((events) => events.some((e) => e.kind === 'stale'), 'a stale event');
    expect(log.events.find((e) => e.kind === 'stale')).toMatchObject({ reason: 'RATE_BUDGET' });
  });
});

describe('status watcher: releasing state', () => {
  it('releases everything after many abrupt closes, also before the first event', async () => {
    const harness = setup();
    const { sim, watcher } = harness;
    const { assetIds, groupIds } = await seedAssets(sim, KEY_A, 2, 5);
    const target = (i: number) =>
      i % 3 === 0
        ? { credential: KEY_A, groupId: groupIds[i % 2] }
        : { credential: KEY_A, assetIds: [assetIds[i % 10]!, assetIds[(i + 1) % 10]!] };

    const closes = Array.from({ length: 300 }, async (_, i) => {
      const controller = new AbortController();
      const pending = watcher.watch(target(i), { signal: controller.signal });
      switch (i % 4) {
        case 0: // aborted while still reading its initial state
          controller.abort();
          await expect(pending).rejects.toBeDefined();
          return;
        case 1: // closed before reading anything
          await (await pending).return();
          return;
        case 2: {
          // aborted after the first event
          const subscription = await pending;
          await subscription.next();
          controller.abort();
          expect(await subscription.next()).toEqual({ done: true, value: undefined });
          return;
        }
        default: {
          // for await ... break
          for await (const event of await pending) {
            expect(event.kind).toBe('status');
            break;
          }
        }
      }
    });
    await Promise.all(closes);
    expectIdle(watcher);
    await expectNoMoreReads(harness, [...assetIds, ...groupIds]);
  });

  it('holds 10,000 subscriptions cheaply and releases them all', async () => {
    const { sim, ticks, watcher } = setup({ intervalMs: 50 });
    const { assetIds } = await seedAssets(sim, KEY_A, 10, 10);
    const subscriptions = await Promise.all(
      Array.from({ length: 10_000 }, (_, i) =>
        watcher.watch({ credential: KEY_A, assetIds: [assetIds[i % 100]!] }),
      ),
    );
    expect(watcher.stats()).toMatchObject({ subscribers: 10_000, watchedAssets: 100 });
    // Cheap means the work follows the 100 assets, not the 10,000 subscribers: a poll makes at
    // most one read per asset (time figures live in `npm run bench:subscriptions`).
    const [tick] = await ticks.next(1);
    expect(tick!.calls.asset + tick!.calls.list).toBeLessThanOrEqual(100);
    await Promise.all(subscriptions.map((s) => s.return()));
    expectIdle(watcher);
  });

  it('ends subscriptions and refuses new ones when stopped', async () => {
    const { sim, watcher } = setup();
    const { assetIds } = await seedAssets(sim, KEY_A, 1, 1);
    const log = new EventLog(await watcher.watch({ credential: KEY_A, assetIds }));
    await watcher.stop();
    await log.untilDone();
    expectIdle(watcher);
    await expect(watcher.watch({ credential: KEY_A, assetIds })).rejects.toBeInstanceOf(
      StatusWatcherStoppedError,
    );
  });

  it('rejects targets it cannot use', async () => {
    const { watcher } = setup({ maxAssetIds: 2 });
    await expect(watcher.watch({ credential: KEY_A })).rejects.toBeInstanceOf(
      InvalidWatchTargetError,
    );
    await expect(
      watcher.watch({ credential: KEY_A, assetIds: ['a', 'b', 'c'] }),
    ).rejects.toMatchObject({ field: 'assetIds' });
    await expect(watcher.watch({ credential: KEY_A, groupId: ' ' })).rejects.toMatchObject({
      field: 'groupId',
    });
    expectIdle(watcher);
  });
});

describe('status watcher: several instances on one broker', () => {
  it('polls each asset from one instance and takes over when it dies', async () => {
    const { sim, activate } = controlledSimulator();
    const broker = createMemoryBroker();
    const make = () => {
      const upstream = new CountingUpstream(sim);
      const ticks = new TickLog();
      const watcher = createStatusWatcher({
        upstream,
        source: arkStatusSource,
        broker,
        batch: false,
        intervalMs: 20,
        leaseTtlMs: 60,
        onTick: ticks.onTick,
      });
      stoppers.push(() => watcher.stop());
      return { upstream, ticks, watcher };
    };
    const one = make();
    const two = make();
    const { assetIds } = await seedAssets(sim, KEY_A, 1, 4);
    const logOne = new EventLog(await one.watcher.watch({ credential: KEY_A, assetIds }));
    await waitFor(() => one.watcher.stats().heldLeases === 4, 'instance one to hold the leases');
    const logTwo = new EventLog(await two.watcher.watch({ credential: KEY_A, assetIds }));
    const twoReads = two.upstream.reads.length;
    await two.ticks.next(3);
    expect(two.upstream.reads.length).toBe(twoReads);

    await one.watcher.stop({ releaseLeases: false });
    await logOne.untilDone();
    await waitFor(() => two.watcher.stats().heldLeases === 4, 'the takeover', 1000);
    activate();
    await logTwo.untilDone();
    for (const id of assetIds) {
      expect(logTwo.statuses(id)).toEqual([
        [null, 'PROCESSING'],
        ['PROCESSING', 'ACTIVE'],
      ]);
    }
    await broker.close();
  });

  it('tells every instance’s group subscribers about an asset a sweep finds watched directly', async () => {
    const { sim } = controlledSimulator();
    const broker = createMemoryBroker();
    /** Lists without `hidden`, as if it had been added after the lists were read. */
    class HidingUpstream extends CountingUpstream {
      hidden: string | null = null;
      override async listAssets(opts: CallOptions, query: AssetQuery) {
        const page = await super.listAssets(opts, query);
        return { ...page, items: page.items.filter((asset) => asset.id !== this.hidden) };
      }
    }
    const make = (upstream: CountingUpstream) => {
      const watcher = createStatusWatcher({
        upstream,
        source: arkStatusSource,
        broker,
        intervalMs: 20,
        maxIntervalMs: 80,
      });
      stoppers.push(() => watcher.stop());
      return watcher;
    };
    const oneUpstream = new HidingUpstream(sim);
    const one = make(oneUpstream);
    const two = make(new CountingUpstream(sim));
    const {
      groupIds: [groupId],
    } = await seedAssets(sim, KEY_A, 1, 1);
    const oneGroup = new EventLog(await one.watch({ credential: KEY_A, groupId }));
    await waitFor(() => one.stats().heldLeases === 2, 'instance one to hold the leases');
    const twoGroup = new EventLog(await two.watch({ credential: KEY_A, groupId }));

    // An asset added behind the watchers' backs, watched directly on instance one before its
    // group sweep can see it.
    const { id } = await sim.createAsset(
      { credential: KEY_A },
      { groupId: groupId!, url: 'https://example.com/face.jpg', type: 'IMAGE' },
    );
    oneUpstream.hidden = id;
    const direct = new EventLog(await one.watch({ credential: KEY_A, assetIds: [id] }));
    await direct.until((events) => events.length === 1, 'the first event');
    oneUpstream.hidden = null;

    // Instance one's sweep finds it; instance two polls nothing and learns it from the bus.
    await twoGroup.until(() => twoGroup.statuses(id).length > 0, 'instance two to learn it');
    await oneGroup.until(() => oneGroup.statuses(id).length > 0, 'instance one to learn it');
    expect(twoGroup.statuses(id)).toEqual([[null, 'PROCESSING']]);
    expect(oneGroup.statuses(id)).toEqual([[null, 'PROCESSING']]);
    expect(direct.statuses(id)).toEqual([[null, 'PROCESSING']]);
    expect(two.stats().heldLeases).toBe(0);
    await broker.close();
  });
});

describe('status watcher: reads nobody waits for', () => {
  it('cancels the waiting reads of watches that left, and makes only the reads still wanted', async () => {
    const { upstream, watcher } = setup({ rateLimits: { GetAsset: 50 } });
    // 50 watches of 100 made-up ids each (the most one socket may hold), as one client can.
    const watches = Array.from({ length: 50 }, (_, w) => {
      const controller = new AbortController();
      const assetIds = Array.from({ length: 100 }, (_, i) => `made-up-${w}-${i}`);
      const pending = watcher.watch({ credential: KEY_A, assetIds }, { signal: controller.signal });
      pending.catch(() => undefined);
      return { controller, pending };
    });
    await waitFor(() => upstream.count('getAsset') >= 5, 'the first reads');
    // The client leaves: every watch is aborted while most of its reads still wait for budget.
    const leftAt = Date.now();
    for (const { controller } of watches) controller.abort();
    for (const { pending } of watches) await expect(pending).rejects.toBeDefined();
    await waitFor(() => watcher.stats().pendingWatches === 0, 'the watches to end');
    expect(Date.now() - leftAt).toBeLessThan(1000);
    expect(watcher.stats()).toMatchObject({ credentials: 0, watchedAssets: 0 });

    // Nothing reads for them any more (at 50 a second, a read a 20 ms turn would show).
    const readsThen = upstream.count('getAsset');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(upstream.count('getAsset')).toBe(readsThen);
    expect(readsThen).toBeLessThan(100);
  });

  it('stops reading for a watch as soon as one of its assets is not found', async () => {
    const { sim, upstream, watcher } = setup({ rateLimits: { GetAsset: 50 } });
    const { assetIds } = await seedAssets(sim, KEY_A, 1, 1);
    const ids = [...assetIds, ...Array.from({ length: 99 }, (_, i) => `made-up-${i}`)];
    await expect(watcher.watch({ credential: KEY_A, assetIds: ids })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    const readsThen = upstream.count('getAsset');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(upstream.count('getAsset')).toBe(readsThen);
    expect(readsThen).toBeLessThan(10);
    expect(watcher.stats()).toMatchObject({ pendingWatches: 0, credentials: 0 });
  });
});

describe('status watcher: a broker outage', () => {
  /** A memory broker that fails its commands, and holds subscribes, while `down`. */
  function flakyBroker() {
    const inner = createMemoryBroker();
    let down = false;
    const held: Array<() => void> = [];
    const check = () => {
      if (down) throw new Error('broker down');
    };
    const broker: StatusBroker = {
      pubsub: {
        publish: async (channel, message) => (check(), inner.pubsub.publish(channel, message)),
        subscribe: (channel, handler) =>
          down
            ? new Promise((resolve) =>
                held.push(() => resolve(inner.pubsub.subscribe(channel, handler))),
              )
            : inner.pubsub.subscribe(channel, handler),
      },
      leases: {
        claim: async (owner, keys, ttlMs) => (check(), inner.leases.claim(owner, keys, ttlMs)),
        release: async (owner, keys) => (check(), inner.leases.release(owner, keys)),
      },
      close: () => inner.close(),
    };
    const setDown = (value: boolean) => {
      down = value;
      if (!value) for (const release of held.splice(0)) release();
    };
    return { broker, setDown };
  }

  it('sends stale events, refuses a new credential within brokerTimeoutMs, and recovers', async () => {
    const { broker, setDown } = flakyBroker();
    const { sim, activate, watcher } = setup({ broker, staleAfterMs: 60, brokerTimeoutMs: 300 });
    const { assetIds } = await seedAssets(sim, KEY_A, 1, 2);
    const log = new EventLog(await watcher.watch({ credential: KEY_A, assetIds }));
    await log.until((events) => events.length === 2, 'the first events');

    setDown(true);
    const stale = (
      await log.until(
        (e) => e.filter((event) => event.kind === 'stale').length === 2,
        'a stale event per asset',
        2000,
      )
    ).filter((event) => event.kind === 'stale');
    for (const event of stale) expect(event).toMatchObject({ reason: 'SERVICE_UNAVAILABLE' });
    expect(stale.map((event) => event.asset.id).sort()).toEqual([...assetIds].sort());

    // A credential with no channel yet cannot get one: a clear refusal, soon.
    const other = await seedAssets(sim, KEY_B, 1, 1);
    const startedAt = Date.now();
    await expect(
      watcher.watch({ credential: KEY_B, assetIds: other.assetIds }),
    ).rejects.toBeInstanceOf(StatusBrokerUnavailableError);
    expect(Date.now() - startedAt).toBeLessThan(1000);

    // The assets finish while the broker is away; once it is back, subscribers hear of it.
    activate();
    setDown(false);
    await log.untilDone(3000);
    const kinds = log.events.map((event) => event.kind);
    expect(kinds.filter((kind) => kind === 'stale')).toHaveLength(2);
    expect(kinds.indexOf('recovered')).toBeGreaterThan(kinds.lastIndexOf('stale'));
    for (const id of assetIds) {
      expect(log.statuses(id)).toEqual([
        [null, 'PROCESSING'],
        ['PROCESSING', 'ACTIVE'],
      ]);
    }
    const late = new EventLog(await watcher.watch({ credential: KEY_B, assetIds: other.assetIds }));
    await late.until((events) => events.length === 1, 'a watch after the outage');
  });
});

describe('status watcher: assets per process (maxWatchedAssets)', () => {
  it('refuses a watch that would keep more assets, and has room again once one ends', async () => {
    const { sim, watcher } = setup({ maxWatchedAssets: 3 });
    const a = await seedAssets(sim, KEY_A, 1, 3);
    const b = await seedAssets(sim, KEY_B, 1, 2);
    const first = await watcher.watch({ credential: KEY_A, assetIds: a.assetIds.slice(0, 2) });
    // Two more would make four: refused before anything is read or kept for it.
    await expect(watcher.watch({ credential: KEY_B, assetIds: b.assetIds })).rejects.toThrow(
      StatusWatcherFullError,
    );
    // Made-up ids count too (they are kept while their first read runs).
    await expect(
      watcher.watch({ credential: KEY_B, assetIds: [b.assetIds[0]!, 'made-up'] }),
    ).rejects.toMatchObject({ maxWatchedAssets: 3 });
    // A new group, once the process is full, is refused: its assets are not known yet.
    const third = await watcher.watch({ credential: KEY_B, assetIds: [b.assetIds[0]!] });
    await expect(watcher.watch({ credential: KEY_A, groupId: a.groupIds[0]! })).rejects.toThrow(
      StatusWatcherFullError,
    );
    // Assets already kept need no room.
    const again = await watcher.watch({ credential: KEY_A, assetIds: a.assetIds.slice(0, 2) });
    expect(watcher.stats()).toMatchObject({ watchedAssets: 3, subscribers: 3 });
    await third.return();
    const last = await watcher.watch({ credential: KEY_A, assetIds: [a.assetIds[2]!] });
    expect(watcher.stats()).toMatchObject({ watchedAssets: 3, subscribers: 3 });
    for (const subscription of [first, again, last]) await subscription.return();
  });
});
