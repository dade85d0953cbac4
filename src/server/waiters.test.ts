import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Waiters } from './waiters.js';

test('waiters resolve by id, ignore unknown ids and expire in deadline order', async () => {
  const waiters = new Waiters<number>();
  const a = waiters.wait('a', 100);
  const b = waiters.wait('b', 200);
  const c = waiters.wait('c', 300);
  assert.equal(waiters.resolve('b', 7), true);
  assert.equal(waiters.resolve('b', 8), false);
  assert.equal(waiters.resolve('earlier-run', 1), false);
  assert.equal(await b, 7);
  assert.equal(waiters.expire(250, () => new Error('timeout')), 1);
  await assert.rejects(a, /timeout/);
  assert.equal(waiters.size, 1);
  waiters.rejectAll(() => new Error('stopped'));
  await assert.rejects(c, /stopped/);
  assert.equal(waiters.size, 0);
});
