/**
 * The ledger: what the gateway must remember about its callers' resources, across restarts and
 * instances. It stores facts only (who owns which group or asset, where a verification token
 * stands, what an idempotent create answered); it knows nothing of GraphQL, HTTP or the upstream.
 *
 * A tenant is an opaque string chosen by the gateway (a hashed upstream key in pass-through
 * mode, a gateway token's name or a JWT claim in server-key mode). Resources that exist upstream
 * but not here belong to nobody until an operator assigns them.
 *
 * Two stores implement it with the same SQL (`store.ts`): SQLite (`sqlite.ts`) and PostgreSQL
 * (`postgres.ts`); `openLedger` in `index.ts` picks one.
 */

/** Whether a ledger row is a group or an asset. */
export type ResourceKind = 'group' | 'asset';
/** A group's avatar kind, in the port's words: `VIRTUAL` (created) or `REAL` (verified). */
export type AvatarKind = 'VIRTUAL' | 'REAL';
export type AssetType = 'IMAGE' | 'VIDEO' | 'AUDIO';

/** One owned resource, as operators list and export it. */
export interface LedgerEntry {
  kind: ResourceKind;
  id: string;
  tenant: string;
  /** Groups: their avatar kind, when known. */
  avatarKind: AvatarKind | null;
  /** Assets: the group holding them. */
  groupId: string | null;
  /** Assets: their type. */
  assetType: AssetType | null;
  /** The name last recorded (at creation or through `rename`). */
  name: string | null;
  /** Assets: the source URL they were uploaded from (what a reconciliation looks for). */
  url: string | null;
  createdAt: Date;
}

export interface NewOwnedGroup {
  id: string;
  kind: AvatarKind;
  name?: string | null;
}

export interface NewOwnedAsset {
  id: string;
  url: string;
  type: AssetType;
  name?: string | null;
}

/**
 * What an operation created, to record as the tenant's together with its idempotency outcome
 * (`completeIdempotent`, `markOutcomeUnknown`), in one transaction.
 */
export interface OwnedFacts {
  groups?: readonly NewOwnedGroup[];
  /** Assets uploaded into one group. */
  assets?: { groupId: string; assets: readonly NewOwnedAsset[] };
}

/**
 * What `pageOwned` can narrow by: the facts the ledger holds durably. Conditions that change
 * upstream on their own (an asset's status) are not here: the caller applies them to what it
 * reads upstream.
 */
export interface OwnedFilter {
  /** Only these ids. */
  ids?: readonly string[];
  /** Groups: only this avatar kind. Assets: only assets in groups of this avatar kind. */
  avatarKind?: AvatarKind;
  /** Assets only: only assets in these groups. */
  groupIds?: readonly string[];
  /** Assets only: only these types. */
  assetTypes?: readonly AssetType[];
  /** Part of the recorded name, case-insensitive (ASCII letters). */
  nameContains?: string;
}

/** A page of owned ids, newest first, and how many match in all. */
export interface OwnedPage {
  ids: string[];
  total: number;
  /** Assets only: the groups holding the page's assets (each once), to read them by group. */
  groupIds?: string[];
}

/** Where a real-person verification token stands. Every state but `PENDING` is final. */
export type VerificationState = 'PENDING' | 'VERIFIED' | 'EXPIRED' | 'FAILED' | 'USED';

export interface VerificationRecord {
  state: VerificationState;
  /** Set when `state` is `VERIFIED`. */
  groupId: string | null;
  expiresAt: Date;
}

/**
 * The answer of `claimVerification`.
 * - `claimed`: this caller may exchange the token upstream now, and must then `settleVerification`.
 * - `busy`: another caller (maybe another instance) is exchanging it; read again shortly.
 * - `settled`: the outcome is known; answer from it without calling upstream.
 */
export type VerificationClaim =
  { status: 'claimed' } | { status: 'busy' } | { status: 'settled'; record: VerificationRecord };

