/**
 * `bin/etcd` as a user runs it: -h, -version, a bad flag, and a member configured only by the
 * environment, as the tutorial's systemd drop-in does (ETCD_NAME, ETCD_ADDR, ETCD_PEER_ADDR,
 * ETCD_DATA_DIR). Every process is started here and killed here, by pid.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePorts } from '../support/ports.js';

/** The repository root: the nearest parent of this file holding package.json (works from dist/ and src). */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    assert.notEqual(parent, dir, 'package.json not found above the test file');
    dir = parent;
  }
  return dir;
}

const ETCD = join(repoRoot(), 'bin', 'etcd');

/** The child's environment without any ETCD_* variable the test runner may have. */
function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith('ETCD')) env[key] = value;
  }
  return { ...env, ...extra };
}

interface RunResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs bin/etcd to completion (killed after 30 s); several run at once to keep the suite short. */
function runEtcd(args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const options = { env: cleanEnv(env), encoding: 'utf8' as const, timeout: 30_000 };
    const child = execFile(process.execPath, [ETCD, ...args], options, (error, stdout, stderr) => {
      resolve({ status: error === null ? 0 : child.exitCode, stdout, stderr });
    });
  });
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function waitForHttp(url: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    assert.equal(child.exitCode, null, `etcd exited early: ${stderr()}`);
    try {
      const response = await fetch(url);
      await response.arrayBuffer();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  assert.fail(`etcd did not answer ${url} within 30 s: ${stderr()}`);
}

function stopByPid(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return Promise.resolve();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(child.pid, 'SIGKILL');
  return exited;
}

interface StartedMember {
  readonly child: ChildProcess;
  readonly stderr: () => string;
}

function startMember(args: string[], env: Record<string, string>, children: ChildProcess[]): StartedMember {
  const child = spawn(process.execPath, [ETCD, ...args], { env: cleanEnv(env), stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return { child, stderr: () => stderr };
}

/** A first write gets a 201 with the key and value back; the member reports its name and URL. */
async function checkServes(client: string, name: string): Promise<void> {
  const put = await fetch(`${client}/v2/keys/message`, {
    method: 'PUT',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'value=Hello',
  });
  assert.equal(put.status, 201);
  const created = (await put.json()) as { node: { key: string; value: string } };
  assert.deepEqual([created.node.key, created.node.value], ['/message', 'Hello']);
  const machines = await (await fetch(`${client}/v2/machines`)).text();
  assert.equal(machines.trim(), client);
  const self = (await (await fetch(`${client}/v2/stats/self`)).json()) as { name: string };
  assert.equal(self.name, name);
}

describe('bin/etcd', () => {
  describe('command line', { concurrency: true }, () => {
    test('-h prints the usage on stdout and exits 0', async () => {
      const result = await runEtcd(['-h']);
      assert.equal(result.status, 0, result.stderr);
      assert.ok(result.stdout.startsWith('etcd version 0.4.6\n\nUsage:\n  etcd -name <name>\n'), result.stdout.slice(0, 200));
      for (const flag of ['-peer-addr=<host:port>', '-bind-addr=<host[:port]>', '--listen-client-urls=<urls>', '-snapshotCount']) {
        assert.ok(result.stdout.includes(`\n  ${flag}`), `usage lacks ${flag}`);
      }
      assert.equal(result.stderr, '');
    });

    test('-version prints etcd version 0.4.6 and exits 0', async () => {
      const result = await runEtcd(['-version']);
      assert.deepEqual(result, { status: 0, stdout: 'etcd version 0.4.6\n', stderr: '' });
    });

    test('an unknown flag or a bad value: message on stderr, exit 1, nothing started', async () => {
      const [bogus, badEnv] = await Promise.all([runEtcd(['-bogus']), runEtcd([], { ETCD_ADDR: '127.0.0.1' })]);
      assert.equal(bogus.status, 1);
      assert.equal(bogus.stdout, '');
      assert.match(bogus.stderr, /^etcd: flag provided but not defined: -bogus\n/);
      assert.equal(badEnv.status, 1);
      assert.match(badEnv.stderr, /^etcd: invalid value "127\.0\.0\.1" for ETCD_ADDR: address must be host:port \(missing port\)\n/);
    });
  });

  describe('members configured from the environment and from 2.x flags', { concurrency: true }, () => {
    const dataParent = mkdtempSync(join(tmpdir(), 'etcd-flags-'));
    const children: ChildProcess[] = [];
    after(async () => {
      for (const child of children) await stopByPid(child);
      rmSync(dataParent, { recursive: true, force: true });
    });

    test('the systemd drop-in: serves on ETCD_ADDR, peers on ETCD_PEER_ADDR, data in ETCD_DATA_DIR, nowhere else', async () => {
      const [clientPort, peerPort] = await freePorts(2);
      assert.ok(clientPort !== undefined && peerPort !== undefined);
      const dataDir = join(dataParent, 'drop-in');
      const env = {
        ETCD_NAME: 'dropin1',
        ETCD_ADDR: `127.0.0.1:${clientPort}`,
        ETCD_PEER_ADDR: `127.0.0.1:${peerPort}`,
        ETCD_DATA_DIR: dataDir,
      };
      const member = startMember([], env, children);
      const client = `http://127.0.0.1:${clientPort}`;
      await waitForHttp(`${client}/version`, member.child, member.stderr);
      await checkServes(client, 'dropin1');
      assert.equal(await canConnect('127.0.0.1', peerPort), true, 'peer port not listening on ETCD_PEER_ADDR');
      // Bound to 127.0.0.1 only: another loopback address must be refused (0.0.0.0 would accept).
      assert.equal(await canConnect('127.0.0.2', clientPort), false, 'client port listens beyond ETCD_ADDR');
      assert.equal(await canConnect('127.0.0.2', peerPort), false, 'peer port listens beyond ETCD_PEER_ADDR');
      assert.ok(statSync(dataDir).isDirectory(), 'ETCD_DATA_DIR was not created');
      assert.ok(!existsSync(join(process.cwd(), 'dropin1.etcd')), 'data went to <name>.etcd instead of ETCD_DATA_DIR');
      await stopByPid(member.child);
    });

    test('the etcd 3.4 command line (--listen-client-urls ... --enable-v2=true) starts the same member', async () => {
      const [clientPort, peerPort] = await freePorts(2);
      assert.ok(clientPort !== undefined && peerPort !== undefined);
      const client = `http://127.0.0.1:${clientPort}`;
      const peer = `http://127.0.0.1:${peerPort}`;
      const dataDir = join(dataParent, 'v3-style');
      const args = [
        '--enable-v2=true', '--name', 'modern', '--data-dir', dataDir,
        '--listen-client-urls', client, '--advertise-client-urls', client,
        '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
        '--initial-cluster', `modern=${peer}`, '--log-level', 'error',
      ];
      const member = startMember(args, {}, children);
      await waitForHttp(`${client}/version`, member.child, member.stderr);
      await checkServes(client, 'modern');
      assert.ok(statSync(dataDir).isDirectory(), '--data-dir was not created');
      assert.match(member.stderr(), /^flag -log-level is not supported by this server; ignored\n/);
      await stopByPid(member.child);
    });
  });
});
