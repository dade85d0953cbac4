/**
 * Shapes shared by the checks beside the linearizability checker. The run's record itself
 * (operations, queue, watchers, TTL sets, dumps) is in ../history.ts; these are what the checks
 * take besides it and what they answer.
 */
import type { WatcherLog } from '../history.js';

/** A watcher's log, as the workload records it (start index, events, 401 markers). */
export type WatchLog = WatcherLog;

/** One thing a check found wrong, readable on its own in a test failure message. */
export interface Finding {
  readonly message: string;
}

/** What every check beside the linearizability checker answers. */
export interface CheckReport<F extends Finding = Finding> {
  readonly ok: boolean;
  /** How many items it looked at (writes, keys, events, members…), to show it was not vacuous. */
  readonly checked: number;
  readonly findings: readonly F[];
}

/** A write known to have taken a store index, from any part of the run. */
export interface IndexedWrite {
  /** e.g. `op #12`, `queue #3`, `ttl #4`. */
  readonly label: string;
  readonly key: string;
  /** The value it wrote; null for a delete. */
  readonly value: string | null;
  /** The node's modifiedIndex after it (for a POST, its createdIndex). */
  readonly index: number;
  readonly invokeMs: number;
  readonly completeMs: number;
}

export function report<F extends Finding>(checked: number, findings: readonly F[]): CheckReport<F> {
  return { ok: findings.length === 0, checked, findings };
}
