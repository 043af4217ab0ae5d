/**
 * An in-memory, stateful simulator of the upstream asset APIs, implementing the `Upstream` port
 * directly. It backs the gateway when no `UPSTREAM_URL` is set and the in-process tests.
 *
 * Behaviour worth knowing:
 * - Data is partitioned by credential: one key never sees another key's groups, assets or
 *   tokens (a read with the wrong key is `NOT_FOUND`). An empty credential is `UNAUTHENTICATED`.
 * - Ids look like upstream ones: `group-YYYYMMDDhhmmss-xxxxx`, `asset-YYYYMMDDhhmmss-xxxxx`.
 * - Status is computed lazily from the clock: an asset is `PROCESSING` for `activationMs` after
 *   creation, then `ACTIVE` — or `FAILED` for these deterministic inputs (URL substrings):
 *   - `fail-face` → `FAILED` with `FaceMismatch` ("Face consistency verification failed.");
 *   - `fail-moderation` → `FAILED` with `ContentModeration`;
 *   - `download-fails` → `createAsset` rejects: `BAD_REQUEST`, `InvalidParameter.DownloadFailed`.
 * - Real person: `startVerification` makes a token valid for `tokenTtlMs` and an H5 link that
 *   can be opened for `h5LinkTtlMs` (the upstream's link is said to last 120 s, its token 30
 *   minutes: upstream-evidence.md, issue 16). The H5 page calls `completeLiveness(token, 'pass' |
 *   'fail')` while the link works; `completeVerification` is then `PENDING` before liveness,
 *   `VERIFIED` once (creating a `REAL` group), `VERIFICATION_USED` afterwards,
 *   `VERIFICATION_FAILED` after a failed check, `VERIFICATION_EXPIRED` after the token's TTL,
 *   and `NOT_FOUND` once the token is forgotten, one more TTL later (as the upstream forgets).
 * - Memory stays bounded: a key with no call for `idleKeyTtlMs` is forgotten with its groups,
 *   assets and tokens, and forgotten tokens are dropped (a sweep on calls, at most once a minute).
 * - Lists are sorted newest first (upstream's default `CreateTime Desc`).
 * - apimart's face (`apimart-http.ts`) reads the same data through tasks (`tasks.ts`), kept per
 *   key: a review task creates its assets at once and ends when they do; its `download-fails`
 *   items do not reject the batch but end `FAILED` with `DownloadFailed`, as apimart fetches
 *   asynchronously.
 */
import { UpstreamError } from '../upstream/errors.js';
import type {
  Asset,
  AssetQuery,
  AssetStatus,
  AssetType,
  AvatarKind,
  CallOptions,
  Group,
  GroupQuery,
  NewAsset,
  NewGroup,
  Page,
  Upstream,
  VerificationResult,
  VerificationSession,
} from '../upstream/port.js';
import { viewTask, type ReviewItem, type SimulatorTask, type StoredTask } from './tasks.js';

export interface SimulatorOptions {
  /**
   * How long a new asset stays `PROCESSING`.
   * @default 3000
   */
  activationMs?: number;
  /**
   * How long a verification token can be exchanged (⑫), from its creation.
   * @default 1800000 (30 minutes, the upstream's)
   */
  tokenTtlMs?: number;
  /**
   * How long the session's H5 link can be opened and its check completed, from the session's
   * start (never longer than the token).
   * @default 120000
   */
  h5LinkTtlMs?: number;
  /**
   * A key with no call for this long is forgotten, with all its data.
   * @default 3600000 (an hour)
   */
  idleKeyTtlMs?: number;
  /**
   * Base of the simulated H5 liveness page (`<h5BaseUrl>/h5/verify?token=…`) and of preview
   * URLs (`<h5BaseUrl>/files/<assetId>`).
   * @default 'http://127.0.0.1/sim'
   */
  h5BaseUrl?: string;
  /**
   * The clock, in epoch milliseconds.
   * @default Date.now
   */
  now?: () => number;
  /**
   * Random numbers in [0, 1) for ids and tokens.
   * @default Math.random
   */
  random?: () => number;
}

