/**
 * `bin/etcd` as a user runs it: a real process on free loopback ports, data on disk.
 * First user key at index 3, restart keeps keys/indexes/TTLs/history, snapshots + compaction
 * across restart, TTL expiry through SYNC, the peer port, SIGTERM, and refusing a corrupt WAL.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { etcdBinPath, startEtcd, type EtcdProcess } from '../support/etcd-process.js';
import { freePorts } from '../support/ports.js';

interface Reply {
  readonly status: number;
  readonly body: string;
  readonly json: Record<string, unknown>;
  readonly headers: Headers;
}

async function call(etcd: EtcdProcess, method: string, path: string, form?: string): Promise<Reply> {
  const res = await fetch(`${etcd.clientUrl}${path}`, {
    method,
    ...(form !== undefined ? { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form } : {}),
  });
  const body = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(body) as Record<string, unknown>;
  } catch {
    // not JSON (text endpoints)
  }
  return { status: res.status, body, json, headers: res.headers };
}

async function withEtcd(args: readonly string[], body: (etcd: EtcdProcess) => Promise<void>): Promise<void> {
  const etcd = await startEtcd({ args });
  try {
    await body(etcd);
  } finally {
    await etcd.remove();
  }
}

test('a fresh member: registration takes indexes 1 and 2, the first user key gets 3', async () => {
  await withEtcd([], async (etcd) => {
    const put = await call(etcd, 'PUT', '/v2/keys/message', 'value=Hello');
    assert.equal(put.status, 201);
    assert.equal(put.body, '{"action":"set","node":{"key":"/message","value":"Hello","modifiedIndex":3,"createdIndex":3}}\n');
    assert.equal(put.headers.get('x-etcd-index'), '3');
    const machine = await call(etcd, 'GET', '/v2/keys/_etcd/machines/node1');
    const port = new URL(etcd.clientUrl).port;
    const peerPort = new URL(etcd.peerUrl).port;
    assert.deepEqual(machine.json['node'], {
      key: '/_etcd/machines/node1',
      value: `etcd=http%3A%2F%2F127.0.0.1%3A${port}&raft=http%3A%2F%2F127.0.0.1%3A${peerPort}`,
      modifiedIndex: 1,
      createdIndex: 1,
    });
    const config = await call(etcd, 'GET', '/v2/keys/_etcd/config');
    assert.deepEqual(config.json['node'], { key: '/_etcd/config', value: '{"activeSize":9,"removeDelay":1800,"syncInterval":5}', modifiedIndex: 2, createdIndex: 2 });
    const root = await call(etcd, 'GET', '/v2/keys/');
    assert.equal(root.body, '{"action":"get","node":{"key":"/","dir":true,"nodes":[{"key":"/message","value":"Hello","modifiedIndex":3,"createdIndex":3}]}}\n');
    const self = await call(etcd, 'GET', '/v2/stats/self');
    assert.equal(self.json['name'], 'node1');
    assert.equal(self.json['state'], 'leader');
    assert.match(String(self.json['id']), /^[0-9a-f]{16}$/);
    assert.equal((self.json['leaderInfo'] as Record<string, unknown>)['leader'], self.json['id']);
    const leader = await call(etcd, 'GET', '/v2/stats/leader');
    assert.equal(leader.body, `{"leader":"${String(self.json['id'])}","followers":{}}\n`);
  });
});

test('the peer port answers /name, /version and /v2/admin/config', async () => {
  await withEtcd(['-cluster-active-size', '5'], async (etcd) => {
    const name = await fetch(`${etcd.peerUrl}/name`);
    assert.equal(await name.text(), 'node1');
    const version = await fetch(`${etcd.peerUrl}/version`);
    assert.equal(await version.text(), '2');
    const config = await fetch(`${etcd.peerUrl}/v2/admin/config`);
    assert.equal(config.headers.get('content-type'), 'application/json');
    assert.equal(await config.text(), '{"activeSize":5,"removeDelay":1800,"syncInterval":5}\n');
    const missing = await fetch(`${etcd.peerUrl}/v2/keys/`);
    assert.equal(missing.status, 404);
  });
});

test('restart keeps keys, indexes, TTLs and the event history', async () => {
  await withEtcd([], async (etcd) => {
    await call(etcd, 'PUT', '/v2/keys/dir/a', 'value=1');
    await call(etcd, 'PUT', '/v2/keys/dir/b', 'value=2');
    const ttl = await call(etcd, 'PUT', '/v2/keys/ttl', 'value=t&ttl=300');
    await call(etcd, 'DELETE', '/v2/keys/dir/a');
    const expiration = (ttl.json['node'] as Record<string, unknown>)['expiration'];
    assert.equal(await etcd.stop(), 0, 'SIGTERM is a clean exit');
    await etcd.restart();
    const dir = await call(etcd, 'GET', '/v2/keys/dir?recursive=true');
    assert.equal(dir.body, '{"action":"get","node":{"key":"/dir","dir":true,"nodes":[{"key":"/dir/b","value":"2","modifiedIndex":4,"createdIndex":4}],"modifiedIndex":3,"createdIndex":3}}\n');
    assert.equal(dir.headers.get('x-etcd-index'), '6');
    const ttlAfter = await call(etcd, 'GET', '/v2/keys/ttl');
    const node = ttlAfter.json['node'] as Record<string, unknown>;
    assert.equal(node['expiration'], expiration);
    assert.ok(typeof node['ttl'] === 'number' && node['ttl'] > 290 && node['ttl'] <= 300, `ttl ${String(node['ttl'])}`);
    const history = await call(etcd, 'GET', '/v2/keys/dir/a?wait=true&waitIndex=3');
    assert.equal(history.body, '{"action":"set","node":{"key":"/dir/a","value":"1","modifiedIndex":3,"createdIndex":3}}\n');
    const deleted = await call(etcd, 'GET', '/v2/keys/dir/a?wait=true&waitIndex=4');
    assert.equal((deleted.json['action']), 'delete');
    assert.equal((await call(etcd, 'PUT', '/v2/keys/next', 'value=x')).headers.get('x-etcd-index'), '7');
  });
});

test('snapshots compact the WAL and a kill -9 restart recovers from snapshot + log', async () => {
  await withEtcd(['-snapshot-count', '30'], async (etcd) => {
    for (let i = 0; i < 120; i++) {
      const put = await call(etcd, 'PUT', `/v2/keys/s/${i % 20}`, `value=v${i}`);
      assert.ok(put.status === 200 || put.status === 201, put.body);
    }
    const snaps = readdirSync(join(etcd.dataDir, 'snap'));
    assert.ok(snaps.length >= 1 && snaps.length <= 2, `snapshot files: ${snaps.join(',')}`);
    await etcd.kill9();
    await etcd.restart();
    const all = await call(etcd, 'GET', '/v2/keys/s?recursive=true&sorted=true');
    const nodes = (all.json['node'] as { nodes: Array<{ key: string; value: string; modifiedIndex: number }> }).nodes;
    assert.equal(nodes.length, 20);
    const last = nodes.find((n) => n.key === '/s/19');
    // A plain set replaces the node, so it is created anew each time (spec §2).
    assert.deepEqual(last, { key: '/s/19', value: 'v119', modifiedIndex: 122, createdIndex: 122 });
    assert.equal(all.headers.get('x-etcd-index'), '122');
  });
});

test('TTL keys expire through SYNC entries: one index per expiry, watchers see it', async () => {
  await withEtcd([], async (etcd) => {
    const put = await call(etcd, 'PUT', '/v2/keys/ephemeral', 'value=x&ttl=1');
    assert.equal(put.status, 201);
    const watch = call(etcd, 'GET', '/v2/keys/ephemeral?wait=true');
    const expired = await watch;
    const prevNode = expired.json['prevNode'] as Record<string, unknown>;
    assert.equal(expired.json['action'], 'expire');
    assert.deepEqual(expired.json['node'], { key: '/ephemeral', modifiedIndex: 4, createdIndex: 3 });
    assert.deepEqual([prevNode['key'], prevNode['value'], prevNode['modifiedIndex']], ['/ephemeral', 'x', 3]);
    assert.equal(prevNode['expiration'], (put.json['node'] as Record<string, unknown>)['expiration']);
    const gone = await call(etcd, 'GET', '/v2/keys/ephemeral');
    assert.equal(gone.status, 404);
    assert.equal(gone.body, '{"errorCode":100,"message":"Key not found","cause":"/ephemeral","index":4}\n');
    const store = await call(etcd, 'GET', '/v2/stats/store');
    assert.equal(store.json['expireCount'], 1);
  });
});

function runEtcdSync(args: string[]): { status: number | null; output: string } {
  const result = spawnSync(process.execPath, [etcdBinPath(), ...args], { encoding: 'utf8', timeout: 15_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

test('-version, -h and a bad flag', () => {
  const version = runEtcdSync(['-version']);
  assert.equal(version.status, 0);
  assert.equal(version.output, 'etcd version 0.4.6\n');
  const help = runEtcdSync(['-h']);
  assert.equal(help.status, 0);
  assert.match(help.output, /-peer-addr/);
  const bad = runEtcdSync(['-no-such-flag']);
  assert.equal(bad.status, 1);
  assert.match(bad.output, /no-such-flag/);
});

test('a corrupt WAL record before the tail: refuses to start, naming file and offset', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'etcd-corrupt-'));
  try {
    const etcd = await startEtcd({ dataDir });
    for (let i = 0; i < 100; i++) await call(etcd, 'PUT', `/v2/keys/k${i}`, `value=${'x'.repeat(100)}`);
    await etcd.stop();
    const walDir = join(dataDir, 'wal');
    const segments = readdirSync(walDir).map((f) => join(walDir, f));
    const largest = segments.reduce((a, b) => (statSync(a).size >= statSync(b).size ? a : b));
    const bytes = readFileSync(largest);
    const offset = Math.floor(bytes.length / 3);
    bytes[offset] = (bytes[offset] ?? 0) ^ 0xff;
    writeFileSync(largest, bytes);
    const [clientPort, peerPort] = await freePorts(2);
    const run = runEtcdSync(['-name', 'node1', '-data-dir', dataDir, '-addr', `127.0.0.1:${clientPort}`, '-peer-addr', `127.0.0.1:${peerPort}`]);
    assert.equal(run.status, 1, run.output);
    assert.match(run.output, new RegExp(`refusing to start: wal corrupt: ${largest.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} at offset \\d+`));
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('-force starts over: the old keys are gone and registration takes indexes 1 and 2 again', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'etcd-force-'));
  try {
    const first = await startEtcd({ dataDir });
    await call(first, 'PUT', '/v2/keys/old', 'value=1');
    assert.equal(await first.stop(), 0);
    const forced = await startEtcd({ dataDir, args: ['-force'] });
    try {
      assert.equal((await call(forced, 'GET', '/v2/keys/old')).status, 404);
      const put = await call(forced, 'PUT', '/v2/keys/new', 'value=2');
      assert.equal(put.headers.get('x-etcd-index'), '3');
      assert.match(forced.output(), /-force: removed the log, snapshots and identity/);
    } finally {
      await forced.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('an unusable data dir: exit 1 with the reason, nothing served', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'etcd-baddir-'));
  try {
    const file = join(dir, 'file');
    writeFileSync(file, 'not a directory');
    const [clientPort, peerPort] = await freePorts(2);
    const run = runEtcdSync(['-name', 'node1', '-data-dir', join(file, 'sub'), '-addr', `127.0.0.1:${clientPort}`, '-peer-addr', `127.0.0.1:${peerPort}`]);
    assert.equal(run.status, 1, run.output);
    assert.equal(run.output, `etcd: cannot use the data dir ${join(file, 'sub')}: ENOTDIR (mkdir ${join(file, 'sub')})\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('one process per data dir: a second etcd on it exits 1 naming the owner; a kill -9 leaves no lock behind that matters', async () => {
  const first = await startEtcd();
  try {
    const [clientPort, peerPort] = await freePorts(2);
    const run = runEtcdSync(['-name', 'node1', '-data-dir', first.dataDir, '-addr', `127.0.0.1:${clientPort}`, '-peer-addr', `127.0.0.1:${peerPort}`]);
    assert.equal(run.status, 1, run.output);
    assert.equal(run.output, `etcd: the data dir ${first.dataDir} is in use by another etcd (pid ${first.pid})\n`);
    await first.kill9();
    await first.restart(); // the stale lock of the killed process is taken over
    const res = await fetch(`${first.clientUrl}/v2/keys/_etcd/machines/node1`);
    assert.equal(res.status, 200);
  } finally {
    await first.remove();
  }
});
