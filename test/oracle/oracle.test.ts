/**
 * The oracle in the suite: at least 100 seeded sequences × 100 requests (plus the regression
 * seeds) replayed against our member and a real etcd 3.4; every response must match after the
 * §17 normalisation. Seeds are first..first+99 with first = $ORACLE_SEED (default 1); a failure
 * prints the seed, the request and both responses — replay it with
 * `node dist/test/oracle/main.js --seed N`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultOracleConfig, runOracle } from './runner.js';
import { regressionSeeds } from './regressions.js';
import { startPair } from './servers.js';

const SEQUENCES = 100;
const REQUESTS_PER_SEQUENCE = 100;

test(`oracle: ${SEQUENCES} sequences x ${REQUESTS_PER_SEQUENCE} requests, our member vs etcd 3.4, 0 mismatches`, { timeout: 600_000 }, async () => {
  const first = Number(process.env['ORACLE_SEED'] ?? '1');
  assert.ok(Number.isSafeInteger(first) && first > 0, `ORACLE_SEED must be a positive integer, got ${process.env['ORACLE_SEED']}`);
  const seeds = [...regressionSeeds, ...Array.from({ length: SEQUENCES }, (_, i) => first + i)];
  console.log(`oracle: seeds ${first}..${first + SEQUENCES - 1} plus regressions [${regressionSeeds.join(' ')}]`);
  const reports: string[] = [];
  const summary = await runOracle({
    seeds,
    requestsPerSequence: REQUESTS_PER_SEQUENCE,
    startPair: () => startPair('ours'),
    config: defaultOracleConfig,
    log: (line) => reports.push(line),
  });
  console.log(`oracle: ${summary.sequences} sequences, ${summary.requests} requests, ${summary.mismatches.length} mismatches`);
  assert.equal(summary.mismatches.length, 0, `mismatching seeds ${summary.mismatches.map((m) => m.seed).join(' ')}:\n${reports.join('\n\n')}`);
  assert.ok(summary.sequences >= SEQUENCES);
  assert.ok(summary.requests >= SEQUENCES * REQUESTS_PER_SEQUENCE, `only ${summary.requests} requests ran`);
});
