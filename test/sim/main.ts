/**
 * The simulator's command line (`npm run sim -- ...`):
 *   --seed N            replay one seed exactly and print a trace summary if it fails
 *   --seeds N           run N seeds from --base-seed (default: random, printed)
 *   --regressions       run every line of test/sim/regressions.txt
 *   --members 3|5       cluster size (default: decided by the seed)
 *   --steps N           steps of the faulty phase
 *   --bug NAME          plant a bug: commit-old-term-by-counting | grant-second-vote-in-term | send-before-persist
 *                       | commit-before-entries
 *   --fault-intensity X scale every fault rate by X (default: the seed picks 0.25..4)
 *   --no-durability-check   leave the "nothing promised before fsync" checker out
 *   --no-commit-rule-check  leave the direct check of the leader's commit rule out (semantic checks only)
 *   --trace-lines N     how many trace lines a --seed replay prints (default 60)
 *   --verbose           with --seed: print the trace even when the run passes
 * The last line is always `sim: N seeds, F failures`; the exit status is 1 when F > 0.
 */
import { randomInt } from 'node:crypto';
import { isPlantedBug, PLANTED_BUGS, validateSimConfig, type SimConfig } from './config.js';
import { regressionsPath } from './paths.js';
import { configForSeed, describeFailure, loadRegressions, runSeeds, type RunOptions } from './runner.js';
import { runSimulation, type SimResult, type SimStats } from './sim.js';

interface Cli {
  seed?: number;
  seeds?: number;
  baseSeed?: number;
  regressions: boolean;
  verbose: boolean;
  options: RunOptions;
}

class UsageError extends Error {}

function parseCount(flag: string, value: string | undefined): number {
  const n = Number(value);
  if (value === undefined || !Number.isSafeInteger(n) || n < 0) throw new UsageError(`${flag} needs a non-negative integer, got '${value ?? ''}'`);
  return n;
}

function parseArgs(argv: readonly string[]): Cli {
  const cli: Cli = { regressions: false, verbose: false, options: {} };
  const options: { -readonly [K in keyof RunOptions]: RunOptions[K] } = {};
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] ?? '';
    const value = (): string | undefined => argv[++i];
    switch (flag.replace(/^--?/, '')) {
      case 'seed': cli.seed = parseCount(flag, value()); break;
      case 'seeds': cli.seeds = parseCount(flag, value()); break;
      case 'base-seed': cli.baseSeed = parseCount(flag, value()); break;
      case 'members': options.members = parseCount(flag, value()); break;
      case 'steps': options.steps = parseCount(flag, value()); break;
      case 'regressions': cli.regressions = true; break;
      case 'verbose': cli.verbose = true; break;
      case 'trace-lines': options.traceLines = parseCount(flag, value()); break;
      case 'no-durability-check': options.checkDurability = false; break;
      case 'fault-intensity': options.faultIntensity = Number(value()); break;
      case 'no-commit-rule-check': options.checkCommitRule = false; break;
      case 'bug': {
        const name = value() ?? '';
        if (!isPlantedBug(name)) throw new UsageError(`--bug must be one of ${PLANTED_BUGS.join(', ')}, got '${name}'`);
        options.bug = name;
        break;
      }
      default: throw new UsageError(`unknown flag '${flag}'`);
    }
  }
  cli.options = options;
  if ([cli.seed !== undefined, cli.seeds !== undefined, cli.regressions].filter(Boolean).length !== 1) {
    throw new UsageError('give exactly one of --seed N, --seeds N, --regressions');
  }
  return cli;
}

function summary(result: SimResult): string {
  return `seed ${result.seed} members ${result.members}: ${describeStats(result.stats)}`;
}

