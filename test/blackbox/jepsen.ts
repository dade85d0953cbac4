/**
 * `npm run jepsen -- --seed N --time 600 --members 5 [--clients 12] [--break MODE] [--no-nemesis]`
 *
 * One black-box run: a cluster whose peer links go through proxies (harness.ts), the workload
 * (workload.ts) against its client ports while the nemesis (nemesis.ts) injects faults on a
 * seeded schedule, then heal, collect the final state, run every check (check/), write the
 * history and a report under `jepsen-out/<seed>/`, and print as the last line
 * `jepsen: N ops, F faults, V violations, L lost writes`. Exit code 1 unless the run is clean.
 *
 * With one member there are no links to cut: the faults are kill -9 and kill-all only, and the
 * checks are the same (no acknowledged write lost, linearizable across restarts).
 * runJepsen() is what the CI tests call in-process.
 */
import { fileURLToPath } from 'node:url';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startBlackboxCluster, type BlackboxCluster } from './harness.js';
import { runNemesis, type FaultRecord } from './nemesis.js';
import { startWorkload, sleep, type Workload } from './workload.js';
import type { RunRecord } from './history.js';
import { runChecks } from './jepsen-checks.js';
import { opCount, parseArgs, reportText, summarize, USAGE, readRecordFiles, writeRecordFiles, writeSummaryFiles, type JepsenOptions, type Summary } from './jepsen-report.js';

export type { JepsenOptions, Summary } from './jepsen-report.js';

/** Fault kinds a single member can suffer (the nemesis' names). */
export const SINGLE_MEMBER_FAULTS: readonly string[] = ['kill', 'kill-all'];
const DEFAULT_CLIENTS = 12;
const DEFAULT_THINK_MS = 75;
const DEFAULT_INTERVAL_MS = 5000;
/** After the nemesis healed everything: how long the cluster gets to elect a leader. */
const RECOVERY_BUDGET_MS = 60_000;
const PROGRESS_EVERY_MS = 10_000;

export async function runJepsen(options: JepsenOptions): Promise<Summary> {
  const stored = options.checkDir !== undefined ? storedRun(options.checkDir) : null;
  const seed = stored?.record.seed ?? options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const log = options.log ?? ((line: string) => console.log(line));
  log(`jepsen: seed ${seed}`);
  if (options.checkDir !== undefined) log(`jepsen: checking the run stored in ${options.checkDir}/ again`);
  else log(`jepsen: ${options.members} members, ${options.timeSec} s, ${options.clients ?? DEFAULT_CLIENTS} clients${options.break !== undefined ? `, BROKEN BUILD ${options.break}` : ''}${options.nemesis === false ? ', no nemesis' : ''}`);
  const collected = stored ?? (await collectRun(seed, options, log));
  const outDir = options.outDir === null ? null : (options.outDir ?? options.checkDir ?? join('jepsen-out', String(seed)));
  if (outDir !== null && options.checkDir === undefined) {
    writeRecordFiles(outDir, collected.record, collected.faults);
    writeMemberLogs(outDir, collected.logs);
  }
  // The cluster is gone before the checks run: the search is CPU-bound and synchronous, and the
  // proxies live in this process, so a live cluster would only sit frozen beside it.
  log(`jepsen: checking`);
  const checks = runChecks(collected.record);
  const faultCount = collected.faults.filter((f) => f.error?.startsWith('start:') !== true).length;
  const summary = summarize(seed, collected.record.members, opCount(collected.record), faultCount, checks, outDir);
  if (outDir !== null) writeSummaryFiles(outDir, summary, reportText(summary, collected.faults.map(describeFault)));
  for (const check of checks) {
    log(`jepsen: ${check.ok && !check.incomplete ? 'PASS' : check.incomplete ? 'INCOMPLETE' : 'FAIL'} ${check.name}`);
    for (const detail of check.details.slice(0, 5)) log(`jepsen:     ${detail}`);
  }
  if (outDir !== null) log(`jepsen: history, report and member logs in ${outDir}/`);
  log(summary.lastLine);
  return summary;
}