export type LivenessOutcome = 'pass' | 'fail';

/** A batch of assets for review (apimart's real-avatar step 3, `private-avatar`, `…/assets`). */
export interface NewReview {
  /** The group to add to; without it, a VIRTUAL group is created (named by `group`, if given). */
  groupId?: string;
  group?: { name: string; description?: string };
  type: AssetType;
  /** 1 to `MAX_REVIEW_ITEMS` items, reviewed together. */
  items: { url: string; name?: string }[];
}

/** apimart takes at most this many assets per review batch (M3). */
export const MAX_REVIEW_ITEMS = 20;

/** The failure recorded for `fail-*` URLs. */
export const SIMULATED_FAILURES = {
  'fail-face': { code: 'FaceMismatch', message: 'Face consistency verification failed.' },
  'fail-moderation': {
    code: 'ContentModeration',
    message: 'The content did not pass the moderation review.',
  },
} as const;

interface StoredGroup {
  id: string;
  name: string;
  description: string | null;
  kind: AvatarKind;
  createdAt: number;
  updatedAt: number;
  /** Insertion order, to break ties between equal timestamps. */
  seq: number;
}

interface StoredAsset {
  id: string;
  groupId: string;
  name: string | null;
  type: AssetType;
  url: string;
  createdAt: number;
  /** Last explicit change (rename); activation time is added lazily. */
  changedAt: number;
  failure: { code: string; message: string } | null;
  seq: number;
}

interface StoredToken {
  token: string;
  credential: string;
  callbackUrl: string;
  createdAt: number;
  liveness: 'pending' | 'passed' | 'failed';
  used: boolean;
}

interface Tenant {
  groups: Map<string, StoredGroup>;
  assets: Map<string, StoredAsset>;
  /** The last call with this key. */
  seenAt: number;
}

const MAX_PAGE_SIZE = 100;
const MAX_IDS = 100;
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
/** How often, at most, idle keys and forgotten tokens are swept (on the next call). */
const SWEEP_INTERVAL_MS = 60_000;

export class SimulatorState implements Upstream {
  readonly activationMs: number;
  readonly tokenTtlMs: number;
  readonly h5LinkTtlMs: number;
  readonly idleKeyTtlMs: number;
  readonly h5BaseUrl: string;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly tenants = new Map<string, Tenant>();
  /** All tokens, by token: the H5 page has no credential. */
  private readonly tokens = new Map<string, StoredToken>();
  private seq = 0;
  /** apimart's tasks, per key: they go when the key's data goes. */
  private readonly tasksOf = new WeakMap<Tenant, Map<string, StoredTask>>();
  private sweptAt: number;

  constructor(options: SimulatorOptions = {}) {
    this.activationMs = options.activationMs ?? 3000;
    this.tokenTtlMs = options.tokenTtlMs ?? 1_800_000;
    this.h5LinkTtlMs = Math.min(options.h5LinkTtlMs ?? 120_000, this.tokenTtlMs);
    this.idleKeyTtlMs = options.idleKeyTtlMs ?? 3_600_000;
    this.h5BaseUrl = (options.h5BaseUrl ?? 'http://127.0.0.1/sim').replace(/\/+$/, '');
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.sweptAt = this.now();
  }

  /** What the simulator holds now: keys with data, and tokens (for tests and bounds). */
  stats(): { keys: number; tokens: number } {
    return { keys: this.tenants.size, tokens: this.tokens.size };
  }

  async createGroup(opts: CallOptions, input: NewGroup): Promise<{ id: string }> {
    const tenant = this.tenant(opts);
    checkText(input.name, 'Name', 64, true);
    if (input.description !== undefined) checkText(input.description, 'Description', 300, false);
    const group = this.addGroup(tenant, {
      name: input.name,
      description: input.description ?? null,
      kind: 'VIRTUAL',
    });
    return { id: group.id };
  }

