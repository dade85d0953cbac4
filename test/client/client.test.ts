/**
 * The client library against a real member of our server, with small real HTTP/TCP servers in
 * front of it to play the parts a cluster plays: a 0.4 follower answering 307, a member that
 * dies in the middle of a watch, a member that accepts connections and never answers, and a
 * member that is not there at all. The 401 recovery overflows the server's real 1000-event
 * history.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import {
  ClusterUnreachableError,
  EtcdApiError,
  EtcdClient,
  SyncError,
  WriteOutcomeUnknownError,
  type RequestTrace,
} from '../../src/client/index.js';
import { startEtcd, type EtcdProcess } from '../support/etcd-process.js';
import { freePort } from '../support/ports.js';
import { startProxy } from '../etcdctl/harness.js';

async function listen(server: net.Server): Promise<string> {
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return `http://127.0.0.1:${port}`;
}

function close(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

describe('EtcdClient', { timeout: 120_000 }, () => {
  let member: EtcdProcess;
  before(async () => {
    member = await startEtcd({ startTimeoutMs: 30_000 });
  });
  after(async () => member.remove());

  test('key operations return the node, prevNode and the index headers; v2 errors are typed', async () => {
    const client = new EtcdClient({ endpoints: [member.clientUrl] });
    const created = await client.create('/ops/k', 'v1', { ttl: 100 });
    assert.equal(created.action, 'create');
    assert.deepEqual([created.node.key, created.node.value, created.node.ttl], ['/ops/k', 'v1', 100]);
    assert.equal(created.etcdIndex, created.node.modifiedIndex);
    assert.ok(created.raftIndex > 0);
    const swapped = await client.compareAndSwap('/ops/k', 'v2', { prevValue: 'v1' });
    assert.deepEqual([swapped.action, swapped.prevNode?.value, swapped.node.value], ['compareAndSwap', 'v1', 'v2']);
    const err = await client.create('/ops/k', 'again').catch((e: unknown) => e);
    assert.ok(err instanceof EtcdApiError);
    assert.deepEqual([err.errorCode, err.message, err.cause, err.httpStatus], [105, 'Key already exists', '/ops/k', 412]);
    assert.equal(err.index, swapped.etcdIndex);
    assert.equal(err.describe(), `105: Key already exists (/ops/k) [${swapped.etcdIndex}]`);
    const queued = await client.createInOrder('/ops/queue', 'job');
    assert.match(queued.node.key, /^\/ops\/queue\/\d{20}$/);
    await client.mkdir('/ops/dir', { ttl: 50 });
    const dir = await client.updateDir('/ops/dir', { ttl: 500 });
    assert.equal(dir.node.dir, true);
    const listing = await client.get('/ops', { sorted: true, recursive: true });
    assert.deepEqual(listing.node.nodes?.map((n) => n.key), ['/ops/dir', '/ops/k', '/ops/queue']);
    const deleted = await client.compareAndDelete('/ops/k', { prevIndex: swapped.node.modifiedIndex });
    assert.deepEqual([deleted.action, deleted.prevNode?.value], ['compareAndDelete', 'v2']);
    assert.equal((await client.rmdir('/ops/dir')).node.dir, true);
  });

  test('sync reads the cluster from /v2/machines; no reachable endpoint is a SyncError', async () => {
    const dead = `127.0.0.1:${await freePort()}`;
    const client = new EtcdClient({ endpoints: [dead, member.clientUrl] });
    assert.deepEqual(await client.sync(), [member.clientUrl]);
    const lost = new EtcdClient({ endpoints: [dead] });
    const err = await lost.sync().catch((e: unknown) => e);
    assert.ok(err instanceof SyncError);
    assert.equal(err.message, `Cannot sync with the cluster using peers ${dead}`);
  });

  test('307 from a follower is followed with the body re-sent', async () => {
    const follower = http.createServer((req, res) => {
      req.resume();
      res.writeHead(307, { Location: `${member.clientUrl}${req.url ?? '/'}` }).end();
    });
    const followerUrl = await listen(follower);
    try {
      const traces: RequestTrace[] = [];
      const client = new EtcdClient({ endpoints: [followerUrl], onRequest: (t) => traces.push(t) });
      const res = await client.set('/redirected/key', 'body survives', { ttl: 30 });
      assert.deepEqual([res.action, res.node.value, res.node.ttl], ['set', 'body survives', 30]);
      assert.deepEqual(traces, [
        { method: 'PUT', url: `${followerUrl}/v2/keys/redirected/key`, body: 'value=body+survives&ttl=30' },
        { method: 'PUT', url: `${member.clientUrl}/v2/keys/redirected/key`, body: 'value=body+survives&ttl=30' },
      ]);
    } finally {
      await close(follower);
    }
  });

  test('failover: a dead endpoint is skipped; a silent one times out (a write there is not repeated); none reachable is ClusterUnreachableError', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const silent = net.createServer(() => undefined);
    const silentUrl = await listen(silent);
    try {
      await new EtcdClient({ endpoints: [member.clientUrl] }).set('/failover/k', 'v');
      const client = new EtcdClient({ endpoints: [dead, silentUrl, member.clientUrl], requestTimeoutMs: 300 });
      assert.equal((await client.get('/failover/k')).node.value, 'v');
      // A write that reached a member and then timed out may have been applied: not repeated.
      const writer = new EtcdClient({ endpoints: [silentUrl, member.clientUrl], requestTimeoutMs: 300 });
      const unknown = await writer.set('/failover/k', 'twice?').catch((e: unknown) => e);
      assert.ok(unknown instanceof WriteOutcomeUnknownError);
      assert.equal(unknown.message, `the request to ${silentUrl} may or may not have been applied: timeout after 300 ms`);
      assert.equal((await client.get('/failover/k')).node.value, 'v');
      const lost = new EtcdClient({ endpoints: [dead, `http://127.0.0.1:${await freePort()}`] });
      const err = await lost.get('/failover/k').catch((e: unknown) => e);
      assert.ok(err instanceof ClusterUnreachableError);
      assert.equal(err.failures.length, 4, 'every endpoint tried twice');
      assert.equal(err.describe(), '501: All the given peers are not reachable (Tried to connect to each peer twice and failed) [0]');
    } finally {
      silent.close();
    }
  });

  test('HTTP 5xx: a read moves on to the next member; a write is not repeated (its error is the answer)', async () => {
    let hits = 0;
    const leaderless = http.createServer((req, res) => {
      hits++;
      req.resume();
      res.writeHead(500, { 'Content-Type': 'application/json', 'X-Etcd-Index': '7' }).end('{"errorCode":300,"message":"Raft Internal Error","index":7}\n');
    });
    const leaderlessUrl = await listen(leaderless);
    try {
      await new EtcdClient({ endpoints: [member.clientUrl] }).set('/fivexx/k', 'v');
      const client = new EtcdClient({ endpoints: [leaderlessUrl, member.clientUrl] });
      assert.equal((await client.get('/fivexx/k')).node.value, 'v');
      const writer = new EtcdClient({ endpoints: [leaderlessUrl, member.clientUrl] });
      const err = await writer.set('/fivexx/k', 'w').catch((e: unknown) => e);
      assert.ok(err instanceof EtcdApiError);
      assert.deepEqual([err.errorCode, err.httpStatus, err.describe()], [300, 500, '300: Raft Internal Error () [7]']);
      assert.equal(hits, 2);
      assert.equal((await client.get('/fivexx/k')).node.value, 'v');
    } finally {
      await close(leaderless);
    }
  });

  test('a watch survives its member dying: it resumes on another endpoint from the same waitIndex', async () => {
    const proxy = await startProxy(member.clientUrl);
    const client = new EtcdClient({ endpoints: [proxy.url, member.clientUrl] });
    const start = (await client.set('/dying/k', 'before')).etcdIndex;
    const traces: string[] = [];
    const watching = new EtcdClient({ endpoints: [proxy.url, member.clientUrl], onRequest: (t) => traces.push(t.url) });
    const events = watching.watchStream('/dying', { recursive: true, waitIndex: start + 1 });
    const first = events.next();
    while (traces.length === 0) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 200));
    await proxy.cut();
    await client.set('/dying/k', 'while failing over');
    await client.set('/dying/k', 'after');
    const seen = [(await first).value, (await events.next()).value].map((e) => (e === undefined ? '' : `${e.action} ${e.node.value ?? ''}`));
    assert.deepEqual(seen, ['set while failing over', 'set after']);
    assert.ok(traces.some((url) => url.startsWith(member.clientUrl) && url.includes(`waitIndex=${start + 1}`)), traces.join('\n'));
    await events.return();
  });

  test('401 (history cleared) is recovered by re-watching from X-Etcd-Index + 1', async () => {
    const client = new EtcdClient({ endpoints: [member.clientUrl] });
    const first = (await client.set('/history/0', 'x')).etcdIndex;
    for (let batch = 0; batch < 21; batch++) {
      await Promise.all(Array.from({ length: 50 }, (_, i) => client.set(`/history/${batch}-${i}`, 'x')));
    }
    const traces: string[] = [];
    const watching = new EtcdClient({ endpoints: [member.clientUrl], onRequest: (t) => traces.push(t.url) });
    const pending = watching.watch('/history', { recursive: true, waitIndex: first });
    while (traces.length < 2) await new Promise((r) => setTimeout(r, 10));
    const written = await client.set('/history/new', 'after the gap');
    const event = await pending;
    assert.deepEqual([event.node.key, event.node.value], ['/history/new', 'after the gap']);
    assert.match(traces[0] ?? '', new RegExp(`waitIndex=${first}$`));
    assert.match(traces[1] ?? '', new RegExp(`waitIndex=${written.etcdIndex}$`));
  });
});
