/**
 * The two servers the benchmark compares, started the same way: one member, data on disk in a
 * fresh temp dir, loopback free ports, default settings otherwise.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { etcdBinPath, startEtcd } from '../test/support/etcd-process.js';
import { freePorts } from '../test/support/ports.js';
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
  if (cpuProfileDir !== null) return startProfiledMember(cpuProfileDir);
  const member = await startEtcd({ name: 'bench' });
  return { name, label: 'ours', clientUrl: member.clientUrl, pid: member.pid, stop: () => member.remove() };
}

/**
 * Our member under `node --cpu-prof` (not allowed in NODE_OPTIONS, so spawned here with the same
 * flags test/support/etcd-process.ts uses). The profile is written when it exits on SIGTERM.
 */
async function startProfiledMember(cpuProfileDir: string): Promise<BenchTarget> {
  const [clientPort, peerPort] = await freePorts(2);
  const dataDir = makeTempDir('bench-member-');
  const clientUrl = `http://127.0.0.1:${clientPort}`;
  const args = [
    '--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`, etcdBinPath(),
    '-name', 'bench', '-data-dir', dataDir,
    '-addr', `127.0.0.1:${clientPort}`, '-bind-addr', `127.0.0.1:${clientPort}`,
    '-peer-addr', `127.0.0.1:${peerPort}`, '-peer-bind-addr', `127.0.0.1:${peerPort}`,
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not spawn bin/etcd');
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      process.kill(pid, 'SIGTERM');
      await exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${clientUrl}/v2/keys/`);
      await res.arrayBuffer();
      if (res.ok) return { name: 'ours', label: 'ours (profiled)', clientUrl, pid, stop };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  await stop();
  throw new Error('profiled member did not serve within 15 s');
}

export function makeTempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
