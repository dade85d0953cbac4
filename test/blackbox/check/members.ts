/**
 * Every member ends with the same data: after the run, once they have applied the same index,
 * each member's recursive sorted dump must equal the first member's, node for node (key, value,
 * createdIndex, modifiedIndex, expiration: the leader fixes a TTL's expiration in the proposal,
 * so it is the same everywhere). A member that could not be dumped is a finding too.
 */
import type { DumpNode, MemberDump } from '../history.js';
import { report, type CheckReport, type Finding } from './types.js';

export function identicalMembers(dumps: readonly MemberDump[]): CheckReport {
  const findings: Finding[] = [];
  const readable = dumps.filter((d) => {
    if (d.nodes === null) findings.push({ message: `${d.member} could not be dumped: ${d.error ?? 'no answer'}` });
    return d.nodes !== null;
  });
  const [reference, ...others] = readable;
  if (reference === undefined) return report(0, dumps.length === 0 ? [{ message: 'no member dumps to compare' }] : findings);
  for (const other of others) {
    const difference = firstDifference(reference, other);
    if (difference !== null) findings.push({ message: difference });
  }
  return report(readable.length, findings);
}

function firstDifference(a: MemberDump, b: MemberDump): string | null {
  const an = a.nodes ?? [];
  const bn = b.nodes ?? [];
  for (let i = 0; i < Math.max(an.length, bn.length); i++) {
    const x = an[i];
    const y = bn[i];
    if (x === undefined || y === undefined || x.key !== y.key) {
      const missing = x === undefined || (y !== undefined && y.key < x.key) ? { has: b, node: y, lacks: a } : { has: a, node: x, lacks: b };
      return `${missing.has.member} has ${describeNode(missing.node)} that ${missing.lacks.member} does not`;
    }
    if (describeNode(x) !== describeNode(y)) return `${a.member} has ${describeNode(x)} but ${b.member} has ${describeNode(y)}`;
  }
  if (a.etcdIndex !== b.etcdIndex) return `${a.member} was dumped at index ${a.etcdIndex} but ${b.member} at ${b.etcdIndex}`;
  return null;
}

function describeNode(n: DumpNode | undefined): string {
  if (n === undefined) return 'nothing';
  const expiration = n.expiration === undefined ? '' : ` expiring ${n.expiration}`;
  return `${n.key} = ${JSON.stringify(n.value)} (created ${n.createdIndex}, modified ${n.modifiedIndex}${expiration})`;
}
