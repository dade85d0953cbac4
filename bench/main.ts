/**
 * `npm run bench`: our member and a real etcd 3.4, started the same way (one member, data on
 * disk in a temp dir, loopback free ports), the same workloads in alternation, repeated; one
 * table of medians with both and their ratio.
 *   node dist/bench/main.js [--quick] [--duration S] [--runs N] [--targets etcd,ours] [--profile]
 * --quick      1 s per run, 1 run (a smoke check, not a measurement)
 * --duration   seconds per wrk run (default 5)
 * --runs       rounds (default 3; the table shows medians)
 * --targets    which servers (default etcd,ours)
 * --profile    run our member under `node --cpu-prof` and print its hottest functions
 * --only TEXT  run only the workloads whose label contains TEXT (e.g. --only "PUT random key, 64")
 */
import { cpus, loadavg } from 'node:os';
import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { benchConfig, preload, runRounds, workloads } from './suite.js';
import { renderTable } from './table.js';
import { makeTempDir, startTarget, type BenchTarget, type TargetName } from './targets.js';
import { writeWrkScripts } from './wrk.js';
import { summarizeProfiles } from './profile.js';

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

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      duration: { type: 'string' },
      runs: { type: 'string' },
      targets: { type: 'string', default: 'etcd,ours' },
      profile: { type: 'boolean', default: false },
      only: { type: 'string' },
    },
    strict: true,
  });
  const config = benchConfig(values.quick === true, optionalInt(values.duration, '--duration'), optionalInt(values.runs, '--runs'));
  const names = parseTargets(values.targets ?? 'etcd,ours');
  const scratch = makeTempDir('bench-');
  const profileDir = values.profile === true ? makeTempDir('bench-profile-') : null;
  console.log('load generator: wrk 4.1 (2 threads, Lua scripts for random keys and PUT bodies); watch fan-out: Node http client, one connection per watcher');
  console.log(`${config.runs} round(s) of ${config.durationS} s per workload and server, alternating; medians shown; ${cpus().length} cores, load average at start ${loadavg()[0]?.toFixed(2)}`);
  const targets: BenchTarget[] = [];
  try {
    for (const name of names) targets.push(await startTarget(name, profileDir));
    for (const t of targets) {
      console.log(`${t.label}: ${t.clientUrl} (pid ${t.pid}), preloading ${config.preloadKeys} keys`);
      await preload(t.clientUrl, config.preloadKeys);
    }
    const selected = workloads(config, writeWrkScripts(scratch)).filter((w) => values.only === undefined || w.label.includes(values.only));
    if (selected.length === 0) throw new Error(`--only ${JSON.stringify(values.only)} matches no workload`);
    const results = await runRounds(config, selected, targets, (line) => console.log(line));
    console.log('');
    console.log(renderTable(results, targets));
  } finally {
    for (const t of targets) await t.stop();
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
