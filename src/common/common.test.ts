import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EtcdError, ErrorCode, httpStatusOf } from './errors.js';
import { goJson } from './json.js';
import { SeededPrng } from './prng.js';
import { memberIdFor, unpaddedHex, isMemberId } from './ids.js';

test('error catalogue: message, status and JSON shape', () => {
  const err = new EtcdError(ErrorCode.NodeExist, '/example/key', 13);
  assert.equal(err.httpStatus, 412);
  assert.deepEqual(err.toJSON(), { errorCode: 105, message: 'Key already exists', cause: '/example/key', index: 13 });
  assert.deepEqual(new EtcdError(ErrorCode.RaftInternal).toJSON(), { errorCode: 300, message: 'Raft Internal Error', index: 0 });
  assert.deepEqual([100, 101, 102, 104, 107, 108, 110, 202, 300, 301, 401].map((c) => httpStatusOf(c as 100)), [404, 412, 403, 400, 400, 403, 401, 400, 500, 500, 400]);
});

test('goJson escapes HTML characters like Go', () => {
  assert.equal(goJson({ v: 'a&b<c>' }), '{"v":"a\\u0026b\\u003cc\\u003e"}');
});

test('SeededPrng replays from its seed and stays in range', () => {
  const a = new SeededPrng(42);
  const b = new SeededPrng(42);
  const xs = Array.from({ length: 100 }, () => a.int(10));
  const ys = Array.from({ length: 100 }, () => b.int(10));
  assert.deepEqual(xs, ys);
  assert.ok(xs.every((x) => x >= 0 && x < 10));
  assert.notDeepEqual(xs, Array.from({ length: 100 }, () => new SeededPrng(43).int(10)));
});

test('member ids are stable 16-hex-digit strings', () => {
  const id = memberIdFor('coreos-1', ['http://127.0.0.1:7001'], 'etcd-cluster');
  assert.ok(isMemberId(id));
  assert.equal(id, memberIdFor('coreos-1', ['http://127.0.0.1:7001'], 'etcd-cluster'));
  assert.notEqual(id, memberIdFor('coreos-2', ['http://127.0.0.1:7001'], 'etcd-cluster'));
  assert.equal(unpaddedHex('000000000000abcd'), 'abcd');
});
