/**
 * The CI's black-box fault runs (issue 7): three 60-second nemesis runs on 3 members with fixed
 * seeds, and a single-member kill -9 run, each with every check clean. A seed that ever failed is
 * kept in REGRESSIONS and replayed on every run (the nemesis' schedule and the workload's choices
 * replay from the seed; the interleaving does not, so a replay is a strong hint, not a proof).
 * Runs alone after the rest of the suite (scripts/run-tests.mjs ALONE): ≈5 minutes.
 * Replay one by hand: `npm run jepsen -- --seed N --time 60 --members 3`.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runJepsen, type JepsenOptions, type Summary } from './jepsen.js';

interface Run {
  readonly seed: number;
  readonly members: number;
  readonly timeSec: number;
  readonly minOps: number;
  readonly minFaults: number;
  /** Why the run is here (for regressions: what it once caught). */
  readonly note: string;
}

const NEMESIS_RUNS: readonly Run[] = [
  { seed: 1001, members: 3, timeSec: 60, minOps: 3000, minFaults: 8, note: 'mixed faults' },
  { seed: 2002, members: 3, timeSec: 60, minOps: 3000, minFaults: 8, note: 'mixed faults' },
  // 3003 once ended INCOMPLETE: the linearizability search ran out of time on 2 of 5 keys
  // (≈1,000 ops and ≈25 unknown writes each) until the checker placed fitting observations first.
  { seed: 3003, members: 3, timeSec: 60, minOps: 3000, minFaults: 8, note: 'mixed faults; once a checker timeout' },
];
const SINGLE_MEMBER_RUN: Run = { seed: 4004, members: 1, timeSec: 30, minOps: 1000, minFaults: 4, note: 'kill -9 and kill-all of the only member' };
/** Seeds that once failed; each stays a permanent regression. */
const REGRESSIONS: readonly Run[] = [];

/** Faults every ~4.5 s so a 60-second run gets ≈10 of them after its first few seconds. */
const INTERVAL_MS = 4500;

async function run(spec: Run): Promise<Summary> {
  const options: JepsenOptions = {
    seed: spec.seed,
    timeSec: spec.timeSec,
    members: spec.members,
    intervalMs: INTERVAL_MS,
    outDir: `jepsen-out/ci-${spec.seed}`,
    log: (line) => console.log(line),
  };
  return runJepsen(options);
}

function assertClean(spec: Run, summary: Summary): void {
  const failed = summary.checks.filter((c) => !c.ok || c.incomplete).map((c) => `${c.name}: ${c.details.join('; ')}`);
  assert.deepEqual(failed, [], `seed ${spec.seed}: ${summary.lastLine}`);
  assert.equal(summary.violations, 0, summary.lastLine);
  assert.equal(summary.lostWrites, 0, summary.lastLine);
  assert.ok(summary.ops >= spec.minOps, `seed ${spec.seed}: only ${summary.ops} ops (want ≥ ${spec.minOps})`);
  assert.ok(summary.faults >= spec.minFaults, `seed ${spec.seed}: only ${summary.faults} faults (want ≥ ${spec.minFaults})`);
  assert.equal(summary.ok, true);
  assert.match(summary.lastLine, /^jepsen: \d+ ops, \d+ faults, 0 violations, 0 lost writes$/);
}

describe('jepsen: black-box fault runs', { concurrency: false }, () => {
  for (const spec of [...NEMESIS_RUNS, SINGLE_MEMBER_RUN, ...REGRESSIONS]) {
    it(`seed ${spec.seed}, ${spec.members} member(s), ${spec.timeSec} s (${spec.note}): no violation, no lost write`, { timeout: (spec.timeSec + 300) * 1000 }, async () => {
      assertClean(spec, await run(spec));
    });
  }
});
