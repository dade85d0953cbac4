import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Store, minExpireAtMs } from './store.js';
import { formatExpiration, ttlSeconds } from './render.js';
import type { StoreEvent } from './types.js';
import { T0, body, casCmd, createCmd, deleteCmd, errorBody, setCmd, updateCmd } from './test-helpers.js';

const shallow = { recursive: false, sorted: false };

function collect(watcher: { onEvent(listener: (event: StoreEvent) => void): void }): StoreEvent[] {
  const seen: StoreEvent[] = [];
  watcher.onEvent((event) => seen.push(event));
  return seen;
}

test('expiration is Go RFC3339Nano in UTC with trailing zeros trimmed; ttl is ceil of the seconds left', () => {
  assert.equal(formatExpiration(Date.UTC(2014, 8, 19, 13, 41, 26, 912)), '2014-09-19T13:41:26.912Z');
  assert.equal(formatExpiration(Date.UTC(2014, 8, 19, 13, 41, 26, 910)), '2014-09-19T13:41:26.91Z');
  assert.equal(formatExpiration(Date.UTC(2014, 8, 19, 13, 41, 26, 0)), '2014-09-19T13:41:26Z');
  assert.equal(ttlSeconds(T0 + 5001, T0), 6);
  assert.equal(ttlSeconds(T0 + 5000, T0), 5);
  assert.equal(ttlSeconds(T0, T0), 0);
  assert.equal(ttlSeconds(T0 - 1500, T0), -1);
});

test('a TTL renders at read time; every write without a TTL makes the node permanent', () => {
  const store = new Store();
  store.apply(setCmd('/t', 'v', { expireAtMs: T0 + 30_000 }));
  assert.equal(
    body(store.get('/t', shallow, T0 + 10_500)),
    '{"action":"get","node":{"key":"/t","value":"v","expiration":"2026-01-01T00:00:30Z","ttl":20,"modifiedIndex":1,"createdIndex":1}}',
  );
  // Overdue but not yet swept: ttl 0 is omitted, negative is shown.
  assert.equal(store.get('/t', shallow, T0 + 30_000).json.node?.ttl, undefined);
  assert.equal(store.get('/t', shallow, T0 + 31_500).json.node?.ttl, -1);
  assert.equal(store.nextExpiryMs(), T0 + 30_000);
  store.apply(casCmd('/t', 'w', 'v', 0));
  assert.equal(body(store.get('/t', shallow, T0)), '{"action":"get","node":{"key":"/t","value":"w","modifiedIndex":2,"createdIndex":1}}');
  assert.equal(store.nextExpiryMs(), null);
  assert.deepEqual(store.applySync({ op: 'sync', nowMs: T0 + 60_000 }), []);
});

test('expiry times before 2000-01-01 mean permanent', () => {
  const store = new Store();
  store.apply(setCmd('/old', 'v', { expireAtMs: minExpireAtMs - 1 }));
  store.apply(setCmd('/edge', 'v', { expireAtMs: minExpireAtMs }));
  assert.equal(body(store.get('/old', shallow, T0)), '{"action":"get","node":{"key":"/old","value":"v","modifiedIndex":1,"createdIndex":1}}');
  assert.equal(store.nextExpiryMs(), minExpireAtMs);
});

test('sync expires nodes oldest first, one index and one expire event each', () => {
  const store = new Store();
  // Creation order differs from key order, so only the key tie-break puts /b before /late.
  store.apply(setCmd('/late', 'l', { expireAtMs: T0 + 2000 }));
  store.apply(setCmd('/b', 'same', { expireAtMs: T0 + 2000 }));
  store.apply(setCmd('/early', 'e', { expireAtMs: T0 + 1000 }));
  store.apply(setCmd('/never', 'n'));
  assert.deepEqual(store.applySync({ op: 'sync', nowMs: T0 + 999 }), []);
  const events = store.applySync({ op: 'sync', nowMs: T0 + 2000 });
  assert.deepEqual(
    events.map((e) => body(e)),
    [
      '{"action":"expire","node":{"key":"/early","modifiedIndex":5,"createdIndex":3},"prevNode":{"key":"/early","value":"e","expiration":"2026-01-01T00:00:01Z","ttl":-1,"modifiedIndex":3,"createdIndex":3}}',
      // Equal expiry: key order decides, the same on every replica.
      '{"action":"expire","node":{"key":"/b","modifiedIndex":6,"createdIndex":2},"prevNode":{"key":"/b","value":"same","expiration":"2026-01-01T00:00:02Z","modifiedIndex":2,"createdIndex":2}}',
      '{"action":"expire","node":{"key":"/late","modifiedIndex":7,"createdIndex":1},"prevNode":{"key":"/late","value":"l","expiration":"2026-01-01T00:00:02Z","modifiedIndex":1,"createdIndex":1}}',
    ],
  );
  assert.deepEqual(events.map((e) => e.index), [5, 6, 7]);
  assert.equal(store.index, 7);
  assert.equal(store.stats().expireCount, 3);
  assert.equal(errorBody(() => store.get('/late', shallow, T0)), '{"errorCode":100,"message":"Key not found","cause":"/late","index":7}');
});

