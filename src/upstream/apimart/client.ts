/**
 * The apimart client: the `Upstream` port over apimart's task API (upstream-evidence.md §3, §4).
 * apimart answers an upload with a review task, not asset ids, and never says an asset's type,
 * name or group, nor a group's kind: that memory is the ledger's (`ApimartLedger`, per hash of
 * the upstream key). So:
 *
 * - uploads are review tasks of up to 20 items; each item gets a provisional id at once
 *   (`<task id>-<position>`), the id clients keep for good; the review's end gives it apimart's
 *   own id and its `asset://` reference (`uri`);
 * - asset and group reads are answered from the ledger, after reading each open review task they
 *   involve once (`GET /v1/tasks/{id}`, concurrent reads of one task shared);
 * - groups are created, renamed and deleted with the newer `private-avatar/groups` endpoints,
 *   assets renamed and deleted with `private-avatar/assets/{id}` once they have an upstream id;
 * - verification is step 1 then `GET /v1/tasks/{id}` (token, link), and step 2 (the group id,
 *   in whichever shape `mapping.ts` accepts).
 *
 * ```ts
 * const upstream = createApimartClient({ baseUrl: 'https://api.apimart.ai', ledger: ledger.apimart });
 * ```
 */
import type { ApimartLedger, ReviewOutcome } from '../../ledger/ledger.js';
import { secretHash } from '../../util/secret-hash.js';
import { UpstreamError, isUpstreamError } from '../errors.js';
import type { CallRequest } from '../http/dialect.js';
import { createTransport, type HttpOptions } from '../http/options.js';
import type { RateLimit } from '../http/pacer.js';
import { withOverrides, type CallKind, type RetryRule } from '../http/retry.js';
import { badResponse } from '../http/transport-errors.js';
import { mapLimit } from '../../util/map-limit.js';
import type { AssetType, CallOptions, NewAsset, Upstream, VerificationResult } from '../port.js';
import {
  CALLS,
  DEFAULT_RATE_LIMITS,
  MAX_ASSETS_PER_TASK,
  RETRY_RULES,
  type ApimartCall,
} from './actions.js';
import { createApimartDialect } from './dialect.js';
import type { operations } from './wire.js';
import {
  BadShape,
  createdGroupId,
  readTask,
  readVerification,
  reviewOutcome,
  sessionOf,
  toAsset,
  toGroup,
  verificationOfTask,
  verificationVerdict,
  type Task,
  type VerificationAnswer,
} from './mapping.js';

export interface ApimartClientOptions extends HttpOptions {
  /** Where the client keeps what apimart cannot answer (`ledger.apimart`). */
  ledger: ApimartLedger;
  /**
   * apimart's `project_name` on every avatar call.
   * @default 'default'
   */
  projectName?: string;
  /**
   * Client-side pacing per (key, action), overriding `DEFAULT_RATE_LIMITS`; `null` turns pacing
   * off for an action.
   * @default DEFAULT_RATE_LIMITS
   */
  rateLimits?: Partial<Record<string, RateLimit | null>>;
  /**
   * Overrides of the retry rules per kind of call.
   * @default RETRY_RULES
   */
  retry?: Partial<Record<CallKind, Partial<RetryRule>>>;
  /**
   * Step 1's task is documented as completed at once; if it is not, it is read again this many
   * times, `sessionPollMs` apart, before `UPSTREAM_BAD_RESPONSE`.
   * @default 3
   */
  sessionPolls?: number;
  /** @default 500 */
  sessionPollMs?: number;
  /**
   * A review task read this recently is not read again: the status watcher's list of a group's
   * assets and its sweep of the group, in one interval, then cost one read. Keep it under the
   * poll interval.
   * @default 1000
   */
  taskReuseMs?: number;
}

export type ApimartClient = Upstream & {
  /** Closes the client's own connection pool; calls after it fail. */
  close(): Promise<void>;
};

type RequestBody<O extends keyof operations> = operations[O] extends {
  requestBody: { content: { 'application/json': infer B } };
}
  ? B
  : never;

/** A review task that apimart answers 404 for: final, every asset FAILED with this reason. */
const TASK_GONE: ReviewOutcome = Object.freeze({
  final: true,
  status: 'not_found',
  assets: [],
  failure: {
    code: 'task_not_found',
    message: 'apimart no longer knows the review task of this asset; upload the file again.',
  },
});

/** Task reads one list makes at once; the client's `GetTask` pace spaces them further. */
const TASK_READ_CONCURRENCY = 4;