  async listGroups(opts: CallOptions, query: GroupQuery): Promise<Page<Group>> {
    const tenant = this.tenant(opts);
    checkPaging(query);
    if (query.ids && query.ids.length > MAX_IDS) {
      throw badRequest('InvalidParameter.GroupIds', 'At most 100 group ids are allowed.');
    }
    const ids = query.ids ? new Set(query.ids) : null;
    const needle = query.nameContains?.toLowerCase();
    const matching = [...tenant.groups.values()].filter(
      (g) =>
        (ids === null || ids.has(g.id)) &&
        (query.kind === undefined || g.kind === query.kind) &&
        (needle === undefined || g.name.toLowerCase().includes(needle)),
    );
    return paginate(newestFirst(matching), query, (g) => this.toGroup(g));
  }

  async getGroup(opts: CallOptions, id: string): Promise<Group> {
    return this.toGroup(this.findGroup(this.tenant(opts), id));
  }

  async updateGroup(
    opts: CallOptions,
    id: string,
    patch: { name?: string; description?: string },
  ): Promise<void> {
    const group = this.findGroup(this.tenant(opts), id);
    if (patch.name !== undefined) checkText(patch.name, 'Name', 64, true);
    if (patch.description !== undefined) checkText(patch.description, 'Description', 300, false);
    if (patch.name !== undefined) group.name = patch.name;
    if (patch.description !== undefined) group.description = patch.description;
    group.updatedAt = this.now();
  }

  async deleteGroup(opts: CallOptions, id: string): Promise<void> {
    const tenant = this.tenant(opts);
    this.findGroup(tenant, id);
    tenant.groups.delete(id);
    for (const asset of [...tenant.assets.values()]) {
      if (asset.groupId === id) tenant.assets.delete(asset.id);
    }
  }

  async createAsset(opts: CallOptions, input: NewAsset): Promise<{ id: string }> {
    const tenant = this.tenant(opts);
    this.findGroup(tenant, input.groupId);
    if (input.name !== undefined) checkText(input.name, 'Name', 64, false);
    if (!/^https?:\/\//i.test(input.url)) {
      throw badRequest('InvalidParameter.URL', 'The URL must be a public http(s) URL.');
    }
    if (input.url.includes('download-fails')) {
      throw badRequest('InvalidParameter.DownloadFailed', DOWNLOAD_FAILED.message);
    }
    return { id: this.storeAsset(tenant, input, simulatedFailure(input.url)) };
  }

  private storeAsset(
    tenant: Tenant,
    input: NewAsset,
    failure: { code: string; message: string } | null,
  ): string {
    const now = this.now();
    const id = this.newId('asset', tenant.assets);
    tenant.assets.set(id, {
      id,
      groupId: input.groupId,
      name: input.name ?? null,
      type: input.type,
      url: input.url,
      createdAt: now,
      changedAt: now,
      failure: failure ? { ...failure } : null,
      seq: this.seq++,
    });
    return id;
  }

  /** apimart step 1: an H5 session, as a task that is `completed` at once. */
  async startSessionTask(
    opts: CallOptions,
    input: { callbackUrl: string },
  ): Promise<SimulatorTask> {
    const session = await this.startVerification(opts, input);
    return this.addTask(opts, { kind: 'session', session });
  }

  /**
   * apimart step 2: the token's verification result as a task: `completed` with the group id
   * when verified (the token is then used), `processing` while the person has not finished (a
   * later read of the task asks again). Rejects as `completeVerification` does.
   */
  async startVerificationTask(opts: CallOptions, token: string): Promise<SimulatorTask> {
    const result = await this.completeVerification(opts, token);
    const settled =
      result.status === 'VERIFIED' ? { at: this.now(), groupId: result.groupId } : null;
    return this.addTask(opts, { kind: 'verification', token, settled });
  }