test('an expiring directory takes its subtree and wakes watchers below it with the directory key', () => {
  const store = new Store();
  store.apply(setCmd('/dir', '', { dir: true, expireAtMs: T0 + 1000 }));
  store.apply(setCmd('/dir/sub/f', 'v', { expireAtMs: T0 + 5000 }));
  const below = collect(store.watch('/dir/sub/f', { recursive: false, stream: false, sinceIndex: 0 }));
  const sibling = collect(store.watch('/dirx', { recursive: true, stream: false, sinceIndex: 0 }));
  const [expired] = store.applySync({ op: 'sync', nowMs: T0 + 1000 });
  const expected =
    '{"action":"expire","node":{"key":"/dir","dir":true,"modifiedIndex":3,"createdIndex":1},"prevNode":{"key":"/dir","dir":true,"expiration":"2026-01-01T00:00:01Z","modifiedIndex":1,"createdIndex":1}}';
  assert.ok(expired);
  assert.equal(body(expired), expected);
  assert.deepEqual(below.map(body), [expected]);
  assert.equal(sibling.length, 0);
  assert.equal(store.nextExpiryMs(), null, 'the child left the TTL heap with its directory');
  assert.equal(store.stats().watchers, 1);
});

test('refresh: update keeps the node and value, resets the TTL, takes an index, wakes no watcher', () => {
  const store = new Store();
  store.apply(setCmd('/r', 'keep', { expireAtMs: T0 + 5000 }));
  const seen = collect(store.watch('/r', { recursive: false, stream: true, sinceIndex: 0 }));
  const refreshed = store.apply(updateCmd('/r', null, { refresh: true, expireAtMs: T0 + 60_000 }));
  assert.equal(
    body(refreshed),
    '{"action":"update","node":{"key":"/r","value":"keep","expiration":"2026-01-01T00:01:00Z","ttl":60,"modifiedIndex":2,"createdIndex":1},"prevNode":{"key":"/r","value":"keep","expiration":"2026-01-01T00:00:05Z","ttl":5,"modifiedIndex":1,"createdIndex":1}}',
  );
  assert.equal(store.index, 2);
  assert.equal(seen.length, 0);
  assert.deepEqual(store.applySync({ op: 'sync', nowMs: T0 + 10_000 }), []);
  // A replay from history skips the refresh event too.
  const replay = collect(store.watch('/r', { recursive: false, stream: false, sinceIndex: 2 }));
  assert.equal(replay.length, 0);
  store.apply(casCmd('/r', null, 'keep', 0, { refresh: true, expireAtMs: T0 + 90_000 }));
  assert.equal(store.get('/r', shallow, T0).json.node?.ttl, 90);
  assert.equal(seen.length, 0);
  store.apply(setCmd('/r', 'changed'));
  assert.deepEqual(seen.map((e) => e.index), [4]);
  assert.deepEqual(replay.map((e) => e.index), [4]);
});

test('refresh on set replaces the node (new createdIndex) keeping its value; a missing key is 100', () => {
  const store = new Store();
  store.apply(setCmd('/s', 'v'));
  assert.equal(
    body(store.apply(setCmd('/s', '', { refresh: true, expireAtMs: T0 + 1000 }))),
    '{"action":"set","node":{"key":"/s","value":"v","expiration":"2026-01-01T00:00:01Z","ttl":1,"modifiedIndex":2,"createdIndex":2},"prevNode":{"key":"/s","value":"v","modifiedIndex":1,"createdIndex":1}}',
  );
  assert.equal(errorBody(() => store.apply(setCmd('/none', '', { refresh: true, expireAtMs: T0 }))), '{"errorCode":100,"message":"Key not found","cause":"/none","index":2}');
});

test('one-shot watchers fire once and leave; stream watchers stay until removed', () => {
  const store = new Store();
  const oneShot = store.watch('/k', { recursive: false, stream: false, sinceIndex: 0 });
  const once = collect(oneShot);
  const streamWatcher = store.watch('/k', { recursive: false, stream: true, sinceIndex: 0 });
  const all = collect(streamWatcher);
  assert.equal(store.stats().watchers, 2);
  store.apply(setCmd('/k', '1'));
  store.apply(setCmd('/other', 'x'));
  store.apply(setCmd('/k', '2'));
  assert.deepEqual(once.map((e) => e.index), [1]);
  assert.deepEqual(all.map((e) => e.index), [1, 3]);
  assert.equal(store.stats().watchers, 1);
  streamWatcher.remove();
  streamWatcher.remove();
  oneShot.remove();
  assert.equal(store.stats().watchers, 0);
  store.apply(setCmd('/k', '3'));
  assert.deepEqual(all.map((e) => e.index), [1, 3]);
});

