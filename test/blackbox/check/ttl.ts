/**
 * TTL keys expire, on every member, and not early. Each TTL set writes a unique key that is never
 * refreshed. The member that takes the request fixes the expiration (request time + ttl) in the
 * proposal, and the request arrives between invocation and completion, so an acknowledged key
 * - must be gone `graceMs` after completeMs + ttl (the leader's expiry sweep runs every 500 ms),
 * - must still be there while invokeMs + ttl has not passed,
 * - and must carry its expiration while present (a TTL is never lost).
 * Any present TTL node must hold a value some TTL set wrote to that key. An `unknown` set may
 * have been read by a member long after the client gave up (a paused member's socket), so only
 * its value is checked.
 */
import type { MemberDump, TtlOperation } from '../history.js';
import { capped } from './indexes.js';
import { report, type CheckReport, type Finding } from './types.js';

export const DEFAULT_TTL_GRACE_MS = 2000;

/** `dumpedAtMs`: when the dumps were requested, on the history's clock (performance.now()). */
export function ttlKeysExpired(ttl: readonly TtlOperation[], dumps: readonly MemberDump[], dumpedAtMs: number, graceMs = DEFAULT_TTL_GRACE_MS): CheckReport {
  const byKey = new Map<string, TtlOperation[]>();
  for (const t of ttl) byKey.set(t.key, [...(byKey.get(t.key) ?? []), t]);
  const findings: Finding[] = [];
  let checked = 0;
  for (const dump of dumps) {
    if (dump.nodes === null) continue;
    const present = new Map(dump.nodes.map((n) => [n.key, n]));
    for (const [key, sets] of byKey) {
      checked++;
      const node = present.get(key);
      const finding = node === undefined ? goneTooEarly(sets, dumpedAtMs, dump.member) : stayedOrChanged(sets, node.value, node.expiration, dumpedAtMs, graceMs, dump.member);
      if (finding !== null) findings.push(finding);
    }
  }
  return report(checked, capped(findings));
}

function goneTooEarly(sets: readonly TtlOperation[], dumpedAtMs: number, member: string): Finding | null {
  const last = sets.filter((t) => t.outcome.type === 'ok').at(-1);
  if (last === undefined || sets.length > 1 || dumpedAtMs >= last.invokeMs + last.ttlSeconds * 1000) return null;
  return { message: `${member}: ${last.key} (ttl #${last.id}, ${last.ttlSeconds} s, invoked at ${last.invokeMs.toFixed(1)} ms) is gone at ${dumpedAtMs.toFixed(1)} ms, before it could expire` };
}

function stayedOrChanged(sets: readonly TtlOperation[], value: string, expiration: string | undefined, dumpedAtMs: number, graceMs: number, member: string): Finding | null {
  const writer = sets.find((t) => t.value === value && t.outcome.type !== 'fail');
  const key = sets[0]?.key ?? '?';
  if (writer === undefined) return { message: `${member}: ${key} holds ${JSON.stringify(value)}, which no TTL set that may have happened wrote` };
  if (expiration === undefined) return { message: `${member}: ${key} (ttl #${writer.id}) has lost its TTL` };
  if (writer.outcome.type !== 'ok') return null;
  const mustBeGoneMs = writer.completeMs + writer.ttlSeconds * 1000 + graceMs;
  if (dumpedAtMs <= mustBeGoneMs) return null;
  return {
    message: `${member}: ${key} (ttl #${writer.id}, ${writer.ttlSeconds} s, completed at ${writer.completeMs.toFixed(1)} ms) is still there at ${dumpedAtMs.toFixed(1)} ms, ${(dumpedAtMs - mustBeGoneMs + graceMs).toFixed(0)} ms after it expired`,
  };
}