/** What an exchange of a token ended with; `PENDING` just gives the claim back. */
export type VerificationOutcome =
  { state: 'VERIFIED'; groupId: string } | { state: 'PENDING' | 'EXPIRED' | 'FAILED' | 'USED' };

/** Identifies one idempotent operation: the caller's tenant, the operation, the client's key. */
export interface IdempotencyKey {
  tenant: string;
  /** The operation, e.g. `createGroup` or `addAssets:<groupId>`. */
  scope: string;
  /** The client's `idempotencyKey`. */
  key: string;
}

/** The right to run one idempotent operation; pass it to `completeIdempotent` and friends. */
export interface IdempotencyClaim extends IdempotencyKey {
  /** Who holds the record; a claim taken over after its lease ran out no longer matches. */
  readonly attempt: string;
}

/**
 * The answer of `beginIdempotent`.
 * - `new`: first time; run the operation, then complete, release or mark it unknown.
 * - `reconcile`: an earlier attempt ended with an unknown outcome (or its holder vanished past
 *   its lease). The caller holds the record now; it must look upstream for what that attempt did
 *   (`note` is what it saved) before sending anything again.
 * - `replay`: done before with the same input: `answer` is the first answer.
 * - `mismatch`: the key was used with other input.
 * - `in-progress`: another attempt holds the record; wait and begin again.
 */
export type IdempotencyBegin =
  | { status: 'new'; claim: IdempotencyClaim }
  | { status: 'reconcile'; claim: IdempotencyClaim; note: unknown }
  | { status: 'replay'; answer: unknown }
  | { status: 'mismatch' }
  | { status: 'in-progress' };

/** Operators' listing filter. */
export interface ListFilter {
  tenant?: string;
  kind?: ResourceKind;
}

/** Extra facts an operator may give when assigning a resource the ledger did not know. */
export interface AssignDetails {
  avatarKind?: AvatarKind | null;
  groupId?: string | null;
  assetType?: AssetType | null;
  name?: string | null;
}

/** An asset's review status, in the port's words. */
export type ReviewStatus = 'PROCESSING' | 'ACTIVE' | 'FAILED';

/** A group the apimart dialect knows (apimart never returns a group's kind). */
export interface ApimartGroupRecord {
  id: string;
  kind: AvatarKind;
  name: string | null;
  description: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** An asset submitted through the apimart dialect, under its provisional id. */
export interface ApimartAssetRecord {
  /** The provisional id clients see, from the moment `addAssets` answers, for good. */
  id: string;
  groupId: string;
  /** The review task it was submitted in, and its position there. */
  taskId: string;
  index: number;
  name: string | null;
  type: AssetType;
  url: string;
  /** apimart's own asset id, once the review ended. */
  upstreamId: string | null;
  /** The `asset://…` reference for video generation, once the review ended. */
  uri: string | null;
  status: ReviewStatus;
  failure: { code: string; message: string } | null;
  createdAt: Date;
  updatedAt: Date;
}

/** A review task's assets as submitted: provisional id, position, and what apimart never echoes. */
export interface NewReviewTask {
  id: string;
  groupId: string;
  assets: ReadonlyArray<{
    id: string;
    index: number;
    name: string | null;
    type: AssetType;
    url: string;
  }>;
}

/** What a read of a review task found; `final` when the task ended (its assets settle). */
export interface ReviewOutcome {
  final: boolean;
  /** apimart's task status, as read. */
  status: string;
  /** Per submitted position: the upstream id, `asset://` reference and final status. */
  assets: ReadonlyArray<{
    index: number;
    upstreamId: string | null;
    uri: string | null;
    status: ReviewStatus;
  }>;
  /** For positions ending `FAILED` (apimart gives one reason per task, none per asset). */
  failure: { code: string; message: string } | null;
}

export interface ApimartAssetFilter {
  ids?: readonly string[];
  groupIds?: readonly string[];
  /** Only assets in groups of this kind. */
  kind?: AvatarKind;
  statuses?: readonly ReviewStatus[];
  types?: readonly AssetType[];
  nameContains?: string;
}

/**
 * The apimart dialect's memory (migration 0010): apimart answers neither a group's kind nor an
 * asset's type, name or group, and its first answer to an upload is a task, not asset ids.
 * Every method takes the `scope` (a hash of the upstream key); rows of another scope are
 * invisible. Deleted assets are hidden from every read at once.
 */
export interface ApimartLedger {
  /** Records a group; recording it again keeps the first record. */
  saveGroup(
    scope: string,
    group: { id: string; kind: AvatarKind; name: string | null; description: string | null },
  ): Promise<void>;
  group(scope: string, id: string): Promise<ApimartGroupRecord | null>;
  /** Newest first. */
  pageGroups(
    scope: string,
    filter: { ids?: readonly string[]; kind?: AvatarKind; nameContains?: string },
    page: number,
    pageSize: number,
  ): Promise<{ items: ApimartGroupRecord[]; total: number }>;
  updateGroup(
    scope: string,
    id: string,
    patch: { name?: string; description?: string },
  ): Promise<void>;
  /** Forgets a group, its assets and its tasks. */
  forgetGroup(scope: string, id: string): Promise<void>;

