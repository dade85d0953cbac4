/**
 * The benchmark's workloads and the alternating, repeated runner. Each workload runs against
 * every target in turn (the order flips every round so neither always goes first on a warm
 * machine), `runs` rounds; a row reports the median of the rounds.
 */
import { runWrk, type WrkResult, type WrkScripts } from './wrk.js';
import { measureWatchFanout } from './watch.js';
import type { BenchTarget, TargetName } from './targets.js';

export interface BenchConfig {
  readonly durationS: number;
  readonly runs: number;
  readonly preloadKeys: number;
  readonly watcherCounts: readonly number[];
  readonly putConnections: readonly number[];
  readonly readConnections: number;
}

export function benchConfig(quick: boolean, durationS: number | null, runs: number | null): BenchConfig {
  const config: BenchConfig = {
    durationS: durationS ?? (quick ? 1 : 5),
    runs: runs ?? (quick ? 1 : 3),
    preloadKeys: 10_000,
    watcherCounts: [100, 1000],
    putConnections: [1, 16, 64, 256],
    readConnections: 64,
  };
  validateBenchConfig(config);
  return config;
}

export function validateBenchConfig(c: BenchConfig): void {
  if (!(c.durationS >= 1 && Number.isInteger(c.durationS))) throw new Error(`duration must be a whole number of seconds >= 1, got ${c.durationS}`);
  if (!(c.runs >= 1 && Number.isInteger(c.runs))) throw new Error(`runs must be >= 1, got ${c.runs}`);
  if (!(c.preloadKeys >= 1)) throw new Error('preloadKeys must be >= 1');
}

export type Measurement =
  | { readonly kind: 'throughput'; readonly result: WrkResult }
  | { readonly kind: 'latency'; readonly ms: number };

/** What a row is measured against: one member (BenchTarget) or a cluster (BenchCluster). */
export interface NamedTarget {
  readonly name: TargetName;
  readonly label: string;
}

export interface Workload<T extends NamedTarget = BenchTarget> {
  readonly label: string;
  run(target: T): Promise<Measurement>;
}

export function workloads(config: BenchConfig, scripts: WrkScripts): Workload[] {
  const keys = String(config.preloadKeys);
  const c = config.readConnections;
  const wrk = async (target: BenchTarget, connections: number, path: string, script: string | null, args: string[]): Promise<Measurement> => ({
    kind: 'throughput',
    result: await runWrk({ url: `${target.clientUrl}${path}`, connections, durationS: config.durationS, script, scriptArgs: args }),
  });
  const list: Workload[] = [
    { label: `GET one key, ${c} conns`, run: (t) => wrk(t, c, '/v2/keys/bench/k0', null, []) },
    { label: `GET random of ${config.preloadKeys} keys, ${c} conns`, run: (t) => wrk(t, c, '/', scripts.getRandom, [keys]) },
    { label: `GET random, quorum=true, ${c} conns`, run: (t) => wrk(t, c, '/', scripts.getRandom, [keys, '?quorum=true']) },
  ];
  for (const conns of config.putConnections) {
    list.push({ label: `PUT random key, ${conns} conn${conns === 1 ? '' : 's'}`, run: (t) => wrk(t, conns, '/', scripts.putRandom, [keys]) });
  }
  for (const n of config.watcherCounts) {
    list.push({
      label: `1 write -> ${n} long-poll watchers`,
      run: async (t) => ({ kind: 'latency', ms: await measureWatchFanout(t.clientUrl, n, `/bench/watch${n}`) }),
    });
  }
  return list;
}

/** PUTs /bench/k0 .. k(n-1) with `parallel` requests in flight. */
export async function preload(clientUrl: string, n: number, parallel = 64): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      const res = await fetch(`${clientUrl}/v2/keys/bench/k${i}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `value=${'v'.repeat(64)}`,
      });
      await res.arrayBuffer();
      if (res.status >= 300) throw new Error(`preload PUT /bench/k${i} answered ${res.status}`);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

/** results[workload][target] = one measurement per round. */
export type Results = Map<string, Map<TargetName, Measurement[]>>;

export async function runRounds<T extends NamedTarget>(config: BenchConfig, list: readonly Workload<T>[], targets: readonly T[], log: (line: string) => void): Promise<Results> {
  const results: Results = new Map(list.map((w) => [w.label, new Map<TargetName, Measurement[]>()]));
  for (let round = 0; round < config.runs; round++) {
    const order = round % 2 === 0 ? targets : [...targets].reverse();
    for (const workload of list) {
      for (const target of order) {
        const m = await workload.run(target);
        const row = results.get(workload.label);
        if (row === undefined) throw new Error(`unknown workload ${workload.label}`);
        row.set(target.name, [...(row.get(target.name) ?? []), m]);
        log(`  round ${round + 1}/${config.runs} ${workload.label} [${target.label}]: ${describe(m)}`);
      }
    }
  }
  return results;
}

export function describe(m: Measurement): string {
  if (m.kind === 'latency') return `${m.ms.toFixed(1)} ms`;
  const r = m.result;
  const redirects = r.redirectsFollowed === undefined ? '' : `, ${r.redirectsFollowed} 307s followed`;
  return `${r.requestsPerSec.toFixed(0)} req/s p50 ${r.p50Ms.toFixed(2)} ms p99 ${r.p99Ms.toFixed(2)} ms${redirects}${r.errors > 0 ? ` ERRORS ${r.errors}` : ''}`;
}

/**
 * For rows measured with the 307-following client: redirects followed per request on each
 * target over all rounds, so a reader sees which server made its clients pay the extra hop.
 */
export function redirectSummary(results: Results, targets: readonly NamedTarget[]): string[] {
  const lines: string[] = [];
  for (const [label, byTarget] of results) {
    const cells: string[] = [];
    for (const t of targets) {
      const runs = (byTarget.get(t.name) ?? []).flatMap((m) => (m.kind === 'throughput' && m.result.redirectsFollowed !== undefined ? [m.result] : []));
      const requests = runs.reduce((sum, r) => sum + r.requests, 0);
      if (runs.length > 0 && requests > 0) cells.push(`${t.label} ${(runs.reduce((sum, r) => sum + (r.redirectsFollowed ?? 0), 0) / requests).toFixed(2)}`);
    }
    if (cells.length > 0) lines.push(`  ${label}: ${cells.join(', ')}`);
  }
  return lines.length === 0 ? [] : ['307s followed per request:', ...lines];
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}
