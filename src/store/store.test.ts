import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Store } from './store.js';
import { T0, body, cadCmd, casCmd, createCmd, deleteCmd, errorBody, setCmd, updateCmd } from './test-helpers.js';

test('set creates a file (201), then replaces it with a new createdIndex and a prevNode (200)', () => {
  const store = new Store();
  const first = store.apply(setCmd('/message', 'Hello'));
  assert.equal(body(first), '{"action":"set","node":{"key":"/message","value":"Hello","modifiedIndex":1,"createdIndex":1}}');
  assert.equal(first.created, true);
  assert.equal(first.index, 1);
  const second = store.apply(setCmd('/message', 'World'));
  assert.equal(
    body(second),
    '{"action":"set","node":{"key":"/message","value":"World","modifiedIndex":2,"createdIndex":2},"prevNode":{"key":"/message","value":"Hello","modifiedIndex":1,"createdIndex":1}}',
  );
  assert.equal(second.created, false);
  assert.equal(store.index, 2);
});

test('an empty value is a value', () => {
  const store = new Store();
  assert.equal(body(store.apply(setCmd('/e', ''))), '{"action":"set","node":{"key":"/e","value":"","modifiedIndex":1,"createdIndex":1}}');
  assert.equal(body(store.get('/e', { recursive: false, sorted: false }, T0)), '{"action":"get","node":{"key":"/e","value":"","modifiedIndex":1,"createdIndex":1}}');
});

test('keys in commands and reads are cleaned like Go path.Clean', () => {
  const store = new Store();
  assert.equal(store.apply(setCmd('a//b/./c/../d/', 'v')).json.node?.key, '/a/b/d');
  assert.equal(store.get('/a/b/d/', { recursive: false, sorted: false }, T0).json.node?.value, 'v');
});

test('set on a deeper key creates permanent parent directories with the write index', () => {
  const store = new Store();
  store.apply(setCmd('/x', '1'));
  store.apply(setCmd('/a/b/c', 'v'));
  assert.equal(
    body(store.get('/a', { recursive: true, sorted: false }, T0)),
    '{"action":"get","node":{"key":"/a","dir":true,"nodes":[{"key":"/a/b","dir":true,"nodes":[{"key":"/a/b/c","value":"v","modifiedIndex":2,"createdIndex":2}],"modifiedIndex":2,"createdIndex":2}],"modifiedIndex":2,"createdIndex":2}}',
  );
  // Without recursive: one level, child directories without their nodes.
  assert.equal(
    body(store.get('/a', { recursive: false, sorted: false }, T0)),
    '{"action":"get","node":{"key":"/a","dir":true,"nodes":[{"key":"/a/b","dir":true,"modifiedIndex":2,"createdIndex":2}],"modifiedIndex":2,"createdIndex":2}}',
  );
});

test('the root is {"key":"/","dir":true} without indexes, and an empty dir has no nodes', () => {
  const store = new Store();
  const empty = store.get('/', { recursive: false, sorted: false }, T0);
  assert.equal(body(empty), '{"action":"get","node":{"key":"/","dir":true}}');
  assert.equal(empty.index, 0);
  store.apply(setCmd('/d', '', { dir: true }));
  assert.equal(
    body(store.get('/', { recursive: true, sorted: false }, T0)),
    '{"action":"get","node":{"key":"/","dir":true,"nodes":[{"key":"/d","dir":true,"modifiedIndex":1,"createdIndex":1}]}}',
  );
});

test('get errors: 100 names the first missing prefix, 104 the file in the way; index = current', () => {
  const store = new Store();
  store.apply(setCmd('/file', 'v'));
  assert.equal(errorBody(() => store.get('/a/b/', { recursive: false, sorted: false }, T0)), '{"errorCode":100,"message":"Key not found","cause":"/a","index":1}');
  assert.equal(errorBody(() => store.get('/file/sub', { recursive: false, sorted: false }, T0)), '{"errorCode":104,"message":"Not a directory","cause":"/file","index":1}');
  assert.equal(errorBody(() => store.apply(setCmd('/file/sub', 'x'))), '{"errorCode":104,"message":"Not a directory","cause":"/file","index":1}');
  assert.equal(store.index, 1);
});

test('create: 201 on a new key, 105 on an existing one, and failed writes take no index', () => {
  const store = new Store();
  const created = store.apply(createCmd('/c', 'one'));
  assert.equal(body(created), '{"action":"create","node":{"key":"/c","value":"one","modifiedIndex":1,"createdIndex":1}}');
  assert.equal(created.created, true);
  assert.equal(errorBody(() => store.apply(createCmd('/c', 'two'))), '{"errorCode":105,"message":"Key already exists","cause":"/c","index":1}');
  assert.equal(store.apply(setCmd('/next', 'v')).index, 2);
});

