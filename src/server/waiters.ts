/**
 * Requests waiting for their log entry to be applied (or their read index to be reached),
 * with a deadline each. All waits share one timeout, so deadlines are in insertion order and
 * expiring them is a walk from the front of the map (no timer per request).
 */
import { assert } from '../common/assert.js';

interface Waiter<T> {
  readonly deadlineMs: number;
  readonly resolve: (value: T) => void;
  readonly reject: (error: Error) => void;
}

export class Waiters<T> {
  private readonly pending = new Map<string, Waiter<T>>();
  private lastDeadlineMs = -Infinity;

  get size(): number {
    return this.pending.size;
  }

  has(id: string): boolean {
    return this.pending.has(id);
  }

  wait(id: string, deadlineMs: number): Promise<T> {
    assert(!this.pending.has(id), () => `request id ${id} is already waiting`);
    assert(deadlineMs >= this.lastDeadlineMs, 'deadlines must be added in order');
    this.lastDeadlineMs = deadlineMs;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { deadlineMs, resolve, reject });
    });
  }

  /** Returns false when nobody waits for the id (an entry proposed by an earlier run, or timed out). */
  resolve(id: string, value: T): boolean {
    const waiter = this.pending.get(id);
    if (waiter === undefined) return false;
    this.pending.delete(id);
    waiter.resolve(value);
    return true;
  }

  reject(id: string, error: Error): boolean {
    const waiter = this.pending.get(id);
    if (waiter === undefined) return false;
    this.pending.delete(id);
    waiter.reject(error);
    return true;
  }

  /** Fails every wait whose deadline has passed; returns how many. */
  expire(nowMs: number, makeError: () => Error): number {
    let expired = 0;
    for (const [id, waiter] of this.pending) {
      if (waiter.deadlineMs > nowMs) break;
      this.pending.delete(id);
      waiter.reject(makeError());
      expired++;
    }
    return expired;
  }

  rejectAll(makeError: () => Error): void {
    const waiters = [...this.pending.values()];
    this.pending.clear();
    for (const waiter of waiters) waiter.reject(makeError());
  }
}
