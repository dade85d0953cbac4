/**
 * The store index is one counter for the whole cluster: every successful write takes a new one,
 * so no two successful writes (on any keys) share a modifiedIndex, and a write that completed
 * before another was invoked has the smaller index (the counter follows real time).
 */
import type { History, QueueOperation, TtlOperation } from '../history.js';
import { describeKeyOp } from './register-model.js';
import { report, type CheckReport, type Finding, type IndexedWrite } from './types.js';

export interface ExtraWrites {
  readonly queue?: readonly QueueOperation[];
  readonly ttl?: readonly TtlOperation[];
}

/** Every acknowledged write of the run with the index it was acknowledged with. */
export function indexedWrites(history: History, extra: ExtraWrites = {}): IndexedWrite[] {
  const writes: IndexedWrite[] = [];
  for (const op of history) {
    if (op.op.kind === 'read' || op.outcome.type !== 'ok') continue;
    const { invokeMs, completeMs, key } = op;
    writes.push({ label: `op #${op.id} (${describeKeyOp(op.op)} ${key})`, key, value: op.outcome.value, index: op.outcome.modifiedIndex, invokeMs, completeMs });
  }
  for (const q of extra.queue ?? []) {
    if (q.outcome.type !== 'ok') continue;
    const { invokeMs, completeMs } = q;
    writes.push({ label: `queue #${q.id} (POST ${JSON.stringify(q.value)})`, key: q.outcome.key, value: q.value, index: q.outcome.createdIndex, invokeMs, completeMs });
  }
  for (const t of extra.ttl ?? []) {
    if (t.outcome.type !== 'ok') continue;
    const { invokeMs, completeMs, key } = t;
    writes.push({ label: `ttl #${t.id} (put ${JSON.stringify(t.value)} ${key})`, key, value: t.value, index: t.outcome.modifiedIndex, invokeMs, completeMs });
  }
  return writes;
}

/** The most findings a check lists; the rest are counted in one last line. */
export const MAX_FINDINGS = 50;

export function indexesFollowRealTime(history: History, extra: ExtraWrites = {}): CheckReport {
  const writes = indexedWrites(history, extra);
  const findings = [...duplicateIndexes(writes), ...realTimeInversions(writes)];
  return report(writes.length, capped(findings));
}

function duplicateIndexes(writes: readonly IndexedWrite[]): Finding[] {
  const first = new Map<number, IndexedWrite>();
  const findings: Finding[] = [];
  for (const w of writes) {
    const other = first.get(w.index);
    if (other === undefined) first.set(w.index, w);
    else findings.push({ message: `${other.label} and ${w.label} were both acknowledged with index ${w.index}` });
  }
  return findings;
}

/** An item with a place in an order that must follow real time (a completeMs of Infinity never precedes anything). */
export interface Timed {
  readonly label: string;
  readonly index: number;
  readonly invokeMs: number;
  readonly completeMs: number;
}

/**
 * Pairs where A completed before B was invoked but A's index is not below B's. A sweep: in order
 * of invocation, the largest index among the items completed so far must stay below each new one.
 */
export function realTimeInversions(items: readonly Timed[]): Finding[] {
  const byInvoke = [...items].sort((a, b) => a.invokeMs - b.invokeMs);
  const byComplete = [...items].sort((a, b) => a.completeMs - b.completeMs);
  const findings: Finding[] = [];
  let done = 0;
  let highest: Timed | null = null;
  for (const b of byInvoke) {
    for (let a = byComplete[done]; a !== undefined && a.completeMs < b.invokeMs; a = byComplete[++done]) {
      if (highest === null || a.index > highest.index) highest = a;
    }
    if (highest !== null && highest.index >= b.index) {
      findings.push({
        message: `${highest.label} completed at ${highest.completeMs.toFixed(1)} ms with index ${highest.index}, before ${b.label} was invoked at ${b.invokeMs.toFixed(1)} ms, which got index ${b.index}`,
      });
    }
  }
  return findings;
}

export function capped(findings: readonly Finding[]): Finding[] {
  if (findings.length <= MAX_FINDINGS) return [...findings];
  return [...findings.slice(0, MAX_FINDINGS), { message: `… and ${findings.length - MAX_FINDINGS} more` }];
}