test('in-order create names the child by its index, 20 digits, under any directory', () => {
  const store = new Store();
  store.apply(setCmd('/x', 'v'));
  const first = store.apply(createCmd('/queue', 'job1', { inOrder: true }));
  assert.equal(body(first), '{"action":"create","node":{"key":"/queue/00000000000000000002","value":"job1","modifiedIndex":2,"createdIndex":2}}');
  store.apply(createCmd('/queue', 'job2', { inOrder: true }));
  assert.equal(store.apply(createCmd('/', 'top', { inOrder: true })).json.node?.key, '/00000000000000000004');
  assert.equal(
    body(store.get('/queue', { recursive: false, sorted: true }, T0)),
    '{"action":"get","node":{"key":"/queue","dir":true,"nodes":[{"key":"/queue/00000000000000000002","value":"job1","modifiedIndex":2,"createdIndex":2},{"key":"/queue/00000000000000000003","value":"job2","modifiedIndex":3,"createdIndex":3}],"modifiedIndex":2,"createdIndex":2}}',
  );
  assert.equal(errorBody(() => store.apply(createCmd('/x', 'v', { inOrder: true }))), '{"errorCode":104,"message":"Not a directory","cause":"/x","index":4}');
  const dirChild = store.apply(createCmd('/queue', '', { inOrder: true, dir: true }));
  assert.equal(body(dirChild), '{"action":"create","node":{"key":"/queue/00000000000000000005","dir":true,"modifiedIndex":5,"createdIndex":5}}');
});

test('directory rules: set over a dir is 102, dir=true over a file replaces it, setdir on a dir is 102', () => {
  const store = new Store();
  store.apply(setCmd('/d/f', 'v'));
  assert.equal(errorBody(() => store.apply(setCmd('/d', 'x'))), '{"errorCode":102,"message":"Not a file","cause":"/d","index":1}');
  assert.equal(errorBody(() => store.apply(setCmd('/d', '', { dir: true }))), '{"errorCode":102,"message":"Not a file","cause":"/d","index":1}');
  const replaced = store.apply(setCmd('/d/f', 'ignored', { dir: true }));
  assert.equal(
    body(replaced),
    '{"action":"set","node":{"key":"/d/f","dir":true,"modifiedIndex":2,"createdIndex":2},"prevNode":{"key":"/d/f","value":"v","modifiedIndex":1,"createdIndex":1}}',
  );
});

test('the root is read only (107, cause "/")', () => {
  const store = new Store();
  const rootError = '{"errorCode":107,"message":"Root is read only","cause":"/","index":0}';
  assert.equal(errorBody(() => store.apply(setCmd('/', 'v'))), rootError);
  assert.equal(errorBody(() => store.apply(createCmd('/', 'v'))), rootError);
  assert.equal(errorBody(() => store.apply(updateCmd('/', 'v'))), rootError);
  assert.equal(errorBody(() => store.apply(casCmd('/', 'v', 'a', 0))), rootError);
  assert.equal(errorBody(() => store.apply(deleteCmd('/', { recursive: true }))), rootError);
  // compareAndDelete has no root check in etcd: the root is a directory (3.4 shows no cause).
  assert.equal(errorBody(() => store.apply(cadCmd('/', 'a', 0))), '{"errorCode":102,"message":"Not a file","index":0}');
  assert.equal(store.index, 0);
});

test('update: a file gets the new value and keeps createdIndex; missing key is 100', () => {
  const store = new Store();
  store.apply(setCmd('/u', 'old', { expireAtMs: T0 + 10_000 }));
  const updated = store.apply(updateCmd('/u', 'new'));
  assert.equal(
    body(updated),
    '{"action":"update","node":{"key":"/u","value":"new","modifiedIndex":2,"createdIndex":1},"prevNode":{"key":"/u","value":"old","expiration":"2026-01-01T00:00:10Z","ttl":10,"modifiedIndex":1,"createdIndex":1}}',
  );
  assert.equal(updated.created, false);
  // An explicit empty value empties the file; a null value (dir TTL update form) leaves it alone.
  assert.equal(store.apply(updateCmd('/u', '')).json.node?.value, '');
  store.apply(setCmd('/u', 'kept'));
  assert.equal(store.apply(updateCmd('/u', null, { expireAtMs: T0 + 2000 })).json.node?.value, 'kept');
  assert.equal(errorBody(() => store.apply(updateCmd('/missing', 'v'))), '{"errorCode":100,"message":"Key not found","cause":"/missing","index":5}');
});

