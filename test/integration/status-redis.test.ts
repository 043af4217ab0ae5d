/**
 * Two status watchers on real Redis (127.0.0.1:6379), each with its own broker and so its own
 * two connections, sharing one simulated upstream. Every run uses a random key prefix and
 * deletes its keys afterwards.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createRedisBroker,
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
  waitFor,
} from '../helpers/status-harness.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `avatar-gateway-test:${randomUUID()}:`;
const KEY = 'redis-test-key-0123456789';
const INTERVAL = 25;

let admin: Redis;
const cleanups: Array<() => Promise<void>> = [];

beforeAll(() => {
  admin = new Redis(REDIS_URL);
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(async () => {
  const keys = await prefixedKeys();
  if (keys.length > 0) await admin.del(...keys);
  await admin.quit();
});

async function prefixedKeys(): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await admin.scan(cursor, 'MATCH', `${PREFIX}*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys;
}

interface Instance {
  upstream: CountingUpstream;
  ticks: TickLog;
  watcher: StatusWatcher;
  broker: StatusBroker;
}

/**
 * `leaseTtlMs` is 3 intervals by default, as the takeover test needs; a test that asserts one
 * poller per asset gives it more, so that a loaded machine's event-loop stall of a few
 * intervals does not let a lease lapse mid-test (a second poller would then be correct).
 */
function instance(
  sim: CountingUpstream['inner'],
  batch = false,
  leaseTtlMs = 3 * INTERVAL,
): Instance {
  const upstream = new CountingUpstream(sim);
  const ticks = new TickLog();
  const broker = createRedisBroker({ redis: REDIS_URL, keyPrefix: PREFIX });
  const watcher = createStatusWatcher({
    upstream,
    source: arkStatusSource,
    broker,
    batch,
    intervalMs: INTERVAL,
    leaseTtlMs,
    // 20 assets read one by one every 25 ms is 800 reads/s: more than the default budget.
    rateLimits: { GetAsset: 10_000 },
    onTick: ticks.onTick,
  });
  cleanups.push(async () => {
    await watcher.stop();
    await broker.close();
  });
  return { upstream, ticks, watcher, broker };
}

describe('status watcher on Redis', () => {
  it('polls each asset from one instance, and every subscriber on both gets each change once', async () => {
    const { sim, activate } = controlledSimulator();
    const a = instance(sim, false, 40 * INTERVAL);
    const b = instance(sim, false, 40 * INTERVAL);
    const { assetIds, groupIds } = await seedAssets(sim, KEY, 2, 10);

    const logs: EventLog[] = [];
    for (const node of [a, b]) {
      for (let i = 0; i < 5; i++) {
        logs.push(new EventLog(await node.watcher.watch({ credential: KEY, assetIds })));
      }
    }
    const groupLog = new EventLog(await b.watcher.watch({ credential: KEY, groupId: groupIds[0] }));
    await waitFor(
      () => a.watcher.stats().heldLeases + b.watcher.stats().heldLeases >= assetIds.length,
      'the leases to be shared out',
    );

    const since = Date.now();
    await Promise.all([a.ticks.next(6), b.ticks.next(6)]);
    const elapsed = Date.now() - since;
    const pollers = new Map<string, Set<string>>();
    const perAsset = new Map<string, number>();
    for (const [name, node] of [
      ['a', a],
      ['b', b],
    ] as const) {
      for (const read of node.upstream.reads) {
        if (read.method !== 'getAsset' || read.at < since) continue;
        const id = read.ids[0]!;
        pollers.set(id, (pollers.get(id) ?? new Set()).add(name));
        perAsset.set(id, (perAsset.get(id) ?? 0) + 1);
      }
    }
    for (const id of assetIds) {
      expect(pollers.get(id)?.size, `instances polling ${id}`).toBe(1);
      expect(perAsset.get(id)!).toBeLessThanOrEqual(Math.ceil(elapsed / INTERVAL) + 1);
    }

    activate();
    await Promise.all(logs.map((log) => log.untilDone()));
    for (const log of logs) {
      for (const id of assetIds) {
        expect(log.statuses(id)).toEqual([
          [null, 'PROCESSING'],
          ['PROCESSING', 'ACTIVE'],
        ]);
      }
      expect(log.events).toHaveLength(2 * assetIds.length);
    }
    await groupLog.until((events) => events.length === 20, 'the group to finish');
    expect(groupLog.events).toHaveLength(20);
  });

  it('takes over the assets of an instance that stopped renewing its leases', async () => {
    const { sim, activate } = controlledSimulator();
    const a = instance(sim);
    const b = instance(sim);
    const { assetIds } = await seedAssets(sim, KEY, 1, 5);

    const logA = new EventLog(await a.watcher.watch({ credential: KEY, assetIds }));
    await waitFor(() => a.watcher.stats().heldLeases === 5, 'instance a to hold the leases');
    const logB = new EventLog(await b.watcher.watch({ credential: KEY, assetIds }));
    await b.ticks.next(3);
    expect(b.watcher.stats().heldLeases).toBe(0);
    const bReads = b.upstream.count('getAsset');

    const crashedAt = Date.now();
    await a.watcher.stop({ releaseLeases: false });
    await logA.untilDone();
    await waitFor(() => b.watcher.stats().heldLeases === 5, 'the takeover', 2000);
    // The leases expire after 3 intervals; b claims them at its next interval.
    expect(Date.now() - crashedAt).toBeLessThan(10 * INTERVAL + 200);

    activate();
    await logB.untilDone();
    for (const id of assetIds) {
      expect(logB.statuses(id)).toEqual([
        [null, 'PROCESSING'],
        ['PROCESSING', 'ACTIVE'],
      ]);
    }
    expect(b.upstream.count('getAsset')).toBeGreaterThan(bReads);
  });

  it('hands leases over at once on a clean stop, and keeps credentials out of Redis', async () => {
    const { sim, activate } = controlledSimulator();
    const a = instance(sim, true);
    const b = instance(sim, true);
    const { assetIds, groupIds } = await seedAssets(sim, KEY, 2, 3);

    const logA = new EventLog(await a.watcher.watch({ credential: KEY, groupId: groupIds[0] }));
    await waitFor(() => a.watcher.stats().heldLeases === 4, 'instance a to hold the leases');
    const logB = new EventLog(await b.watcher.watch({ credential: KEY, assetIds }));
    await waitFor(() => b.watcher.stats().heldLeases === 3, 'instance b to hold the rest');

    const keys = await prefixedKeys();
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) expect(key).not.toContain(KEY);

    await a.watcher.stop();
    await logA.untilDone();
    await waitFor(() => b.watcher.stats().heldLeases === 6, 'b to take over', 2 * 3 * INTERVAL);

    activate();
    const events = await logB.untilDone();
    expect(events).toHaveLength(12);
    await b.watcher.stop();
    expect(await prefixedKeys()).toEqual([]);
  });
});