  /**
   * A review batch: every item becomes an asset of the group at once, and the task ends when
   * they do (see `tasks.ts`). Refuses the whole batch (`BAD_REQUEST`, naming the item) when an
   * item is invalid or there are more than `MAX_REVIEW_ITEMS`; `NOT_FOUND` for an unknown group.
   */
  async startReviewTask(opts: CallOptions, input: NewReview): Promise<SimulatorTask> {
    const tenant = this.tenant(opts);
    if (input.items.length < 1 || input.items.length > MAX_REVIEW_ITEMS) {
      throw badRequest(
        'InvalidParameter.assets',
        `A batch takes 1 to ${MAX_REVIEW_ITEMS} assets, not ${input.items.length}.`,
      );
    }
    input.items.forEach((item, index) => {
      if (!/^https?:\/\//i.test(item.url)) {
        throw badRequest('InvalidParameter.URL', `assets[${index}].url must be an http(s) URL.`);
      }
      if (item.name !== undefined) checkText(item.name, `assets[${index}].name`, 64, false);
    });
    let groupId = input.groupId;
    if (groupId !== undefined) this.findGroup(tenant, groupId);
    else {
      const stamp = new Date(this.now()).toISOString().slice(0, 19);
      groupId = (
        await this.createGroup(opts, {
          name: input.group?.name ?? `avatar-group ${stamp}Z`,
          description: input.group?.description,
        })
      ).id;
    }
    const items: ReviewItem[] = input.items.map((item) => {
      const failure = item.url.includes('download-fails')
        ? DOWNLOAD_FAILED
        : simulatedFailure(item.url);
      const assetId = this.storeAsset(
        tenant,
        { groupId: groupId!, url: item.url, type: input.type, name: item.name },
        failure,
      );
      return { assetId, fails: failure !== null };
    });
    return this.addTask(opts, { kind: 'review', groupId, items });
  }

  /** An apimart task of this key as it is now; `NOT_FOUND` for another key's or none. */
  async getTask(opts: CallOptions, id: string): Promise<SimulatorTask> {
    const task = this.tasks(this.tenant(opts)).get(id);
    if (!task) {
      throw new UpstreamError('NOT_FOUND', `The task ${id} is not found.`, {
        status: 404,
        upstreamCode: 'NotFound.task_id',
      });
    }
    if (task.kind === 'verification' && task.settled === null) {
      try {
        const result = await this.completeVerification(opts, task.token);
        if (result.status === 'VERIFIED')
          task.settled = { at: this.now(), groupId: result.groupId };
      } catch (error) {
        if (!(error instanceof UpstreamError)) throw error;
        task.settled = { at: this.now(), failure: { code: error.code, message: error.message } };
      }
    }
    return viewTask(task, this.now(), this.activationMs);
  }

  private tasks(tenant: Tenant): Map<string, StoredTask> {
    let tasks = this.tasksOf.get(tenant);
    if (!tasks) {
      tasks = new Map();
      this.tasksOf.set(tenant, tasks);
    }
    return tasks;
  }

  private addTask(
    opts: CallOptions,
    init: DistributiveOmit<StoredTask, 'id' | 'createdAt'>,
  ): SimulatorTask {
    const tasks = this.tasks(this.tenant(opts));
    let id: string;
    do {
      // apimart's ids look like `task_01K…`: a ULID-like Crockford base-32 string.
      id = `task_01K${this.randomChars(23, CROCKFORD)}`;
    } while (tasks.has(id));
    const task = { ...init, id, createdAt: this.now() } as StoredTask;
    tasks.set(id, task);
    return viewTask(task, this.now(), this.activationMs);
  }

  async listAssets(opts: CallOptions, query: AssetQuery): Promise<Page<Asset>> {
    const tenant = this.tenant(opts);
    checkPaging(query);
    if (query.groupIds && query.groupIds.length > MAX_IDS) {
      throw badRequest('InvalidParameter.GroupIds', 'At most 100 group ids are allowed.');
    }
    const groupIds = query.groupIds ? new Set(query.groupIds) : null;
    const statuses = query.statuses ? new Set(query.statuses) : null;
    const types = query.types ? new Set(query.types) : null;
    const needle = query.nameContains?.toLowerCase();
    const matching = [...tenant.assets.values()].filter(
      (a) =>
        (groupIds === null || groupIds.has(a.groupId)) &&
        (query.kind === undefined || tenant.groups.get(a.groupId)?.kind === query.kind) &&
        (statuses === null || statuses.has(this.statusOf(a))) &&
        (types === null || types.has(a.type)) &&
        (needle === undefined || (a.name ?? '').toLowerCase().includes(needle)),
    );
    return paginate(newestFirst(matching), query, (a) => this.toAsset(a));
  }

