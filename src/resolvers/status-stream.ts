/**
 * From the status engine's events to `AssetStatusEvent`s, one subscription at a time.
 *
 * The engine reports a deletion by id and stale/recovered notices for several assets at once;
 * the schema promises `asset: Asset!` on every event. Every watched asset's first event is a
 * `status` event, so the stream remembers the last state it delivered per asset and uses it for
 * those events, expanding a notice into one event per asset.
 *
 * A class rather than an async generator: `return()` must end the engine's subscription at once,
 * even while a `next()` waits for an event, or a closed socket would keep its watcher alive.
 */
import { AssetEventKind } from '../schema/asset-event-kind.enum.js';
import { AssetStatusEvent } from '../schema/asset-status-event.type.js';
import type { AssetStatus } from '../schema/asset-status.enum.js';
import type { StatusEvent, StatusSubscription } from '../status/index.js';
import type { Asset } from '../upstream/port.js';
import { toAsset } from './mappers.js';

type Result = IteratorResult<AssetStatusEvent, undefined>;

const DONE = Object.freeze({ done: true, value: undefined }) as Result;

export class AssetEventStream implements AsyncIterableIterator<AssetStatusEvent, undefined> {
  /** The last state delivered per asset id. */
  private readonly last = new Map<string, Asset>();
  private readonly stale = new Map<string, { since: Date; reason: string }>();
  private outbox: AssetStatusEvent[] = [];
  private closed = false;

  constructor(private readonly source: StatusSubscription) {}

  async next(): Promise<Result> {
    for (;;) {
      const queued = this.outbox.shift();
      if (queued) return { done: false, value: queued };
      if (this.closed) return DONE;
      const result = await this.source.next();
      if (result.done) {
        this.closed = true;
        return DONE;
      }
      this.outbox = this.map(result.value);
    }
  }

  async return(): Promise<Result> {
    this.closed = true;
    this.outbox = [];
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

  private map(event: StatusEvent): AssetStatusEvent[] {
    switch (event.kind) {
      case 'status':
        this.last.set(event.asset.id, event.asset);
        return [this.event(AssetEventKind.STATUS, event.asset, event.previousStatus)];
      case 'deleted': {
        const asset = this.last.get(event.assetId);
        this.last.delete(event.assetId);
        this.stale.delete(event.assetId);
        return asset ? [this.event(AssetEventKind.DELETED, asset, event.previousStatus)] : [];
      }
      case 'stale':
      case 'recovered': {
        const kind = event.kind === 'stale' ? AssetEventKind.STALE : AssetEventKind.RECOVERED;
        const out: AssetStatusEvent[] = [];
        for (const id of event.assetIds) {
          const asset = this.last.get(id);
          if (!asset) continue;
          if (event.kind === 'stale')
            this.stale.set(id, { since: event.since, reason: event.reason });
          else this.stale.delete(id);
          out.push(this.event(kind, asset, null));
        }
        return out;
      }
    }
  }

  private event(
    kind: AssetEventKind,
    asset: Asset,
    previousStatus: string | null,
  ): AssetStatusEvent {
    const stale = this.stale.get(asset.id);
    return Object.assign(new AssetStatusEvent(), {
      kind,
      asset: toAsset(asset),
      previousStatus: previousStatus as AssetStatus | null,
      stale: stale !== undefined,
      staleSince: stale?.since ?? null,
      staleReason: stale?.reason ?? null,
    });
  }
}