  /** Records an open review task and its assets (all `PROCESSING`), in one transaction. */
  saveReviewTask(scope: string, task: NewReviewTask): Promise<void>;
  /** The open review tasks holding not-deleted assets of these groups (all groups when absent). */
  openTasks(scope: string, groupIds?: readonly string[]): Promise<string[]>;
  /**
   * Records what a read of a review task found. When `final`, the task closes and its assets get
   * their upstream ids and statuses (positions missing from `assets` end `FAILED`).
   * @returns the upstream ids of assets deleted while the task was open, to delete upstream now.
   */
  settleTask(scope: string, taskId: string, outcome: ReviewOutcome): Promise<string[]>;
  asset(scope: string, id: string): Promise<ApimartAssetRecord | null>;
  /** Newest first (then by position in their task). */
  pageAssets(
    scope: string,
    filter: ApimartAssetFilter,
    page: number,
    pageSize: number,
  ): Promise<{ items: ApimartAssetRecord[]; total: number }>;
  renameAsset(scope: string, id: string, name: string): Promise<void>;
  /** Hides an asset at once; its row stays until `forgetAsset` (it may still need an upstream delete). */
  markAssetDeleted(scope: string, id: string): Promise<void>;
  forgetAsset(scope: string, id: string): Promise<void>;

  /** Remembers the task a step-2 exchange of this token answered, so it is polled, not re-sent. */
  saveVerificationTask(scope: string, tokenHash: string, taskId: string): Promise<void>;
  verificationTask(scope: string, tokenHash: string): Promise<string | null>;
}

export interface Ledger {
  /** Which store this is. */
  readonly store: 'sqlite' | 'postgres';

  /** What the apimart dialect remembers (`src/upstream/apimart/`). */
  readonly apimart: ApimartLedger;

  // Ownership

  /** Records that `tenant` created (or verified) a group. Recording it again changes nothing. */
  recordGroup(tenant: string, group: NewOwnedGroup): Promise<void>;
  /** Records the assets `tenant` uploaded into a group, in one transaction. */
  recordAssets(tenant: string, groupId: string, assets: readonly NewOwnedAsset[]): Promise<void>;
  /** The tenant owning a resource, or null when nobody does (unknown to the ledger). */
  ownerOf(kind: ResourceKind, id: string): Promise<string | null>;
  /** Those of `ids` that `tenant` owns, in the given order: one query for a whole batch. */
  filterOwned(tenant: string, kind: ResourceKind, ids: readonly string[]): Promise<string[]>;
  /**
   * One page of the tenant's ids, newest first, with the total matching. The caller reads those
   * ids upstream (in batches of up to 100).
   * @param page 1-based.
   */
  pageOwned(
    tenant: string,
    kind: ResourceKind,
    filter: OwnedFilter,
    page: number,
    pageSize: number,
  ): Promise<OwnedPage>;
  /** Keeps the recorded name current after a rename, so `nameContains` stays right. */
  rename(kind: ResourceKind, id: string, name: string): Promise<void>;
  /** Forgets a deleted resource; forgetting a group forgets its assets too. */
  forget(kind: ResourceKind, id: string): Promise<void>;