test('update on a directory changes only its TTL; its own modifiedIndex stays', () => {
  const store = new Store();
  store.apply(setCmd('/dir', '', { dir: true }));
  const withTtl = store.apply(updateCmd('/dir', null, { expireAtMs: T0 + 100_000 }));
  assert.equal(
    body(withTtl),
    '{"action":"update","node":{"key":"/dir","dir":true,"expiration":"2026-01-01T00:01:40Z","ttl":100,"modifiedIndex":2,"createdIndex":1},"prevNode":{"key":"/dir","dir":true,"modifiedIndex":1,"createdIndex":1}}',
  );
  assert.equal(store.apply(updateCmd('/dir', '')).index, 3);
  assert.equal(body(store.get('/dir', { recursive: false, sorted: false }, T0)), '{"action":"get","node":{"key":"/dir","dir":true,"modifiedIndex":1,"createdIndex":1}}');
  assert.equal(errorBody(() => store.apply(updateCmd('/dir', 'v'))), '{"errorCode":102,"message":"Not a file","cause":"/dir","index":3}');
});

test('compareAndSwap: causes for value, index and both; createdIndex kept; prevIndex 0 not compared', () => {
  const store = new Store();
  store.apply(setCmd('/k', 'a'));
  store.apply(setCmd('/other', 'x'));
  store.apply(casCmd('/k', 'b', 'a', 0)); // index 3
  assert.equal(errorBody(() => store.apply(casCmd('/k', 'c', 'a', 0))), '{"errorCode":101,"message":"Compare failed","cause":"[a != b]","index":3}');
  assert.equal(errorBody(() => store.apply(casCmd('/k', 'c', null, 2))), '{"errorCode":101,"message":"Compare failed","cause":"[2 != 3]","index":3}');
  assert.equal(errorBody(() => store.apply(casCmd('/k', 'c', 'a', 2))), '{"errorCode":101,"message":"Compare failed","cause":"[a != b] [2 != 3]","index":3}');
  const swapped = store.apply(casCmd('/k', 'c', 'b', 3));
  assert.equal(
    body(swapped),
    '{"action":"compareAndSwap","node":{"key":"/k","value":"c","modifiedIndex":4,"createdIndex":1},"prevNode":{"key":"/k","value":"b","modifiedIndex":3,"createdIndex":1}}',
  );
  assert.equal(errorBody(() => store.apply(casCmd('/nope', 'c', 'b', 0))), '{"errorCode":100,"message":"Key not found","cause":"/nope","index":4}');
  store.apply(setCmd('/d/x', 'v'));
  assert.equal(errorBody(() => store.apply(casCmd('/d', 'c', 'b', 0))), '{"errorCode":102,"message":"Not a file","cause":"/d","index":5}');
});

test('delete: files, empty dirs with dir, any dir with recursive; 102 and 108 otherwise', () => {
  const store = new Store();
  store.apply(setCmd('/f', 'v', { expireAtMs: T0 + 5000 }));
  store.apply(setCmd('/d/a', '1'));
  store.apply(setCmd('/empty', '', { dir: true }));
  assert.equal(
    body(store.apply(deleteCmd('/f', { dir: true }))),
    '{"action":"delete","node":{"key":"/f","modifiedIndex":4,"createdIndex":1},"prevNode":{"key":"/f","value":"v","expiration":"2026-01-01T00:00:05Z","ttl":5,"modifiedIndex":1,"createdIndex":1}}',
  );
  assert.equal(store.nextExpiryMs(), null);
  assert.equal(errorBody(() => store.apply(deleteCmd('/d'))), '{"errorCode":102,"message":"Not a file","cause":"/d","index":4}');
  assert.equal(errorBody(() => store.apply(deleteCmd('/d', { dir: true }))), '{"errorCode":108,"message":"Directory not empty","cause":"/d","index":4}');
  assert.equal(
    body(store.apply(deleteCmd('/empty', { dir: true }))),
    '{"action":"delete","node":{"key":"/empty","dir":true,"modifiedIndex":5,"createdIndex":3},"prevNode":{"key":"/empty","dir":true,"modifiedIndex":3,"createdIndex":3}}',
  );
  assert.equal(
    body(store.apply(deleteCmd('/d', { recursive: true }))),
    '{"action":"delete","node":{"key":"/d","dir":true,"modifiedIndex":6,"createdIndex":2},"prevNode":{"key":"/d","dir":true,"modifiedIndex":2,"createdIndex":2}}',
  );
  assert.equal(errorBody(() => store.apply(deleteCmd('/d/a'))), '{"errorCode":100,"message":"Key not found","cause":"/d","index":6}');
});

