/**
 * The creates behind `addAssets`: one `createAsset` per item, a few at a time, or, when the
 * dialect uploads in batches (`Upstream.createAssets`, apimart's review tasks), one call per
 * batch of items sharing a group and a type. Never retried (a create is not idempotent); each
 * item ends as an id or its own error (in a batch, the batch's error).
 */
import type { CallOptions, NewAsset, Upstream } from '../upstream/port.js';
import { mapLimit } from '../util/map-limit.js';

export type CreateOutcome = { index: number; input: NewAsset } & (
  { ok: true; id: string } | { ok: false; error: unknown }
);

export interface PendingItem {
  /** The item's position in the request. */
  index: number;
  input: NewAsset;
}

/** Creates `items`, at most `concurrency` calls at once; outcomes in the order of `items`. */
export async function createAssets(
  upstream: Upstream,
  opts: CallOptions,
  items: readonly PendingItem[],
  concurrency: number,
): Promise<CreateOutcome[]> {
  if (!upstream.createAssets) {
    return mapLimit(items, concurrency, async ({ index, input }) => {
      try {
        const { id } = await upstream.createAsset(opts, input);
        return { index, input, ok: true, id } satisfies CreateOutcome;
      } catch (error) {
        return { index, input, ok: false, error } satisfies CreateOutcome;
      }
    });
  }
  const batches = batchesOf(items, upstream.assetBatchSize ?? items.length);
  const done = await mapLimit(batches, concurrency, async (batch) => {
    try {
      const { ids } = await upstream.createAssets!(
        opts,
        batch.map((item) => item.input),
      );
      return batch.map((item, i) => ({ ...item, ok: true, id: ids[i]! }) satisfies CreateOutcome);
    } catch (error) {
      return batch.map((item) => ({ ...item, ok: false, error }) satisfies CreateOutcome);
    }
  });
  const byIndex = new Map(done.flat().map((outcome) => [outcome.index, outcome]));
  return items.map((item) => byIndex.get(item.index)!);
}

/** Items sharing a group and a type, in request order, at most `size` per batch. */
function batchesOf(items: readonly PendingItem[], size: number): PendingItem[][] {
  const open = new Map<string, PendingItem[]>();
  const batches: PendingItem[][] = [];
  for (const item of items) {
    const key = `${item.input.groupId}\u0000${item.input.type}`;
    let batch = open.get(key);
    if (!batch || batch.length >= Math.max(1, size)) {
      batch = [];
      open.set(key, batch);
      batches.push(batch);
    }
    batch.push(item);
  }
  return batches;
}