const WIRE_TYPES = {
  IMAGE: 'Image',
  VIDEO: 'Video',
  AUDIO: 'Audio',
} as const satisfies Record<AssetType, string>;

export function createApimartClient(options: ApimartClientOptions): ApimartClient {
  const { ledger } = options;
  const project = options.projectName ?? 'default';
  const transport = createTransport(createApimartDialect(), options, {
    rateLimits: { ...DEFAULT_RATE_LIMITS, ...options.rateLimits },
    retryRules: withOverrides(RETRY_RULES, options.retry),
  });
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const scopeOf = (opts: CallOptions) => secretHash(opts.credential);

  /** One call; its body is typed by the contract's request schema (`wire.d.ts`). */
  const call = <N extends ApimartCall>(
    name: N,
    opts: CallOptions,
    request: { id?: string; body?: RequestBody<(typeof CALLS)[N]['operationId']> } = {},
  ) => transport.call(name, opts, request as CallRequest);

  /** Reads an answer with `read`; a `BadShape` becomes `UPSTREAM_BAD_RESPONSE` of `name`. */
  function parse<T>(name: ApimartCall, read: () => T): T {
    try {
      return read();
    } catch (error) {
      if (error instanceof BadShape) {
        throw badResponse(CALLS[name].action, error.message, { status: 200 });
      }
      throw error;
    }
  }

  async function getTask(opts: CallOptions, id: string): Promise<Task> {
    const body = await call('getTask', opts, { id });
    return parse('getTask', () => readTask(body));
  }

  const now = options.now ?? Date.now;
  const reuseMs = options.taskReuseMs ?? 1000;
  /** Recent task reads: concurrent and close refreshes of one task share one `GET`. */
  const recent = new Map<string, { at: number; read: Promise<void>; pending: boolean }>();

  /** Reads an open review task and records what it found; deletes deferred deletions. */
  function refreshTask(opts: CallOptions, taskId: string): Promise<void> {
    const scope = scopeOf(opts);
    const key = `${scope}\u0000${taskId}`;
    const at = now();
    const last = recent.get(key);
    if (last && (last.pending || at - last.at < reuseMs)) return last.read;
    if (recent.size > 1000) {
      for (const [k, entry] of recent)
        if (!entry.pending && at - entry.at >= reuseMs) recent.delete(k);
    }
    const read = (async () => {
      const outcome = await getTask(opts, taskId).then(
        (task) => parse('getTask', () => reviewOutcome(task)),
        (error: unknown) => {
          // apimart no longer knows the task (it expired, or a simulator restarted): its assets
          // will never be reviewed. They end FAILED, instead of failing every read that covers
          // them for good.
          if (!isUpstreamError(error) || error.code !== 'NOT_FOUND') throw error;
          return TASK_GONE;
        },
      );
      const toDelete = await ledger.settleTask(scope, taskId, outcome);
      // Assets deleted while in review have an upstream id only now.
      await Promise.all(
        toDelete.map((upstreamId) =>
          call('deleteAsset', opts, { id: upstreamId }).catch(() => undefined),
        ),
      );
    })();
    const entry = { at, read, pending: true };
    recent.set(key, entry);
    // A failed read is not shared with later callers: they try again.
    read.then(
      () => void (entry.pending = false),
      () => {
        entry.pending = false;
        if (recent.get(key) === entry) recent.delete(key);
      },
    );
    return read;
  }

  /** Reads these tasks, a few at a time (the pacer spaces them). */
  async function refreshTasks(opts: CallOptions, taskIds: readonly string[]): Promise<void> {
    await mapLimit(taskIds, TASK_READ_CONCURRENCY, (taskId) => refreshTask(opts, taskId));
  }

  const notFound = (what: string, id: string, action: string) =>
    new UpstreamError('NOT_FOUND', `${what} ${id} is not known for this key.`, {
      action,
      status: 404,
    });

  async function knownGroup(opts: CallOptions, id: string, action: string) {
    const group = await ledger.group(scopeOf(opts), id);
    if (!group) throw notFound('Group', id, action);
    return group;
  }

  /**
   * apimart has no such resource (deleted behind the gateway's back, or a simulator that
   * restarted): the ledger, which alone lists it, forgets it too; the caller still hears NOT_FOUND.
   */
  async function forgetIfGone(error: unknown, forget: () => Promise<void>): Promise<never> {
    if (isUpstreamError(error) && error.code === 'NOT_FOUND') await forget();
    throw error;
  }

  async function knownAsset(opts: CallOptions, id: string, action: string) {
    const asset = await ledger.asset(scopeOf(opts), id);
    if (!asset) throw notFound('Asset', id, action);
    return asset;
  }

  /** One review task for items of one group and type; all items get provisional ids. */
  async function createAssets(opts: CallOptions, items: readonly NewAsset[]) {
    const first = items[0];
    if (!first) return { ids: [] };
    if (items.length > MAX_ASSETS_PER_TASK) {
      throw new UpstreamError('BAD_REQUEST', `At most ${MAX_ASSETS_PER_TASK} assets per batch.`);
    }
    if (items.some((item) => item.groupId !== first.groupId || item.type !== first.type)) {
      throw new TypeError('createAssets: every item must have the same groupId and type');
    }
    const group = await knownGroup(opts, first.groupId, CALLS.submitVirtualAssets.action);
    const name = group.kind === 'REAL' ? 'submitRealAssets' : 'submitVirtualAssets';
    if (group.kind === 'REAL' && first.type === 'AUDIO') {
      throw new UpstreamError('BAD_REQUEST', 'apimart takes no audio for real-person groups.', {
        action: CALLS[name].action,
        upstreamCode: 'asset_type',
      });
    }
    const body = await call(name, opts, {
      body: {
        group_id: group.id,
        project_name: project,
        asset_type: WIRE_TYPES[first.type],
        assets: items.map((item) => ({ url: item.url, ...(item.name ? { name: item.name } : {}) })),
      },
    });
    const task = parse(name, () => readTask(body));
    const assets = items.map((item, index) => ({
      id: `${task.id}-${index}`,
      index,
      name: item.name ?? null,
      type: item.type,
      url: item.url,
    }));
    try {
      await ledger.saveReviewTask(scopeOf(opts), { id: task.id, groupId: group.id, assets });
    } catch (error) {
      // apimart has the upload, the gateway lost its ids: never resend it blindly.
      throw new UpstreamError(
        'UPSTREAM_UNAVAILABLE',
        `apimart accepted the upload as task ${task.id}, but the gateway could not record it.`,
        { action: CALLS[name].action, outcomeUnknown: true, cause: error },
      );
    }
    return { ids: assets.map((a) => a.id) };
  }

  /** Step 2's answer, or a saved task's, as the port's result. */
  async function settleVerification(
    opts: CallOptions,
    answer: VerificationAnswer,
  ): Promise<VerificationResult> {
    const { action } = CALLS.queryVerification;
    if (answer.kind === 'group') {
      await ledger.saveGroup(scopeOf(opts), {
        id: answer.groupId,
        kind: 'REAL',
        name: null,
        description: null,
      });
      return { status: 'VERIFIED', groupId: answer.groupId };
    }
    if (answer.kind === 'task') return { status: 'PENDING' };
    const verdict = verificationVerdict(`${answer.code} ${answer.message}`);
    if (verdict === 'PENDING') return { status: 'PENDING' };
    throw new UpstreamError(verdict ?? 'VERIFICATION_FAILED', answer.message, {
      action,
      upstreamCode: answer.code,
    });
  }

  return {
    assetBatchSize: MAX_ASSETS_PER_TASK,

    async createGroup(opts, input) {
      const body = await call('createGroup', opts, {
        body: { name: input.name, description: input.description, project_name: project },
      });
      const id = parse('createGroup', () => createdGroupId(body));
      await ledger.saveGroup(scopeOf(opts), {
        id,
        kind: 'VIRTUAL',
        name: input.name,
        description: input.description ?? null,
      });
      return { id };
    },

    async listGroups(opts, query) {
      const { items, total } = await ledger.pageGroups(
        scopeOf(opts),
        { ids: query.ids, kind: query.kind, nameContains: query.nameContains },
        query.page,
        query.pageSize,
      );
      return { items: items.map(toGroup), total, page: query.page, pageSize: query.pageSize };
    },

    async getGroup(opts, id) {
      return toGroup(await knownGroup(opts, id, 'GetGroup'));
    },

    async updateGroup(opts, id, patch) {
      await knownGroup(opts, id, CALLS.updateGroup.action);
      if (patch.name === undefined && patch.description === undefined) return;
      await call('updateGroup', opts, {
        id,
        body: { name: patch.name, description: patch.description },
      });
      await ledger.updateGroup(scopeOf(opts), id, patch);
    },

    async deleteGroup(opts, id) {
      await knownGroup(opts, id, CALLS.deleteGroup.action);
      const forget = () => ledger.forgetGroup(scopeOf(opts), id);
      await call('deleteGroup', opts, { id }).catch((error: unknown) =>
        forgetIfGone(error, forget),
      );
      await forget();
    },

    async createAsset(opts, input) {
      const { ids } = await createAssets(opts, [input]);
      return { id: ids[0]! };
    },

    createAssets,

    async listAssets(opts, query) {
      const scope = scopeOf(opts);
      const page = () =>
        ledger.pageAssets(
          scope,
          {
            groupIds: query.groupIds,
            kind: query.kind,
            statuses: query.statuses,
            types: query.types,
            nameContains: query.nameContains,
          },
          query.page,
          query.pageSize,
        );
      let found: Awaited<ReturnType<typeof page>>;
      if (query.statuses) {
        // Which assets match depends on statuses that open tasks may change: read those first
        // (the status watcher's lists of `PROCESSING` assets take this path).
        await refreshTasks(opts, await ledger.openTasks(scope, query.groupIds));
        found = await page();
      } else {
        // The page's members do not depend on statuses: read only its own open tasks.
        found = await page();
        const open = new Set(
          found.items.filter((a) => a.status === 'PROCESSING').map((a) => a.taskId),
        );
        if (open.size > 0) {
          await refreshTasks(opts, [...open]);
          found = await page();
        }
      }
      const { items, total } = found;
      return { items: items.map(toAsset), total, page: query.page, pageSize: query.pageSize };
    },

    async getAsset(opts, id) {
      const known = await knownAsset(opts, id, 'GetAsset');
      if (known.status !== 'PROCESSING') return toAsset(known);
      await refreshTask(opts, known.taskId);
      return toAsset(await knownAsset(opts, id, 'GetAsset'));
    },

    async updateAsset(opts, id, patch) {
      const known = await knownAsset(opts, id, CALLS.updateAsset.action);
      // In review, apimart has no id to rename yet: the name is the gateway's until then.
      if (known.upstreamId) {
        await call('updateAsset', opts, {
          id: known.upstreamId,
          body: { name: patch.name },
        });
      }
      await ledger.renameAsset(scopeOf(opts), id, patch.name);
    },

    async deleteAsset(opts, id) {
      const known = await knownAsset(opts, id, CALLS.deleteAsset.action);
      if (!known.upstreamId) {
        // Deleted upstream when its review ends (`refreshTask`); hidden from now on.
        await ledger.markAssetDeleted(scopeOf(opts), id);
        return;
      }
      const forget = () => ledger.forgetAsset(scopeOf(opts), id);
      await call('deleteAsset', opts, { id: known.upstreamId }).catch((error: unknown) =>
        forgetIfGone(error, forget),
      );
      await forget();
    },

    async startVerification(opts, input) {
      // apimart has no language field: `input.language` is not sent.
      const body = await call('createSession', opts, {
        body: { callback_url: input.callbackUrl, project_name: project },
      });
      let task = parse('createSession', () => readTask(body));
      // The create answers the bare task; its result (token, link) is read with `GET /v1/tasks`.
      for (let reads = 0; !task.result; reads++) {
        const gaveUp = reads >= (options.sessionPolls ?? 3) || (reads > 0 && task.final);
        if (gaveUp) {
          throw badResponse(
            CALLS.getTask.action,
            `the session task is ${task.status} with no result`,
          );
        }
        if (reads > 0) await sleep(options.sessionPollMs ?? 500, new AbortController().signal);
        task = await getTask(opts, task.id);
      }
      const session = task;
      return parse('getTask', () => sessionOf(session));
    },

    async completeVerification(opts, token) {
      const scope = scopeOf(opts);
      const tokenHash = secretHash(token);
      const saved = await ledger.verificationTask(scope, tokenHash);
      if (saved) {
        const task = await getTask(opts, saved);
        return settleVerification(
          opts,
          parse('getTask', () => verificationOfTask(task)),
        );
      }
      let body: unknown;
      try {
        body = await call('queryVerification', opts, {
          body: { byted_token: token, project_name: project },
        });
      } catch (error) {
        if (!isUpstreamError(error) || error.code !== 'BAD_REQUEST') throw error;
        // Refusals of step 2 are undocumented: their words tell pending, expired, used, failed.
        const verdict = verificationVerdict(`${error.upstreamCode ?? ''} ${error.message}`);
        if (verdict === 'PENDING') return { status: 'PENDING' };
        if (verdict === null) throw error;
        throw new UpstreamError(verdict, error.message, {
          action: error.action,
          status: error.status,
          upstreamCode: error.upstreamCode,
        });
      }
      const answer = parse('queryVerification', () => readVerification(body));
      if (answer.kind === 'task')
        await ledger.saveVerificationTask(scope, tokenHash, answer.task.id);
      return settleVerification(opts, answer);
    },

    close: () => transport.close(),
  };
}
