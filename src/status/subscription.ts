/**
 * The iterator behind one `watch`: a queue of events and the `next()` calls waiting for one. It owns
 * no timer and no upstream state; the watcher pushes events into it and is told, once, when it
 * closes so that it can release what the subscription held.
 */
import type { StatusEvent, StatusSubscription } from './events.js';

type Result = IteratorResult<StatusEvent, undefined>;

const DONE: Result = Object.freeze({ done: true, value: undefined }) as Result;

export class QueueSubscription implements StatusSubscription {
  private queue: StatusEvent[] = [];
  private head = 0;
  private waiters: Array<(result: Result) => void> = [];
  /** `open`: receiving; `finishing`: no more events, the queue drains; `closed`: done. */
  private state: 'open' | 'finishing' | 'closed' = 'open';
  private detached = false;
  private readonly onAbort = () => this.close();

  /**
   * @param detach called once, when the subscription stops needing events (finished or
   *   closed); it releases the watcher's state for it.
   */
  constructor(
    private readonly detach: (subscription: QueueSubscription) => void,
    private readonly signal?: AbortSignal,
  ) {
    signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  push(event: StatusEvent): void {
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

  async next(): Promise<Result> {
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
    return new Promise<Result>((resolve) => {
      this.waiters.push(resolve);
    });
  }

  async return(): Promise<Result> {
    this.close();
    return DONE;
  }

  async throw(error?: unknown): Promise<Result> {
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
