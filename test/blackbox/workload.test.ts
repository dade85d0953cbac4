/**
 * The workload on its own: how an answer becomes an outcome (fake servers on loopback), and a
 * fault-free run on a real 3-member cluster whose record must be complete and self-consistent.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startCluster, type Cluster } from '../support/cluster.js';
import { freePort } from '../support/ports.js';
import { V2Client } from './workload-http.js';
import { keyOutcome, startWorkload, MARKER_KEY } from './workload.js';
import type { KeyOperation, RunRecord } from './history.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

async function fakeServer(handler: Handler): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function etcdError(res: http.ServerResponse, status: number, errorCode: number): void {
  res.writeHead(status, { 'Content-Type': 'application/json', 'X-Etcd-Index': '7' });
  res.end(JSON.stringify({ errorCode, message: 'x', cause: '', index: 7 }) + '\n');
}

describe('workload outcomes (fake members)', () => {
  const client = new V2Client();
  after(() => client.close());
  const put = { kind: 'put', value: 'c0-1' } as const;
  const read = { kind: 'read' } as const;

  it('a 307 is followed to the leader, which answers', async () => {
    const leader = await fakeServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'X-Etcd-Index': '9' });
      res.end(JSON.stringify({ action: 'set', node: { key: '/jepsen/r/k0', value: 'c0-1', modifiedIndex: 9, createdIndex: 9 } }));
    });
    const follower = await fakeServer((req, res) => {
      res.writeHead(307, { Location: `${leader.url}${req.url ?? ''}` });
      res.end();
    });
    try {
      const exchange = await client.exchange(follower.url, { method: 'PUT', target: '/v2/keys/jepsen/r/k0', form: { value: 'c0-1' } }, 1000);
      assert.equal(exchange.kind, 'answer');
      assert.equal(exchange.url, leader.url);
      assert.deepEqual(keyOutcome(put, exchange), { type: 'ok', value: 'c0-1', modifiedIndex: 9 });
    } finally {
      await follower.close();
      await leader.close();
    }
  });

  it('a redirect loop and a refused connection never reached a leader: fail 0', async () => {
    const looping = await fakeServer((req, res) => {
      res.writeHead(307, { Location: req.url ?? '/' });
      res.end();
    });
    try {
      const loop = await client.exchange(looping.url, { method: 'PUT', target: '/v2/keys/jepsen/r/k0', form: { value: 'c0-1' } }, 1000);
      assert.equal(loop.kind, 'neverSent');
      assert.equal(keyOutcome(put, loop).type, 'fail');
    } finally {
      await looping.close();
    }
    const closed = `http://127.0.0.1:${await freePort()}`;
    const refused = await client.exchange(closed, { method: 'PUT', target: '/v2/keys/jepsen/r/k0', form: { value: 'c0-1' } }, 1000);
    assert.deepEqual(keyOutcome(put, refused), { type: 'fail', errorCode: 0, reason: `refused by ${closed}` });
  });

  it('a silent member and an error 300 leave a write unknown; a read that did not answer is a fail', async () => {
    const silent = await fakeServer(() => undefined);
    const raft300 = await fakeServer((_req, res) => etcdError(res, 500, 300));
    try {
      const timedOut = await client.exchange(silent.url, { method: 'PUT', target: '/v2/keys/jepsen/r/k0', form: { value: 'c0-1' } }, 300);
      assert.equal(keyOutcome(put, timedOut).type, 'unknown');
      const answered300 = await client.exchange(raft300.url, { method: 'PUT', target: '/v2/keys/jepsen/r/k0', form: { value: 'c0-1' } }, 1000);
      assert.deepEqual(keyOutcome(put, answered300), { type: 'unknown', reason: '500 error 300' });
      assert.equal(keyOutcome(read, answered300).type, 'fail');
      assert.equal(keyOutcome(read, timedOut).type, 'fail');
    } finally {
      await silent.close();
      await raft300.close();
    }
  });

  it('100/101/105 are definite failures; a read of an absent key observes null', async () => {
    for (const [status, code] of [
      [404, 100],
      [412, 101],
      [412, 105],
    ] as const) {
      const server = await fakeServer((_req, res) => etcdError(res, status, code));
      try {
        const exchange = await client.exchange(server.url, { method: 'PUT', target: '/v2/keys/jepsen/r/k0', form: { value: 'v' } }, 1000);
        assert.deepEqual(keyOutcome(put, exchange), { type: 'fail', errorCode: code });
        if (code === 100) assert.deepEqual(keyOutcome(read, exchange), { type: 'ok', value: null, modifiedIndex: 0 });
      } finally {
        await server.close();
      }
    }
  });
});

describe('workload on a healthy 3-member cluster', () => {
  let cluster: Cluster;
  let record: RunRecord;
  const seed = Number(process.env.WORKLOAD_SEED ?? 4242);

  before(async () => {
    console.log(`workload.test: seed ${seed}`);
    cluster = await startCluster({ size: 3, mode: 'static' });
    const workload = await startWorkload({
      members: cluster.members.map((m) => ({ name: m.name, clientUrl: m.clientUrl })),
      seed,
      clients: 8,
      watchers: 2,
      // Healthy cluster, so no op may end unknown; a generous timeout keeps that true on a busy CI
      // machine (the nemesis runs use the default 2.5 s).
      requestTimeoutMs: 10_000,
    });
    await new Promise((resolve) => setTimeout(resolve, 5000));
    record = await workload.finish();
  });
  after(async () => {
    await cluster.remove();
  });

  it('every op has a definite outcome and every write value is unique', () => {
    const all = [...record.operations, ...record.queue, ...record.ttl];
    assert.ok(record.operations.length > 200, `only ${record.operations.length} register ops in 5 s`);
    assert.ok(record.queue.length > 10 && record.ttl.length > 5, `queue ${record.queue.length}, ttl ${record.ttl.length}`);
    assert.deepEqual(all.filter((op) => op.outcome.type === 'unknown'), []);
    const failures = record.operations.flatMap((op) => (op.outcome.type === 'fail' ? [op.outcome.errorCode] : []));
    assert.ok(failures.every((code) => code === 100 || code === 101 || code === 105), `failures ${failures.join(',')}`);
    const values = record.operations.flatMap((op) => ('value' in op.op ? [op.op.value] : []));
    assert.equal(new Set(values).size, values.length);
    assert.ok(record.operations.every((op) => op.completeMs >= op.invokeMs));
  });

  it('each final read sees the last acknowledged write of its key', () => {
    for (const key of record.keys) {
      const writes = record.operations.filter((op) => op.key === key && op.op.kind !== 'read' && op.outcome.type === 'ok');
      const last = writes.reduce<KeyOperation | null>((a, b) => (a === null || okIndex(b) > okIndex(a) ? b : a), null);
      const final = record.operations.filter((op) => op.key === key && op.client === -1).at(-1);
      assert.equal(final?.outcome.type, 'ok', `final read of ${key}`);
      const expected = last === null || last.op.kind === 'delete' ? null : last.outcome.type === 'ok' ? last.outcome.value : undefined;
      assert.equal(final?.outcome.type === 'ok' ? final.outcome.value : undefined, expected, key);
    }
  });

  it('the queue lists every acknowledged POST in creation order', () => {
    const acked = record.queue.flatMap((op) => (op.outcome.type === 'ok' ? [{ key: op.outcome.key, value: op.value }] : []));
    assert.equal(acked.length, record.queue.length);
    assert.deepEqual(
      record.queueListing?.map((n) => ({ key: n.key, value: n.value })),
      [...acked].sort((a, b) => (a.key < b.key ? -1 : 1)),
    );
  });

  it('every watcher saw every acknowledged write and expiry, in index order, up to the marker', () => {
    assert.ok(record.endIndex > 0);
    const writes = [...record.operations.filter((op) => op.op.kind !== 'read'), ...record.ttl].flatMap((op) => (op.outcome.type === 'ok' ? [op.outcome.modifiedIndex] : []));
    const posts = record.queue.flatMap((op) => (op.outcome.type === 'ok' ? [op.outcome.createdIndex] : []));
    for (const watcher of record.watchers) {
      assert.ok(watcher.endIndex > record.endIndex, `watcher ${watcher.watcher} stopped at ${watcher.endIndex}`);
      const events = watcher.entries.flatMap((e) => (e.type === 'event' ? [e] : []));
      // A long-poll with no event for 4 s times out and moves on (idle after the clients stop): fine.
      // Anything else — a 401, a refused or broken watch — is not, on a healthy cluster.
      assert.deepEqual(watcher.entries.filter((e) => e.type === 'cleared' || (e.type === 'error' && !e.reason.startsWith('timeout'))), []);
      const indexes = events.map((e) => e.modifiedIndex);
      assert.deepEqual(indexes, [...indexes].sort((a, b) => a - b));
      assert.equal(new Set(indexes).size, indexes.length);
      const seen = new Set(indexes);
      assert.deepEqual([...writes, ...posts].filter((i) => i >= watcher.startIndex && !seen.has(i)), []);
      const expired = new Set(events.filter((e) => e.action === 'expire').map((e) => e.key));
      assert.deepEqual(record.ttl.filter((op) => !expired.has(op.key)).map((op) => op.key), []);
      assert.equal(events.at(-1)?.key, MARKER_KEY);
    }
  });

  it('every member holds the same data, with no TTL key left', () => {
    assert.equal(record.dumpsConverged, true);
    const [first, ...rest] = record.dumps;
    assert.ok(first?.nodes != null);
    for (const dump of rest) assert.deepEqual(dump.nodes, first.nodes, dump.member);
    assert.deepEqual(first.nodes.filter((n) => n.key.startsWith('/jepsen/ttl/')), []);
  });
});

function okIndex(op: KeyOperation): number {
  return op.outcome.type === 'ok' ? op.outcome.modifiedIndex : -1;
}
