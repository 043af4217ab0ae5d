/**
 * apimart's calls as data. Read the three tables: `CALLS` (each call's path, method, action name
 * and kind), `DEFAULT_RATE_LIMITS` (the pace the client keeps) and `RETRY_RULES` (what each kind
 * of call may retry). `http/transport.ts` applies them; `client.ts` composes the calls into the
 * port's methods (one port method may make several calls, and some make none: see `client.ts`).
 *
 * Paths: upstream-evidence.md §3.1. The `private-avatar/groups` and `private-avatar/assets`
 * management endpoints are the newer ones integrators report (marked Inferred in the contract).
 */
import type { HttpMethod } from '../http/dialect.js';
import type { RateLimit } from '../http/pacer.js';
import { IDEMPOTENT_RULE, type CallKind, type RetryRule } from '../http/retry.js';
import type { operations } from './wire.js';

export interface ApimartCallSpec {
  /** The contract operation it calls (`wire.d.ts` types its request body). */
  operationId: keyof operations;
  method: HttpMethod;
  /** Below the base URL; `{id}` is the call's `id`. */
  path: string;
  /** Pacing bucket, metrics label and error messages. */
  action: string;
  kind: CallKind;
}

const REAL_AVATAR = '/v1/seedance2/real-avatar';
const PRIVATE_AVATAR = '/v1/seedance2/private-avatar';

export const CALLS = {
  /** real-avatar step 1: an H5 session; answers a task whose result holds the token and link. */
  createSession: {
    operationId: 'apimartRealAvatar',
    method: 'POST',
    path: REAL_AVATAR,
    action: 'RealAvatarSession',
    kind: 'create',
  },
  /** real-avatar step 2: the token's result (the group id); its answer shape is undocumented. */
  queryVerification: {
    operationId: 'apimartRealAvatar',
    method: 'POST',
    path: REAL_AVATAR,
    action: 'RealAvatarResult',
    kind: 'exchange',
  },
  /** real-avatar step 3: a review task of up to 20 assets into a REAL group. */
  submitRealAssets: {
    operationId: 'apimartRealAvatar',
    method: 'POST',
    path: REAL_AVATAR,
    action: 'RealAvatarAssets',
    kind: 'create',
  },
  /** A review task of up to 20 assets into a VIRTUAL group. */
  submitVirtualAssets: {
    operationId: 'apimartPrivateAvatar',
    method: 'POST',
    path: PRIVATE_AVATAR,
    action: 'PrivateAvatarAssets',
    kind: 'create',
  },
  /** Any task: a session's token and link, a review's per-asset results. */
  getTask: {
    operationId: 'apimartGetTask',
    method: 'GET',
    path: '/v1/tasks/{id}',
    action: 'GetTask',
    kind: 'read',
  },
  createGroup: {
    operationId: 'apimartCreateGroup',
    method: 'POST',
    path: `${PRIVATE_AVATAR}/groups`,
    action: 'CreateGroup',
    kind: 'create',
  },
  updateGroup: {
    operationId: 'apimartUpdateGroup',
    method: 'PATCH',
    path: `${PRIVATE_AVATAR}/groups/{id}`,
    action: 'UpdateGroup',
    kind: 'update',
  },
  deleteGroup: {
    operationId: 'apimartDeleteGroup',
    method: 'DELETE',
    path: `${PRIVATE_AVATAR}/groups/{id}`,
    action: 'DeleteGroup',
    kind: 'delete',
  },
  updateAsset: {
    operationId: 'apimartUpdateAsset',
    method: 'PATCH',
    path: `${PRIVATE_AVATAR}/assets/{id}`,
    action: 'UpdateAsset',
    kind: 'update',
  },
  deleteAsset: {
    operationId: 'apimartDeleteAsset',
    method: 'DELETE',
    path: `${PRIVATE_AVATAR}/assets/{id}`,
    action: 'DeleteAsset',
    kind: 'delete',
  },
} as const satisfies Record<string, ApimartCallSpec>;

export type ApimartCall = keyof typeof CALLS;

/** Most assets one review task takes (private-avatar: "≤ 20 per request"; integrators alike). */
export const MAX_ASSETS_PER_TASK = 20;

/**
 * apimart publishes no rate limits for these endpoints (upstream-evidence.md §3.4), so the pace
 * is ours, per key and action, chosen from what its own client does: it polls each task every
 * 2 s (M6), so 5 task reads a second per key cover ten open reviews at that pace, and no more;
 * uploads and verifications spend money and cannot be retried blindly, so they go one a second;
 * the free management calls (M7) get 5 a second. A 429 still pauses for its `Retry-After`.
 * Override per action with the client's `rateLimits`.
 */
export const DEFAULT_RATE_LIMITS: Readonly<Record<string, RateLimit>> = {
  RealAvatarSession: { requests: 1, per: 'second' },
  RealAvatarResult: { requests: 1, per: 'second' },
  RealAvatarAssets: { requests: 1, per: 'second' },
  PrivateAvatarAssets: { requests: 1, per: 'second' },
  GetTask: { requests: 5, per: 'second' },
  CreateGroup: { requests: 1, per: 'second' },
  UpdateGroup: { requests: 5, per: 'second' },
  DeleteGroup: { requests: 5, per: 'second' },
  UpdateAsset: { requests: 5, per: 'second' },
  DeleteAsset: { requests: 5, per: 'second' },
};

/**
 * apimart's avatar POSTs take no idempotency key (M6), so once one may have arrived it is never
 * sent again: a lost answer, a 5xx or an unreadable success reports `outcomeUnknown`. Only a
 * connect failure (nothing written) and a 429 (refused before any work) are retried.
 */
const NOT_REPEATABLE: RetryRule = {
  maxAttempts: 3,
  retryAnswers: ['throttled'],
  retryBeforeSend: true,
  retryAfterSend: false,
  outcomeUnknownAnswers: ['failed', 'gateway', 'overloaded', 'unreadable'],
  notFoundAfterUnknownIsDone: false,
};

export const RETRY_RULES: Readonly<Record<CallKind, RetryRule>> = {
  // Reads, updates and deletes converge when repeated: retry what is transient.
  read: IDEMPOTENT_RULE,
  update: IDEMPOTENT_RULE,
  delete: { ...IDEMPOTENT_RULE, notFoundAfterUnknownIsDone: true },
  create: NOT_REPEATABLE,
  // Step 2 redeems a single-use token: every answer is a verdict.
  exchange: { ...NOT_REPEATABLE, retryAnswers: [] },
};
