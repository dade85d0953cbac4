/** The benchmark's one table: both servers side by side and their ratio (> 1 = ours is better). */
import { median, type Measurement, type NamedTarget, type Results } from './suite.js';
import type { TargetName } from './targets.js';

interface Cell {
  readonly text: string;
  /** Throughput (req/s) or latency (ms); null when the target did not run. */
  readonly score: number | null;
  readonly higherIsBetter: boolean;
}

function cell(measurements: readonly Measurement[] | undefined): Cell {
  if (measurements === undefined || measurements.length === 0) return { text: 'n/a', score: null, higherIsBetter: true };
  const first = measurements[0];
  if (first?.kind === 'latency') {
    const ms = median(measurements.map((m) => (m.kind === 'latency' ? m.ms : NaN)));
    return { text: `${ms.toFixed(1)} ms`.padStart(29), score: ms, higherIsBetter: false };
  }
  const results = measurements.flatMap((m) => (m.kind === 'throughput' ? [m.result] : []));
  const rps = median(results.map((r) => r.requestsPerSec));
  const p50 = median(results.map((r) => r.p50Ms));
  const p99 = median(results.map((r) => r.p99Ms));
  const errors = results.reduce((sum, r) => sum + r.errors, 0);
  const text = `${rps.toFixed(0).padStart(9)} ${p50.toFixed(2).padStart(8)} ${p99.toFixed(2).padStart(8)}${errors > 0 ? ' !' : '  '}`;
  return { text, score: rps, higherIsBetter: true };
}

function ratio(ours: Cell, etcd: Cell): string {
  if (ours.score === null || etcd.score === null || ours.score === 0 || etcd.score === 0) return 'n/a';
  const r = ours.higherIsBetter ? ours.score / etcd.score : etcd.score / ours.score;
  return `${r.toFixed(2)}x`;
}

export function renderTable(results: Results, targets: readonly NamedTarget[]): string {
  const label = (name: TargetName): string => targets.find((t) => t.name === name)?.label ?? name;
  const labelWidth = Math.max(...[...results.keys()].map((k) => k.length), 8);
  const head = `${'workload'.padEnd(labelWidth)} | ${label('etcd').padEnd(29)} | ${label('ours').padEnd(29)} | ours vs etcd`;
  const sub = `${''.padEnd(labelWidth)} | ${'req/s   p50 ms   p99 ms'.padStart(27)}   | ${'req/s   p50 ms   p99 ms'.padStart(27)}   |`;
  const lines = [head, sub, '-'.repeat(head.length + 2)];
  for (const [workload, byTarget] of results) {
    const etcd = cell(byTarget.get('etcd'));
    const ours = cell(byTarget.get('ours'));
    lines.push(`${workload.padEnd(labelWidth)} | ${etcd.text.padEnd(29)} | ${ours.text.padEnd(29)} | ${ratio(ours, etcd)}`);
  }
  lines.push('ratio > 1 means ours is better (throughput: ours/etcd; watch time: etcd/ours); "!" = some requests failed');
  return lines.join('\n');
}
