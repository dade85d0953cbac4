import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DumpNode, MemberDump, QueueOperation, TtlOperation, WatchEntry, WatcherLog } from '../history.js';
import { absent, fail, HistoryBuilder, ok, saw, unknown } from './build.js';
import { identicalMembers, inOrderKeys, indexedWrites, indexesFollowRealTime, lostAppends, lostWrites, ttlKeysExpired, watchersComplete } from './index.js';

const K = '/jepsen/r/k0';
const node = (key: string, value: string, modifiedIndex: number, createdIndex = modifiedIndex, expiration?: string): DumpNode =>
  expiration === undefined ? { key, value, modifiedIndex, createdIndex } : { key, value, modifiedIndex, createdIndex, expiration };
const dump = (member: string, nodes: readonly DumpNode[] | null, etcdIndex = 100): MemberDump => ({ member, etcdIndex, raftIndex: etcdIndex + 10, nodes });
const messages = (r: { findings: readonly { message: string }[] }): string[] => r.findings.map((f) => f.message);

describe('lostWrites', () => {
  const twoWrites = (): HistoryBuilder => {
    const h = new HistoryBuilder();
    h.put(1, K, 'a', [0, 10], ok(5));
    h.put(2, K, 'b', [20, 30], ok(6));
    return h;
  };

  it('accepts the last acknowledged write on every member', () => {
    const r = lostWrites(twoWrites().history(), [dump('m1', [node(K, 'b', 6)]), dump('m2', [node(K, 'b', 6)])]);
    assert.deepEqual(messages(r), []);
    assert.equal(r.checked, 2);
  });

  it('rejects a member that lost the last acknowledged write (holds the one before)', () => {
    const r = lostWrites(twoWrites().history(), [dump('m1', [node(K, 'b', 6)]), dump('m2', [node(K, 'a', 5)])]);
    assert.deepEqual(messages(r), [`m2: ${K} holds "a"@5, which no write that can be last left:\n    #1 c2 put "b" → ok "b"@6 [20.0..30.0 ms]`]);
    assert.equal(r.ok, false);
  });

  it('rejects a member where the key vanished, and one with the right value at the wrong index', () => {
    const r = lostWrites(twoWrites().history(), [dump('m1', []), dump('m2', [node(K, 'b', 7)])]);
    assert.equal(r.findings.length, 2);
    assert.match(messages(r)[0] ?? '', /^m1: \/jepsen\/r\/k0 holds absent/);
    assert.match(messages(r)[1] ?? '', /^m2: \/jepsen\/r\/k0 holds "b"@7/);
  });

  it('accepts either of two concurrent last writes, and an unknown write that happened', () => {
    const h = new HistoryBuilder();
    h.put(1, K, 'a', [0, 30], ok(5));
    h.put(2, K, 'b', [10, 40], ok(6));
    h.put(3, K, 'c', [20, 25], unknown);
    h.put(4, K, 'x', [50, 60], fail(0));
    const r = lostWrites(h.history(), [dump('m1', [node(K, 'a', 6)].map((n) => ({ ...n, modifiedIndex: 5 }))), dump('m2', [node(K, 'b', 6)]), dump('m3', [node(K, 'c', 9)])]);
    assert.deepEqual(messages(r), []);
  });

  it('accepts absence after a last delete or with no acknowledged write; rejects absence after a put', () => {
    const h = new HistoryBuilder();
    h.put(1, K, 'a', [0, 10], ok(5));
    h.delete(2, K, [20, 30], ok(6));
    h.put(1, '/jepsen/r/k1', 'u', [0, 10], unknown);
    h.read(1, '/jepsen/r/k2', [0, 10], absent);
    h.put(1, '/jepsen/r/k3', 'z', [0, 10], ok(7));
    const r = lostWrites(h.history(), [dump('m1', [])]);
    assert.deepEqual(messages(r), ['m1: /jepsen/r/k3 holds absent, which no write that can be last left:\n    #4 c1 put "z" → ok "z"@7 [0.0..10.0 ms]']);
    assert.equal(r.checked, 4);
  });
});

