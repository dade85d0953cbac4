import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Store } from './store.js';
import type { StoreEvent } from './types.js';
import { T0, body, setCmd } from './test-helpers.js';

/** A follower installing the leader's snapshot keeps its watchers and hands them the events they missed. */
test('restoreFrom replaces the state in place; waiting watchers get the events the new history holds', () => {
  const leader = new Store();
  const follower = new Store();
  leader.apply(setCmd('/a', '1'));
  follower.apply(setCmd('/a', '1'));
  const oneShot: StoreEvent[] = [];
  const stream: StoreEvent[] = [];
  follower.watch('/a', { recursive: false, stream: false, sinceIndex: 0 }).onEvent((e) => oneShot.push(e));
  const streaming = follower.watch('/', { recursive: true, stream: true, sinceIndex: 0 });
  streaming.onEvent((e) => stream.push(e));
  leader.apply(setCmd('/b', '2'));
  leader.apply(setCmd('/a', '3'));
  leader.apply(setCmd('/c', '4', { expireAtMs: T0 + 1000 }));

  follower.restoreFrom(leader.save());

  assert.equal(follower.index, 4);
  assert.equal(body(follower.get('/', { recursive: true, sorted: true }, T0)), body(leader.get('/', { recursive: true, sorted: true }, T0)));
  assert.deepEqual(oneShot.map(body), ['{"action":"set","node":{"key":"/a","value":"3","modifiedIndex":3,"createdIndex":3},"prevNode":{"key":"/a","value":"1","modifiedIndex":1,"createdIndex":1}}']);
  assert.deepEqual(stream.map((e) => e.index), [2, 3, 4]);
  assert.equal(follower.stats().watchers, 1, 'the stream watcher stays, the one-shot is gone');
  // Expiry works from the restored TTL heap, and the stream sees it.
  assert.equal(follower.nextExpiryMs(), T0 + 1000);
  follower.applySync({ op: 'sync', nowMs: T0 + 1000 });
  assert.deepEqual(stream.map((e) => e.index), [2, 3, 4, 5]);
  streaming.remove();
  assert.equal(follower.stats().watchers, 0);
});