test('compareAndDelete: file only, same causes as compareAndSwap', () => {
  const store = new Store();
  store.apply(setCmd('/k', 'a'));
  store.apply(setCmd('/d/x', 'v'));
  assert.equal(errorBody(() => store.apply(cadCmd('/k', 'b', 0))), '{"errorCode":101,"message":"Compare failed","cause":"[b != a]","index":2}');
  assert.equal(errorBody(() => store.apply(cadCmd('/k', 'b', 7))), '{"errorCode":101,"message":"Compare failed","cause":"[b != a] [7 != 1]","index":2}');
  assert.equal(errorBody(() => store.apply(cadCmd('/d', 'b', 0))), '{"errorCode":102,"message":"Not a file","cause":"/d","index":2}');
  assert.equal(
    body(store.apply(cadCmd('/k', 'a', 1))),
    '{"action":"compareAndDelete","node":{"key":"/k","modifiedIndex":3,"createdIndex":1},"prevNode":{"key":"/k","value":"a","modifiedIndex":1,"createdIndex":1}}',
  );
});

test('hidden nodes are omitted from listings at every depth but readable directly', () => {
  const store = new Store();
  store.apply(setCmd('/_hidden', 'h'));
  store.apply(setCmd('/a/_secret/x', 's'));
  store.apply(setCmd('/a/visible', 'v'));
  assert.equal(
    body(store.get('/', { recursive: true, sorted: true }, T0)),
    '{"action":"get","node":{"key":"/","dir":true,"nodes":[{"key":"/a","dir":true,"nodes":[{"key":"/a/visible","value":"v","modifiedIndex":3,"createdIndex":3}],"modifiedIndex":2,"createdIndex":2}]}}',
  );
  assert.equal(store.get('/_hidden', { recursive: false, sorted: false }, T0).json.node?.value, 'h');
  assert.equal(
    body(store.get('/a/_secret', { recursive: false, sorted: false }, T0)),
    '{"action":"get","node":{"key":"/a/_secret","dir":true,"nodes":[{"key":"/a/_secret/x","value":"s","modifiedIndex":2,"createdIndex":2}],"modifiedIndex":2,"createdIndex":2}}',
  );
});

test('sorted lists children by byte-wise key order at every level', () => {
  const store = new Store();
  for (const key of ['/s/b', '/s/a/z', '/s/a/y', '/s/B', '/s/\u{1F600}', '/s/\uFF21']) store.apply(setCmd(key, 'v'));
  const sorted = store.get('/s', { recursive: true, sorted: true }, T0).json.node;
  assert.deepEqual(sorted?.nodes?.map((n) => n.key), ['/s/B', '/s/a', '/s/b', '/s/\uFF21', '/s/\u{1F600}']);
  assert.deepEqual(sorted?.nodes?.[1]?.nodes?.map((n) => n.key), ['/s/a/y', '/s/a/z']);
  const unsorted = store.get('/s', { recursive: false, sorted: false }, T0).json.node;
  assert.deepEqual(unsorted?.nodes?.map((n) => n.key), ['/s/b', '/s/a', '/s/B', '/s/\u{1F600}', '/s/\uFF21']);
});

test('create of a directory with a TTL, its TTL update and its expiry keep etcd\'s shapes', () => {
  const store = new Store();
  const created = store.apply(createCmd('/dir', 'ignored', { dir: true, expireAtMs: T0 + 2500 }));
  assert.equal(body(created), '{"action":"create","node":{"key":"/dir","dir":true,"expiration":"2026-01-01T00:00:02.5Z","ttl":3,"modifiedIndex":1,"createdIndex":1}}');
  store.apply(updateCmd('/dir', '', { expireAtMs: T0 + 4000 }));
  assert.deepEqual(store.applySync({ op: 'sync', nowMs: T0 + 3000 }), []);
  const [expired] = store.applySync({ op: 'sync', nowMs: T0 + 4250 });
  assert.ok(expired);
  assert.equal(
    body(expired),
    '{"action":"expire","node":{"key":"/dir","dir":true,"modifiedIndex":3,"createdIndex":1},"prevNode":{"key":"/dir","dir":true,"expiration":"2026-01-01T00:00:04Z","modifiedIndex":1,"createdIndex":1}}',
  );
});

test('compareAndSwap with a TTL sets it; without one it clears it', () => {
  const store = new Store();
  store.apply(setCmd('/k', 'a'));
  assert.equal(
    body(store.apply(casCmd('/k', 'b', 'a', 1, { expireAtMs: T0 + 7000 }))),
    '{"action":"compareAndSwap","node":{"key":"/k","value":"b","expiration":"2026-01-01T00:00:07Z","ttl":7,"modifiedIndex":2,"createdIndex":1},"prevNode":{"key":"/k","value":"a","modifiedIndex":1,"createdIndex":1}}',
  );
  assert.equal(store.nextExpiryMs(), T0 + 7000);
  store.apply(casCmd('/k', 'c', 'b', 0));
  assert.equal(store.nextExpiryMs(), null);
});