const post = (id: number, value: string, at: [number, number], outcome: QueueOperation['outcome']): QueueOperation => ({
  id,
  client: id,
  value,
  invokeMs: at[0],
  completeMs: outcome.type === 'unknown' ? Infinity : at[1],
  outcome,
});
const qkey = (index: number): string => `/jepsen/q/${String(index).padStart(20, '0')}`;
const posted = (index: number): QueueOperation['outcome'] => ({ type: 'ok', key: qkey(index), createdIndex: index });

describe('lostAppends and inOrderKeys', () => {
  const queue = [post(0, 'q0', [0, 10], posted(7)), post(1, 'q1', [20, 30], posted(9)), post(2, 'q2', [21, 31], { type: 'unknown', reason: 'timeout' }), post(3, 'q3', [22, 32], { type: 'fail', errorCode: 0 })];

  it('accepts a listing in creation order with every acknowledged POST and an unknown one that happened', () => {
    const listing = [node(qkey(7), 'q0', 7), node(qkey(9), 'q1', 9), node(qkey(12), 'q2', 12)];
    assert.deepEqual(messages(inOrderKeys(queue, listing)), []);
    assert.deepEqual(messages(lostAppends(queue, listing, 'm1')), []);
  });

  it('rejects in-order keys out of order', () => {
    const listing = [node(qkey(9), 'q1', 9), node(qkey(7), 'q0', 7)];
    assert.deepEqual(messages(inOrderKeys(queue, listing)), [`${qkey(9)}@9 is listed before ${qkey(7)}@7: not in creation order`]);
  });

  it('rejects a missing acknowledged POST, a phantom, a failed one present, a duplicate and a misnamed key', () => {
    const listing = [node(qkey(7), 'q0', 7), node(qkey(8), 'zz', 8), node(qkey(10), 'q3', 10), node(qkey(11), 'q0', 11), node('/jepsen/q/12', 'q2', 12)];
    assert.deepEqual(messages(inOrderKeys(queue, listing)), [
      '/jepsen/q/12 is not named after its createdIndex 12 (20 digits)',
      `the in-order listing: queue #1 ("q1") acknowledged as ${qkey(9)}@9 is missing`,
      `${qkey(8)} holds "zz", which no POST sent`,
      `${qkey(10)} holds "q3" from queue #3, which failed with 0`,
      `"q0" is listed twice (again as ${qkey(11)})`,
      `queue #0 (${qkey(11)}) completed at 10.0 ms with index 11, before queue #3 (${qkey(10)}) was invoked at 22.0 ms, which got index 10`,
    ]);
    assert.deepEqual(messages(lostAppends(queue, listing, 'm1')), [`m1: queue #1 ("q1") acknowledged as ${qkey(9)}@9 is missing`]);
    assert.equal(lostAppends(queue, null, 'm2').ok, false);
    assert.equal(inOrderKeys(queue, null).ok, false);
  });

  it('rejects a POST listed before one that completed before it was invoked', () => {
    const q = [post(0, 'a', [0, 10], { type: 'unknown', reason: 'timeout' }), post(1, 'b', [20, 30], posted(9))];
    // "a" was invoked first but never completed: it may come after "b". The reverse may not.
    assert.deepEqual(messages(inOrderKeys(q, [node(qkey(9), 'b', 9), node(qkey(12), 'a', 12)])), []);
    const q2 = [post(0, 'a', [0, 10], posted(12)), post(1, 'b', [20, 30], posted(9))];
    assert.deepEqual(messages(inOrderKeys(q2, [node(qkey(9), 'b', 9), node(qkey(12), 'a', 12)])), [
      `queue #0 (${qkey(12)}) completed at 10.0 ms with index 12, before queue #1 (${qkey(9)}) was invoked at 20.0 ms, which got index 9`,
    ]);
  });
});