  async getAsset(opts: CallOptions, id: string): Promise<Asset> {
    return this.toAsset(this.findAsset(this.tenant(opts), id));
  }

  async updateAsset(opts: CallOptions, id: string, patch: { name: string }): Promise<void> {
    const asset = this.findAsset(this.tenant(opts), id);
    checkText(patch.name, 'Name', 64, false);
    asset.name = patch.name;
    asset.changedAt = this.now();
  }

  async deleteAsset(opts: CallOptions, id: string): Promise<void> {
    const tenant = this.tenant(opts);
    this.findAsset(tenant, id);
    tenant.assets.delete(id);
  }

  async startVerification(
    opts: CallOptions,
    input: { callbackUrl: string; language?: 'zh' | 'en' | 'zh-Hant' },
  ): Promise<VerificationSession> {
    this.tenant(opts);
    if (!/^https?:\/\//i.test(input.callbackUrl)) {
      throw badRequest('InvalidParameter.CallbackURL', 'CallbackURL must be an http(s) URL.');
    }
    let token: string;
    do {
      token = this.newToken();
    } while (this.tokens.has(token));
    this.tokens.set(token, {
      token,
      credential: opts.credential,
      callbackUrl: input.callbackUrl,
      createdAt: this.now(),
      liveness: 'pending',
      used: false,
    });
    const link = new URL(`${this.h5BaseUrl}/h5/verify`);
    link.searchParams.set('token', token);
    if (input.language) link.searchParams.set('lng', input.language);
    return { token, h5Link: link.toString() };
  }

  async completeVerification(opts: CallOptions, token: string): Promise<VerificationResult> {
    const tenant = this.tenant(opts);
    const stored = this.tokens.get(token);
    if (!stored || stored.credential !== opts.credential) {
      throw new UpstreamError('NOT_FOUND', 'The token is unknown.', {
        action: 'GetVisualValidateResult',
        upstreamCode: 'NotFound.BytedToken',
        requestId: this.requestId(),
      });
    }
    if (stored.used) throw verificationError('VERIFICATION_USED', 'The token was already used.');
    if (stored.liveness === 'failed') {
      throw verificationError('VERIFICATION_FAILED', 'The liveness check failed.');
    }
    if (this.isExpired(stored)) {
      throw verificationError('VERIFICATION_EXPIRED', 'The token has expired.');
    }
    if (stored.liveness === 'pending') return { status: 'PENDING' };
    stored.used = true;
    const group = this.addGroup(tenant, {
      name: `Verified person ${new Date(this.now()).toISOString().slice(0, 19)}Z`,
      description: null,
      kind: 'REAL',
    });
    return { status: 'VERIFIED', groupId: group.id };
  }

  /**
   * Whether the session's H5 link still works (the page shows its check): throws `NOT_FOUND`
   * for an unknown token, `VERIFICATION_USED` when the check was already done, and
   * `VERIFICATION_EXPIRED` once `h5LinkTtlMs` passed (⑫ may still answer for the token).
   */
  openLink(token: string): void {
    this.usableLink(token);
  }

  /**
   * What the simulated H5 page does when the person finishes the liveness check: the link must
   * still work (see `openLink`). Returns the callback URL to send the browser to, with the
   * upstream's query parameters (`resultCode=10000` means success).
   */
  completeLiveness(token: string, outcome: LivenessOutcome): { callbackUrl: string } {
    const stored = this.usableLink(token);
    stored.liveness = outcome === 'pass' ? 'passed' : 'failed';
    const callback = new URL(stored.callbackUrl);
    callback.searchParams.set('bytedToken', token);
    callback.searchParams.set('resultCode', outcome === 'pass' ? '10000' : '10001');
    return { callbackUrl: callback.toString() };
  }