function describeStats(s: SimStats): string {
  return `${s.steps} steps, ${s.ticks} ticks (+${s.livenessTicks} liveness), ` +
    `${s.proposals} proposals, ${s.committed} committed, ${s.leadersElected} leaders, ${s.crashes} crashes, ${s.restarts} restarts, ${s.pauses} pauses, ` +
    `${s.partitions} partitions, ${s.snapshots} snapshots, ${s.confChanges} conf changes applied, ${s.readsAnswered} reads, ` +
    `${s.messagesSent} msgs (${s.messagesDropped} dropped, ${s.messagesDuplicated} duplicated), ${s.lostWrites} unsynced writes lost, ${s.tornWrites} torn, ${s.checks} checks`;
}

function checkConfig(config: SimConfig): void {
  const problems = validateSimConfig(config);
  if (problems.length > 0) throw new UsageError(problems.join('; '));
}

function replayOne(seed: number, options: RunOptions, verbose: boolean): number {
  const config = configForSeed(seed, { ...options, trace: true });
  checkConfig(config);
  console.log(`sim: seed ${seed}, members ${config.members}, steps ${config.steps}${config.bug === undefined ? '' : `, bug ${config.bug}`}`);
  const result = runSimulation(config);
  console.log(`sim: ${summary(result)}`);
  if (verbose || !result.ok) {
    if (result.failure !== undefined) console.log(describeFailure(result, config));
    console.log(`sim: trace of the last events${result.ok ? '' : ' before the failure'}:`);
    for (const line of result.trace) console.log(`  ${line}`);
  }
  if (result.failure !== undefined) {
    const rest = result.failure.message.split('\n').slice(1).join('\n');
    if (rest !== '') console.log(rest);
  }
  console.log(`sim: 1 seeds, ${result.ok ? 0 : 1} failures`);
  return result.ok ? 0 : 1;
}

function runMany(count: number, baseSeed: number, cli: Cli): number {
  const probe = configForSeed(baseSeed, cli.options);
  checkConfig(probe);
  const membersNote = cli.options.members === undefined ? 'mixed 3/5 by seed' : String(cli.options.members);
  console.log(`sim: seeds ${baseSeed}..${baseSeed + count - 1} (--base-seed ${baseSeed}), members ${membersNote}, steps ${probe.steps}` +
    `${probe.bug === undefined ? '' : `, bug ${probe.bug}`}`);
  const batch = runSeeds(
    baseSeed,
    count,
    cli.options,
    (config, result) => console.log(describeFailure(result, config)),
    (done, failures, ms) => console.log(`sim: ${done}/${count} seeds, ${failures} failures, ${(done / (ms / 1000)).toFixed(1)} seeds/s`),
  );
  const seconds = batch.elapsedMs / 1000;
  console.log(`sim: totals: ${describeStats(batch.totals)}`);
  console.log(`sim: ${count} seeds in ${seconds.toFixed(1)} s (${(count / seconds).toFixed(1)} seeds/s)`);
  console.log(`sim: ${count} seeds, ${batch.failures.length} failures`);
  return batch.failures.length > 0 ? 1 : 0;
}

function runRegressions(): number {
  const regressions = loadRegressions(regressionsPath());
  let failures = 0;
  for (const r of regressions) {
    const result = runSimulation(r.config);
    const verdict = result.ok ? 'ok' : describeFailure(result, r.config);
    if (!result.ok) failures++;
    console.log(`sim: regression line ${r.line} seed ${r.config.seed} (${r.comment}): ${verdict}`);
  }
  console.log(`sim: ${regressions.length} seeds, ${failures} failures`);
  return failures > 0 ? 1 : 0;
}

function main(argv: readonly string[]): number {
  let cli: Cli;
  try {
    cli = parseArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`sim: ${err.message}`);
    console.log('sim: 0 seeds, 1 failures');
    return 2;
  }
  try {
    if (cli.seed !== undefined) return replayOne(cli.seed, cli.options, cli.verbose);
    if (cli.regressions) return runRegressions();
    const baseSeed = cli.baseSeed ?? randomInt(0, 2 ** 40);
    return runMany(cli.seeds ?? 0, baseSeed, cli);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`sim: ${err.message}`);
    console.log('sim: 0 seeds, 1 failures');
    return 2;
  }
}

process.exitCode = main(process.argv.slice(2));
