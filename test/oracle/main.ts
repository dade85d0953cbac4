/**
 * The oracle from the command line:
 *   node dist/test/oracle/main.js --seeds 100 --requests 100 [--first 1] [--seed N] [--self-check]
 * --seeds S       run seeds first..first+S-1 (plus the regression seeds)
 * --seed N        run only seed N (replay a reported mismatch)
 * --requests R    requests per sequence (default 100)
 * --self-check    compare etcd 3.4 with a second etcd 3.4 (must show 0 mismatches)
 * --coverage      print what the reference answered, by kind (actions, error codes, statuses)
 * --no-stats      do not compare how the /v2/stats/store write counters moved over each sequence
 * Last line: `oracle: S sequences, R requests, M mismatches`; exit 1 when M > 0.
 */
import { parseArgs } from 'node:util';
import { defaultOracleConfig, runOracle } from './runner.js';
import { regressionSeeds } from './regressions.js';
import { startPair } from './servers.js';

function positiveInt(text: string | undefined, flag: string, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new Error(`${flag} needs a positive integer, got ${JSON.stringify(text)}`);
  return Number(text);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      seeds: { type: 'string' },
      first: { type: 'string' },
      seed: { type: 'string' },
      requests: { type: 'string' },
      'self-check': { type: 'boolean', default: false },
      coverage: { type: 'boolean', default: false },
      'no-stats': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const requests = positiveInt(values.requests, '--requests', 100);
  let seeds: number[];
  let described: string;
  if (values.seed !== undefined) {
    seeds = [positiveInt(values.seed, '--seed', 1)];
    described = `seed ${seeds[0]}`;
  } else {
    const count = positiveInt(values.seeds, '--seeds', 100);
    const first = positiveInt(values.first, '--first', 1);
    seeds = [...regressionSeeds, ...Array.from({ length: count }, (_, i) => first + i)];
    described = `seeds ${first}..${first + count - 1} plus regressions [${regressionSeeds.join(' ')}]`;
  }
  const selfCheck = values['self-check'] === true;
  console.log(`oracle: ${described}, ${requests} requests each, etcd 3.4 vs ${selfCheck ? 'etcd 3.4' : 'ours'}`);
  const startedMs = Date.now();
  const summary = await runOracle({
    seeds,
    requestsPerSequence: requests,
    startPair: () => startPair(selfCheck ? 'etcd' : 'ours'),
    config: { ...defaultOracleConfig, selfCheck, compareStoreStats: values['no-stats'] !== true },
    log: (line) => console.log(line),
  });
  if (values.coverage === true) {
    const rows = [...summary.coverage.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
    for (const [outcome, count] of rows) console.log(`  ${String(count).padStart(6)}  ${outcome}`);
  }
  const failedSeeds = summary.mismatches.map((m) => m.seed);
  if (failedSeeds.length > 0) console.log(`mismatching seeds: ${failedSeeds.join(' ')}`);
  console.log(`time: ${((Date.now() - startedMs) / 1000).toFixed(1)} s`);
  console.log(`oracle: ${summary.sequences} sequences, ${summary.requests} requests, ${summary.mismatches.length} mismatches`);
  return summary.mismatches.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.stack ?? err.message : String(err));
    process.exit(2);
  },
);