  private usableLink(token: string): StoredToken {
    this.sweep();
    const stored = this.tokens.get(token);
    if (!stored) throw new UpstreamError('NOT_FOUND', 'The token is unknown.');
    if (stored.liveness !== 'pending' || stored.used) {
      throw verificationError('VERIFICATION_USED', 'The liveness check was already done.');
    }
    if (this.now() >= stored.createdAt + this.h5LinkTtlMs) {
      throw verificationError('VERIFICATION_EXPIRED', 'The verification link has expired.');
    }
    return stored;
  }

  /** The key's data; every call with a key counts as its activity. */
  private tenant(opts: CallOptions): Tenant {
    if (!opts.credential) {
      throw new UpstreamError('UNAUTHENTICATED', 'Missing credential.', { status: 401 });
    }
    this.sweep();
    const now = this.now();
    let tenant = this.tenants.get(opts.credential);
    if (!tenant) {
      tenant = { groups: new Map(), assets: new Map(), seenAt: now };
      this.tenants.set(opts.credential, tenant);
    }
    tenant.seenAt = now;
    return tenant;
  }

  /**
   * Forgets idle keys (with their tokens) and tokens one TTL past their expiry. Runs at most
   * once per `SWEEP_INTERVAL_MS` (or per idle TTL, if shorter), so a call costs O(1) amortised.
   */
  private sweep(): void {
    const now = this.now();
    if (now - this.sweptAt < Math.min(SWEEP_INTERVAL_MS, this.idleKeyTtlMs)) return;
    this.sweptAt = now;
    for (const [credential, tenant] of this.tenants) {
      if (now - tenant.seenAt >= this.idleKeyTtlMs) this.tenants.delete(credential);
    }
    for (const [token, stored] of this.tokens) {
      const forgotten = now >= stored.createdAt + 2 * this.tokenTtlMs;
      if (forgotten || !this.tenants.has(stored.credential)) this.tokens.delete(token);
    }
  }

  private addGroup(
    tenant: Tenant,
    init: { name: string; description: string | null; kind: AvatarKind },
  ): StoredGroup {
    const now = this.now();
    const group: StoredGroup = {
      id: this.newId('group', tenant.groups),
      ...init,
      createdAt: now,
      updatedAt: now,
      seq: this.seq++,
    };
    tenant.groups.set(group.id, group);
    return group;
  }

  private findGroup(tenant: Tenant, id: string): StoredGroup {
    const group = tenant.groups.get(id);
    if (!group) {
      throw new UpstreamError('NOT_FOUND', `The specified asset_group ${id} is not found.`, {
        status: 404,
        upstreamCode: 'NotFound.group_id',
        requestId: this.requestId(),
      });
    }
    return group;
  }

  private findAsset(tenant: Tenant, id: string): StoredAsset {
    const asset = tenant.assets.get(id);
    if (!asset) {
      throw new UpstreamError('NOT_FOUND', `The specified asset ${id} is not found.`, {
        status: 404,
        upstreamCode: 'NotFound.asset_id',
        requestId: this.requestId(),
      });
    }
    return asset;
  }

  private isExpired(token: StoredToken): boolean {
    return this.now() >= token.createdAt + this.tokenTtlMs;
  }

  private statusOf(asset: StoredAsset): AssetStatus {
    if (this.now() < asset.createdAt + this.activationMs) return 'PROCESSING';
    return asset.failure ? 'FAILED' : 'ACTIVE';
  }

  private toGroup(group: StoredGroup): Group {
    return {
      id: group.id,
      name: group.name,
      description: group.description,
      kind: group.kind,
      createdAt: new Date(group.createdAt),
      updatedAt: new Date(group.updatedAt),
    };
  }

