/**
 * How the status watcher reads apimart: by task, not by asset. An asset's status changes only
 * when its review task ends, and then every asset of the task changes at once, so the watcher
 * lists the due assets' groups (filtered to `PROCESSING`), and the client answers each list by
 * reading every open review task of those groups once (`GET /v1/tasks/{id}`, shared by
 * concurrent readers) and the rest from the ledger. An asset that drops out of such a list (its
 * task ended) is read with `getAsset`, which the ledger answers without an upstream call.
 *
 * So the upstream reads per interval are at most one per open review task, whatever the number
 * of watched assets or subscribers. The budget counts one `GetTask` per list; a list of groups
 * with several open tasks reads each of them, paced by the client's own `GetTask` rate.
 */
import type { ReadPlan, ReadPlanInput, StatusSource } from '../status-source.js';
import { DEFAULT_RATE_LIMITS } from './actions.js';

/** Items per list page: the ledger answers it, so the size costs nothing upstream. */
const PAGE_SIZE = 100;
/** Groups per list: open tasks are read one by one anyway; this bounds one list's duration. */
const MAX_GROUP_IDS = 20;

/** Every due asset is covered by a list of its group: gets only when batching is off. */
export function planReads(input: ReadPlanInput): ReadPlan {
  if (input.batch === false) return { lists: [], gets: input.due.map((d) => d.id) };
  const groups = [...new Set(input.due.map((d) => d.groupId))];
  const lists: string[][] = [];
  for (let i = 0; i < groups.length; i += MAX_GROUP_IDS) {
    lists.push(groups.slice(i, i + MAX_GROUP_IDS));
  }
  return { lists, gets: [] };
}

const TASK_READS_PER_SECOND = DEFAULT_RATE_LIMITS.GetTask!.requests;

/** apimart's status reads, for `createStatusWatcher({ source })`. */
export const apimartStatusSource: StatusSource = Object.freeze({
  actions: Object.freeze({ asset: 'GetTask', list: 'GetTask', group: 'GetTask' }),
  rates: Object.freeze({ GetTask: TASK_READS_PER_SECOND }),
  pageSize: PAGE_SIZE,
  maxGroupIds: MAX_GROUP_IDS,
  pollStatuses: Object.freeze(['PROCESSING'] as const),
  planReads,
});
