/**
 * Every check over one run's record, and the counts the runner's summary line needs
 * (`jepsen: N ops, F faults, V violations, L lost writes`).
 */
import type { RunRecord } from '../history.js';
import { indexedWrites, indexesFollowRealTime } from './indexes.js';
import { inOrderKeys } from './in-order.js';
import { checkLinearizable, explain, type LinearizableResult } from './linearizable.js';
import { lostAppends, lostWrites } from './lost-writes.js';
import { identicalMembers } from './members.js';
import { ttlKeysExpired } from './ttl.js';
import type { CheckReport } from './types.js';
import { watchersComplete } from './watchers.js';

export interface RunCheckOptions {
  /** Per-key budget of the linearizability search (default 10,000 ms). */
  readonly timeLimitMs?: number;
  /**
   * When the dumps were requested (performance.now() of the run). Default Infinity: the workload
   * waits out every TTL before dumping, so every acknowledged TTL key must be gone.
   */
  readonly dumpedAtMs?: number;
  readonly ttlGraceMs?: number;
  /** The watched prefix (default `/jepsen/`). */
  readonly watchPrefix?: string;
}

export interface RunVerdict {
  readonly ok: boolean;
  readonly linearizable: LinearizableResult;
  /** Named reports in a fixed order; `lost*` ones count as lost writes, the rest as violations. */
  readonly reports: readonly { readonly name: string; readonly report: CheckReport }[];
  /** Linearizability violations, keys it could not check in time, and other checks' findings. */
  readonly violations: number;
  /** Findings of the lost-write checks (register keys on every member; acknowledged appends). */
  readonly lostWrites: number;
  /** One line per check, then every finding (violations explained): for the run's log. */
  readonly lines: readonly string[];
}

export function checkRun(record: RunRecord, opts: RunCheckOptions = {}): RunVerdict {
  const extra = { queue: record.queue, ttl: record.ttl };
  const linearizable = checkLinearizable(record.operations, opts.timeLimitMs === undefined ? {} : { timeLimitMs: opts.timeLimitMs });
  const reports = [
    { name: 'lost writes', report: lostWrites(record.operations, record.dumps) },
    { name: 'lost appends (listing)', report: lostAppends(record.queue, record.queueListing, 'the in-order listing') },
    ...record.dumps.map((d) => ({ name: `lost appends (${d.member})`, report: lostAppends(record.queue, d.nodes, d.member) })),
    { name: 'indexes follow real time', report: indexesFollowRealTime(record.operations, extra) },
    { name: 'watchers complete', report: watchersComplete(record.watchers, indexedWrites(record.operations, extra), opts.watchPrefix) },
    { name: 'in-order keys', report: inOrderKeys(record.queue, record.queueListing) },
    { name: 'identical members', report: identicalMembers(record.dumps) },
    { name: 'ttl keys expired', report: ttlKeysExpired(record.ttl, record.dumps, opts.dumpedAtMs ?? Infinity, opts.ttlGraceMs) },
  ];
  const isLost = (name: string): boolean => name.startsWith('lost');
  const count = (lost: boolean): number => reports.filter((r) => isLost(r.name) === lost).reduce((n, r) => n + r.report.findings.length, 0);
  const violations = linearizable.violations.length + linearizable.timedOutKeys.length + count(false);
  const lostWritesFound = count(true);
  return { ok: violations === 0 && lostWritesFound === 0, linearizable, reports, violations, lostWrites: lostWritesFound, lines: render(linearizable, reports) };
}

function render(lin: LinearizableResult, reports: RunVerdict['reports']): string[] {
  const lines = [`linearizable: ${lin.ok ? 'ok' : 'FAIL'} (${lin.keys} keys, ${lin.ops} ops, ${lin.violations.length} violations, ${lin.timedOutKeys.length} timed out)`];
  for (const v of lin.violations) lines.push(explain(v));
  for (const key of lin.timedOutKeys) lines.push(`key ${key}: the search ran out of time (not checked)`);
  for (const { name, report } of reports) {
    lines.push(`${name}: ${report.ok ? 'ok' : 'FAIL'} (${report.checked} checked, ${report.findings.length} findings)`);
    for (const f of report.findings) lines.push(`  ${f.message}`);
  }
  return lines;
}
