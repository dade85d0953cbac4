/**
 * The joiner's side of the 0.4.6 handshake against in-process peers with canned answers:
 * direct and redirected joins, full clusters (by count and by 103), 109, unreachable, silent and
 * wrong-version peers, retry rounds and the exact fatal message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { freePort } from '../../test/support/ports.js';
import { SeededPrng } from '../common/prng.js';
import { fillerMachines, machine, startFakePeer, type CannedAnswer, type FakePeer } from './fake-peer.test-support.js';
import { createPeerPortHandler } from './peer-port.js';
import { decodeUvarint, encodeJoinIndex, JoinFailedError, JoinRefusedError, joinThroughPeers, type JoinOptions, type JoinSelf } from './join.js';

const self: JoinSelf = { name: 'node4', peerUrl: 'http://127.0.0.1:7004', clientUrl: 'http://127.0.0.1:4004' };
const MEMBER_ID = '00000000000000a4';
const CLUSTER_ID = '1c1c1c1c1c1c1c1c';

function leaderAccepts(commitIndex: number): (body: string) => CannedAnswer {
  return () => ({ status: 200, headers: { 'X-Etcd-Member-Id': MEMBER_ID, 'X-Etcd-Cluster-Id': CLUSTER_ID }, body: encodeJoinIndex(commitIndex) });
}

function redirectTo(target: FakePeer): (body: string) => CannedAnswer {
  return () => ({ status: 307, headers: { Location: `${target.url}/join` } });
}

interface Harness {
  readonly options: JoinOptions;
  readonly logs: string[];
  readonly sleeps: number[];
}

function harness(overrides: Partial<JoinOptions> = {}): Harness {
  const logs: string[] = [];
  const sleeps: number[] = [];
  const options: JoinOptions = {
    maxRetryAttempts: 3,
    retryIntervalMs: 10,
    requestTimeoutMs: 2000,
    joinId: '0123456789abcdef',
    log: (line) => logs.push(line),
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...overrides,
  };
  return { options, logs, sleeps };
}

async function withPeers(count: number, body: (peers: FakePeer[]) => Promise<void>): Promise<void> {
  const peers: FakePeer[] = [];
  try {
    for (let i = 0; i < count; i++) peers.push(await startFakePeer());
    await body(peers);
  } finally {
    await Promise.all(peers.map((p) => p.close()));
  }
}

const JOIN_BODY = '{"minVersion":2,"maxVersion":2,"name":"node4","raftURL":"http://127.0.0.1:7004","etcdURL":"http://127.0.0.1:4004","joinId":"0123456789abcdef"}';

test('join: the leader accepts directly; the handshake is version, machines, config, PUT /join with the 0.4.6 body', async () => {
  await withPeers(1, async ([leader]) => {
    assert.ok(leader);
    leader.machines = [machine('node1', 'leader', 'http://127.0.0.1:4001', leader.url)];
    leader.join = leaderAccepts(300);
    const h = harness();
    const outcome = await joinThroughPeers([leader.url], self, h.options);
    assert.deepEqual(outcome, { kind: 'joined', memberId: MEMBER_ID, clusterId: CLUSTER_ID, commitIndex: 300, leaderPeerUrl: leader.url });
    assert.deepEqual(leader.requests, [
      { method: 'GET', url: '/version', body: '' },
      { method: 'GET', url: '/v2/admin/machines', body: '' },
      { method: 'GET', url: '/v2/admin/config', body: '' },
      { method: 'PUT', url: '/join', body: JOIN_BODY },
    ]);
    assert.deepEqual(h.sleeps, []);
  });
});

test('join: a host:port peer is reached over http; 307s are followed through two followers to the leader', async () => {
  await withPeers(3, async ([first, second, leader]) => {
    assert.ok(first && second && leader);
    first.machines = [machine('node1', 'follower', 'http://127.0.0.1:4001', first.url)];
    first.join = redirectTo(second);
    second.join = redirectTo(leader);
    leader.join = leaderAccepts(7);
    const h = harness();
    const outcome = await joinThroughPeers([first.url.replace('http://', '')], self, h.options);
    assert.deepEqual(outcome, { kind: 'joined', memberId: MEMBER_ID, clusterId: CLUSTER_ID, commitIndex: 7, leaderPeerUrl: leader.url });
    assert.deepEqual(second.requests, [{ method: 'PUT', url: '/join', body: JOIN_BODY }]);
    assert.deepEqual(leader.requests, [{ method: 'PUT', url: '/join', body: JOIN_BODY }]);
  });
});

test('join: a redirect loop is cut after 10 hops; every round fails; the fatal message counts the rounds', async () => {
  await withPeers(1, async ([looping]) => {
    assert.ok(looping);
    looping.join = redirectTo(looping);
    const h = harness({ maxRetryAttempts: 2, retryIntervalMs: 1234 });
    await assert.rejects(joinThroughPeers([looping.url], self, h.options), (error: unknown) => {
      assert.ok(error instanceof JoinFailedError);
      assert.equal(error.message, 'fail joining the cluster via given peers after 2 retries');
      return true;
    });
    const joins = looping.requests.filter((r) => r.method === 'PUT');
    assert.equal(joins.length, 2 * 11, 'the first PUT and 10 redirected ones, in each of the 2 rounds');
    assert.deepEqual(h.sleeps, [1234], 'one pause between two rounds, none after the last');
    assert.ok(h.logs.includes(`join: cannot join through ${looping.url}: PUT ${looping.url}/join: more than 10 redirects`), h.logs.join('\n'));
  });
});

test('join: unreachable and wrong-version peers are skipped with a log line; the next peer takes the join', async () => {
  await withPeers(2, async ([oldVersion, leader]) => {
    assert.ok(oldVersion && leader);
    oldVersion.version = '1';
    leader.join = leaderAccepts(12);
    const deadUrl = `http://127.0.0.1:${await freePort()}`;
    const h = harness();
    const outcome = await joinThroughPeers([deadUrl, oldVersion.url, leader.url], self, h.options);
    assert.equal(outcome.kind, 'joined');
    assert.deepEqual(oldVersion.requests, [{ method: 'GET', url: '/version', body: '' }]);
    assert.match(h.logs[0] ?? '', new RegExp(`^join: cannot join through ${deadUrl}: GET ${deadUrl}/version: connect ECONNREFUSED`));
    assert.equal(h.logs[1], `join: ${oldVersion.url} speaks peer protocol version "1", this member speaks 2; skipping it`);
  });
});

test('join: a silent peer costs one request timeout, then the next peer is asked', async () => {
  await withPeers(2, async ([silent, leader]) => {
    assert.ok(silent && leader);
    silent.silent = true;
    leader.join = leaderAccepts(3);
    const h = harness({ requestTimeoutMs: 150 });
    const started = performance.now();
    const outcome = await joinThroughPeers([silent.url, leader.url], self, h.options);
    const elapsed = performance.now() - started;
    assert.equal(outcome.kind, 'joined');
    assert.ok(elapsed >= 140 && elapsed < 2000, `took ${elapsed} ms`);
    assert.equal(h.logs[0], `join: cannot join through ${silent.url}: GET ${silent.url}/version: no answer within 150 ms`);
  });
});

test('join: a full cluster (machines >= activeSize, our name absent) makes a standby without sending the join', async () => {
  await withPeers(1, async ([peer]) => {
    assert.ok(peer);
    peer.machines = [...fillerMachines(2), machine('node1', 'leader', 'http://127.0.0.1:4001', peer.url)];
    peer.config = { activeSize: 3, removeDelay: 1800, syncInterval: 5 };
    peer.join = leaderAccepts(1);
    const h = harness();
    const outcome = await joinThroughPeers([peer.url], self, h.options);
    assert.deepEqual(outcome, { kind: 'standby', machines: peer.machines, config: { activeSize: 3, removeDelay: 1800, syncInterval: 5 } });
    assert.equal(peer.requests.filter((r) => r.method === 'PUT').length, 0);
  });
});

test('join: a full cluster that already lists our name is asked anyway (not a standby); its 105 stops the join with the way out', async () => {
  await withPeers(2, async ([peer, other]) => {
    assert.ok(peer && other);
    peer.machines = [...fillerMachines(2), machine('node4', 'follower', self.clientUrl, self.peerUrl)];
    peer.config = { activeSize: 3, removeDelay: 1800, syncInterval: 5 };
    peer.join = () => ({
      status: 412,
      body: '{"errorCode":105,"message":"Key already exists","cause":"member node4 (00000000000000a4) is already in the cluster","index":12}\n',
    });
    other.join = leaderAccepts(1);
    await assert.rejects(joinThroughPeers([peer.url, other.url], self, harness().options), (error: unknown) => {
      assert.ok(error instanceof JoinRefusedError);
      assert.equal(error.errorCode, 105);
      assert.equal(
        error.message,
        `member node4 is already in the cluster as 00000000000000a4 and this data dir is empty: remove it first ` +
          `(DELETE ${peer.url}/v2/admin/machines/node4, or etcdctl member remove 00000000000000a4) or start it with a new name`,
      );
      return true;
    });
    assert.equal(peer.requests.filter((r) => r.method === 'PUT').length, 1);
    assert.deepEqual(other.requests, []);
  });
});

test('join: error 103 from the leader (whatever the status) makes a standby with the machines and config seen', async () => {
  await withPeers(2, async ([follower, leader]) => {
    assert.ok(follower && leader);
    follower.machines = fillerMachines(2);
    follower.config = { activeSize: 3, removeDelay: 60, syncInterval: 2 };
    follower.join = redirectTo(leader);
    leader.join = () => ({ status: 400, body: '{"errorCode":103,"message":"Reached the max number of peers in the cluster","cause":"","index":9}\n' });
    const outcome = await joinThroughPeers([follower.url], self, harness().options);
    assert.deepEqual(outcome, { kind: 'standby', machines: fillerMachines(2), config: { activeSize: 3, removeDelay: 60, syncInterval: 2 } });
  });
});

test('join: error 109 (our peer address is another name\'s) stops at once, without trying the next peer', async () => {
  await withPeers(2, async ([refusing, other]) => {
    assert.ok(refusing && other);
    refusing.join = () => ({ status: 400, body: '{"errorCode":109,"message":"Peer address has existed","index":4}\n' });
    other.join = leaderAccepts(1);
    const h = harness();
    await assert.rejects(joinThroughPeers([refusing.url, other.url], self, h.options), (error: unknown) => {
      assert.ok(error instanceof JoinRefusedError);
      assert.equal(error.errorCode, 109);
      assert.equal(error.message, 'peer address http://127.0.0.1:7004 is already used by another member');
      return true;
    });
    assert.deepEqual(other.requests, []);
  });
});

test('join: error 300 (no leader) and a 200 without ids are failures of that peer only', async () => {
  await withPeers(3, async ([noLeader, noIds, leader]) => {
    assert.ok(noLeader && noIds && leader);
    noLeader.join = () => ({ status: 500, body: '{"errorCode":300,"message":"Raft Internal Error","index":0}\n' });
    noIds.join = () => ({ status: 200, body: encodeJoinIndex(5) });
    leader.join = leaderAccepts(6);
    const h = harness();
    const outcome = await joinThroughPeers([noLeader.url, noIds.url, leader.url], self, h.options);
    assert.equal(outcome.kind === 'joined' ? outcome.commitIndex : -1, 6);
    assert.deepEqual(h.logs.filter((l) => l.startsWith('join: cannot')), [
      `join: cannot join through ${noLeader.url}: PUT ${noLeader.url}/join refused the join (status 500, error 300)`,
      `join: cannot join through ${noIds.url}: PUT ${noIds.url}/join answered 200 without a member id and cluster id of 16 hex digits`,
    ]);
  });
});

test('join: no peer reachable in 3 rounds → the 0.4.6 fatal message, pauses between rounds only', async () => {
  const deadUrls = [`http://127.0.0.1:${await freePort()}`, `127.0.0.1:${await freePort()}`];
  const h = harness({ retryIntervalMs: 50 });
  await assert.rejects(joinThroughPeers(deadUrls, self, h.options), { name: 'JoinFailedError', message: 'fail joining the cluster via given peers after 3 retries' });
  assert.deepEqual(h.sleeps, [50, 50]);
  assert.equal(h.logs.filter((l) => l.startsWith('join: cannot join through')).length, 6);
  assert.deepEqual(h.logs.filter((l) => l.startsWith('join: round')), ['join: round 1 of 3 failed; retrying in 50 ms', 'join: round 2 of 3 failed; retrying in 50 ms']);
});

test('join: the random retry interval lies in 2.5–4.95 s and replays from its seed', async () => {
  const seed = 20240611;
  console.log(`seed ${seed}`);
  const pauses = async (): Promise<number[]> => {
    const h = harness({ retryIntervalMs: null, maxRetryAttempts: 40, prng: new SeededPrng(seed) });
    await assert.rejects(joinThroughPeers([], self, h.options), JoinFailedError);
    return h.sleeps;
  };
  const first = await pauses();
  assert.equal(first.length, 39);
  for (const ms of first) assert.ok(Number.isInteger(ms) && ms >= 2500 && ms <= 4950, `pause ${ms}`);
  assert.deepEqual(await pauses(), first);
});

test('join: the commit index is Go\'s uvarint in an 8-byte buffer', () => {
  assert.deepEqual([...encodeJoinIndex(300)], [0xac, 0x02, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual([...encodeJoinIndex(0)], [0, 0, 0, 0, 0, 0, 0, 0]);
  for (const index of [0, 1, 127, 128, 300, 16384, 2 ** 31, 2 ** 53 - 1]) {
    assert.equal(decodeUvarint(encodeJoinIndex(index)), index);
  }
  assert.equal(decodeUvarint(Buffer.from([0x80, 0x80])), null, 'ends mid-number');
  assert.equal(decodeUvarint(Buffer.alloc(0)), null);
});

test('join: against this project\'s own peer port handler, a full cluster is read and the joiner becomes a standby', async () => {
  const machines = [machine('a', 'leader', 'http://127.0.0.1:4001', 'http://127.0.0.1:7001'), ...fillerMachines(2)];
  const handler = createPeerPortHandler({
    name: 'a',
    clusterConfigJson: () => '{"activeSize":3,"removeDelay":1800,"syncInterval":5}',
    admin: { machines: () => machines, leaderPeerUrlIfFollower: () => null, updateClusterConfig: () => Promise.reject(new Error('not used')) },
  });
  const port = await freePort();
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  try {
    const outcome = await joinThroughPeers([`127.0.0.1:${port}`], self, harness().options);
    assert.deepEqual(outcome, { kind: 'standby', machines, config: { activeSize: 3, removeDelay: 1800, syncInterval: 5 } });
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
