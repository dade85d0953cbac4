/**
 * `npm run bench`: our member and a real etcd 3.4, started the same way (data on disk in a temp
 * dir, loopback free ports), the same workloads in alternation, repeated; one table of medians
 * with both and their ratio. By default one member each; --cluster runs 3-member clusters.
 *   node dist/bench/main.js [--cluster | --all] [--quick] [--duration S] [--runs N] [--targets etcd,ours] [--profile]
 * --cluster    the cluster rows only: 3-member clusters of each (see bench/README.md)
 * --all        the single-member rows, then the cluster rows (two tables)
 * --quick      1 s per run, 1 run (a smoke check, not a measurement)
 * --duration   seconds per run (default 5)
 * --runs       rounds (default 3; the table shows medians)
 * --targets    which servers (default etcd,ours)
 * --profile    run our single member under `node --cpu-prof` and print its hottest functions
 * --only TEXT  run only the workloads whose label contains TEXT (e.g. --only "PUT random key, 64")
 * --ours-as-etcd  dry run of the harness: the "ours" column is run by a second real etcd
 */
import { cpus, loadavg } from 'node:os';
import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { benchConfig, preload, redirectSummary, runRounds, workloads, type BenchConfig, type NamedTarget, type Workload } from './suite.js';
import { renderTable } from './table.js';
import { makeTempDir, startTarget, type BenchTarget, type TargetName } from './targets.js';
import { writeWrkScripts, type WrkScripts } from './wrk.js';
import { summarizeProfiles } from './profile.js';
import { startCluster, type BenchCluster } from './cluster.js';
import { clusterWorkloads } from './cluster-suite.js';

function parseTargets(text: string): TargetName[] {
  const names = text.split(',').map((s) => s.trim());
  for (const n of names) if (n !== 'etcd' && n !== 'ours') throw new Error(`--targets: unknown target ${JSON.stringify(n)} (etcd, ours)`);
  return names as TargetName[];
}

function optionalInt(text: string | undefined, flag: string): number | null {
  if (text === undefined) return null;
  if (!/^\d+$/.test(text)) throw new Error(`${flag} needs a whole number, got ${JSON.stringify(text)}`);
  return Number(text);
}

interface RunOptions {
  readonly config: BenchConfig;
  readonly names: readonly TargetName[];
  readonly scripts: WrkScripts;
  readonly only: string | undefined;
  readonly oursAsEtcd: boolean;
}

function selectWorkloads<T extends NamedTarget>(list: Workload<T>[], only: string | undefined): Workload<T>[] {
  return list.filter((w) => only === undefined || w.label.includes(only));
}

async function measureAndPrint<T extends NamedTarget>(config: BenchConfig, selected: Workload<T>[], targets: readonly T[]): Promise<void> {
  const results = await runRounds(config, selected, targets, (line) => console.log(line));
  console.log('');
  console.log(renderTable(results, targets));
  for (const line of redirectSummary(results, targets)) console.log(line);
}

async function runSingleRows(options: RunOptions, profileDir: string | null): Promise<void> {
  const { config } = options;
  const selected = selectWorkloads(workloads(config, options.scripts), options.only);
  if (selected.length === 0) return;
  console.log('== one member each');
  const targets: BenchTarget[] = [];
  try {
    for (const name of options.names) {
      if (name === 'ours' && options.oursAsEtcd) {
        const t = await startTarget('etcd', null);
        targets.push({ ...t, name: 'ours', label: 'etcd (as ours, dry run)' });
      } else {
        targets.push(await startTarget(name, profileDir));
      }
    }
    for (const t of targets) {
      console.log(`${t.label}: ${t.clientUrl} (pid ${t.pid}), preloading ${config.preloadKeys} keys`);
      await preload(t.clientUrl, config.preloadKeys);
    }
    await measureAndPrint(config, selected, targets);
  } finally {
    for (const t of targets) await t.stop();
  }
}

async function runClusterRows(options: RunOptions): Promise<void> {
  const { config } = options;
  const selected = selectWorkloads(clusterWorkloads(config, options.scripts, (line) => console.log(line)), options.only);
  if (selected.length === 0) return;
  console.log('== 3-member clusters (static --initial-cluster, one data dir per member)');
  const clusters: BenchCluster[] = [];
  try {
    for (const name of options.names) {
      if (name === 'ours' && options.oursAsEtcd) clusters.push(await startCluster('etcd', 'ours', 'etcd x3 (as ours, dry run)'));
      else clusters.push(await startCluster(name, name, name === 'etcd' ? 'etcd 3.4.23 x3' : 'ours x3'));
    }
    for (const c of clusters) {
      const { leader } = await c.roles();
      const members = c.members.map((m) => `${m.name} ${m.clientUrl} pid ${m.pid}`).join('; ');
      console.log(`${c.label}: ${members}; leader ${leader.name}; preloading ${config.preloadKeys} keys through the leader`);
      await preload(leader.clientUrl, config.preloadKeys);
    }
    await measureAndPrint(config, selected, clusters);
  } finally {
    for (const c of clusters) await c.stop();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      cluster: { type: 'boolean', default: false },
      all: { type: 'boolean', default: false },
      quick: { type: 'boolean', default: false },
      duration: { type: 'string' },
      runs: { type: 'string' },
      targets: { type: 'string', default: 'etcd,ours' },
      profile: { type: 'boolean', default: false },
      only: { type: 'string' },
      'ours-as-etcd': { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.cluster === true && values.all === true) throw new Error('--cluster and --all: pick one (--all includes the cluster rows)');
  if (values.profile === true && values.cluster === true) throw new Error('--profile profiles the single member; it does not apply to --cluster');
  const single = values.cluster !== true;
  const cluster = values.cluster === true || values.all === true;
  const config = benchConfig(values.quick === true, optionalInt(values.duration, '--duration'), optionalInt(values.runs, '--runs'));
  const scratch = makeTempDir('bench-');
  const profileDir = values.profile === true ? makeTempDir('bench-profile-') : null;
  const options: RunOptions = {
    config,
    names: parseTargets(values.targets ?? 'etcd,ours'),
    scripts: writeWrkScripts(scratch),
    only: values.only,
    oursAsEtcd: values['ours-as-etcd'] === true,
  };
  const anySelected =
    (single && selectWorkloads(workloads(config, options.scripts), options.only).length > 0) ||
    (cluster && selectWorkloads(clusterWorkloads(config, options.scripts, () => undefined), options.only).length > 0);
  if (!anySelected) throw new Error(`--only ${JSON.stringify(values.only)} matches no workload`);
  // Ctrl-C: exit normally so every started member is killed by pid (exit handlers).
  process.once('SIGINT', () => process.exit(130));
  process.once('SIGTERM', () => process.exit(143));
  console.log('load generator: wrk 4.1 (2 threads, Lua scripts for random keys and PUT bodies); rows marked [node]: Node HTTP/1.1 client (bench/http-load.ts), one keep-alive connection per worker and server, each 307 followed; watch fan-out: Node http client, one connection per watcher');
  console.log(`${config.runs} round(s) of ${config.durationS} s per workload and server, alternating; medians shown; ${cpus().length} cores, load average at start ${loadavg()[0]?.toFixed(2)}`);
  try {
    if (single) await runSingleRows(options, profileDir);
    if (single && cluster) console.log('');
    if (cluster) await runClusterRows(options);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  if (profileDir !== null) {
    console.log('');
    for (const line of summarizeProfiles(profileDir)) console.log(line);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack ?? err.message : String(err));
  process.exit(1);
});
