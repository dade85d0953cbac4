/**
 * Every check of a run, over its RunRecord, as the runner reports them. The checks themselves are
 * in check/ (pure, `checkRun`); this file only feeds them and turns their answers into verdicts
 * that count violations and lost writes the way the summary line does, plus one check of its
 * own: that the final phase collected what the others need (else they would pass vacuously).
 */
import { checkRun, explain } from './check/index.js';
import type { RunRecord } from './history.js';
import type { CheckVerdict } from './jepsen-report.js';

/** Per-key search budget of the linearizability checker in a run. */
const LINEARIZABLE_TIME_LIMIT_MS = 30_000;
/** Findings listed per check (the count is exact; the report shows the first ones). */
const SHOWN_DETAILS = 20;

export function runChecks(record: RunRecord): CheckVerdict[] {
  const verdict = checkRun(record, { timeLimitMs: LINEARIZABLE_TIME_LIMIT_MS, dumpedAtMs: record.dumpedAtMs });
  const lin = verdict.linearizable;
  const linearizable: CheckVerdict = {
    name: `linearizable (${lin.ops} register ops on ${lin.keys} keys)`,
    ok: lin.ok,
    violations: lin.violations.length,
    lostWrites: 0,
    incomplete: lin.timedOutKeys.length > 0,
    details: [...lin.violations.slice(0, SHOWN_DETAILS).map((v) => explain(v)), ...lin.timedOutKeys.map((k) => `search timed out on ${k}`)],
  };
  const others = verdict.reports.map(({ name, report }): CheckVerdict => {
    const lost = name.startsWith('lost');
    return {
      name: `${name} (${report.checked} checked)`,
      ok: report.ok,
      violations: lost ? 0 : report.findings.length,
      lostWrites: lost ? report.findings.length : 0,
      incomplete: false,
      details: report.findings.slice(0, SHOWN_DETAILS).map((f) => f.message),
    };
  });
  return [linearizable, ...others, completeness(record)];
}

/** The final phase itself must have worked, or the other checks would pass vacuously. */
function completeness(record: RunRecord): CheckVerdict {
  const problems: string[] = [];
  for (const key of record.keys) {
    const final = record.operations.filter((op) => op.client === -1 && op.key === key).at(-1);
    if (final?.outcome.type !== 'ok') problems.push(`no final quorum read of ${key} succeeded`);
  }
  if (record.queueListing === null) problems.push('the queue could not be listed');
  if (record.endIndex < 0) problems.push('the end marker could not be written');
  if (!record.dumpsConverged) problems.push(`members did not reach one index: ${record.dumps.map((d) => `${d.member}@${d.etcdIndex}`).join(' ')}`);
  for (const watcher of record.watchers) {
    if (record.endIndex > 0 && watcher.endIndex <= record.endIndex) problems.push(`watcher ${watcher.watcher} stopped at ${watcher.endIndex}, before the end marker ${record.endIndex}`);
  }
  return { name: 'final state collected', ok: problems.length === 0, violations: 0, lostWrites: 0, incomplete: problems.length > 0, details: problems };
}
