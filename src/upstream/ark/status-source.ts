/**
 * How the status watcher reads Ark: `ListAssets` of up to 100 groups filtered to `PROCESSING`
 * when that costs fewer calls than `GetAsset` per asset, and the documented rates
 * (`x-rate-limit-qps` in mocks/openapi.yaml).
 */
import type { ReadPlan, ReadPlanInput, StatusSource } from '../status-source.js';

/** Items per `ListAssets` page (the most Ark serves). */
const PAGE_SIZE = 100;
/** Group ids one `ListAssets` accepts. */
const MAX_GROUP_IDS = 100;

/**
 * The batching rule. A group is worth listing when its estimated pages cost fewer calls than
 * reading its due assets one by one; such groups are packed into chunks of `MAX_GROUP_IDS`, and a
 * chunk is listed only when its estimated pages cost fewer calls than `GetAsset` for every due
 * asset in it (so a chunk of single-asset groups is listed as soon as it holds two). Everything
 * else is read with `GetAsset`.
 *
 * Lists are filtered to `PROCESSING` so their size tracks the work in flight, not every asset
 * the groups ever held; an asset that turns final drops out of such a list, so the watcher reads
 * every watched asset missing from a complete list with `GetAsset` (one extra call per asset
 * per lifetime, and it also tells a deleted asset from a finished one).
 */
export function planReads(input: ReadPlanInput): ReadPlan {
  if (input.batch === false) return { lists: [], gets: input.due.map((d) => d.id) };

  const byGroup = new Map<string, string[]>();
  for (const { id, groupId } of input.due) {
    const ids = byGroup.get(groupId);
    if (ids) ids.push(id);
    else byGroup.set(groupId, [id]);
  }

  const gets: string[] = [];
  const lists: string[][] = [];
  const estimate = (groupId: string, due: number) =>
    Math.max(input.processingByGroup?.get(groupId) ?? 0, due);

  let chunk: string[] = [];
  let chunkItems = 0;
  let chunkDue = 0;
  const flush = () => {
    if (chunk.length === 0) return;
    if (Math.max(1, Math.ceil(chunkItems / PAGE_SIZE)) < chunkDue) lists.push(chunk);
    else for (const groupId of chunk) gets.push(...byGroup.get(groupId)!);
    chunk = [];
    chunkItems = 0;
    chunkDue = 0;
  };
  for (const [groupId, ids] of byGroup) {
    const items = estimate(groupId, ids.length);
    // A group whose own pages outnumber its due assets is never worth listing.
    if (Math.ceil(items / PAGE_SIZE) > ids.length) {
      gets.push(...ids);
      continue;
    }
    if (chunk.length === MAX_GROUP_IDS) flush();
    chunk.push(groupId);
    chunkItems += items;
    chunkDue += ids.length;
  }
  flush();
  return { lists, gets };
}

/** Ark's status reads, for `createStatusWatcher({ source })`. */
export const arkStatusSource: StatusSource = Object.freeze({
  actions: Object.freeze({ asset: 'GetAsset', list: 'ListAssets', group: 'GetAssetGroup' }),
  rates: Object.freeze({ GetAsset: 100, ListAssets: 10, GetAssetGroup: 10 }),
  pageSize: PAGE_SIZE,
  maxGroupIds: MAX_GROUP_IDS,
  pollStatuses: Object.freeze(['PROCESSING'] as const),
  planReads,
});
