import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Store } from './store.js';
import type { StoreEvent } from './types.js';
import { T0, body, casCmd, createCmd, deleteCmd, setCmd, updateCmd } from './test-helpers.js';

function everything(store: Store, nowMs: number): string {
  return body(store.get('/', { recursive: true, sorted: false }, nowMs));
}

function replayAll(store: Store, sinceIndex: number): string[] {
  const seen: StoreEvent[] = [];
  const watcher = store.watch('/', { recursive: true, stream: true, sinceIndex });
  watcher.onEvent((event) => seen.push(event));
  watcher.remove();
  return seen.map(body);
}

function populated(): Store {
  const store = new Store();
  store.apply(setCmd('/a/b/c', 'v1'));
  store.apply(setCmd('/a/_hidden', 'h', { expireAtMs: T0 + 4000 }));
  store.apply(setCmd('/ttl/dir', '', { dir: true, expireAtMs: T0 + 3000 }));
  store.apply(setCmd('/ttl/dir/f', 'x', { expireAtMs: T0 + 3000 }));
  store.apply(createCmd('/queue', 'job', { inOrder: true }));
  store.apply(updateCmd('/a/b/c', 'v2', { expireAtMs: T0 + 10_000 }));
  store.apply(casCmd('/a/b/c', 'v3', 'v2', 0, { refresh: false, expireAtMs: T0 + 20_000 }));
  store.apply(updateCmd('/a/b/c', null, { refresh: true, expireAtMs: T0 + 25_000 }));
  store.apply(setCmd('/gone', 'g'));
  store.apply(deleteCmd('/gone'));
  store.get('/a', { recursive: false, sorted: false }, T0);
  return store;
}

test('save → recover gives the same tree, index, stats, TTLs and history', () => {
  const original = populated();
  const recovered = Store.recover(original.save());
  assert.equal(recovered.index, original.index);
  assert.equal(everything(recovered, T0 + 1500), everything(original, T0 + 1500));
  assert.equal(body(recovered.get('/a/_hidden', { recursive: false, sorted: false }, T0)), body(original.get('/a/_hidden', { recursive: false, sorted: false }, T0)));
  assert.deepEqual(recovered.stats(), original.stats());
  assert.deepEqual(replayAll(recovered, 1), replayAll(original, 1));
  assert.equal(recovered.nextExpiryMs(), original.nextExpiryMs());
  // Expiry after recovery hands out the same indexes in the same order.
  const expiredOriginal = original.applySync({ op: 'sync', nowMs: T0 + 30_000 }).map(body);
  const expiredRecovered = recovered.applySync({ op: 'sync', nowMs: T0 + 30_000 }).map(body);
  assert.equal(expiredOriginal.length, 3);
  assert.deepEqual(expiredRecovered, expiredOriginal);
  assert.equal(everything(recovered, T0), everything(original, T0));
  assert.equal(recovered.apply(setCmd('/after', 'v')).index, original.apply(setCmd('/after', 'v')).index);
});

test('a recovered store keeps listing order and a full 1000-event history (401 edge included)', () => {
  const original = new Store();
  for (let i = 0; i < 1200; i++) original.apply(setCmd(`/k${i % 7}`, String(i)));
  const recovered = Store.recover(original.save());
  assert.equal(everything(recovered, T0), everything(original, T0));
  assert.deepEqual(replayAll(recovered, 201), replayAll(original, 201));
  assert.throws(() => recovered.watch('/k1', { recursive: false, stream: false, sinceIndex: 200 }), /outdated/);
});

test('an empty store round-trips', () => {
  const recovered = Store.recover(new Store().save());
  assert.equal(recovered.index, 0);
  assert.equal(everything(recovered, T0), '{"action":"get","node":{"key":"/","dir":true}}');
  assert.equal(recovered.apply(setCmd('/x', 'v')).index, 1);
});

test('a very deep tree can be deleted, saved and recovered without recursion limits', () => {
  const store = new Store();
  const deepKey = '/d' + '/x'.repeat(12_000);
  store.apply(setCmd(deepKey, 'bottom', { expireAtMs: T0 + 1000 }));
  const recovered = Store.recover(store.save());
  assert.equal(recovered.get(deepKey, { recursive: false, sorted: false }, T0).json.node?.value, 'bottom');
  const watcher = recovered.watch(deepKey, { recursive: false, stream: false, sinceIndex: 0 });
  const seen: string[] = [];
  watcher.onEvent((event) => seen.push(event.json.action));
  recovered.apply(deleteCmd('/d', { recursive: true }));
  assert.deepEqual(seen, ['delete']);
  assert.equal(recovered.nextExpiryMs(), null);
});
