/**
 * One of our binaries run as a real child process, restartable, killed by its pid: stop() sends
 * SIGTERM (then SIGKILL after 5 s), kill9() sends SIGKILL, and anything still running when the
 * test process exits is killed too. Shared by test/support/etcd-process.ts and
 * test/support/discovery-service.ts; they differ only in the binary and the readiness probe.
 */
import { spawn, type ChildProcess } from 'node:child_process';

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) {
    if (child.pid === undefined) continue;
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

export interface ProcessRunOptions {
  /** Shown in errors, e.g. `etcd`. */
  readonly what: string;
  readonly binPath: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** Ready once a GET of this URL answers 200. */
  readonly readyUrl: string;
  readonly readyProbeTimeoutMs: number;
  readonly startTimeoutMs: number;
}

export class ProcessRun {
  private child: ChildProcess | null = null;
  output = '';
  exited: Promise<number | null> = Promise.resolve(null);

  constructor(private readonly options: ProcessRunOptions) {}

  /** Pid of the current run, -1 when not running. */
  get pid(): number {
    return this.child?.pid ?? -1;
  }

  async start(waitFor: 'ready' | 'spawned' = 'ready'): Promise<void> {
    if (this.child !== null) throw new Error(`${this.options.what}: already running`);
    this.output = '';
    const child = spawn(process.execPath, [this.options.binPath, ...this.options.args], {
      env: { ...process.env, ...this.options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (child.pid === undefined) throw new Error(`${this.options.what}: spawn failed`);
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
    if (waitFor === 'ready') await this.waitReady(child);
  }

  private async waitReady(child: ChildProcess): Promise<void> {
    const { what, readyUrl, readyProbeTimeoutMs, startTimeoutMs } = this.options;
    const deadline = Date.now() + startTimeoutMs;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`${what} exited (${child.exitCode ?? child.signalCode}) before serving:\n${this.output}`);
      }
      try {
        const res = await fetch(readyUrl, { signal: AbortSignal.timeout(readyProbeTimeoutMs) });
        await res.arrayBuffer();
        if (res.status === 200) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    await this.kill9();
    throw new Error(`${what} did not serve within ${startTimeoutMs} ms:\n${this.output}`);
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

/** True while a process with this pid exists (signal 0 probes without touching it). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
