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
 *   `errorCode` 0 (with a `reason`): it provably never reached a leader — the connection was
 *   refused, or every member asked answered 307 (a member that redirects did not propose it).
 * - `unknown`: timeout, reset, 5xx/300 after the request may have reached a leader: it may or
 *   may not have happened, at any time after invocation.
 */
export type Outcome =
  | { readonly type: 'ok'; readonly value: string | null; readonly modifiedIndex: number }
  | { readonly type: 'fail'; readonly errorCode: number; readonly reason?: string }
  | { readonly type: 'unknown'; readonly reason: string };

export interface KeyOperation {
  readonly id: number;
  /**
   * The process that issued it, Jepsen-style: a client slot's ops are sequential, and after an
   * `unknown` the slot continues as a new process (slot + clients × n), since the old one may
   * still have an operation in flight. -1: the final reads after the run.
   */
  readonly client: number;
  readonly key: string;
  readonly op: KeyOp;
  readonly invokeMs: number;
  /** Completion time; `Infinity` for an `unknown` outcome. */
  readonly completeMs: number;
  readonly outcome: Outcome;
  /** The member that answered (or was last tried), for reading a history; checkers ignore it. */
  readonly member?: string;
}

/** A full run's history as written to disk (JSON lines, one KeyOperation per line). */
export type History = readonly KeyOperation[];

// ---- The rest of a run's record: in-order keys, watchers, TTL keys, and the final state ----

/** One POST to the in-order directory (`/jepsen/q`), which is never deleted from. */
export interface QueueOperation {
  readonly id: number;
  readonly client: number;
  /** Unique per run (`q<client>-<n>`). */
  readonly value: string;
  readonly invokeMs: number;
  /** `Infinity` for an `unknown` outcome. */
  readonly completeMs: number;
  /** `ok`: the created key (`/jepsen/q/<index>`, zero-padded by the server) and its createdIndex. */
  readonly outcome:
    | { readonly type: 'ok'; readonly key: string; readonly createdIndex: number }
    | { readonly type: 'fail'; readonly errorCode: number; readonly reason?: string }
    | { readonly type: 'unknown'; readonly reason: string };
}

/** A node as a member returned it (flattened: leaves only, directories are not listed). */
export interface DumpNode {
  readonly key: string;
  readonly value: string;
  readonly createdIndex: number;
  readonly modifiedIndex: number;
  /** Present on TTL keys that had not expired when dumped. */
  readonly expiration?: string;
}

/** The final sorted quorum listing of `/jepsen/q` (null if it could not be read). */
export type QueueListing = readonly DumpNode[] | null;

/**
 * What a recursive watcher on `/jepsen/` saw, in arrival order. It resumes from the last
 * event's modifiedIndex + 1 after any error, on another member when one failed.
 * - `event`: one event as received.
 * - `cleared`: error 401 — the history from `waitIndex` was compacted; the watcher jumped to
 *   `resumeIndex` (the body's index + 1). Events in [waitIndex, resumeIndex) may be missing.
 * - `error`: a connection error, timeout or non-401 error; the watcher resumes at `waitIndex`.
 */
export type WatchEntry =
  | {
      readonly type: 'event';
      readonly atMs: number;
      readonly member: string;
      readonly action: string;
      readonly key: string;
      /** null for delete/expire/compareAndDelete and directory events. */
      readonly value: string | null;
      readonly modifiedIndex: number;
      readonly createdIndex: number;
      readonly prevValue: string | null;
    }
  | { readonly type: 'cleared'; readonly atMs: number; readonly member: string; readonly waitIndex: number; readonly resumeIndex: number }
  | { readonly type: 'error'; readonly atMs: number; readonly member: string; readonly waitIndex: number; readonly reason: string };

export interface WatcherLog {
  readonly watcher: number;
  /** The first waitIndex it asked for (the cluster's index + 1 when the workload started). */
  readonly startIndex: number;
  /** The waitIndex it would have asked for next when it stopped: it covers [startIndex, endIndex). */
  readonly endIndex: number;
  readonly entries: readonly WatchEntry[];
}

/** One TTL key set (never refreshed): `PUT /jepsen/ttl/<n>?ttl=<ttlSeconds>`. */
export interface TtlOperation {
  readonly id: number;
  readonly client: number;
  readonly key: string;
  readonly value: string;
  readonly ttlSeconds: number;
  readonly invokeMs: number;
  readonly completeMs: number;
  readonly outcome: Outcome;
}

/** Every member's local, recursive, sorted read of `/jepsen` after the run, once they agreed on an applied index. */
export interface MemberDump {
  readonly member: string;
  /** X-Etcd-Index of the dump. */
  readonly etcdIndex: number;
  /** X-Raft-Index of the dump (the members had applied the same index, or the wait timed out). */
  readonly raftIndex: number;
  readonly nodes: readonly DumpNode[] | null;
  /** Why nodes is null (the member did not answer). */
  readonly error?: string;
}

/** Everything one run recorded: what the checker reads. */
export interface RunRecord {
  readonly seed: number;
  readonly members: number;
  /** The register keys (`/jepsen/r/k0` ...). */
  readonly keys: readonly string[];
  /** Register operations; the final quorum reads are the last ones, from client -1. */
  readonly operations: History;
  readonly queue: readonly QueueOperation[];
  readonly queueListing: QueueListing;
  readonly watchers: readonly WatcherLog[];
  readonly ttl: readonly TtlOperation[];
  readonly dumps: readonly MemberDump[];
  /**
   * The modifiedIndex of the marker `PUT /jepsen/done` written after the run (once every TTL key
   * had expired): every watcher was waited on until it passed it, so each one's log should hold
   * every event under /jepsen/ from its startIndex up to here. -1 if the marker never succeeded.
   */
  readonly endIndex: number;
  /** performance.now() when the dumps that were kept were requested. */
  readonly dumpedAtMs?: number;
  /** Whether every member reached the same applied index before the dumps (bounded wait). */
  readonly dumpsConverged: boolean;
}
