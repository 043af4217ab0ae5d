/**
 * Ark's calls as data. Read the three tables: `ACTIONS` (what each port method calls, and its
 * kind), `DEFAULT_RATE_LIMITS` (the documented rate of each action) and `RETRY_RULES` (what each
 * kind of call may retry). `http/transport.ts` applies them.
 */
import { IDEMPOTENT_RULE, type CallKind, type RetryRule } from '../http/retry.js';
import type { RateLimit } from '../http/pacer.js';
import type { Upstream } from '../port.js';
import type { OperationId } from './contract.js';

/** The upstream Volcengine actions, as named in `ResponseMetadata.Action`. */
export type ArkAction =
  | 'CreateAssetGroup'
  | 'ListAssetGroups'
  | 'GetAssetGroup'
  | 'UpdateAssetGroup'
  | 'DeleteAssetGroup'
  | 'CreateAsset'
  | 'ListAssets'
  | 'GetAsset'
  | 'UpdateAsset'
  | 'DeleteAsset'
  | 'CreateVisualValidateSession'
  | 'GetVisualValidateResult';

export interface ArkActionSpec {
  /** The contract operation it calls. */
  operationId: OperationId;
  action: ArkAction;
  kind: CallKind;
}

/**
 * Every port method: the contract operation, the upstream action, and the kind of call.
 * Reads are ② ③ ⑦ ⑧; creates ① ⑥ ⑪; updates ④ ⑨; deletes ⑤ ⑩; ⑫ redeems a single-use token.
 */
export const ACTIONS = {
  createGroup: { operationId: 'createAssetGroup', action: 'CreateAssetGroup', kind: 'create' },
  listGroups: { operationId: 'listAssetGroups', action: 'ListAssetGroups', kind: 'read' },
  getGroup: { operationId: 'getAssetGroup', action: 'GetAssetGroup', kind: 'read' },
  updateGroup: { operationId: 'updateAssetGroup', action: 'UpdateAssetGroup', kind: 'update' },
  deleteGroup: { operationId: 'deleteAssetGroup', action: 'DeleteAssetGroup', kind: 'delete' },
  createAsset: { operationId: 'createAsset', action: 'CreateAsset', kind: 'create' },
  listAssets: { operationId: 'listAssets', action: 'ListAssets', kind: 'read' },
  getAsset: { operationId: 'getAsset', action: 'GetAsset', kind: 'read' },
  updateAsset: { operationId: 'updateAsset', action: 'UpdateAsset', kind: 'update' },
  deleteAsset: { operationId: 'deleteAsset', action: 'DeleteAsset', kind: 'delete' },
  startVerification: {
    operationId: 'createRealPersonSession',
    action: 'CreateVisualValidateSession',
    kind: 'create',
  },
  completeVerification: {
    operationId: 'exchangeBytedToken',
    action: 'GetVisualValidateResult',
    kind: 'exchange',
  },
  // Ark uploads one asset per call: it has no `createAssets` batch.
} as const satisfies Record<
  Exclude<keyof Upstream, 'createAssets' | 'assetBatchSize'>,
  ArkActionSpec
>;

export type PortMethod = keyof typeof ACTIONS;

/**
 * Documented per-account limits (upstream-api.md §3.5, "Rate limits", G5). `CreateAsset`
 * depends on the plan (3 / 120 / 300 per minute); the default is the basic plan, override it
 * with the client's `rateLimits` option.
 */
export const DEFAULT_RATE_LIMITS: Readonly<Record<ArkAction, RateLimit>> = {
  CreateAssetGroup: { requests: 10, per: 'second' },
  ListAssetGroups: { requests: 10, per: 'second' },
  GetAssetGroup: { requests: 10, per: 'second' },
  UpdateAssetGroup: { requests: 10, per: 'second' },
  DeleteAssetGroup: { requests: 5, per: 'second' },
  CreateAsset: { requests: 3, per: 'minute' },
  ListAssets: { requests: 10, per: 'second' },
  GetAsset: { requests: 100, per: 'second' },
  UpdateAsset: { requests: 10, per: 'second' },
  DeleteAsset: { requests: 10, per: 'second' },
  CreateVisualValidateSession: { requests: 3, per: 'second' },
  GetVisualValidateResult: { requests: 3, per: 'second' },
};

/**
 * Creates retry only what certainly did not happen: a connect failure (nothing was written)
 * and a throttled answer (the upstream refused before doing anything). A failed or gateway
 * answer (500/502/504) may come after the work was done (a gateway timing out behind us), so it
 * reports `outcomeUnknown`, as does a success whose body cannot be read.
 */
const NOT_REPEATABLE: RetryRule = {
  maxAttempts: 3,
  retryAnswers: ['throttled'],
  retryBeforeSend: true,
  retryAfterSend: false,
  outcomeUnknownAnswers: ['failed', 'gateway', 'unreadable'],
  notFoundAfterUnknownIsDone: false,
};

export const RETRY_RULES: Readonly<Record<CallKind, RetryRule>> = {
  // Reads, updates and deletes converge when repeated: retry what is transient.
  read: IDEMPOTENT_RULE,
  update: IDEMPOTENT_RULE,
  // Deleting twice answers NOT_FOUND the second time; after a lost answer that means success.
  delete: { ...IDEMPOTENT_RULE, notFoundAfterUnknownIsDone: true },
  create: NOT_REPEATABLE,
  // ⑫ is never retried on an answer (a throttled one included): each is a verdict on the token.
  exchange: { ...NOT_REPEATABLE, retryAnswers: [] },
};
