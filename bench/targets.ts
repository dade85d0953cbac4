/**
 * The two servers the benchmark compares, started the same way: one member, data on disk in a
 * fresh temp dir, loopback free ports, default settings otherwise.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEtcd } from '../test/support/etcd-process.js';
import { startRealEtcd } from '../test/support/real-etcd.js';

export type TargetName = 'etcd' | 'ours';

export interface BenchTarget {
  readonly name: TargetName;
  readonly label: string;
  readonly clientUrl: string;
  readonly pid: number;
  stop(): Promise<void>;
}

export async function startTarget(name: TargetName, cpuProfileDir: string | null): Promise<BenchTarget> {
  if (name === 'etcd') {
    const etcd = await startRealEtcd();
    return { name, label: 'etcd 3.4.23', clientUrl: etcd.clientUrl, pid: etcd.pid, stop: () => etcd.stop() };
  }
  const env: Record<string, string> = cpuProfileDir === null ? {} : { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${cpuProfileDir}` };
  const member = await startEtcd({ name: 'bench', env });
  return { name, label: 'ours', clientUrl: member.clientUrl, pid: member.pid, stop: () => member.remove() };
}

export function makeTempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
