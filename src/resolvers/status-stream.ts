/**
 * From the status engine's events to `AssetStatusEvent`s, one subscription at a time: one event
 * in, one event out. Every engine event carries the asset as the subscriber knows it, so nothing
 * is remembered here.
 *
 * A class rather than an async generator: `return()` must end the engine's subscription at once,
 * even while a `next()` waits for an event, or a closed socket would keep its watcher alive.
 */
import { AssetEventKind } from '../schema/asset-event-kind.enum.js';
import { AssetStatusEvent } from '../schema/asset-status-event.type.js';
import type { AssetStatus } from '../schema/asset-status.enum.js';
import type { StatusEvent, StatusSubscription } from '../status/index.js';
import { toAsset } from './mappers.js';

type Result = IteratorResult<AssetStatusEvent, undefined>;

const DONE = Object.freeze({ done: true, value: undefined }) as Result;

const KINDS: Readonly<Record<StatusEvent['kind'], AssetEventKind>> = {
  status: AssetEventKind.STATUS,
  deleted: AssetEventKind.DELETED,
  stale: AssetEventKind.STALE,
  recovered: AssetEventKind.RECOVERED,
};

export class AssetEventStream implements AsyncIterableIterator<AssetStatusEvent, undefined> {
  private closed = false;

  constructor(private readonly source: StatusSubscription) {}

  async next(): Promise<Result> {
    if (this.closed) return DONE;
    const result = await this.source.next();
    if (result.done || this.closed) {
      this.closed = true;
      return DONE;
    }
    return { done: false, value: toEvent(result.value) };
  }

  async return(): Promise<Result> {
    this.closed = true;
    await this.source.return();
    return DONE;
  }

  async throw(error?: unknown): Promise<Result> {
    await this.return();
    throw error;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/**
 * The schema's event. A `deleted` event's `previousStatus` is the last status the subscriber was
 * shown; only a `stale` event is stale (any other event comes from a good read, or is a notice
 * that one happened).
 */
export function toEvent(event: StatusEvent): AssetStatusEvent {
  const previousStatus =
    event.kind === 'status'
      ? event.previousStatus
      : event.kind === 'deleted'
        ? event.asset.status
        : null;
  const stale = event.kind === 'stale' ? event : null;
  return Object.assign(new AssetStatusEvent(), {
    kind: KINDS[event.kind],
    asset: toAsset(event.asset),
    previousStatus: previousStatus as AssetStatus | null,
    stale: stale !== null,
    staleSince: stale?.since ?? null,
    staleReason: stale?.reason ?? null,
  });
}
