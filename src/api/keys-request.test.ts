import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EtcdError } from '../common/errors.js';
import { parseParams } from './form.js';
import { expireAtMsFor, parseBool, parseKeysRequest, parseUint64, type KeysMethod, type KeysRequest } from './keys-request.js';
import { isMemberOwnedKey, keyFromPath, muxCleanPath } from './key-path.js';
import { percentDecode } from './percent.js';

const nowMs = 1_700_000_000_000;

function parse(method: KeysMethod, query: string, body: string | null = null, key = '/k'): KeysRequest {
  return parseKeysRequest(method, key, parseParams(body, query), nowMs);
}

function errorOf(fn: () => unknown): { code: number; cause: string } {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof EtcdError);
    return { code: error.errorCode, cause: error.cause };
  }
  assert.fail('expected an EtcdError');
}

test('PUT decision table → store commands', () => {
  assert.deepEqual(parse('PUT', 'value=v'), {
    kind: 'write', noValueOnSuccess: false,
    command: { op: 'set', key: '/k', nowMs, value: 'v', dir: false, expireAtMs: null, refresh: false },
  });
  assert.deepEqual(parse('PUT', 'prevExist=false&prevValue=x', 'value=v&ttl=5'), {
    kind: 'write', noValueOnSuccess: false,
    command: { op: 'create', key: '/k', nowMs, value: 'v', dir: false, expireAtMs: nowMs + 5000, inOrder: false },
  });
  assert.deepEqual(parse('PUT', 'prevExist=true'), {
    kind: 'write', noValueOnSuccess: false,
    command: { op: 'update', key: '/k', nowMs, value: '', expireAtMs: null, refresh: false },
  });
  assert.deepEqual(parse('PUT', 'prevExist=true&prevIndex=4&value=n'), {
    kind: 'write', noValueOnSuccess: false,
    command: { op: 'compareAndSwap', key: '/k', nowMs, value: 'n', prevValue: null, prevIndex: 4, expireAtMs: null, refresh: false },
  });
  assert.deepEqual(parse('PUT', 'prevValue=o&value=n&noValueOnSuccess=true'), {
    kind: 'write', noValueOnSuccess: true,
    command: { op: 'compareAndSwap', key: '/k', nowMs, value: 'n', prevValue: 'o', prevIndex: 0, expireAtMs: null, refresh: false },
  });
  // prevIndex=0 is "absent" (§17): a plain set.
  assert.deepEqual(parse('PUT', 'prevIndex=0&value=v'), parse('PUT', 'value=v'));
  assert.deepEqual(parse('PUT', 'refresh=true&prevExist=true&ttl=9'), {
    kind: 'write', noValueOnSuccess: false,
    command: { op: 'update', key: '/k', nowMs, value: null, expireAtMs: nowMs + 9000, refresh: true },
  });
  assert.deepEqual(parse('PUT', 'dir=true&ttl=0'), {
    kind: 'write', noValueOnSuccess: false,
    command: { op: 'set', key: '/k', nowMs, value: '', dir: true, expireAtMs: nowMs, refresh: false },
  });
});

test('POST is an in-order create (conditions ignored); DELETE is delete or compareAndDelete', () => {
  assert.deepEqual(parse('POST', 'prevExist=true&value=job'), {
    kind: 'write', noValueOnSuccess: false,
    command: { op: 'create', key: '/k', nowMs, value: 'job', dir: false, expireAtMs: null, inOrder: true },
  });
  assert.deepEqual(parse('DELETE', 'recursive=true'), {
    kind: 'write', noValueOnSuccess: false,
    command: { op: 'delete', key: '/k', nowMs, dir: false, recursive: true },
  });
  assert.deepEqual(parse('DELETE', 'prevIndex=3'), {
    kind: 'write', noValueOnSuccess: false,
    command: { op: 'compareAndDelete', key: '/k', nowMs, prevValue: null, prevIndex: 3 },
  });
});

test('GET: read, watch, quorum ignores wait, HEAD refuses wait, consistent is lenient', () => {
  assert.deepEqual(parse('GET', 'recursive=true&sorted=1&consistent=bogus'), { kind: 'read', key: '/k', recursive: true, sorted: true, quorum: false, consistent: false });
  assert.deepEqual(parse('GET', 'wait=true&waitIndex=7&stream=t'), { kind: 'watch', key: '/k', recursive: false, stream: true, sinceIndex: 7 });
  assert.equal(parse('GET', 'wait=true&quorum=true').kind, 'read');
  assert.deepEqual(errorOf(() => parse('HEAD', 'wait=true')), { code: 209, cause: '"wait" can only be used with GET requests' });
  assert.deepEqual(parse('GET', 'consistent=true'), { kind: 'read', key: '/k', recursive: false, sorted: false, quorum: false, consistent: true });
});