test('recursive watchers see descendants; plain ones only their key', () => {
  const store = new Store();
  const recursive = collect(store.watch('/a', { recursive: true, stream: true, sinceIndex: 0 }));
  const plain = collect(store.watch('/a', { recursive: false, stream: true, sinceIndex: 0 }));
  const root = collect(store.watch('/', { recursive: true, stream: true, sinceIndex: 0 }));
  store.apply(setCmd('/a/b/c', '1'));
  store.apply(setCmd('/ab', '2'));
  store.apply(updateCmd('/a', null, { expireAtMs: T0 + 1000 }));
  assert.deepEqual(recursive.map((e) => e.index), [1, 3]);
  assert.deepEqual(plain.map((e) => e.index), [3]);
  assert.deepEqual(root.map((e) => e.index), [1, 2, 3]);
});

test('deleting a directory wakes watchers on removed keys with the directory key, once each', () => {
  const store = new Store();
  store.apply(setCmd('/d/x/y', '1'));
  const deep = collect(store.watch('/d/x/y', { recursive: false, stream: true, sinceIndex: 0 }));
  const onDir = collect(store.watch('/d', { recursive: true, stream: true, sinceIndex: 0 }));
  const missing = collect(store.watch('/d/nothing', { recursive: false, stream: false, sinceIndex: 0 }));
  const deleted = store.apply(deleteCmd('/d', { recursive: true }));
  assert.deepEqual(deep.map(body), [body(deleted)]);
  assert.deepEqual(onDir.map(body), [body(deleted)]);
  assert.equal(missing.length, 0);
  assert.equal(deleted.json.node?.key, '/d');
});

test('hidden keys: ancestors\' recursive watchers are not told; watchers on or inside them are', () => {
  const store = new Store();
  const root = collect(store.watch('/', { recursive: true, stream: true, sinceIndex: 0 }));
  const exact = collect(store.watch('/_h', { recursive: false, stream: true, sinceIndex: 0 }));
  const inside = collect(store.watch('/_h', { recursive: true, stream: true, sinceIndex: 0 }));
  store.apply(setCmd('/_h', 'v'));
  store.apply(deleteCmd('/_h'));
  store.apply(setCmd('/_h/child', 'c'));
  store.apply(setCmd('/visible/_x/y', 'c'));
  store.apply(setCmd('/visible/y', 'c'));
  assert.deepEqual(root.map((e) => e.index), [5]);
  assert.deepEqual(exact.map((e) => e.index), [1, 2]);
  assert.deepEqual(inside.map((e) => e.index), [1, 2, 3]);
  // History replay does not filter hidden keys.
  const replay = collect(store.watch('/', { recursive: true, stream: false, sinceIndex: 1 }));
  assert.deepEqual(replay.map((e) => e.index), [1]);
});

test('waitIndex: a match in history resolves at once; a future index waits for it', () => {
  const store = new Store();
  store.apply(setCmd('/a', '1'));
  store.apply(setCmd('/b', '1'));
  store.apply(setCmd('/a', '2'));
  const past = store.watch('/a', { recursive: false, stream: false, sinceIndex: 2 });
  assert.equal(store.stats().watchers, 0, 'answered from history, never registered');
  assert.deepEqual(collect(past).map((e) => e.index), [3]);
  const future = collect(store.watch('/a', { recursive: false, stream: false, sinceIndex: 6 }));
  store.apply(setCmd('/a', '3'));
  store.apply(setCmd('/a', '4'));
  assert.equal(future.length, 0);
  store.apply(setCmd('/a', '5'));
  assert.deepEqual(future.map((e) => e.index), [6]);
  // History carries events as rendered when they happened.
  store.apply(setCmd('/t', 'v', { expireAtMs: T0 + 9000 }));
  const replayed = collect(store.watch('/t', { recursive: false, stream: false, sinceIndex: 7 }));
  assert.equal(replayed[0]?.json.node?.ttl, 9);
});

test('a stream watch from a past index replays every match from history, then goes live', () => {
  const store = new Store();
  store.apply(setCmd('/s/a', '1'));
  store.apply(setCmd('/x', '1'));
  store.apply(setCmd('/s/b', '1'));
  const seen = collect(store.watch('/s', { recursive: true, stream: true, sinceIndex: 1 }));
  store.apply(setCmd('/s/c', '1'));
  assert.deepEqual(seen.map((e) => e.index), [1, 3, 4]);
  assert.equal(store.stats().watchers, 1);
});

