/**
 * Standby mode: the client port's 307/402, the peer port's 404, standby_info on disk, and the
 * polling loop against in-process peers (full cluster → wait; a slot frees → join; stop leaves no
 * timer; a taken peer address ends it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../test/support/ports.js';
import { fillerMachines, machine, startFakePeer, type CannedAnswer, type FakePeer } from './fake-peer.test-support.js';
import { encodeJoinIndex, JoinRefusedError, type JoinSelf } from './join.js';
import type { RequestHandler } from './listeners.js';
import {
  readStandbyInfo,
  STANDBY_INFO_FILE,
  StandbyInfoError,
  StandbyLoop,
  StandbyStoppedError,
  standbyClientHandler,
  standbyPeerHandler,
  writeStandbyInfo,
  type StandbyView,
} from './standby.js';

interface Answer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

async function withServer(handler: RequestHandler, body: (url: string) => Promise<void>): Promise<void> {
  const port = await freePort();
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  try {
    await body(`http://127.0.0.1:${port}`);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function ask(method: string, url: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'standby-test-'));
}

function timeouts(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

test('standby client port: every request, /version included, is a 307 to the leader with the same path and query', async () => {
  const view: StandbyView = { leaderClientUrl: 'http://127.0.0.1:4001/' };
  await withServer(standbyClientHandler(() => view), async (url) => {
    const get = await ask('GET', `${url}/v2/keys/foo?wait=true&waitIndex=7`);
    assert.equal(get.status, 307);
    assert.equal(get.headers.location, 'http://127.0.0.1:4001/v2/keys/foo?wait=true&waitIndex=7');
    const put = await ask('PUT', `${url}/v2/keys/a%2Fb?value=1`);
    assert.deepEqual([put.status, put.headers.location, put.body], [307, 'http://127.0.0.1:4001/v2/keys/a%2Fb?value=1', '']);
    const version = await ask('GET', `${url}/version`);
    assert.deepEqual([version.status, version.headers.location], [307, 'http://127.0.0.1:4001/version']);
  });
});

test('standby client port: no leader known → error 402, HTTP 400, index 0', async () => {
  await withServer(standbyClientHandler(() => ({ leaderClientUrl: null })), async (url) => {
    const answer = await ask('GET', `${url}/v2/keys/foo`);
    assert.equal(answer.status, 400);
    assert.equal(answer.headers['content-type'], 'application/json');
    assert.equal(answer.body, '{"errorCode":402,"message":"Standby Internal Error","cause":"no leader is known to this standby","index":0}\n');
  });
});

test('standby peer port: 404 for everything', async () => {
  await withServer(standbyPeerHandler(), async (url) => {
    for (const [method, path] of [['GET', '/version'], ['PUT', '/join'], ['GET', '/v2/admin/machines'], ['POST', '/raft']] as const) {
      const answer = await ask(method, `${url}${path}`);
      assert.deepEqual([answer.status, answer.body], [404, '404 page not found\n'], `${method} ${path}`);
    }
  });
});

test('standby_info: absent → null; written atomically in the 0.4.6 shape; read back; garbage refused', async () => {
  const dir = tempDir();
  try {
    assert.equal(readStandbyInfo(dir), null);
    const cluster = [machine('node1', 'leader', 'http://127.0.0.1:4001', 'http://127.0.0.1:7001')];
    await writeStandbyInfo(dir, { running: true, cluster, syncInterval: 5 });
    assert.equal(
      readFileSync(join(dir, STANDBY_INFO_FILE), 'utf8'),
      '{"Running":true,"Cluster":[{"name":"node1","state":"leader","clientURL":"http://127.0.0.1:4001","peerURL":"http://127.0.0.1:7001"}],"SyncInterval":5}\n',
    );
    assert.deepEqual(readStandbyInfo(dir), { running: true, cluster, syncInterval: 5 });
    writeFileSync(join(dir, STANDBY_INFO_FILE), '{"Running":"yes"}');
    assert.throws(() => readStandbyInfo(dir), StandbyInfoError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const self: JoinSelf = { name: 'node4', peerUrl: 'http://127.0.0.1:7004', clientUrl: 'http://127.0.0.1:4004' };

function leaderAccepts(commitIndex: number): (body: string) => CannedAnswer {
  return () => ({ status: 200, headers: { 'X-Etcd-Member-Id': '00000000000000a4', 'X-Etcd-Cluster-Id': '1c1c1c1c1c1c1c1c' }, body: encodeJoinIndex(commitIndex) });
}

async function withPeerAndDir(body: (peer: FakePeer, dir: string, logs: string[]) => Promise<void>): Promise<void> {
  const peer = await startFakePeer();
  const dir = tempDir();
  const logs: string[] = [];
  try {
    await body(peer, dir, logs);
  } finally {
    await peer.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('standby loop: waits while the cluster is full (redirecting to its leader), joins when a slot frees', async () => {
  await withPeerAndDir(async (leader, dir, logs) => {
    const leaderMachine = machine('node1', 'leader', 'http://127.0.0.1:4001', leader.url);
    leader.machines = [leaderMachine, ...fillerMachines(2)];
    leader.config = { activeSize: 3, removeDelay: 1800, syncInterval: 1 };
    leader.join = leaderAccepts(77);
    const loop = new StandbyLoop({ dataDir: dir, peers: [leader.url.replace('http://', '')], self, syncIntervalSec: 5, log: (l) => logs.push(l) });
    assert.deepEqual(loop.view(), { leaderClientUrl: null });
    const joined = loop.start();
    await waitFor('the first poll', () => loop.view().leaderClientUrl !== null);
    assert.deepEqual(loop.view(), { leaderClientUrl: 'http://127.0.0.1:4001' });
    await waitFor('standby_info', () => readStandbyInfo(dir)?.cluster.length === 3);
    assert.equal(
      readFileSync(join(dir, STANDBY_INFO_FILE), 'utf8'),
      `{"Running":true,"Cluster":${JSON.stringify(leader.machines)},"SyncInterval":1}\n`,
    );
    assert.deepEqual(loop.peers(), [leader.url, ...fillerMachines(2).map((m) => m.peerURL)]);
    assert.equal(leader.requests.filter((r) => r.method === 'PUT').length, 0, 'no join while full');

    leader.machines = [leaderMachine, ...fillerMachines(1)];
    const started = performance.now();
    const outcome = await joined;
    const waited = performance.now() - started;
    assert.deepEqual(outcome, { kind: 'joined', memberId: '00000000000000a4', clusterId: '1c1c1c1c1c1c1c1c', commitIndex: 77, leaderPeerUrl: leader.url });
    assert.ok(waited < 3000, `joined ${waited} ms after the slot freed (syncInterval 1 s)`);
    assert.deepEqual(readStandbyInfo(dir), { running: false, cluster: leader.machines, syncInterval: 1 });
    const joins = leader.requests.filter((r) => r.method === 'PUT');
    assert.deepEqual(joins.map((r) => r.url), ['/join']);
    loop.stop();
  });
});

test('standby loop: stop() rejects start() and leaves no timer behind', async () => {
  const dir = tempDir();
  try {
    const before = timeouts();
    const deadPeer = `http://127.0.0.1:${await freePort()}`;
    const loop = new StandbyLoop({ dataDir: dir, peers: [deadPeer], self, syncIntervalSec: 1, log: () => {} });
    const started = loop.start();
    await waitFor('the first poll to fail and schedule the next', () => timeouts() > before);
    loop.stop();
    await assert.rejects(started, StandbyStoppedError);
    assert.equal(timeouts(), before);
    assert.deepEqual(readStandbyInfo(dir), { running: true, cluster: [], syncInterval: 1 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('standby loop: a leader refusing our peer address (109) ends start() with JoinRefusedError', async () => {
  await withPeerAndDir(async (leader, dir, logs) => {
    leader.machines = [machine('node1', 'leader', 'http://127.0.0.1:4001', leader.url)];
    leader.join = () => ({ status: 400, body: '{"errorCode":109,"message":"Peer address has existed","index":3}\n' });
    const loop = new StandbyLoop({ dataDir: dir, peers: [leader.url], self, syncIntervalSec: 1, log: (l) => logs.push(l) });
    await assert.rejects(loop.start(), (error: unknown) => error instanceof JoinRefusedError && error.message === 'peer address http://127.0.0.1:7004 is already used by another member');
    assert.ok(logs.includes('standby: peer address http://127.0.0.1:7004 is already used by another member'), logs.join('\n'));
    loop.stop();
  });
});
