import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from './ports.js';

/**
 * A real etcd 3.4 (Debian's etcd-server) started with the v2 API on loopback ports below
 * 32768, as the oracle for v2 semantics. Stop it with stop(): it is killed by pid and its
 * data dir removed.
 */
export interface RealEtcd {
  readonly clientUrl: string;
  readonly peerUrl: string;
  readonly pid: number;
  stop(): Promise<void>;
}

export async function startRealEtcd(extraArgs: string[] = []): Promise<RealEtcd> {
  const [clientPort, peerPort] = await freePorts(2);
  const dataDir = mkdtempSync(join(tmpdir(), 'real-etcd-'));
  const clientUrl = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const child: ChildProcess = spawn(
    'etcd',
    [
      '--enable-v2=true',
      '--name', 'oracle',
      '--data-dir', dataDir,
      '--listen-client-urls', clientUrl,
      '--advertise-client-urls', clientUrl,
      '--listen-peer-urls', peerUrl,
      '--initial-advertise-peer-urls', peerUrl,
      '--initial-cluster', `oracle=${peerUrl}`,
      '--log-level', 'error',
      ...extraArgs,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('etcd did not start (is etcd-server installed?)');
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      process.kill(pid, 'SIGKILL');
      await exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`etcd exited early: ${stderr}`);
    try {
      const res = await fetch(`${clientUrl}/health`);
      if (res.ok) return { clientUrl, peerUrl, pid, stop };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  await stop();
  throw new Error(`etcd did not become healthy: ${stderr}`);
}
