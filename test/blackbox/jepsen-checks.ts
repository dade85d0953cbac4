/**
 * Every check of a run, over its RunRecord, as the runner reports them. The checks themselves are
 * in check/ (pure); this file only feeds them and turns their answers into verdicts that count
 * violations and lost writes the way the summary line does.
 */
import { checkLinearizable, explain } from './check/linearizable.js';
import type { RunRecord } from './history.js';
import type { CheckVerdict } from './jepsen-report.js';

/** Per-key search budget of the linearizability checker in a run. */
const LINEARIZABLE_TIME_LIMIT_MS = 60_000;
const SHOWN_DETAILS = 5;

export function runChecks(record: RunRecord): CheckVerdict[] {
  return [linearizable(record), completeness(record)];
}

function linearizable(record: RunRecord): CheckVerdict {
  const result = checkLinearizable(record.operations, { timeLimitMs: LINEARIZABLE_TIME_LIMIT_MS });
  return {
    name: `linearizable (${result.ops} register ops on ${result.keys} keys)`,
    ok: result.ok,
    violations: result.violations.length,
    lostWrites: 0,
    incomplete: result.timedOutKeys.length > 0,
    details: [...result.violations.slice(0, SHOWN_DETAILS).map((v) => explain(v)), ...result.timedOutKeys.map((k) => `search timed out on ${k}`)],
  };
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
