/**
 * Starts our `bin/etcd` as a real process on free loopback ports (test/support/ports.ts) and
 * waits until it serves the client port. Every process is killed by its pid: stop() sends
 * SIGTERM (then SIGKILL after a grace period), kill9() sends SIGKILL; anything still running
 * when the test process exits is killed too. Needs a build (`npm run build`): bin/etcd runs dist/.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePorts } from './ports.js';

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

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) {
    if (child.pid !== undefined) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
});

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
  const run = new EtcdRun(args, options.env ?? {}, `http://127.0.0.1:${clientPort}`, options.startTimeoutMs ?? 15_000);
  try {
    await run.start(options.waitFor ?? 'serving');
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

class EtcdRun {
  private child: ChildProcess | null = null;
  output = '';
  exited: Promise<number | null> = Promise.resolve(null);

  constructor(
    private readonly args: readonly string[],
    private readonly env: Readonly<Record<string, string>>,
    private readonly clientUrl: string,
    private readonly startTimeoutMs: number,
  ) {}

  get pid(): number {
    return this.child?.pid ?? -1;
  }

  async start(waitFor: 'serving' | 'spawned' = 'serving'): Promise<void> {
    if (this.child !== null) throw new Error('etcd-process: already running');
    this.output = '';
    const child = spawn(process.execPath, [etcdBinPath(), ...this.args], {
      env: { ...process.env, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (child.pid === undefined) throw new Error('etcd-process: spawn failed');
    this.child = child;
    live.add(child);
    const collect = (chunk: Buffer): void => {
      this.output += chunk.toString('utf8');
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    this.exited = new Promise((resolve) =>
      child.once('exit', (code) => {
        live.delete(child);
        if (this.child === child) this.child = null;
        resolve(code);
      }),
    );
    if (waitFor === 'serving') await this.waitServing(child);
  }

  private async waitServing(child: ChildProcess): Promise<void> {
    const deadline = Date.now() + this.startTimeoutMs;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`etcd exited (${child.exitCode ?? child.signalCode}) before serving:\n${this.output}`);
      }
      try {
        const res = await fetch(`${this.clientUrl}/v2/keys/`, { signal: AbortSignal.timeout(1000) });
        await res.arrayBuffer();
        if (res.status === 200) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    await this.kill9();
    throw new Error(`etcd did not serve within ${this.startTimeoutMs} ms:\n${this.output}`);
  }

  async stop(): Promise<number | null> {
    const child = this.child;
    if (child === null || child.pid === undefined) return this.exited;
    process.kill(child.pid, 'SIGTERM');
    const timer = setTimeout(() => {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    }, 5_000);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  async kill9(): Promise<void> {
    const child = this.child;
    if (child === null || child.pid === undefined) return;
    process.kill(child.pid, 'SIGKILL');
    await this.exited;
  }
}
