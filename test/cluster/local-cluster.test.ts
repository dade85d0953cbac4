/**
 * `scripts/local-cluster.mjs` (the README's `npm run cluster`) on non-default free ports, run in
 * a temp dir as its working directory: it prints each member's name, client URL and peer URL,
 * the three members form one cluster (/v2/members), etcdctl 3.4 writes through one and reads
 * through another, the data lives in ./local-cluster/<name>.etcd, and Ctrl-C (SIGINT to the
 * script) stops every member: the script exits 0 and no member pid is left.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../support/etcd-process.js';
import { sleep } from '../support/cluster.js';
import { membersOf } from './http.js';
import { isAlive as alive } from '../support/process-run.js';

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A base port whose next `count` ports are all free, below 32768 and away from 4001/7001. */
async function freeRange(count: number, avoid: readonly number[] = []): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = 10_000 + Math.floor(Math.random() * 22_000);
    const ports = Array.from({ length: count }, (_, i) => base + i);
    if (ports.some((p) => avoid.includes(p))) continue;
    const free = await Promise.all(ports.map(canBind));
    if (free.every(Boolean)) return base;
  }
  throw new Error('no free port range');
}


test('local-cluster: three members coreos-1..3 on the given ports, stopped by Ctrl-C', async () => {
  const clientBase = await freeRange(3);
  const peerBase = await freeRange(3, [clientBase, clientBase + 1, clientBase + 2]);
  const cwd = mkdtempSync(join(tmpdir(), 'local-cluster-'));
  const script = spawn(process.execPath, [join(repoRoot(), 'scripts', 'local-cluster.mjs'), '--base-client-port', String(clientBase), '--base-peer-port', `${peerBase}`], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  script.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  script.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => script.once('exit', (code) => resolve(code)));
  const memberPids: number[] = [];
  try {
    const deadline = Date.now() + 30_000;
    // The banner's last line comes in a write of its own: wait for it, not just for "up".
    while (!stdout.includes('local-cluster: Ctrl-C stops every member\n') && Date.now() < deadline && script.exitCode === null) await sleep(50);
    assert.match(stdout, /local-cluster: up, leader coreos-[123];/, `stdout:\n${stdout}\nstderr:\n${stderr}`);

    const lines = stdout.split('\n');
    for (let i = 0; i < 3; i++) {
      const line = lines[i] ?? '';
      const match = /^coreos-(\d)  client (\S+)  peer (\S+)  pid (\d+)$/.exec(line);
      assert.ok(match !== null, `member line ${i}: ${line}`);
      assert.deepEqual(match.slice(1, 4), [String(i + 1), `http://127.0.0.1:${clientBase + i}`, `http://127.0.0.1:${peerBase + i}`]);
      memberPids.push(Number(match[4]));
    }
    assert.equal(lines[3], `local-cluster: data and logs in ${join(cwd, 'local-cluster')}`);
    const endpoints = [0, 1, 2].map((i) => `http://127.0.0.1:${clientBase + i}`);
    assert.equal(lines[4], `local-cluster: up, leader ${/leader (coreos-\d)/.exec(stdout)?.[1] ?? '?'}; try ETCDCTL_API=2 etcdctl --endpoints ${endpoints.join(',')} member list`);
    assert.equal(lines[5], 'local-cluster: Ctrl-C stops every member');

    const members = await membersOf({ name: 'coreos-1', clientUrl: endpoints[0] ?? '' });
    assert.deepEqual(
      members.map((m) => [m.name, m.peerURLs, m.clientURLs]),
      [0, 1, 2].map((i) => [`coreos-${i + 1}`, [`http://127.0.0.1:${peerBase + i}`], [`http://127.0.0.1:${clientBase + i}`]]),
    );
    for (let i = 1; i <= 3; i++) assert.ok(existsSync(join(cwd, 'local-cluster', `coreos-${i}.etcd`)), `coreos-${i}.etcd`);

    const env = { ...process.env, ETCDCTL_API: '2' };
    const set = spawnSync('etcdctl', ['--endpoints', endpoints[1] ?? '', 'set', '/message', 'Hello'], { env, encoding: 'utf8', timeout: 20_000 });
    assert.deepEqual([set.status, set.stdout, set.stderr], [0, 'Hello\n', '']);
    const get = spawnSync('etcdctl', ['--endpoints', endpoints[2] ?? '', 'get', '--quorum', '/message'], { env, encoding: 'utf8', timeout: 20_000 });
    assert.deepEqual([get.status, get.stdout, get.stderr], [0, 'Hello\n', '']);

    if (script.pid !== undefined) process.kill(script.pid, 'SIGINT');
    assert.equal(await exited, 0, `stdout:\n${stdout}\nstderr:\n${stderr}`);
    assert.match(stdout, new RegExp(`local-cluster: SIGINT, stopping ${memberPids.join(' ')}\nlocal-cluster: stopped\n$`));
    assert.deepEqual(memberPids.filter(alive), [], 'every member has exited');
  } finally {
    if (script.exitCode === null && script.pid !== undefined) process.kill(script.pid, 'SIGKILL');
    // The members run in their own process group: kill any the script left behind, by pid.
    for (const match of stdout.matchAll(/ pid (\d+)$/gm)) if (alive(Number(match[1]))) process.kill(Number(match[1]), 'SIGKILL');
    rmSync(cwd, { recursive: true, force: true });
  }
});
