/**
 * Helpers for the status watcher tests: waiting on events (never on sleeps), a subscription
 * reader that records events as they arrive, and an upstream that counts (and can fail) the
 * reads the watcher makes.
 */
import { SimulatorState } from '../../src/simulator/state.js';
import type { StatusEvent, StatusSubscription } from '../../src/status/index.js';
import type { TickInfo } from '../../src/status/index.js';
import { UpstreamError } from '../../src/upstream/errors.js';
import type { Asset, AssetQuery, CallOptions, Upstream } from '../../src/upstream/port.js';

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * Resolves once `predicate` holds, checking after every macrotask turn; rejects after
 * `timeoutMs` with `message`. For state that changes without an event to await.
 */
export async function waitFor(
  predicate: () => boolean,
  message = 'condition',
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${message}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Notifies waiters every time the watcher finishes a loop iteration. */
export class TickLog {
  readonly ticks: TickInfo[] = [];
  private waiters: Array<{ count: number; done: () => void }> = [];

  readonly onTick = (info: TickInfo): void => {
    this.ticks.push(info);
    this.waiters = this.waiters.filter((waiter) => {
      if (this.ticks.length < waiter.count) return true;
      waiter.done();
      return false;
    });
  };

  /** Resolves after `n` more iterations. */
  next(n = 1, timeoutMs = 5000): Promise<TickInfo[]> {
    const from = this.ticks.length;
    const target = from + n;
    const wait = deferred<void>();
    const timer = setTimeout(
      () => wait.reject(new Error(`Timed out waiting for ${n} ticks`)),
      timeoutMs,
    );
    this.waiters.push({
      count: target,
      done: () => {
        clearTimeout(timer);
        wait.resolve();
      },
    });
    return wait.promise.then(() => this.ticks.slice(from, target));
  }
}

/** Reads a subscription in the background and records its events. */
export class EventLog {
  readonly events: StatusEvent[] = [];
  done = false;
  error: unknown = null;
  private waiters: Array<() => void> = [];

  constructor(readonly subscription: StatusSubscription) {
    void this.pump();
  }

  private async pump(): Promise<void> {
    try {
      for await (const event of this.subscription) {
        this.events.push(event);
        this.notify();
      }
    } catch (error) {
      this.error = error;
    }
    this.done = true;
    this.notify();
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }

  /** Resolves once `predicate(events, done)` holds, re-checking on every event. */
  async until(
    predicate: (events: StatusEvent[], done: boolean) => boolean,
    message = 'events',
    timeoutMs = 5000,
  ): Promise<StatusEvent[]> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.events, this.done)) {
      if (this.done) throw new Error(`Subscription ended before ${message}`);
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`Timed out waiting for ${message}`);
      const arrived = deferred<void>();
      this.waiters.push(arrived.resolve);
      const timer = setTimeout(arrived.resolve, remaining);
      await arrived.promise;
      clearTimeout(timer);
    }
    return this.events;
  }

  untilDone(timeoutMs = 5000): Promise<StatusEvent[]> {
    return this.until((_, done) => done, 'the end of the subscription', timeoutMs);
  }

  statuses(assetId: string): Array<[string | null, string]> {
    return this.events.flatMap((event) =>
      event.kind === 'status' && event.asset.id === assetId
        ? [[event.previousStatus, event.asset.status] as [string | null, string]]
        : [],
    );
  }
}

export interface ReadRecord {
  method: 'getAsset' | 'listAssets' | 'getGroup';
  at: number;
  /** The asset id (`getAsset`) or group ids (`listAssets`). */
  ids: string[];
}

/**
 * Wraps an upstream (normally a `SimulatorState`), recording the reads the watcher makes and
 * failing them all with `failure` while it is set.
 */
export class CountingUpstream implements Upstream {
  readonly reads: ReadRecord[] = [];
  failure: UpstreamError | null = null;

  constructor(readonly inner: Upstream) {}

  count(method?: ReadRecord['method'], since = 0): number {
    return this.reads.filter((read) => read.at >= since && (!method || read.method === method))
      .length;
  }

  private record(method: ReadRecord['method'], ids: string[]): void {
    this.reads.push({ method, at: Date.now(), ids });
    if (this.failure) throw this.failure;
  }

  async getAsset(opts: CallOptions, id: string): Promise<Asset> {
    this.record('getAsset', [id]);
    return this.inner.getAsset(opts, id);
  }

  async listAssets(opts: CallOptions, query: AssetQuery) {
    this.record('listAssets', query.groupIds ?? []);
    return this.inner.listAssets(opts, query);
  }

  async getGroup(opts: CallOptions, id: string) {
    this.record('getGroup', [id]);
    return this.inner.getGroup(opts, id);
  }

  createGroup: Upstream['createGroup'] = (...args) => this.inner.createGroup(...args);
  listGroups: Upstream['listGroups'] = (...args) => this.inner.listGroups(...args);
  updateGroup: Upstream['updateGroup'] = (...args) => this.inner.updateGroup(...args);
  deleteGroup: Upstream['deleteGroup'] = (...args) => this.inner.deleteGroup(...args);
  createAsset: Upstream['createAsset'] = (...args) => this.inner.createAsset(...args);
  updateAsset: Upstream['updateAsset'] = (...args) => this.inner.updateAsset(...args);
  deleteAsset: Upstream['deleteAsset'] = (...args) => this.inner.deleteAsset(...args);
  startVerification: Upstream['startVerification'] = (...args) =>
    this.inner.startVerification(...args);
  completeVerification: Upstream['completeVerification'] = (...args) =>
    this.inner.completeVerification(...args);
}

export const unavailable = (): UpstreamError =>
  new UpstreamError('UPSTREAM_UNAVAILABLE', 'The upstream could not be reached.', { status: 503 });

/**
 * A simulator whose clock the test moves: assets stay `PROCESSING` until `activate()`.
 */
export function controlledSimulator(activationMs = 60_000): {
  sim: SimulatorState;
  activate(): void;
} {
  let now = Date.now();
  const sim = new SimulatorState({ activationMs, now: () => now });
  return {
    sim,
    activate: () => {
      now += activationMs;
    },
  };
}

/** Creates `groups` groups of `perGroup` images each; returns their ids. */
export async function seedAssets(
  sim: Upstream,
  credential: string,
  groups: number,
  perGroup: number,
  url = 'https://example.com/face.jpg',
): Promise<{ groupIds: string[]; assetIds: string[] }> {
  const opts = { credential };
  const groupIds: string[] = [];
  const assetIds: string[] = [];
  for (let g = 0; g < groups; g++) {
    const { id: groupId } = await sim.createGroup(opts, { name: `group-${g}` });
    groupIds.push(groupId);
    for (let a = 0; a < perGroup; a++) {
      const { id } = await sim.createAsset(opts, { groupId, url, type: 'IMAGE', name: `a${a}` });
      assetIds.push(id);
    }
  }
  return { groupIds, assetIds };
}
