/**
 * apimart's answers in the port's words: tasks (sessions, reviews, verification results), the
 * undocumented step-2 answer, and the ledger's records as port `Group`s and `Asset`s. Readers
 * are lenient about extra fields and strict about the ones the gateway needs: a missing one is
 * `UPSTREAM_BAD_RESPONSE` (via `BadShape`, turned into the error by `client.ts`).
 */
import type {
  ApimartAssetRecord,
  ApimartGroupRecord,
  ReviewOutcome,
  ReviewStatus,
} from '../../ledger/ledger.js';
import { isRecord } from '../http/transport-errors.js';
import type { Asset, Group } from '../port.js';
import { readData, stringOr } from './envelope.js';

/** A body without what the gateway needs; `client.ts` reports it as `UPSTREAM_BAD_RESPONSE`. */
export class BadShape extends Error {}

/** Task statuses after which nothing changes (M2); `submitted` is the video endpoints' word. */
const FINAL_TASK_STATUSES: ReadonlySet<string> = new Set(['completed', 'failed', 'cancelled']);

export interface Task {
  id: string;
  status: string;
  final: boolean;
  result: Record<string, unknown> | null;
  error: { code: string; message: string } | null;
}

/** `data` of a task answer (`GET /v1/tasks/{id}`, or a create answering its task). */
export function readTask(body: unknown): Task {
  const data = readData(body);
  if (!isRecord(data)) throw new BadShape('data is missing');
  return taskOf(data);
}

function taskOf(data: Record<string, unknown>): Task {
  const id = stringOr(data.id) ?? stringOr(data.task_id);
  const status = stringOr(data.status);
  if (!id) throw new BadShape('data.id is missing');
  if (!status) throw new BadShape('data.status is missing');
  const error = isRecord(data.error)
    ? {
        code: stringOr(data.error.code) ?? 'task_failed',
        message: stringOr(data.error.message) ?? 'The task failed.',
      }
    : null;
  return {
    id,
    status,
    final: FINAL_TASK_STATUSES.has(status),
    result: isRecord(data.result) ? data.result : null,
    error,
  };
}

/**
 * Step 1's task result: the token and the H5 link. apimart documents no expiry beside them
 * (`byted_token`, `h5_link`, `raw_response`, M1), so the link's lifetime is the gateway's
 * `H5_LINK_TTL_SECONDS`.
 */
export function sessionOf(task: Task): { token: string; h5Link: string } {
  const token = stringOr(task.result?.byted_token);
  const h5Link = stringOr(task.result?.h5_link);
  if (!token || !h5Link) throw new BadShape('result.byted_token or result.h5_link is missing');
  return { token, h5Link };
}

const ASSET_STATUSES: Readonly<Record<string, ReviewStatus>> = {
  active: 'ACTIVE',
  failed: 'FAILED',
  processing: 'PROCESSING',
};

/**
 * A review task read, for the ledger. `result.assets[i]` is taken to be the i-th submitted item
 * (GUESS, upstream-evidence.md §4.1: the results carry no name or URL to match on). A failed
 * task keeps its `result` (seed 004); a failed or cancelled task without one fails every item,
 * and every `FAILED` item carries the task's one reason (apimart gives none per asset).
 */
export function reviewOutcome(task: Task): ReviewOutcome {
  if (!task.final) return { final: false, status: task.status, assets: [], failure: null };
  const items = Array.isArray(task.result?.assets) ? task.result.assets : [];
  const assets = items.map((item: unknown, index) => {
    if (!isRecord(item)) throw new BadShape(`result.assets[${index}] is not an object`);
    const status = ASSET_STATUSES[String(item.status).toLowerCase()] ?? 'FAILED';
    const upstreamId = stringOr(item.asset_id) ?? null;
    const uri = stringOr(item.asset_url) ?? (upstreamId ? `asset://${upstreamId}` : null);
    // An item still `Processing` in an ended task will not move again.
    return { index, upstreamId, uri, status: status === 'PROCESSING' ? 'FAILED' : status } as const;
  });
  const failure =
    task.error ??
    (task.status === 'cancelled'
      ? { code: 'task_cancelled', message: 'The review task was cancelled.' }
      : { code: 'task_failed', message: 'The review did not accept this asset.' });
  return { final: true, status: task.status, assets, failure };
}