test('validation order: the first failing field wins', () => {
  const all = 'prevIndex=a&waitIndex=a&recursive=a&sorted=a&wait=a&dir=a&quorum=a&stream=a&prevValue=&noValueOnSuccess=a&ttl=a&prevExist=a&refresh=a';
  const expected = [
    [203, 'invalid value for "prevIndex"'],
    [203, 'invalid value for "waitIndex"'],
    [209, 'invalid value for "recursive"'],
    [209, 'invalid value for "sorted"'],
    [209, 'invalid value for "wait"'],
    [209, 'invalid value for "dir"'],
    [209, 'invalid value for "quorum"'],
    [209, 'invalid value for "stream"'],
    [201, '"prevValue" cannot be empty'],
    [209, 'invalid value for "noValueOnSuccess"'],
    [202, 'invalid value for "ttl"'],
    [209, 'invalid value for prevExist'],
    [209, 'invalid value for refresh'],
  ] as const;
  let query = all;
  for (const [code, cause] of expected) {
    assert.deepEqual(errorOf(() => parse('PUT', query)), { code, cause }, query);
    query = query.slice(query.indexOf('&') + 1);
  }
  assert.deepEqual(errorOf(() => parse('PUT', 'wait=true&prevValue=')), { code: 209, cause: '"wait" can only be used with GET requests' });
  assert.deepEqual(errorOf(() => parse('PUT', 'refresh=true')), { code: 212, cause: 'No TTL value set' });
  assert.deepEqual(errorOf(() => parse('PUT', 'refresh=true&ttl=1&value=x')), { code: 211, cause: 'A value was provided on a refresh' });
  assert.deepEqual(errorOf(() => parse('PUT', 'value=x', null, '/_etcd/config')), { code: 106, cause: '/_etcd/config' });
});

test('strict numbers and booleans', () => {
  for (const bad of ['', ' 5', '5 ', '+5', '-1', '1.5', '10s', '0x10', '1e3', '18446744073709551616']) assert.equal(parseUint64(bad), null, bad);
  assert.equal(parseUint64('007'), 7n);
  assert.equal(parseUint64('18446744073709551615'), 18446744073709551615n);
  assert.deepEqual(['true', 'TRUE', 'tRuE', '1', 't', 'T'].map(parseBool), [true, true, true, true, true, true]);
  assert.deepEqual(['false', 'False', '0', 'f', 'F'].map(parseBool), [false, false, false, false, false]);
  assert.deepEqual(['', 'yes', 'no', '2', 'on'].map(parseBool), [null, null, null, null, null]);
  assert.equal(expireAtMsFor(null, nowMs), null);
  assert.equal(expireAtMsFor(9_223_372_036n, nowMs), nowMs + 9_223_372_036_000);
  assert.equal(expireAtMsFor(9_223_372_037n, nowMs), null);
});

test('forms: body before query, first value wins, + is a space, Go errors', () => {
  const params = parseParams('value=b%20ody&value=second', 'value=query&ttl=5&flag&&x=a+b');
  assert.equal(params.get('value'), 'b ody');
  assert.equal(params.get('ttl'), '5');
  assert.equal(params.get('flag'), '');
  assert.equal(params.get('x'), 'a b');
  assert.deepEqual(errorOf(() => parseParams(null, 'a=%zz')), { code: 210, cause: 'invalid URL escape "%zz"' });
  assert.deepEqual(errorOf(() => parseParams(null, 'a=%4')), { code: 210, cause: 'invalid URL escape "%4"' });
  assert.deepEqual(errorOf(() => parseParams('a=%g1', 'b=1;c=2')), { code: 210, cause: 'invalid URL escape "%g1"' });
  assert.deepEqual(errorOf(() => parseParams(null, 'b=1;c=2')), { code: 210, cause: 'invalid semicolon separator in query' });
});

test('paths: percent-decoding, Go mux cleaning, keys, member-owned keys', () => {
  assert.equal(percentDecode('a%20b+c', false), 'a b+c');
  assert.equal(percentDecode('%C3%A9', true), 'é');
  assert.equal(percentDecode('%FF', true), '\ufffd');
  assert.equal(percentDecode('%F', true), null);
  assert.equal(muxCleanPath('/v2/keys//a'), '/v2/keys/a');
  assert.equal(muxCleanPath('/v2/keys/a/'), '/v2/keys/a/');
  assert.equal(muxCleanPath('/v2/keys/a/../b'), '/v2/keys/b');
  assert.equal(muxCleanPath('/v2/keys/a/.'), '/v2/keys/a');
  assert.equal(keyFromPath(''), '/');
  assert.equal(keyFromPath('/'), '/');
  assert.equal(keyFromPath('/a/b/'), '/a/b');
  assert.deepEqual(['/_etcd', '/_etcd/machines', '/_etcd/machines/n1', '/_etcd/config'].map(isMemberOwnedKey), [true, true, true, true]);
  assert.deepEqual(['/_etcd/registry/t', '/_etcd/machinesx', '/_etcdx', '/a/_etcd/config'].map(isMemberOwnedKey), [false, false, false, false]);
});