test('history replay matches a removed directory by plain key prefix, as etcd does', () => {
  const store = new Store();
  store.apply(setCmd('/foo/x', '1'));
  store.apply(deleteCmd('/foo', { recursive: true }));
  const replay = collect(store.watch('/foobar', { recursive: false, stream: false, sinceIndex: 2 }));
  assert.deepEqual(replay.map((e) => e.json.action), ['delete']);
});

test('the history keeps 1000 events; older waitIndex is 401 with the exact cause', () => {
  const store = new Store();
  for (let i = 1; i <= 1001; i++) store.apply(setCmd('/k', String(i)));
  assert.equal(
    errorBody(() => store.watch('/k', { recursive: false, stream: false, sinceIndex: 1 })),
    '{"errorCode":401,"message":"The event in requested index is outdated and cleared","cause":"the requested history has been cleared [2/1]","index":1001}',
  );
  assert.deepEqual(collect(store.watch('/k', { recursive: false, stream: false, sinceIndex: 2 })).map((e) => e.index), [2]);
});

test('stats: counters in etcd order, with 3.4\'s quirks', () => {
  const store = new Store();
  store.apply(setCmd('/f', 'v'));
  store.apply(setCmd('/d/x', 'v'));
  store.get('/f', shallow, T0);
  errorBody(() => store.get('/nope', shallow, T0));
  errorBody(() => store.apply(createCmd('/f/sub', 'v'))); // walk fails: createFail and setsFail
  errorBody(() => store.apply(setCmd('/f/sub', 'v'))); // lookup fails first: setsFail once
  errorBody(() => store.apply(casCmd('/f', 'w', 'nope', 0)));
  errorBody(() => store.apply(casCmd('/', 'w', 'nope', 0))); // 3.4 counts as a success
  errorBody(() => store.apply(updateCmd('/d', 'value'))); // 3.4 counts as a success
  errorBody(() => store.apply(updateCmd('/missing', 'value')));
  errorBody(() => store.apply(deleteCmd('/', { recursive: true }))); // 3.4 counts as a success
  errorBody(() => store.apply(deleteCmd('/d')));
  errorBody(() => store.apply({ op: 'compareAndDelete', key: '/f', prevValue: 'x', prevIndex: 0, nowMs: T0 })); // success in 3.4
  errorBody(() => store.apply({ op: 'compareAndDelete', key: '/zz', prevValue: 'x', prevIndex: 0, nowMs: T0 }));
  store.watch('/w', { recursive: false, stream: false, sinceIndex: 0 });
  assert.equal(
    JSON.stringify(store.stats()),
    '{"getsSuccess":1,"getsFail":1,"setsSuccess":2,"setsFail":2,"deleteSuccess":1,"deleteFail":1,"updateSuccess":1,"updateFail":1,"createSuccess":0,"createFail":1,"compareAndSwapSuccess":1,"compareAndSwapFail":1,"compareAndDeleteSuccess":1,"compareAndDeleteFail":1,"expireCount":0,"watchers":1}',
  );
});

test('a listener attached after a match still gets it; events arrive in index order', () => {
  const store = new Store();
  const watcher = store.watch('/q', { recursive: true, stream: true, sinceIndex: 0 });
  store.apply(setCmd('/q/1', 'a'));
  store.apply(setCmd('/q/2', 'b'));
  const seen = collect(watcher);
  store.apply(setCmd('/q/3', 'c'));
  assert.deepEqual(seen.map((e) => e.index), [1, 2, 3]);
});

test('10,000 watchers on one key are all woken by one write and all leave', () => {
  const store = new Store();
  let woken = 0;
  for (let i = 0; i < 10_000; i++) store.watch('/hot', { recursive: false, stream: false, sinceIndex: 0 }).onEvent(() => woken++);
  for (let i = 0; i < 10_000; i++) store.watch(`/cold/${i}`, { recursive: false, stream: false, sinceIndex: 0 });
  assert.equal(store.stats().watchers, 20_000);
  store.apply(setCmd('/hot', 'v'));
  assert.equal(woken, 10_000);
  assert.equal(store.stats().watchers, 10_000);
});

test('formatExpiration agrees with the calendar for 20,000 seeded instants (years 1970-9999)', () => {
  let state = 12345;
  for (let i = 0; i < 20_000; i++) {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    const ms = Math.floor((state / 2 ** 31) * 253_402_300_799_999);
    const iso = new Date(ms).toISOString().replace(/\.?0*Z$/, 'Z').replace(/\.Z$/, 'Z');
    assert.equal(formatExpiration(ms), iso, `at ${ms}`);
  }
  assert.equal(formatExpiration(Date.UTC(2000, 1, 29, 23, 59, 59, 100)), '2000-02-29T23:59:59.1Z');
  assert.equal(formatExpiration(minExpireAtMs), '2000-01-01T00:00:00Z');
});