  // Operators

  /**
   * Gives a resource to a tenant (operators: resources created outside the gateway).
   * @returns the previous owner, or null.
   */
  assign(
    kind: ResourceKind,
    id: string,
    tenant: string,
    details?: AssignDetails,
  ): Promise<string | null>;
  /** Owned resources in a stable order (kind, then id), `limit` at a time after `after`. */
  list(
    filter: ListFilter,
    options?: { after?: { kind: ResourceKind; id: string }; limit?: number },
  ): Promise<LedgerEntry[]>;

  // Real-person verification tokens (the token itself is stored hashed)

  /** Records a token `tenant` started, pending until `expiresAt`. */
  saveVerification(tenant: string, token: string, expiresAt: Date): Promise<void>;
  /**
   * Where the tenant's token stands; null when the tenant never saved or claimed it. A pending
   * token past its expiry reads as `EXPIRED`.
   */
  verification(tenant: string, token: string): Promise<VerificationRecord | null>;
  /**
   * Asks for the right to exchange the token upstream for `leaseMs`; exactly one caller across
   * instances gets it at a time. A token the ledger does not know yet is recorded as pending
   * until `expiresAt` (a token started before the ledger, or by another client of the key).
   */
  claimVerification(
    tenant: string,
    token: string,
    options: { leaseMs: number; expiresAt: Date },
  ): Promise<VerificationClaim>;
  /**
   * Records what an exchange answered and gives the claim back. `VERIFIED` also records the
   * real-person group as the tenant's, in the same transaction.
   */
  settleVerification(tenant: string, token: string, outcome: VerificationOutcome): Promise<void>;

  // Idempotent creates (records live 24 h by default)

  /**
   * Starts (or joins) an idempotent operation. Across instances exactly one concurrent begin of
   * a key wins (`new` or `reconcile`); the others see `in-progress`.
   * @param inputHash a digest of the operation's input (`hashInput`).
   */
  beginIdempotent(key: IdempotencyKey, inputHash: string): Promise<IdempotencyBegin>;
  /**
   * Stores the answer that later begins replay. It goes through JSON: a `Date` comes back as
   * its ISO string. A claim that was taken over (its lease ran out) changes nothing, here and in
   * `releaseIdempotent` and `markOutcomeUnknown`: the newer holder's outcome stands.
   * @param owned what the operation created, recorded as the claim's tenant's in the same
   *   transaction (also when the claim was taken over: the resources exist all the same), so a
   *   later reconciliation never meets an answer without its owner, or the reverse.
   */
  completeIdempotent(claim: IdempotencyClaim, answer: unknown, owned?: OwnedFacts): Promise<void>;
  /** The operation failed without doing anything upstream: forget it, a retry sends again. */
  releaseIdempotent(claim: IdempotencyClaim): Promise<void>;
  /**
   * The operation may or may not have happened upstream (`OUTCOME_UNKNOWN`): the next begin
   * answers `reconcile` with `note` (JSON-serialisable), never a blind resend.
   */
  markOutcomeUnknown(claim: IdempotencyClaim, note: unknown, owned?: OwnedFacts): Promise<void>;

  // Housekeeping

  /** Deletes expired idempotency records and verification tokens; returns how many. */
  purgeExpired(): Promise<number>;
  /** Whether the store answers a query now (readiness). Never throws. */
  ping(): Promise<boolean>;
  /** Closes connections; the ledger is unusable afterwards. */
  close(): Promise<void>;
}
