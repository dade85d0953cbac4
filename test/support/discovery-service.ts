/**
 * Starts `bin/etcd-discovery` as a real process on a free loopback port (test/support/ports.ts)
 * and waits until its `/health` answers 200 (a token created and deleted in its registry).
 * Every process is killed by its pid: stop() sends SIGTERM (SIGKILL after 5 s), kill9() sends
 * SIGKILL; anything still running when the test process exits is killed too.
 * Needs a build (`npm run build`): bin/etcd-discovery runs dist/.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './etcd-process.js';
import { freePort } from './ports.js';
import { ProcessRun } from './process-run.js';

export interface StartDiscoveryOptions {
  /** The embedded registry's data dir; default a fresh temp dir (deleted by remove()). */
  readonly dataDir?: string;
  /** Backing etcd client URLs (`-etcd`); default none: the embedded registry. */
  readonly etcd?: readonly string[];
  readonly baseUrl?: string;
  /** Extra flags after the generated ones. */
  readonly args?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** Default 15 s. */
  readonly startTimeoutMs?: number;
  /** A fixed port (e.g. to restart on the same one); default a free one. */
  readonly port?: number;
}

export interface DiscoveryService {
  /** `http://127.0.0.1:<port>`: where it listens (what /new answers unless baseUrl was given). */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** Pid of the current run (-1 when not running). */
  readonly pid: number;
  /** Everything the current run wrote to stdout and stderr so far. */
  output(): string;
  /** SIGTERM, wait for exit (SIGKILL after 5 s); resolves with the exit code (null if killed). */
  stop(): Promise<number | null>;
  kill9(): Promise<void>;
  /** Starts again on the same port, flags and data dir (after stop() or kill9()). */
  restart(): Promise<void>;
  /** Stops (if running) and deletes the data dir if it was created here. */
  remove(): Promise<void>;
}

export function discoveryBinPath(): string {
  return join(repoRoot(), 'bin', 'etcd-discovery');
}

export async function startDiscoveryService(options: StartDiscoveryOptions = {}): Promise<DiscoveryService> {
  const port = options.port ?? (await freePort());
  const ownsDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'etcd-discovery-'));
  const args = [
    '-addr', `127.0.0.1:${port}`,
    '-data-dir', dataDir,
    ...(options.baseUrl !== undefined ? ['-base-url', options.baseUrl] : []),
    ...(options.etcd !== undefined && options.etcd.length > 0 ? ['-etcd', options.etcd.join(',')] : []),
    ...(options.args ?? []),
  ];
  const url = `http://127.0.0.1:${port}`;
  const run = new ProcessRun({
    what: 'etcd-discovery',
    binPath: discoveryBinPath(),
    args,
    env: options.env ?? {},
    readyUrl: `${url}/health`,
    readyProbeTimeoutMs: 2000,
    startTimeoutMs: options.startTimeoutMs ?? 15_000,
  });
  try {
    await run.start();
  } catch (error) {
    if (ownsDataDir) rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  return {
    url,
    port,
    dataDir,
    get pid() {
      return run.pid;
    },
    output: () => run.output,
    stop: () => run.stop(),
    kill9: () => run.kill9(),
    restart: () => run.start(),
    remove: async () => {
      await run.stop();
      if (ownsDataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
