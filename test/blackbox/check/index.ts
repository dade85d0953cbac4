/**
 * The black-box run's checkers: pure functions over what the workload recorded (../history.ts).
 * No I/O: the runner reads the record and hands it over.
 *
 * API (each check answers `CheckReport { ok, checked, findings: { message }[] }` unless noted):
 *
 *   checkLinearizable(history: History, opts?: { timeLimitMs?: number })
 *     → { ok, keys, ops, violations: Violation[], timedOutKeys: string[] }
 *     Per-key linearizability of the register ops (quorum reads, puts, CAS by value and index,
 *     creates, deletes) against the v2 register model; unknown outcomes may or may not have
 *     happened. A key over the time limit (default 10 s) is in timedOutKeys: a failure to check.
 *   explain(violation: Violation) → string          readable multi-line rendering
 *
 *   lostWrites(history: History, dumps: readonly MemberDump[]) → CheckReport<LostWrite>
 *     Each key's final state in every member's dump is the effect of a write that can be the last.
 *   lostAppends(queue: readonly QueueOperation[], nodes: readonly DumpNode[] | null, where: string) → CheckReport
 *     Every acknowledged in-order POST is present (in a listing or a member's dump).
 *   indexesFollowRealTime(history: History, extra?: { queue?, ttl? }) → CheckReport
 *     Successful writes have distinct indexes; A completed before B was invoked ⇒ index(A) < index(B).
 *   indexedWrites(history, extra?) → IndexedWrite[]    every successful write with its index
 *   watchersComplete(watchers: readonly WatchLog[], writes: readonly IndexedWrite[], prefix?: string) → CheckReport
 *     Strictly increasing indexes, no missing write in [startIndex, endIndex) outside a 401 gap,
 *     events agree with the writes and with each other.
 *   inOrderKeys(queue: readonly QueueOperation[], listing: QueueListing) → CheckReport
 *     Sorted listing: names and createdIndexes strictly increasing together, every ack present,
 *     no value nobody POSTed, real-time order kept.
 *   identicalMembers(dumps: readonly MemberDump[]) → CheckReport
 *     Every member's dump equals the first's; the first difference per member.
 *   ttlKeysExpired(ttl: readonly TtlOperation[], dumps: readonly MemberDump[], dumpedAtMs: number, graceMs?: number) → CheckReport
 *     An acknowledged TTL key is gone from every member `graceMs` (default 2000) after it must
 *     have expired, present while it cannot have, and never loses its TTL.
 *
 *   checkRun(record: RunRecord, opts?: { timeLimitMs?, dumpedAtMs?, ttlGraceMs? }) → RunVerdict
 *     All of the above over one run; `violations` and `lostWrites` counts for the summary line.
 */
export { checkLinearizable, explain, type LinearizableOptions, type LinearizableResult, type Violation } from './linearizable.js';
export { describeOperation, describeState, type RegisterState } from './register-model.js';
export { lostAppends, lostWrites, type LostWrite } from './lost-writes.js';
export { indexedWrites, indexesFollowRealTime } from './indexes.js';
export { watchersComplete } from './watchers.js';
export { inOrderKeys } from './in-order.js';
export { identicalMembers } from './members.js';
export { ttlKeysExpired } from './ttl.js';
export { checkRun, type RunVerdict, type RunCheckOptions } from './run.js';
export type { CheckReport, Finding, IndexedWrite, WatchLog } from './types.js';
