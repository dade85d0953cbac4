/**
 * Runs the real, unmodified v2 clients (etcdctl 3.4 with ETCDCTL_API=2, python-etcd, curl) as
 * child processes against a member's client URL. Every child is killed by its pid when it
 * outlives its deadline, so a hung client fails the test instead of hanging the suite.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';

export interface ClientRun {
  readonly stdout: string;
  readonly stderr: string;
  /** Exit code; null when the process was killed by a signal. */
  readonly code: number | null;
}

export interface RunOptions {
  readonly env?: Readonly<Record<string, string>>;
  readonly input?: string;
  /** Kill the child (by pid, SIGKILL) after this long; default 10 s. */
  readonly timeoutMs?: number;
}

/** A client process still running (watch, exec-watch): read its output so far, then end it. */
export interface RunningClient {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves when the process exits on its own (or after kill()). */
  readonly done: Promise<ClientRun>;
  /** Sends `signal` to the child's pid (default SIGINT, what Ctrl-C sends) and waits for it. */
  kill(signal?: NodeJS.Signals): Promise<ClientRun>;
}

export function startClient(command: string, args: readonly string[], options: RunOptions = {}): RunningClient {
  const child = spawn(command, [...args], {
    env: { ...process.env, ...(options.env ?? {}) },
    stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  if (options.input !== undefined) child.stdin?.end(options.input);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const timer = setTimeout(() => killByPid(child, 'SIGKILL'), timeoutMs);
  const done = new Promise<ClientRun>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, code });
    });
  });
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    done,
    kill: async (signal: NodeJS.Signals = 'SIGINT') => {
      killByPid(child, signal);
      return done;
    },
  };
}

function killByPid(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(child.pid, signal);
  } catch {
    // exited between the check and the kill
  }
}

export function runClient(command: string, args: readonly string[], options: RunOptions = {}): Promise<ClientRun> {
  return startClient(command, args, options).done;
}

/** etcdctl 3.4 speaking the v2 API to one endpoint (it syncs via /v2/members first, as users run it). */
export function etcdctlArgs(clientUrl: string, args: readonly string[]): string[] {
  return ['--endpoints', clientUrl, ...args];
}

export const ETCDCTL_V2_ENV: Readonly<Record<string, string>> = { ETCDCTL_API: '2' };

export function etcdctl(clientUrl: string, args: readonly string[], options: RunOptions = {}): Promise<ClientRun> {
  return runClient('etcdctl', etcdctlArgs(clientUrl, args), { ...options, env: { ...ETCDCTL_V2_ENV, ...(options.env ?? {}) } });
}

/**
 * The Python that has Debian's python3-etcd: `python3` on PATH may be another interpreter
 * (pyenv) without the system's dist-packages, so prefer the system one. (No probe run: importing
 * python-etcd takes seconds on a loaded machine; a missing module fails the script loudly.)
 */
export function pythonWithEtcd(): string {
  return existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
}

/** Polls `check` every 20 ms until it returns true; fails with `what` after `timeoutMs`. */
export async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Live long-poll watchers on a member, from /v2/stats/store (works on etcd 3.4 too). */
export async function watcherCount(clientUrl: string): Promise<number> {
  const res = await fetch(`${clientUrl}/v2/stats/store`);
  const stats = (await res.json()) as { watchers?: unknown };
  if (typeof stats.watchers !== 'number') throw new Error(`no watchers count in /v2/stats/store`);
  return stats.watchers;
}

/** Resolves once at least `atLeast` watchers are registered (a client that started watching is parked). */
export function waitForWatchers(clientUrl: string, atLeast: number): Promise<void> {
  return waitUntil(`${atLeast} watcher(s) on ${clientUrl}`, async () => (await watcherCount(clientUrl)) >= atLeast);
}

/** The etcd index the next write will get: X-Etcd-Index of a root read, plus one. */
export async function nextWriteIndex(clientUrl: string): Promise<number> {
  const res = await fetch(`${clientUrl}/v2/keys/`);
  await res.arrayBuffer();
  const header = res.headers.get('x-etcd-index');
  if (header === null) throw new Error('no X-Etcd-Index on GET /v2/keys/');
  return Number(header) + 1;
}
