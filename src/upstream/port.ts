/**
 * The upstream port: what the gateway needs from the Seedance 2.0 asset APIs, in domain terms.
 *
 * Resolvers and the status watcher depend on this interface only. Each dialect's client
 * implements it (Ark's, `ark/client.ts`, over the REST contract in `mocks/openapi.yaml`; pick one
 * with `createUpstream` in `index.ts`); the simulator's in-memory state
 * (`src/simulator/state.ts`) implements it directly, so tests can use either. This file and
 * `errors.ts` are the bottom of `upstream/`: they import nothing, and know nothing of HTTP or
 * GraphQL.
 */

/** Upstream `GroupType`: `AIGC` is a virtual avatar, `LivenessFace` a verified real person. */
export type AvatarKind = 'VIRTUAL' | 'REAL';
export type AssetType = 'IMAGE' | 'VIDEO' | 'AUDIO';
export type AssetStatus = 'PROCESSING' | 'ACTIVE' | 'FAILED';

export const FINAL_STATUSES: ReadonlySet<AssetStatus> = new Set(['ACTIVE', 'FAILED']);

export interface Group {
  id: string;
  /** Upstream may omit it for real-person groups; the caller decides the fallback. */
  name: string | null;
  description: string | null;
  kind: AvatarKind;
  createdAt: Date | null;
  updatedAt: Date | null;
}

export interface AssetFailure {
  code: string;
  message: string;
}

export interface Asset {
  id: string;
  groupId: string;
  name: string | null;
  type: AssetType;
  status: AssetStatus;
  /** Set when `status` is `FAILED`. */
  failure: AssetFailure | null;
  /** Signed URL of the stored copy; it changes on every read and expires (12 h upstream). */
  previewUrl: string | null;
  /**
   * The `asset://…` reference for video generation. Absent: `asset://<id>` (Ark, whose ids are
   * final from the start). `null`: not assigned yet (apimart, whose review task gives the asset
   * its upstream id only when it ends).
   */
  uri?: string | null;
  createdAt: Date | null;
  updatedAt: Date | null;
}

export interface Page<T> {
  items: T[];
  total: number;
  /** 1-based. */
  page: number;
  pageSize: number;
}

/**
 * Per-call options: whose credential, and when to give up. Nothing vendor-specific: a dialect's
 * routing is its client's own setting, fixed when the client is built.
 */
export interface CallOptions {
  /** The upstream API key, sent as `Authorization: Bearer <credential>`. Never logged. */
  credential: string;
  signal?: AbortSignal;
  /** Sent as `X-Request-Id`, so the gateway's log line and the upstream's share one id. */
  requestId?: string;
}

export interface GroupQuery {
  nameContains?: string;
  ids?: string[];
  kind?: AvatarKind;
  page: number;
  pageSize: number;
}

export interface AssetQuery {
  /** At most 100 per call upstream. */
  groupIds?: string[];
  kind?: AvatarKind;
  statuses?: AssetStatus[];
  types?: AssetType[];
  nameContains?: string;
  page: number;
  pageSize: number;
}

export interface NewGroup {
  name: string;
  description?: string;
}

export interface NewAsset {
  groupId: string;
  url: string;
  type: AssetType;
  name?: string;
}

export interface VerificationSession {
  /** The upstream `BytedToken`. */
  token: string;
  /** The H5 liveness page the person opens on a phone. Single use. */
  h5Link: string;
  /**
   * For how many seconds from now the upstream says `h5Link` can be opened, when it says (Ark's
   * `Result.ExpiresIn`, sent by some deployments); absent, the gateway's `H5_LINK_TTL_SECONDS`.
   */
  h5LinkTtlSeconds?: number;
}

/** The result of exchanging a token: still pending, or the verified person's group. */
export type VerificationResult = { status: 'PENDING' } | { status: 'VERIFIED'; groupId: string };

export interface Upstream {
  /** ① CreateAssetGroup. Creates a VIRTUAL group; returns its id. Not retried. */
  createGroup(opts: CallOptions, input: NewGroup): Promise<{ id: string }>;
  /** ② ListAssetGroups. */
  listGroups(opts: CallOptions, query: GroupQuery): Promise<Page<Group>>;
  /** ③ GetAssetGroup. Rejects with `NOT_FOUND` when absent. */
  getGroup(opts: CallOptions, id: string): Promise<Group>;
  /** ④ UpdateAssetGroup. */
  updateGroup(
    opts: CallOptions,
    id: string,
    patch: { name?: string; description?: string },
  ): Promise<void>;
  /** ⑤ DeleteAssetGroup. Deletes the group's assets too. */
  deleteGroup(opts: CallOptions, id: string): Promise<void>;
  /** ⑥ CreateAsset. The asset starts `PROCESSING`. Not retried. */
  createAsset(opts: CallOptions, input: NewAsset): Promise<{ id: string }>;
  /**
   * Optional batch upload, for dialects whose uploads are batches (apimart: one review task of
   * up to `assetBatchSize` items). Every item has the same `groupId` and `type`; all are created
   * or none (the error is the batch's). Resolves with the new ids in the order of `items`.
   */
  createAssets?(opts: CallOptions, items: readonly NewAsset[]): Promise<{ ids: string[] }>;
  /** Most items one `createAssets` takes; set with `createAssets`. */
  readonly assetBatchSize?: number;
  /** ⑦ ListAssets. */
  listAssets(opts: CallOptions, query: AssetQuery): Promise<Page<Asset>>;
  /** ⑧ GetAsset. Rejects with `NOT_FOUND` when absent. */
  getAsset(opts: CallOptions, id: string): Promise<Asset>;
  /** ⑨ UpdateAsset (only the name can change). */
  updateAsset(opts: CallOptions, id: string, patch: { name: string }): Promise<void>;
  /** ⑩ DeleteAsset. */
  deleteAsset(opts: CallOptions, id: string): Promise<void>;
  /** ⑪ Start an H5 liveness session. Not retried. */
  startVerification(
    opts: CallOptions,
    input: { callbackUrl: string; language?: 'zh' | 'en' | 'zh-Hant' },
  ): Promise<VerificationSession>;
  /**
   * ⑫ Exchange a token for the real-person group. Resolves `PENDING` while the person has not
   * finished; rejects with `VERIFICATION_EXPIRED`, `VERIFICATION_USED`, `VERIFICATION_FAILED`
   * or `NOT_FOUND` otherwise.
   */
  completeVerification(opts: CallOptions, token: string): Promise<VerificationResult>;
}
