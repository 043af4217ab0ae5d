/**
 * The status watcher after a broker outage. Pub/sub is fire-and-forget: an event published while
 * a subscriber connection is down is gone, and the lease holder, having published, never reads
 * the asset again. Two watchers (two instances) share a broker that loses every message while
 * "down"; when it reconnects, each watcher re-reads what its own subscribers watch, and each
 * subscriber gets what it missed — every final status, assets added to a watched group — once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  createMemoryBroker,
  createStatusWatcher,
  type StatusBroker,
  type StatusWatcher,
} from '../../src/status/index.js';
import { arkStatusSource } from '../../src/upstream/ark/status-source.js';
import {
  controlledSimulator,
  CountingUpstream,
  EventLog,
  seedAssets,
  TickLog,
  unavailable,
} from '../helpers/status-harness.js';

const KEY = 'key-resync-0123456789';

const stoppers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(stoppers.splice(0).map((stop) => stop()));
});

/** A memory broker that drops every message while down, like Redis pub/sub during an outage. */
function lossyBroker() {
  const inner = createMemoryBroker();
  const listeners = new Set<() => void>();
  let down = false;
  let dropped = 0;
  const broker: StatusBroker = {
    leases: inner.leases,
    close: () => inner.close(),
    pubsub: {
      async publish(channel, message) {
        if (down) dropped++;
        else await inner.pubsub.publish(channel, message);
      },
      subscribe: (channel, handler) => inner.pubsub.subscribe(channel, handler),
      onReconnect(listener) {
        listeners.add(listener);
        return () => void listeners.delete(listener);
      },
    },
  };
  return {
    broker,
    dropped: () => dropped,
    goDown: () => void (down = true),
    reconnect() {
      down = false;
      for (const listener of [...listeners]) listener();
    },
  };
}

function instance(broker: StatusBroker, upstream: CountingUpstream) {
  const ticks = new TickLog();
  const watcher: StatusWatcher = createStatusWatcher({
    upstream,
    source: arkStatusSource,
    broker,
    intervalMs: 20,
    maxIntervalMs: 80,
    onTick: ticks.onTick,
  });
  stoppers.push(() => watcher.stop());
  return { watcher, ticks };
}

describe('status watcher: a broker outage loses no final status', () => {
  it('re-reads on reconnect what each instance’s subscribers missed, and sends it once', async () => {
    const { sim, activate } = controlledSimulator();
    const upstream = new CountingUpstream(sim);
    const bus = lossyBroker();
    const one = instance(bus.broker, upstream);
    const two = instance(bus.broker, upstream);
    const { groupIds, assetIds } = await seedAssets(sim, KEY, 1, 2);
    const groupId = groupIds[0]!;

    const direct = [one, two].map(
      async ({ watcher }) => new EventLog(await watcher.watch({ credential: KEY, assetIds })),
    );
    const grouped = [one, two].map(
      async ({ watcher }) => new EventLog(await watcher.watch({ credential: KEY, groupId })),
    );
    const logs = await Promise.all([...direct, ...grouped]);
    const [directOne, directTwo, groupOne, groupTwo] = logs as [
      EventLog,
      EventLog,
      EventLog,
      EventLog,
    ];
    for (const log of logs) await log.until((events) => events.length === 2, 'initial state');

    bus.goDown();
    activate();
    const { id: added } = await sim.createAsset(
      { credential: KEY },
      { groupId, url: 'https://example.com/late.jpg', type: 'IMAGE' },
    );
    // The lease holders read the changes and publish them into the void; then nobody polls
    // those assets again (the holder's basis is final), so without a resync nothing arrives.
    await Promise.all([one.ticks.next(5), two.ticks.next(5)]);
    expect(bus.dropped()).toBeGreaterThan(0);
    for (const log of logs) expect(log.events).toHaveLength(2);

    bus.reconnect();
    await Promise.all([directOne.untilDone(), directTwo.untilDone()]);
    for (const log of [groupOne, groupTwo]) {
      await log.until(
        (events) =>
          assetIds.every((id) => log.statuses(id).length === 2) && log.statuses(added).length > 0,
        'the missed statuses and the added asset',
      );
    }
    // A few more iterations: no duplicate shows up.
    await Promise.all([one.ticks.next(3), two.ticks.next(3)]);
    for (const log of logs) {
      for (const id of assetIds) {
        expect(log.statuses(id)).toEqual([
          [null, 'PROCESSING'],
          ['PROCESSING', 'ACTIVE'],
        ]);
      }
    }
    for (const log of [groupOne, groupTwo]) {
      expect(log.statuses(added)).toEqual([[null, 'PROCESSING']]);
    }
  });

  it('tries the re-read again on the next iteration when the upstream fails it', async () => {
    const { sim, activate } = controlledSimulator();
    const upstream = new CountingUpstream(sim);
    const bus = lossyBroker();
    const { watcher, ticks } = instance(bus.broker, upstream);
    const { assetIds } = await seedAssets(sim, KEY, 1, 1);
    const log = new EventLog(await watcher.watch({ credential: KEY, assetIds }));
    await log.until((events) => events.length === 1, 'initial state');

    bus.goDown();
    activate();
    await ticks.next(3);
    expect(bus.dropped()).toBeGreaterThan(0);

    upstream.failure = unavailable();
    bus.reconnect();
    const failed = await ticks.next(2);
    expect(failed.some((tick) => tick.errors > 0)).toBe(true);
    expect(log.events).toHaveLength(1);

    upstream.failure = null;
    await log.untilDone();
    expect(log.statuses(assetIds[0]!)).toEqual([
      [null, 'PROCESSING'],
      ['PROCESSING', 'ACTIVE'],
    ]);
  });
});
