/**
 * The iterator behind one `watch` (and one verification watch): a queue of events and the `next()`
 * calls waiting for one. It owns no timer and no upstream state; its producer pushes events into
 * it and is told, once, when it closes so that it can release what the subscription held.
 *
 * `return()` ends it at once, even while a `next()` is waiting (unlike an async generator, whose
 * `return()` waits for the pending `next()`): a GraphQL transport closing it never hangs.
 */
import type { StatusEvent } from './events.js';

type Result<T> = IteratorResult<T, undefined>;

const DONE = Object.freeze({ done: true, value: undefined }) as Result<never>;

export class QueueSubscription<T = StatusEvent> implements AsyncIterableIterator<T, undefined> {
  private queue: T[] = [];
  private head = 0;
  private waiters: Array<(result: Result<T>) => void> = [];
  /** `open`: receiving; `finishing`: no more events, the queue drains; `closed`: done. */
  private state: 'open' | 'finishing' | 'closed' = 'open';
  private detached = false;
  private readonly onAbort = () => this.close();

  /**
   * @param detach called once, when the subscription stops needing events (finished or
   *   closed); it releases the watcher's state for it.
   */
  constructor(
    private readonly detach: (subscription: QueueSubscription<T>) => void,
    private readonly signal?: AbortSignal,
  ) {
    signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  push(event: T): void {
    if (this.state !== 'open') return;
    const waiter = this.waiters.shift();
    if (waiter) {
      waiter({ done: false, value: event });
    } else {
      this.queue.push(event);
    }
  }

  /** Ends the subscription after the events already queued have been read. */
  finish(): void {
    if (this.state !== 'open') return;
    this.state = 'finishing';
    this.release();
    if (this.waiters.length > 0) this.close();
  }

  /** Ends the subscription now, dropping queued events. */
  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.queue = [];
    this.head = 0;
    this.release();
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter(DONE);
  }

  async next(): Promise<Result<T>> {
    if (this.head < this.queue.length) {
      const value = this.queue[this.head++]!;
      if (this.head === this.queue.length) {
        this.queue = [];
        this.head = 0;
      } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      return { done: false, value };
    }
    if (this.state !== 'open') {
      this.close();
      return DONE;
    }
    return new Promise<Result<T>>((resolve) => {
      this.waiters.push(resolve);
    });
  }

  async return(): Promise<Result<T>> {
    this.close();
    return DONE;
  }

  async throw(error?: unknown): Promise<Result<T>> {
    this.close();
    throw error;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private release(): void {
    if (this.detached) return;
    this.detached = true;
    this.signal?.removeEventListener('abort', this.onAbort);
    this.detach(this);
  }
}
