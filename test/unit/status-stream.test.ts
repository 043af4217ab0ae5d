/**
 * `AssetEventStream`: the status engine's events as `AssetStatusEvent`s, one to one (deletions
 * and stale notices carry the last state the subscriber was shown), and a `return()` that ends
 * the engine's subscription at once.
 */
import { describe, expect, it } from 'vitest';
import { AssetEventStream } from '../../src/resolvers/status-stream.js';
import type { StatusEvent } from '../../src/status/index.js';
import { QueueSubscription } from '../../src/status/queue.js';
import type { Asset } from '../../src/upstream/port.js';

function asset(id: string, status: Asset['status']): Asset {
  return {
    id,
    groupId: 'group-1',
    name: null,
    type: 'IMAGE',
    status,
    failure: null,
    previewUrl: null,
    createdAt: null,
    updatedAt: null,
  };
}

function source() {
  let detached = 0;
  const queue = new QueueSubscription<StatusEvent>(() => detached++);
  return { queue, detached: () => detached };
}

async function take(stream: AssetEventStream, n: number) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const { value, done } = await stream.next();
    if (done) break;
    out.push({
      kind: value.kind,
      id: value.asset.id,
      status: value.asset.status,
      previousStatus: value.previousStatus,
      stale: value.stale,
      staleSince: value.staleSince,
      staleReason: value.staleReason,
    });
  }
  return out;
}

describe('AssetEventStream', () => {
  it('maps each event to one schema event, stale only when it is a stale notice', async () => {
    const { queue } = source();
    const stream = new AssetEventStream(queue);
    const since = new Date('2026-06-01T12:00:00Z');
    queue.push({ kind: 'status', asset: asset('a', 'PROCESSING'), previousStatus: null });
    queue.push({ kind: 'status', asset: asset('b', 'PROCESSING'), previousStatus: null });
    const reason = 'UPSTREAM_UNAVAILABLE';
    queue.push({ kind: 'stale', asset: asset('a', 'PROCESSING'), since, reason });
    queue.push({ kind: 'stale', asset: asset('b', 'PROCESSING'), since, reason });
    queue.push({ kind: 'recovered', asset: asset('a', 'PROCESSING') });
    queue.push({ kind: 'status', asset: asset('a', 'ACTIVE'), previousStatus: 'PROCESSING' });
    queue.push({ kind: 'deleted', asset: asset('b', 'PROCESSING') });
    const fresh = { stale: false, staleSince: null, staleReason: null };
    const stale = { stale: true, staleSince: since, staleReason: 'UPSTREAM_UNAVAILABLE' };

    expect(await take(stream, 7)).toEqual([
      { kind: 'STATUS', id: 'a', status: 'PROCESSING', previousStatus: null, ...fresh },
      { kind: 'STATUS', id: 'b', status: 'PROCESSING', previousStatus: null, ...fresh },
      { kind: 'STALE', id: 'a', status: 'PROCESSING', previousStatus: null, ...stale },
      { kind: 'STALE', id: 'b', status: 'PROCESSING', previousStatus: null, ...stale },
      { kind: 'RECOVERED', id: 'a', status: 'PROCESSING', previousStatus: null, ...fresh },
      { kind: 'STATUS', id: 'a', status: 'ACTIVE', previousStatus: 'PROCESSING', ...fresh },
      // A deletion is a confirmed read: no longer stale.
      { kind: 'DELETED', id: 'b', status: 'PROCESSING', previousStatus: 'PROCESSING', ...fresh },
    ]);
  });

  it('ends with its source', async () => {
    const { queue } = source();
    const stream = new AssetEventStream(queue);
    queue.push({ kind: 'status', asset: asset('a', 'ACTIVE'), previousStatus: null });
    queue.finish();
    expect(await take(stream, 5)).toHaveLength(1);
    expect(await stream.next()).toEqual({ done: true, value: undefined });
  });

  it('closes its source at once on return(), even while a next() waits', async () => {
    const { queue, detached } = source();
    const stream = new AssetEventStream(queue);
    const waiting = stream.next();
    await stream.return();
    expect(await waiting).toEqual({ done: true, value: undefined });
    expect(detached()).toBe(1);
  });
});
