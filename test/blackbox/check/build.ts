/**
 * Hand-written histories for the checkers' tests: one line per op, times in ms.
 *
 *   const h = new HistoryBuilder();
 *   h.put(1, 'k', 'a', [0, 10], ok(5));
 *   h.read(2, 'k', [12, 20], saw('a', 5));
 */
import type { History, KeyOp, KeyOperation, Outcome } from '../history.js';

export const ok = (modifiedIndex: number, value: string | null = null): Outcome => ({ type: 'ok', value, modifiedIndex });
export const saw = (value: string, modifiedIndex: number): Outcome => ({ type: 'ok', value, modifiedIndex });
export const absent: Outcome = { type: 'ok', value: null, modifiedIndex: 0 };
export const fail = (errorCode: number): Outcome => ({ type: 'fail', errorCode });
export const unknown: Outcome = { type: 'unknown', reason: 'timeout' };

export class HistoryBuilder {
  private readonly ops: KeyOperation[] = [];

  /** Adds an op; a write's `ok` outcome gets the op's own value unless one was given. */
  add(client: number, key: string, op: KeyOp, [invokeMs, completeMs]: readonly [number, number], outcome: Outcome): KeyOperation {
    const written = op.kind === 'read' || op.kind === 'delete' ? null : op.value;
    const filled: Outcome = outcome.type === 'ok' && op.kind !== 'read' ? { ...outcome, value: outcome.value ?? written } : outcome;
    const entry: KeyOperation = {
      id: this.ops.length,
      client,
      key,
      op,
      invokeMs,
      completeMs: filled.type === 'unknown' ? Infinity : completeMs,
      outcome: filled,
    };
    this.ops.push(entry);
    return entry;
  }

  read(client: number, key: string, at: readonly [number, number], outcome: Outcome): KeyOperation {
    return this.add(client, key, { kind: 'read' }, at, outcome);
  }

  put(client: number, key: string, value: string, at: readonly [number, number], outcome: Outcome): KeyOperation {
    return this.add(client, key, { kind: 'put', value }, at, outcome);
  }

  casValue(client: number, key: string, prevValue: string, value: string, at: readonly [number, number], outcome: Outcome): KeyOperation {
    return this.add(client, key, { kind: 'cas-value', prevValue, value }, at, outcome);
  }

  casIndex(client: number, key: string, prevIndex: number, value: string, at: readonly [number, number], outcome: Outcome): KeyOperation {
    return this.add(client, key, { kind: 'cas-index', prevIndex, value }, at, outcome);
  }

  create(client: number, key: string, value: string, at: readonly [number, number], outcome: Outcome): KeyOperation {
    return this.add(client, key, { kind: 'create', value }, at, outcome);
  }

  delete(client: number, key: string, at: readonly [number, number], outcome: Outcome): KeyOperation {
    return this.add(client, key, { kind: 'delete' }, at, outcome);
  }

  history(): History {
    return [...this.ops];
  }
}
