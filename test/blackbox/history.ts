/**
 * The recorded history of a black-box run: what each client asked, when, and what it saw.
 * Shared by the workload (which writes it) and the linearizability checker (which reads it).
 *
 * Times are milliseconds on one monotonic clock of the test process (performance.now()), so
 * invocation/completion order between clients is real-time order.
 */

/** Operations on one key of the v2 register. `value` strings are unique per write in a run. */
export type KeyOp =
  | { readonly kind: 'read' } // GET ?quorum=true
  | { readonly kind: 'put'; readonly value: string } // PUT value=
  | { readonly kind: 'cas-value'; readonly prevValue: string; readonly value: string } // PUT prevValue=
  | { readonly kind: 'cas-index'; readonly prevIndex: number; readonly value: string } // PUT prevIndex=
  | { readonly kind: 'create'; readonly value: string } // PUT prevExist=false
  | { readonly kind: 'delete' }; // DELETE

/**
 * How an operation ended.
 * - `ok`: 2xx. `value`/`modifiedIndex` are the node as answered; a read answered 100 (key not
 *   found) is `ok` with `value: null, modifiedIndex: 0` (it observed an absent key). For a delete,
 *   `value` is null and `modifiedIndex` is the deletion's index.
 * - `fail`: a definite v2 error (100 not found, 101 compare failed, 105 exists, …): it did not happen.
 * - `unknown`: timeout, reset, 5xx/300 after the request may have reached a leader: it may or
 *   may not have happened, at any time after invocation.
 */
export type Outcome =
  | { readonly type: 'ok'; readonly value: string | null; readonly modifiedIndex: number }
  | { readonly type: 'fail'; readonly errorCode: number }
  | { readonly type: 'unknown'; readonly reason: string };

export interface KeyOperation {
  readonly id: number;
  readonly client: number;
  readonly key: string;
  readonly op: KeyOp;
  readonly invokeMs: number;
  /** Completion time; `Infinity` for an `unknown` outcome. */
  readonly completeMs: number;
  readonly outcome: Outcome;
}

/** A full run's history as written to disk (JSON lines, one KeyOperation per line). */
export type History = readonly KeyOperation[];