describe('indexesFollowRealTime', () => {
  it('accepts distinct indexes in real-time order, overlapping writes in either order', () => {
    const h = new HistoryBuilder();
    h.put(1, K, 'a', [0, 10], ok(5));
    h.put(2, '/jepsen/r/k1', 'b', [20, 40], ok(8));
    h.put(3, K, 'c', [25, 45], ok(7));
    h.read(4, K, [50, 60], saw('c', 7));
    h.delete(1, K, [70, 80], ok(9));
    const r = indexesFollowRealTime(h.history(), { queue: [post(0, 'q', [90, 95], posted(10))] });
    assert.deepEqual(messages(r), []);
    assert.equal(r.checked, 5);
  });

  it('rejects a duplicated index across keys', () => {
    const h = new HistoryBuilder();
    h.put(1, K, 'a', [0, 10], ok(5));
    h.put(2, '/jepsen/r/k1', 'b', [5, 15], ok(5));
    assert.deepEqual(messages(indexesFollowRealTime(h.history())), [
      'op #0 (put "a" /jepsen/r/k0) and op #1 (put "b" /jepsen/r/k1) were both acknowledged with index 5',
    ]);
  });

  it('rejects an index that goes backwards in real time (across keys and parts of the run)', () => {
    const h = new HistoryBuilder();
    h.put(1, K, 'a', [0, 10], ok(5));
    const ttl: TtlOperation = { id: 0, client: 3, key: '/jepsen/ttl/0', value: 't', ttlSeconds: 2, invokeMs: 20, completeMs: 30, outcome: { type: 'ok', value: 't', modifiedIndex: 4 } };
    assert.deepEqual(messages(indexesFollowRealTime(h.history(), { ttl: [ttl] })), [
      'op #0 (put "a" /jepsen/r/k0) completed at 10.0 ms with index 5, before ttl #0 (put "t" /jepsen/ttl/0) was invoked at 20.0 ms, which got index 4',
    ]);
  });
});

const event = (modifiedIndex: number, key: string, value: string | null, action = value === null ? 'delete' : 'set'): WatchEntry => ({
  type: 'event',
  atMs: modifiedIndex,
  member: 'm1',
  action,
  key,
  value,
  modifiedIndex,
  createdIndex: modifiedIndex,
  prevValue: null,
});
const watcher = (id: number, startIndex: number, endIndex: number, entries: WatchEntry[]): WatcherLog => ({ watcher: id, startIndex, endIndex, entries });

describe('watchersComplete', () => {
  const h = new HistoryBuilder();
  h.put(1, K, 'a', [0, 10], ok(5));
  h.put(1, K, 'b', [20, 30], ok(6));
  h.delete(1, K, [40, 50], ok(8));
  const writes = indexedWrites(h.history());

  it('accepts every write seen in order, an unknown write or expiry between, across an error', () => {
    const w = watcher(1, 5, 9, [
      event(5, K, 'a'),
      { type: 'error', atMs: 1, member: 'm1', waitIndex: 6, reason: 'reset' },
      event(6, K, 'b'),
      event(7, '/jepsen/ttl/0', null, 'expire'),
      event(8, K, null),
    ]);
    const r = watchersComplete([w, { ...w, watcher: 2 }], writes);
    assert.deepEqual(messages(r), []);
    assert.equal(r.checked, 8);
  });

  it('rejects a watcher with a gap', () => {
    const w = watcher(1, 5, 9, [event(5, K, 'a'), event(8, K, null)]);
    assert.deepEqual(messages(watchersComplete([w], writes)), ['watcher 1 (covering [5, 9)) missed op #1 (put "b" /jepsen/r/k0) at index 6']);
  });

  it('accepts a gap inside a reported 401, and only there', () => {
    const cleared: WatchEntry = { type: 'cleared', atMs: 1, member: 'm1', waitIndex: 6, resumeIndex: 7 };
    assert.deepEqual(messages(watchersComplete([watcher(1, 5, 9, [event(5, K, 'a'), cleared, event(8, K, null)])], writes)), []);
    const early: WatchEntry = { type: 'cleared', atMs: 1, member: 'm1', waitIndex: 3, resumeIndex: 6 };
    assert.deepEqual(messages(watchersComplete([watcher(1, 3, 9, [early, event(8, K, null)])], writes)), [
      'watcher 1 (covering [3, 9)) missed op #1 (put "b" /jepsen/r/k0) at index 6',
    ]);
  });

  it('rejects events out of order, a wrong event at a write\'s index, and watchers that disagree', () => {
    const w1 = watcher(1, 5, 9, [event(6, K, 'b'), event(5, K, 'a'), event(7, '/jepsen/x', 'p'), event(8, K, 'zz')]);
    const w2 = watcher(2, 7, 8, [event(7, '/jepsen/y', 'p')]);
    assert.deepEqual(messages(watchersComplete([w1, w2], writes)), [
      'watcher 1: event set /jepsen/r/k0 = "a" @5 from m1 arrived while waiting for index 7 (out of order or repeated)',
      'watcher 1: event set /jepsen/r/k0 = "zz" @8 but index 8 is op #2 (delete /jepsen/r/k0) writing null to /jepsen/r/k0',
      'watcher 1 (covering [5, 9)) missed op #0 (put "a" /jepsen/r/k0) at index 5',
      'watchers disagree at index 7: watcher 1 saw set /jepsen/x = "p" @7, watcher 2 saw set /jepsen/y = "p" @7',
    ]);
  });
});

