/**
 * Runs the real `bin/etcdctl` as a child process (needs the build: bin/etcdctl imports dist/)
 * and provides the targets the suites run against: a fresh member of our server or a real
 * etcd 3.4. Every process started here is killed by pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { join } from 'node:path';
import { startEtcd, repoRoot } from '../support/etcd-process.js';
import { freePort } from '../support/ports.js';
import { startRealEtcd } from '../support/real-etcd.js';

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly env?: Readonly<Record<string, string>>;
  readonly stdin?: string;
  readonly timeoutMs?: number;
}

export function etcdctlPath(): string {
  return join(repoRoot(), 'bin', 'etcdctl');
}

/** Environment without any ETCDCTL_* the developer's shell may have set. */
function cleanEnv(extra: Readonly<Record<string, string>>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('ETCDCTL_') && !name.startsWith('ETCD_')) env[name] = value;
  return { ...env, ...extra };
}

/** A started etcdctl: its output so far, and a way to wait for text, signal and finish it. */
export class CliProcess {
  stdout = '';
  stderr = '';
  readonly done: Promise<CliResult>;
  private readonly child: ChildProcess;

  constructor(args: readonly string[], options: RunOptions = {}) {
    this.child = spawn(process.execPath, [etcdctlPath(), ...args], { env: cleanEnv(options.env ?? {}), stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout?.on('data', (chunk: Buffer) => (this.stdout += chunk.toString()));
    this.child.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.child.stdin?.end(options.stdin ?? '');
    const timeoutMs = options.timeoutMs ?? 60_000;
    const timer = setTimeout(() => this.kill('SIGKILL'), timeoutMs);
    this.done = new Promise((resolve) => {
      this.child.once('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, stdout: this.stdout, stderr: this.stderr });
      });
    });
  }

  kill(signal: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (pid !== undefined && this.child.exitCode === null && this.child.signalCode === null) process.kill(pid, signal);
  }

  /** Resolves once stdout satisfies `ready` (polling), rejects after `timeoutMs`. */
  async waitForStdout(ready: (stdout: string) => boolean, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!ready(this.stdout)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for etcdctl output; stdout=${JSON.stringify(this.stdout)} stderr=${JSON.stringify(this.stderr)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

export function etcdctl(args: readonly string[], options: RunOptions = {}): Promise<CliResult> {
  return new CliProcess(args, options).done;
}

/** What a suite runs against. `ours` serves the 0.4-only endpoints (/_etcd, 0.4 headers). */
export interface Target {
  readonly kind: 'ours' | 'real-3.4';
  readonly clientUrl: string;
  stop(): Promise<void>;
}

export async function startTarget(kind: Target['kind']): Promise<Target> {
  if (kind === 'ours') {
    const member = await startEtcd({ startTimeoutMs: 30_000 });
    return { kind, clientUrl: member.clientUrl, stop: () => member.remove() };
  }
  const real = await startRealEtcd();
  return { kind, clientUrl: real.clientUrl, stop: () => real.stop() };
}

/** A watch is registered once the server has seen it: give the request time to arrive. */
export function settle(ms = 300): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * A plain HTTP write (setup, or a change for a watch to see) made without etcdctl, so the
 * suites spend their process spawns on the commands under test. Resolves with the event's index.
 */
export async function httpWrite(clientUrl: string, method: 'PUT' | 'DELETE', key: string, params: Record<string, string> = {}): Promise<number> {
  const form = new URLSearchParams(params).toString();
  const res = await fetch(`${clientUrl}/v2/keys${key}${method === 'DELETE' && form !== '' ? `?${form}` : ''}`, {
    method,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    ...(method === 'PUT' ? { body: form } : {}),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${key} failed: ${res.status} ${text}`);
  return (JSON.parse(text) as { node: { modifiedIndex: number } }).node.modifiedIndex;
}

export async function httpPut(clientUrl: string, key: string, value: string): Promise<number> {
  return httpWrite(clientUrl, 'PUT', key, { value });
}

/** The current etcd index (X-Etcd-Index of a GET of the root). */
export async function currentIndex(clientUrl: string): Promise<number> {
  const res = await fetch(`${clientUrl}/v2/keys/`);
  await res.text();
  return Number(res.headers.get('x-etcd-index'));
}

/**
 * Waits until an etcdctl started with --debug has sent its watch request (the Curl-Example
 * line with wait=true) and the server counts a watcher: after that, a write is seen.
 */
export async function watchRegistered(proc: CliProcess, clientUrl: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!/Curl-Example: curl -X GET \S+wait=true/.test(proc.stderr)) {
    if (Date.now() > deadline) throw new Error(`watch request never sent; stderr=${JSON.stringify(proc.stderr)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  for (;;) {
    const stats = (await (await fetch(`${clientUrl}/v2/stats/store`)).json()) as { watchers?: number };
    if ((stats.watchers ?? 0) > 0 || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  await settle(100);
}

export interface Proxy {
  readonly url: string;
  /** Closes the listener and every connection through it, as if the member died. */
  cut(): Promise<void>;
}

/** A TCP proxy to `target` whose connections can all be cut at once (a member dying). */
export async function startProxy(target: string): Promise<Proxy> {
  const targetUrl = new URL(target);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(targetUrl.port), targetUrl.hostname);
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    cut: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