/** What a step-2 answer says. */
export type VerificationAnswer =
  | { kind: 'group'; groupId: string }
  | { kind: 'task'; task: Task }
  | { kind: 'refused'; code: string; message: string };

/**
 * Step 2's answer is undocumented (M1; one integrator: "返回 group_id", M11). Accepted: a group id
 * at `data.group_id`, `data.GroupId`, `data.result.group_id` or `data.result.GroupId`; a task
 * (`data.id` + `data.status`) whose result holds one, or is still to be polled; a task that
 * failed (its error says why). Anything else breaks the contract.
 */
export function readVerification(body: unknown): VerificationAnswer {
  const data = readData(body);
  if (!isRecord(data)) throw new BadShape('data is missing');
  const direct = groupIdIn(data);
  if (direct) return { kind: 'group', groupId: direct };
  if (stringOr(data.id) && stringOr(data.status)) {
    const task = taskOf(data);
    return verificationOfTask(task);
  }
  throw new BadShape('no group id (data.group_id, data.result.group_id, data.GroupId) nor a task');
}

/** A verification task, read: its group, still running, or refused. */
export function verificationOfTask(task: Task): VerificationAnswer {
  const groupId = task.result ? groupIdIn(task.result) : undefined;
  if (groupId) return { kind: 'group', groupId };
  if (!task.final) return { kind: 'task', task };
  if (task.error) return { kind: 'refused', ...task.error };
  if (task.status === 'completed')
    throw new BadShape('a completed verification task holds no group id');
  return {
    kind: 'refused',
    code: `task_${task.status}`,
    message: `The verification task ended ${task.status}.`,
  };
}

function groupIdIn(data: Record<string, unknown>): string | undefined {
  return (
    stringOr(data.group_id) ??
    stringOr(data.GroupId) ??
    (isRecord(data.result)
      ? (stringOr(data.result.group_id) ?? stringOr(data.result.GroupId))
      : undefined)
  );
}

/**
 * How a refused step 2 reads, as far as its words tell (apimart documents no codes for it): the
 * person has not finished yet, the token is unknown, ran out, was used, or the check failed (the
 * simulator's words: `byted_token_not_found|expired|used`, `verification_failed`). `null`: the
 * words say nothing known, and the error stands as it is.
 */
export function verificationVerdict(
  text: string,
):
  | 'PENDING'
  | 'NOT_FOUND'
  | 'VERIFICATION_EXPIRED'
  | 'VERIFICATION_USED'
  | 'VERIFICATION_FAILED'
  | null {
  const t = text.toLowerCase();
  if (/not.?found|unknown|不存在/.test(t)) return 'NOT_FOUND';
  if (/expired|过期|超时/.test(t)) return 'VERIFICATION_EXPIRED';
  if (/(^|[^a-z])(used|consumed)([^a-z]|$)|already|已使用|已被使用/.test(t)) {
    return 'VERIFICATION_USED';
  }
  if (/pending|processing|not.?(yet|finished|completed)|in.?progress|未完成|进行中|等待/.test(t)) {
    return 'PENDING';
  }
  if (/liveness|verif\w*[ _]fail|not.?pass|未通过|失败/.test(t)) return 'VERIFICATION_FAILED';
  return null;
}

/** The id a group create answered: `{code, data}` or the Volcengine envelope. */
export function createdGroupId(body: unknown): string {
  const data = readData(body);
  const result = isRecord(body) && isRecord(body.Result) ? body.Result : undefined;
  const id =
    (isRecord(data) ? (stringOr(data.id) ?? groupIdIn(data) ?? stringOr(data.Id)) : undefined) ??
    stringOr(result?.Id) ??
    stringOr(result?.GroupId);
  if (!id) throw new BadShape('no group id (data.id, data.group_id, Result.Id)');
  return id;
}

export function toGroup(record: ApimartGroupRecord): Group {
  return { ...record };
}

/** An asset as the port shows it: apimart has no preview URL; `uri` waits for the review. */
export function toAsset(record: ApimartAssetRecord): Asset {
  return {
    id: record.id,
    groupId: record.groupId,
    name: record.name,
    type: record.type,
    status: record.status,
    failure: record.failure,
    previewUrl: null,
    uri: record.uri,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}