describe('identicalMembers', () => {
  const nodes = [node('/jepsen/a', '1', 3), node('/jepsen/b', '2', 4, 4, '2030-01-01T00:00:00Z')];

  it('accepts identical dumps', () => {
    const r = identicalMembers([dump('m1', nodes), dump('m2', [...nodes]), dump('m3', nodes)]);
    assert.deepEqual(messages(r), []);
    assert.equal(r.checked, 3);
  });

  it('rejects member dumps that differ, reporting the first difference per member', () => {
    const r = identicalMembers([
      dump('m1', nodes),
      dump('m2', [node('/jepsen/a', '1', 3), node('/jepsen/b', '2', 5, 4, '2030-01-01T00:00:00Z')]),
      dump('m3', [node('/jepsen/b', '2', 4, 4, '2030-01-01T00:00:00Z')]),
      dump('m4', [...nodes, node('/jepsen/c', '3', 9)]),
      dump('m5', nodes, 101),
      dump('m6', null),
    ]);
    assert.deepEqual(messages(r), [
      'm6 could not be dumped: no answer',
      'm1 has /jepsen/b = "2" (created 4, modified 4 expiring 2030-01-01T00:00:00Z) but m2 has /jepsen/b = "2" (created 4, modified 5 expiring 2030-01-01T00:00:00Z)',
      'm1 has /jepsen/a = "1" (created 3, modified 3) that m3 does not',
      'm4 has /jepsen/c = "3" (created 9, modified 9) that m1 does not',
      'm1 was dumped at index 100 but m5 at 101',
    ]);
  });
});

describe('ttlKeysExpired', () => {
  const set = (id: number, ttlSeconds: number, at: [number, number], outcome: TtlOperation['outcome'] = { type: 'ok', value: `t${id}`, modifiedIndex: 10 + id }): TtlOperation => ({
    id,
    client: id,
    key: `/jepsen/ttl/${id}`,
    value: `t${id}`,
    ttlSeconds,
    invokeMs: at[0],
    completeMs: outcome.type === 'unknown' ? Infinity : at[1],
    outcome,
  });
  const ttl = [set(0, 2, [0, 100]), set(1, 4, [1000, 1100]), set(2, 2, [1200, 1300], { type: 'unknown', reason: 'timeout' })];
  const EXP = '2030-01-01T00:00:00Z';

  it('accepts expired keys gone and unexpired keys present with their expiration', () => {
    const r = ttlKeysExpired(ttl, [dump('m1', [node('/jepsen/ttl/1', 't1', 11, 11, EXP), node('/jepsen/ttl/2', 't2', 12, 12, EXP)])], 4500);
    assert.deepEqual(messages(r), []);
    assert.equal(r.checked, 3);
  });

  it('rejects a key still present well after it expired, one gone early, one without its TTL, a phantom value', () => {
    const r = ttlKeysExpired(ttl, [dump('m1', [node('/jepsen/ttl/0', 't0', 10, 10, EXP), node('/jepsen/ttl/2', 'zz', 12, 12, EXP)]), dump('m2', [node('/jepsen/ttl/0', 't0', 10)])], 4500);
    assert.deepEqual(messages(r), [
      'm1: /jepsen/ttl/0 (ttl #0, 2 s, completed at 100.0 ms) is still there at 4500.0 ms, 2400 ms after it expired',
      'm1: /jepsen/ttl/1 (ttl #1, 4 s, invoked at 1000.0 ms) is gone at 4500.0 ms, before it could expire',
      'm1: /jepsen/ttl/2 holds "zz", which no TTL set that may have happened wrote',
      'm2: /jepsen/ttl/0 (ttl #0) has lost its TTL',
      'm2: /jepsen/ttl/1 (ttl #1, 4 s, invoked at 1000.0 ms) is gone at 4500.0 ms, before it could expire',
    ]);
  });
});
