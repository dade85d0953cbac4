import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startTestServer, type TestServer } from './fake-member.js';
import { destroyAgent, openStream, request } from './http-client.js';

/** Watches over a real server: headers flushed at once, replay, stream, idle timeout, no leaks. */

let server: TestServer;
const idleMs = 400;

before(async () => {
  server = await startTestServer({ watchIdleTimeoutMs: idleMs });
});
after(async () => {
  await server.close();
  destroyAgent();
});

const put = (path: string, body: string) => request(server.url, 'PUT', path, { body });
const watchers = (): number => server.member.store.stats().watchers;

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('long poll: headers (with the index at registration) arrive before any event, then one event ends it', async () => {
  await put('/v2/keys/w', 'value=0');
  const index = server.member.store.index;
  const watch = await openStream(server.url, '/v2/keys/w?wait=true');
  assert.equal(watch.res.statusCode, 200);
  assert.equal(watch.res.headers['x-etcd-index'], String(index));
  assert.equal(watch.res.headers['content-type'], 'application/json');
  assert.equal(watch.res.headers['x-etcd-cluster-id'], 'cdf818194e3a8c32');
  assert.equal(watchers(), 1);
  await put('/v2/keys/w', 'value=1');
  const body = await watch.ended;
  assert.equal(body, `{"action":"set","node":{"key":"/w","value":"1","modifiedIndex":${index + 1},"createdIndex":${index + 1}},"prevNode":{"key":"/w","value":"0","modifiedIndex":${index},"createdIndex":${index}}}\n`);
  assert.equal(watchers(), 0);
});

test('waitIndex replays from the history at once; too old → 401; recursive sees children', async () => {
  const first = server.member.store.index + 1;
  await put('/v2/keys/dir/a', 'value=x');
  await put('/v2/keys/dir/b', 'value=y');
  const replay = await request(server.url, 'GET', `/v2/keys/dir/b?wait=true&waitIndex=${first}`);
  assert.equal(replay.status, 200);
  assert.match(replay.body, /^\{"action":"set","node":\{"key":"\/dir\/b","value":"y"/);
  const recursive = await request(server.url, 'GET', `/v2/keys/dir?wait=true&recursive=true&waitIndex=${first}`);
  assert.match(recursive.body, /^\{"action":"set","node":\{"key":"\/dir\/a","value":"x"/);
  // Push the history past 1000 events, then ask for index 1.
  for (let i = 0; i < 1000; i += 50) {
    await Promise.all(Array.from({ length: 50 }, (_, j) => put(`/v2/keys/fill${j}`, 'value=z')));
  }
  const current = server.member.store.index;
  const old = await request(server.url, 'GET', '/v2/keys/dir?wait=true&waitIndex=1');
  assert.equal(old.status, 400);
  assert.equal(old.body, `{"errorCode":401,"message":"The event in requested index is outdated and cleared","cause":"the requested history has been cleared [${current - 999}/1]","index":${current}}\n`);
  assert.equal(watchers(), 0);
});

test('stream=true writes one JSON object per line and keeps going', async () => {
  const watch = await openStream(server.url, '/v2/keys/s?wait=true&stream=true');
  await put('/v2/keys/s', 'value=1');
  await put('/v2/keys/s', 'value=2');
  await until(() => watch.text().split('\n').length === 3, 'two stream lines');
  const lines = watch.text().split('\n');
  assert.match(lines[0] ?? '', /^\{"action":"set","node":\{"key":"\/s","value":"1"/);
  assert.match(lines[1] ?? '', /^\{"action":"set","node":\{"key":"\/s","value":"2"/);
  assert.equal(lines[2], '');
  assert.equal(watchers(), 1);
  watch.req.destroy();
  await until(() => watchers() === 0, 'stream watcher removed on disconnect');
});

test('idle watch ends with 200 and an empty body after watchIdleTimeoutMs', async () => {
  const started = Date.now();
  const watch = await openStream(server.url, '/v2/keys/idle?wait=true');
  assert.equal(watch.res.statusCode, 200);
  assert.equal(await watch.ended, '');
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= idleMs - 20 && elapsed < idleMs + 1000, `ended after ${elapsed} ms`);
  assert.equal(watchers(), 0);
});

test('clients that go away take their watchers with them (100 long polls)', async () => {
  const watches = await Promise.all(Array.from({ length: 100 }, (_, i) => openStream(server.url, `/v2/keys/gone${i % 7}?wait=true`)));
  assert.equal(watchers(), 100);
  for (const watch of watches) watch.req.destroy();
  await until(() => watchers() === 0, 'all watchers removed');
});

test('a deleted directory wakes watchers below it with the directory event', async () => {
  await put('/v2/keys/parent/child', 'value=1');
  const watch = await openStream(server.url, '/v2/keys/parent/child?wait=true');
  await request(server.url, 'DELETE', '/v2/keys/parent?recursive=true');
  assert.match(await watch.ended, /^\{"action":"delete","node":\{"key":"\/parent","dir":true,/);
});

test('wait=true on anything but GET is 209 (HEAD included, as etcd 3.4 answers)', async () => {
  const res = await request(server.url, 'POST', '/v2/keys/q?wait=true');
  assert.equal(res.status, 400);
  assert.match(res.body, /^\{"errorCode":209,"message":"Invalid field","cause":"\\"wait\\" can only be used with GET requests"/);
  const head = await request(server.url, 'HEAD', '/v2/keys/w?wait=true');
  assert.equal(head.status, 400);
  assert.equal(head.body, '');
  assert.equal(watchers(), 0);
});

test('a stream whose client stops reading is cut off instead of buffering without bound', async () => {
  const slow = await startTestServer({ maxStreamBacklogBytes: 64 * 1024 });
  const socket = net.connect(slow.port, '127.0.0.1');
  try {
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write('GET /v2/keys/flood?wait=true&stream=true HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => slow.member.store.stats().watchers === 1, 'stream registered');
    socket.pause();
    const value = 'v'.repeat(16 * 1024);
    const nowMs = slow.member.clock.nowMs();
    // Loopback socket buffers take a few MiB before Node starts queueing; then the cap applies.
    for (let i = 0; i < 2000 && slow.member.store.stats().watchers === 1; i++) {
      slow.member.store.apply({ op: 'set', key: '/flood', value, dir: false, expireAtMs: null, refresh: false, nowMs });
      if (i % 50 === 0) await new Promise((r) => setImmediate(r));
    }
    assert.equal(slow.member.store.stats().watchers, 0);
  } finally {
    socket.destroy();
    await slow.close();
  }
});