interface CollectedRun {
  readonly record: RunRecord;
  readonly faults: readonly FaultRecord[];
  /** Each member's output over all its runs. */
  readonly logs: ReadonlyMap<string, string>;
}

/** A run written earlier by this runner, to be checked again (e.g. after a checker fix). */
function storedRun(dir: string): CollectedRun {
  const { record, faults } = readRecordFiles(dir);
  return { record, faults: faults as FaultRecord[], logs: new Map() };
}

/** Cluster up, workload and nemesis for the run's time, heal, final state, cluster down. */
async function collectRun(seed: number, options: JepsenOptions, log: (line: string) => void): Promise<CollectedRun> {
  const cluster = await startBlackboxCluster({ size: options.members, seed, ...(options.break !== undefined ? { break: options.break } : {}) });
  let workload: Workload | null = null;
  try {
    workload = await startWorkload({
      members: cluster.members.map((m) => ({ name: m.name, clientUrl: m.clientUrl })),
      seed,
      clients: options.clients ?? DEFAULT_CLIENTS,
      thinkMs: options.thinkMs ?? DEFAULT_THINK_MS,
    });
    const faults = await runFaults(cluster, workload, seed, options, log);
    await workload.stopClients();
    await recover(cluster, log);
    log(`jepsen: collecting the final state`);
    const record = await workload.finish();
    return { record, faults, logs: new Map(cluster.names().map((name) => [name, cluster.logs(name)])) };
  } catch (error) {
    if (!(error instanceof Error)) throw error;
    for (const name of cluster.names()) log(`--- ${name} (last 2,000 characters) ---\n${cluster.logs(name).slice(-2000)}`);
    throw error;
  } finally {
    workload?.abort();
    await cluster.stop();
  }
}

async function runFaults(cluster: BlackboxCluster, workload: Workload, seed: number, options: JepsenOptions, log: (line: string) => void): Promise<FaultRecord[]> {
  const durationMs = options.timeSec * 1000;
  const started = performance.now();
  const progress = setInterval(() => {
    log(`jepsen: ${Math.round((performance.now() - started) / 1000)} s, ${workload.opCount()} ops`);
  }, PROGRESS_EVERY_MS);
  try {
    if (options.nemesis === false) {
      await sleep(durationMs);
      return [];
    }
    const faults = options.faults ?? (options.members === 1 ? SINGLE_MEMBER_FAULTS : undefined);
    const [records] = await Promise.all([
      runNemesis(cluster, {
        seed,
        durationMs,
        intervalMs: options.intervalMs ?? DEFAULT_INTERVAL_MS,
        ...(faults !== undefined ? { faults } : {}),
        log,
      }),
      // The nemesis may end its last fault early; the workload still runs for the whole time.
      sleep(durationMs),
    ]);
    return records;
  } finally {
    clearInterval(progress);
  }
}

/** The nemesis heals as it ends; make sure of it, then wait for a leader. */
async function recover(cluster: BlackboxCluster, log: (line: string) => void): Promise<void> {
  cluster.net.heal();
  for (const member of cluster.members) {
    if (member.isPaused()) cluster.resume(member.name);
  }
  await Promise.all(cluster.members.filter((m) => !m.isRunning()).map((m) => cluster.restart(m.name)));
  const leader = await cluster.waitForLeader(RECOVERY_BUDGET_MS);
  log(`jepsen: healed, leader ${leader}`);
}

function writeMemberLogs(outDir: string, logs: ReadonlyMap<string, string>): void {
  mkdirSync(join(outDir, 'logs'), { recursive: true });
  for (const [name, text] of logs) writeFileSync(join(outDir, 'logs', `${name}.log`), text);
}

function describeFault(fault: FaultRecord): string {
  return JSON.stringify(fault);
}

async function main(): Promise<void> {
  let options: JepsenOptions;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (error) {
    console.error(`jepsen: ${error instanceof Error ? error.message : String(error)}`);
    console.error(USAGE);
    process.exit(2);
  }
  const summary = await runJepsen(options);
  process.exit(summary.ok ? 0 : 1);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error: unknown) => {
    console.error(error);
    console.error('jepsen: the run did not complete');
    process.exit(1);
  });
}