  private toAsset(asset: StoredAsset): Asset {
    const status = this.statusOf(asset);
    const activatedAt = asset.createdAt + this.activationMs;
    return {
      id: asset.id,
      groupId: asset.groupId,
      name: asset.name,
      type: asset.type,
      status,
      failure: status === 'FAILED' && asset.failure ? { ...asset.failure } : null,
      previewUrl: status === 'ACTIVE' ? `${this.h5BaseUrl}/files/${asset.id}` : null,
      createdAt: new Date(asset.createdAt),
      updatedAt: new Date(
        status === 'PROCESSING' ? asset.changedAt : Math.max(asset.changedAt, activatedAt),
      ),
    };
  }

  private newId(prefix: 'group' | 'asset', taken: ReadonlyMap<string, unknown>): string {
    const stamp = new Date(this.now()).toISOString().replace(/[-:T]/g, '').slice(0, 14);
    let id: string;
    do {
      id = `${prefix}-${stamp}-${this.randomChars(5, ALPHABET)}`;
    } while (taken.has(id) || this.anyTenantHas(id));
    return id;
  }

  private anyTenantHas(id: string): boolean {
    for (const tenant of this.tenants.values()) {
      if (tenant.groups.has(id) || tenant.assets.has(id)) return true;
    }
    return false;
  }

  /** Upstream `BytedToken` shape: 14 digits of time, then 20 upper-case hex characters. */
  private newToken(): string {
    const stamp = new Date(this.now()).toISOString().replace(/[-:T]/g, '').slice(0, 14);
    return stamp + this.randomChars(20, '0123456789ABCDEF');
  }

  private requestId(): string {
    const stamp = new Date(this.now()).toISOString().replace(/[-:T]/g, '').slice(0, 14);
    return stamp + this.randomChars(20, '0123456789ABCDEF');
  }

  private randomChars(length: number, alphabet: string): string {
    let out = '';
    for (let i = 0; i < length; i++) {
      out += alphabet[Math.floor(this.random() * alphabet.length) % alphabet.length];
    }
    return out;
  }
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** What a review records for a `download-fails` URL (⑥ refuses such a URL at once instead). */
const DOWNLOAD_FAILED = {
  code: 'DownloadFailed',
  message: 'Failed to download media from the provided URL.',
} as const;

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** The failure a `fail-*` URL is reviewed into, or null. */
function simulatedFailure(url: string): { code: string; message: string } | null {
  if (url.includes('fail-face')) return SIMULATED_FAILURES['fail-face'];
  if (url.includes('fail-moderation')) return SIMULATED_FAILURES['fail-moderation'];
  return null;
}

function badRequest(upstreamCode: string, message: string): UpstreamError {
  return new UpstreamError('BAD_REQUEST', message, { status: 400, upstreamCode });
}

function verificationError(
  code: 'VERIFICATION_USED' | 'VERIFICATION_FAILED' | 'VERIFICATION_EXPIRED',
  message: string,
): UpstreamError {
  return new UpstreamError(code, message, { status: 400 });
}

function checkText(value: string, field: string, max: number, required: boolean): void {
  if (required && value.trim() === '') {
    throw badRequest(`MissingParameter.${field}`, `${field} is required.`);
  }
  if ([...value].length > max) {
    throw badRequest(`InvalidParameter.${field}`, `${field} must be at most ${max} characters.`);
  }
}

function checkPaging(query: { page: number; pageSize: number }): void {
  if (!Number.isInteger(query.page) || query.page < 1) {
    throw badRequest('InvalidParameter.PageNumber', 'PageNumber must be 1 or more.');
  }
  if (!Number.isInteger(query.pageSize) || query.pageSize < 1 || query.pageSize > MAX_PAGE_SIZE) {
    throw badRequest('InvalidParameter.PageSize', 'PageSize must be from 1 to 100.');
  }
}

function newestFirst<T extends { createdAt: number; seq: number }>(items: T[]): T[] {
  return items.sort((a, b) => b.createdAt - a.createdAt || b.seq - a.seq);
}

function paginate<S, T>(
  items: S[],
  query: { page: number; pageSize: number },
  map: (item: S) => T,
): Page<T> {
  const start = (query.page - 1) * query.pageSize;
  return {
    items: items.slice(start, start + query.pageSize).map(map),
    total: items.length,
    page: query.page,
    pageSize: query.pageSize,
  };
}
