import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeLogRequest, decodeLogRequest } from './entry-codec.js';

test('log requests round-trip through entry bytes, unicode values intact', () => {
  const request = {
    requestId: 'ab12.7',
    command: { op: 'set', key: '/a/ключ', value: 'v&<>\u2028', dir: false, expireAtMs: 1_700_000_000_123, refresh: false, nowMs: 1_699_999_999_000 },
  } as const;
  assert.deepEqual(decodeLogRequest(encodeLogRequest(request)), request);
  const sync = { requestId: '', command: { op: 'sync', nowMs: 5 } } as const;
  assert.deepEqual(decodeLogRequest(encodeLogRequest(sync)), sync);
});

test('bytes that are not a member request are a broken invariant', () => {
  assert.throws(() => decodeLogRequest(Buffer.from('{"x":1}')), /not a member request/);
  assert.throws(() => decodeLogRequest(Buffer.from('not json')), SyntaxError);
});
