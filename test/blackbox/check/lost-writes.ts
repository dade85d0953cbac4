/**
 * No acknowledged write lost: after the run, each register key in every member's dump holds the
 * effect of a write that can be the key's last one, and every acknowledged append is present.
 *
 * "Can be last" (per key): a write with outcome `ok` or `unknown` that no acknowledged write
 * follows in real time (none was invoked after it completed). An unknown write never completed,
 * so it can always be last; a key with no acknowledged write can also still be absent. When one
 * acknowledged write was the only write in flight at the end, it is the only candidate and the
 * key must hold exactly its value and modifiedIndex (or be absent, for a delete). Definite
 * failures and reads change nothing. The linearizability checker sees the same final reads; this
 * check asks every member, not only the quorum.
 */
import type { DumpNode, History, KeyOperation, MemberDump, QueueOperation } from '../history.js';
import { describeOperation } from './register-model.js';
import { report, type CheckReport, type Finding } from './types.js';

export interface LostWrite extends Finding {
  readonly key: string;
  readonly member: string;
  /** What the member holds: `"v"@12` or `absent`. */
  readonly found: string;
  /** The writes that could have been last (op ids); empty when the key may still be absent. */
  readonly candidates: readonly number[];
}

export function lostWrites(history: History, dumps: readonly MemberDump[]): CheckReport<LostWrite> {
  const writesByKey = new Map<string, KeyOperation[]>();
  for (const op of history) {
    if (op.op.kind === 'read' || op.outcome.type === 'fail') continue;
    const writes = writesByKey.get(op.key) ?? [];
    writes.push(op);
    writesByKey.set(op.key, writes);
  }
  const keys = [...new Set(history.map((op) => op.key))].sort();
  const findings: LostWrite[] = [];
  let checked = 0;
  for (const dump of dumps) {
    if (dump.nodes === null) continue; // identicalMembers reports a member that could not be dumped
    const nodes = new Map(dump.nodes.map((n) => [n.key, n]));
    for (const key of keys) {
      checked++;
      const finding = checkFinalState(key, writesByKey.get(key) ?? [], nodes.get(key), dump.member);
      if (finding !== null) findings.push(finding);
    }
  }
  return report(checked, findings);
}

/** The writes that can be the key's last one. */
export function possibleLastWrites(writes: readonly KeyOperation[]): { readonly candidates: KeyOperation[]; readonly mayBeAbsent: boolean } {
  const acked = writes.filter((w) => w.outcome.type === 'ok');
  const latestAckedInvokeMs = Math.max(-Infinity, ...acked.map((w) => w.invokeMs));
  const candidates = writes.filter((w) => w.outcome.type === 'unknown' || !(w.completeMs < latestAckedInvokeMs));
  const mayBeAbsent = acked.length === 0 || candidates.some((w) => w.op.kind === 'delete');
  return { candidates, mayBeAbsent };
}

function checkFinalState(key: string, writes: readonly KeyOperation[], node: DumpNode | undefined, member: string): LostWrite | null {
  const { candidates, mayBeAbsent } = possibleLastWrites(writes);
  if (node === undefined ? mayBeAbsent : candidates.some((w) => leftNode(w, node))) return null;
  const found = node === undefined ? 'absent' : `${JSON.stringify(node.value)}@${node.modifiedIndex}`;
  const could = candidates.map((w) => `    ${describeOperation(w)}`);
  if (acceptsAbsentOnly(candidates, mayBeAbsent)) could.push('    (absent: no write was acknowledged)');
  return {
    key,
    member,
    found,
    candidates: candidates.map((w) => w.id),
    message: [`${member}: ${key} holds ${found}, which no write that can be last left:`, ...could].join('\n'),
  };
}

function acceptsAbsentOnly(candidates: readonly KeyOperation[], mayBeAbsent: boolean): boolean {
  return mayBeAbsent && !candidates.some((w) => w.op.kind === 'delete');
}

/** Whether the key's node is what write `w` left (an unknown write's index is not known). */
function leftNode(w: KeyOperation, node: DumpNode): boolean {
  if (w.op.kind === 'read' || w.op.kind === 'delete' || w.op.value !== node.value) return false;
  return w.outcome.type !== 'ok' || w.outcome.modifiedIndex === node.modifiedIndex;
}

/**
 * Every acknowledged POST of an append-only directory (never deleted from) is present with the
 * key and value it was acknowledged with, in `nodes` (a sorted listing or a member's dump).
 */
export function lostAppends(queue: readonly QueueOperation[], nodes: readonly DumpNode[] | null, where: string): CheckReport {
  const acked = queue.flatMap((q) => (q.outcome.type === 'ok' ? [{ q, key: q.outcome.key, createdIndex: q.outcome.createdIndex }] : []));
  if (nodes === null) return report(0, [{ message: `${where}: could not be read, so ${acked.length} acknowledged appends are unchecked` }]);
  const byKey = new Map(nodes.map((n) => [n.key, n]));
  const findings: Finding[] = [];
  for (const { q, key, createdIndex } of acked) {
    const node = byKey.get(key);
    if (node === undefined) findings.push({ message: `${where}: queue #${q.id} (${JSON.stringify(q.value)}) acknowledged as ${key}@${createdIndex} is missing` });
    else if (node.value !== q.value || node.createdIndex !== createdIndex) {
      findings.push({ message: `${where}: queue #${q.id} acknowledged ${JSON.stringify(q.value)} as ${key}@${createdIndex}, but ${key} holds ${JSON.stringify(node.value)}@${node.createdIndex}` });
    }
  }
  return report(acked.length, findings);
}
