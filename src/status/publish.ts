/**
 * Publishing on a tenant's bus channel: what this instance read goes to every instance, this
 * one included, whose `Fanout` delivers it when the message comes back. When publishing fails,
 * the outbox's `reverts` undo the diff-basis updates, so that the next poll finds the changes
 * again.
 */
import type { LoopLogger } from '../util/time.js';
import type { PubSub } from './broker/broker.js';
import { encodeItems, type BusItem } from './bus-codec.js';

/** What a poll (or a read outside the loop) publishes. */
export interface Outbox {
  readonly items: BusItem[];
  /** Undo the state changes made for `items`, if publishing them fails. */
  readonly reverts: Array<() => void>;
}

export interface PublishDeps {
  readonly pubsub: PubSub;
  readonly logger: LoopLogger;
}

/** Publishes the outbox on `channel` (a credential hash). Never rejects. */
export function publish(deps: PublishDeps, channel: string, outbox: Outbox): Promise<void> {
  return deps.pubsub.publish(channel, encodeItems(outbox.items)).catch((error: unknown) => {
    for (const revert of outbox.reverts) revert();
    deps.logger.warn({ err: error, credential: channel }, 'status: publish failed');
  });
}
