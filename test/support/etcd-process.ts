/**
 * Starts our `bin/etcd` as a real process on free loopback ports (test/support/ports.ts) and
 * waits until it serves the client port. Every process is killed by its pid: stop() sends
 * SIGTERM (then SIGKILL after a grace period), kill9() sends SIGKILL; anything still running
 * when the test process exits is killed too. Needs a build (`npm run build`): bin/etcd runs dist/.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePorts } from './ports.js';
import { ProcessRun } from './process-run.js';

export interface StartEtcdOptions {
  readonly name?: string;
  /** Defaults to a fresh temp dir (removed by remove()). */
  readonly dataDir?: string;
  /** Extra flags, after the generated ones (a repeated flag's last value wins). */
  readonly args?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** How long to wait for the client port to answer (default 15 s). */
  readonly startTimeoutMs?: number;
  /** Fixed ports (a cluster's members must know each other's before they start); default: free ones. */
  readonly clientPort?: number;
  readonly peerPort?: number;
  /**
   * 'serving' (default): resolve once GET /v2/keys/ answers 200 (redirects followed, so a
   * standby counts). 'spawned': resolve right after the spawn, for a process expected to exit.
   */
  readonly waitFor?: 'serving' | 'spawned';
}

export interface EtcdProcess {
  readonly name: string;
  readonly clientUrl: string;
  readonly peerUrl: string;
  readonly dataDir: string;
  /** Pid of the current run (changes on restart). */
  readonly pid: number;
  /** Everything the current run wrote to stdout and stderr so far. */
  output(): string;
  /** SIGTERM, wait for exit (SIGKILL after 5 s); resolves with the exit code (null if killed). */
  stop(): Promise<number | null>;
  kill9(): Promise<void>;
  /** Starts again on the same ports and data dir (after stop() or kill9()). */
  restart(): Promise<void>;
  /** Resolves when the current run exits on its own, with its code. */
  exited(): Promise<number | null>;
  /** True between a start and the exit of that run. */
  isRunning(): boolean;
  /** Stops (if running) and deletes the data dir if startEtcd created it. */
  remove(): Promise<void>;
}

export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('etcd-process: cannot find the repository root');
    dir = parent;
  }
  return dir;
}

export function etcdBinPath(): string {
  return join(repoRoot(), 'bin', 'etcd');
}

export async function startEtcd(options: StartEtcdOptions = {}): Promise<EtcdProcess> {
  const clientPort = options.clientPort ?? (await freePorts(1))[0];
  const peerPort = options.peerPort ?? (await freePorts(1))[0];
  if (clientPort === undefined || peerPort === undefined) throw new Error('etcd-process: no free port');
  const name = options.name ?? 'node1';
  const ownsDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'etcd-ts-'));
  const args = [
    '-name', name,
    '-data-dir', dataDir,
    '-addr', `127.0.0.1:${clientPort}`,
    '-bind-addr', `127.0.0.1:${clientPort}`,
    '-peer-addr', `127.0.0.1:${peerPort}`,
    '-peer-bind-addr', `127.0.0.1:${peerPort}`,
    ...(options.args ?? []),
  ];
  const run = new ProcessRun({
    what: 'etcd',
    binPath: etcdBinPath(),
    args,
    env: options.env ?? {},
    readyUrl: `http://127.0.0.1:${clientPort}/v2/keys/`,
    readyProbeTimeoutMs: 1000,
    startTimeoutMs: options.startTimeoutMs ?? 15_000,
  });
  try {
    await run.start(options.waitFor === 'spawned' ? 'spawned' : 'ready');
  } catch (error) {
    if (ownsDataDir) rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  return {
    name,
    clientUrl: `http://127.0.0.1:${clientPort}`,
    peerUrl: `http://127.0.0.1:${peerPort}`,
    dataDir,
    get pid() {
      return run.pid;
    },
    output: () => run.output,
    stop: () => run.stop(),
    kill9: () => run.kill9(),
    restart: () => run.start(),
    exited: () => run.exited,
    isRunning: () => run.pid !== -1,
    remove: async () => {
      await run.stop();
      if (ownsDataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
