import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startEtcd, type EtcdProcess } from '../support/etcd-process.js';
import { destroyAgent, openStream, request } from './http-client.js';

/**
 * The client port inside the real `bin/etcd` process: the tutorial's curl shapes, watches, and
 * 10,000 concurrent long-poll watchers on one member.
 */

let etcd: EtcdProcess;

before(async () => {
  etcd = await startEtcd({ name: 'api-e2e' });
});
after(async () => {
  destroyAgent();
  await etcd.remove();
});

test('the tutorial over HTTP: first key is index 3, root listing, recursive, version, stats', async () => {
  const set = await request(etcd.clientUrl, 'PUT', '/v2/keys/coreos.com/updateengine/rebootlock/semaphore', { body: 'value=%7B%22semaphore%22%3A1%7D' });
  assert.equal(set.status, 201);
  assert.equal(set.headers['x-etcd-index'], '3');
  assert.equal(set.body, '{"action":"set","node":{"key":"/coreos.com/updateengine/rebootlock/semaphore","value":"{\\"semaphore\\":1}","modifiedIndex":3,"createdIndex":3}}\n');
  const root = await request(etcd.clientUrl, 'GET', '/v2/keys/');
  assert.equal(root.body, '{"action":"get","node":{"key":"/","dir":true,"nodes":[{"key":"/coreos.com","dir":true,"modifiedIndex":3,"createdIndex":3}]}}\n');
  const recursive = await request(etcd.clientUrl, 'GET', '/v2/keys/?recursive=true');
  assert.equal(
    recursive.body,
    '{"action":"get","node":{"key":"/","dir":true,"nodes":[{"key":"/coreos.com","dir":true,"nodes":[{"key":"/coreos.com/updateengine","dir":true,"nodes":[' +
      '{"key":"/coreos.com/updateengine/rebootlock","dir":true,"nodes":[{"key":"/coreos.com/updateengine/rebootlock/semaphore","value":"{\\"semaphore\\":1}","modifiedIndex":3,"createdIndex":3}],' +
      '"modifiedIndex":3,"createdIndex":3}],"modifiedIndex":3,"createdIndex":3}],"modifiedIndex":3,"createdIndex":3}]}}\n',
  );
  const version = await request(etcd.clientUrl, 'GET', '/version', { headers: { Accept: '*/*' } });
  assert.equal(version.body, 'etcd 0.4.6');
  const leader = await request(etcd.clientUrl, 'GET', '/v2/stats/leader');
  assert.match(leader.body, /^\{"leader":"[0-9a-f]{16}","followers":\{\}\}\n$/);
  const self = await request(etcd.clientUrl, 'GET', '/v2/stats/self');
  assert.match(self.body, /^\{"name":"api-e2e","id":"[0-9a-f]{16}","state":"leader","startTime":"[^"]+","leaderInfo":\{"leader":"[0-9a-f]{16}","uptime":"[^"]+","startTime":"[^"]+"\},"recvAppendRequestCnt":0,"sendAppendRequestCnt":0\}\n$/);
  const store = await request(etcd.clientUrl, 'GET', '/v2/stats/store');
  assert.match(store.body, /^\{"getsSuccess":3,"getsFail":0,"setsSuccess":3,"setsFail":0,"deleteSuccess":0,.*"watchers":0\}\n$/);
  const machines = await request(etcd.clientUrl, 'GET', '/v2/machines');
  assert.equal(machines.body, etcd.clientUrl);
  const refused = await request(etcd.clientUrl, 'PUT', '/v2/keys/_etcd/config', { body: 'value=%7B%7D' });
  assert.equal(refused.status, 400);
  assert.match(refused.body, /^\{"errorCode":106,/);
});

test('a long poll and a stream on the real member', async () => {
  const poll = await openStream(etcd.clientUrl, '/v2/keys/e2e/watched?wait=true');
  const stream = await openStream(etcd.clientUrl, '/v2/keys/e2e?wait=true&recursive=true&stream=true');
  const set = await request(etcd.clientUrl, 'PUT', '/v2/keys/e2e/watched', { body: 'value=1&ttl=100' });
  assert.equal(set.status, 201);
  const index = Number(set.headers['x-etcd-index']);
  assert.match(await poll.ended, new RegExp(`^\\{"action":"set","node":\\{"key":"/e2e/watched","value":"1","expiration":"[^"]+","ttl":100,"modifiedIndex":${index},"createdIndex":${index}\\}\\}\\n$`));
  await request(etcd.clientUrl, 'DELETE', '/v2/keys/e2e/watched');
  const deadline = Date.now() + 5000;
  while (stream.text().split('\n').length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const lines = stream.text().split('\n');
  assert.match(lines[0] ?? '', /^\{"action":"set",/);
  assert.match(lines[1] ?? '', /^\{"action":"delete","node":\{"key":"\/e2e\/watched","modifiedIndex":/);
  stream.req.destroy();
});

interface RawWatch {
  readonly socket: net.Socket;
  text: string;
}

/** A bare-socket long poll (lighter than http.request): resolves once the headers are flushed. */
function rawWatch(port: number, path: string): Promise<RawWatch> {
  return new Promise((resolve, reject) => {
    const watch: RawWatch = { socket: net.connect(port, '127.0.0.1'), text: '' };
    watch.socket.setEncoding('utf8');
    watch.socket.once('connect', () => watch.socket.write(`GET ${path} HTTP/1.1\r\nHost: etcd\r\n\r\n`));
    watch.socket.on('data', (chunk: string) => {
      const hadHeaders = watch.text.includes('\r\n\r\n');
      watch.text += chunk;
      if (!hadHeaders && watch.text.includes('\r\n\r\n')) resolve(watch);
    });
    watch.socket.once('error', reject);
  });
}

async function watcherCount(): Promise<number> {
  const stats = JSON.parse((await request(etcd.clientUrl, 'GET', '/v2/stats/store')).body) as { watchers: number };
  return stats.watchers;
}

test('10,000 concurrent long-poll watchers on one member all get the event, then none are left', async () => {
  const total = 10_000;
  const batch = 400;
  const port = Number(new URL(etcd.clientUrl).port);
  const watches: RawWatch[] = [];
  try {
    for (let opened = 0; opened < total; opened += batch) {
      watches.push(...(await Promise.all(Array.from({ length: batch }, () => rawWatch(port, '/v2/keys/hot?wait=true')))));
    }
    assert.ok(watches.every((w) => w.text.startsWith('HTTP/1.1 200 OK\r\n')));
    assert.equal(await watcherCount(), total);
    const set = await request(etcd.clientUrl, 'PUT', '/v2/keys/hot', { body: 'value=go' });
    const event = `{"action":"set","node":{"key":"/hot","value":"go","modifiedIndex":${set.headers['x-etcd-index']},"createdIndex":${set.headers['x-etcd-index']}}}\n`;
    const deadline = Date.now() + 20_000;
    while (watches.some((w) => !w.text.includes(event)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(watches.filter((w) => w.text.includes(event)).length, total);
    assert.equal(await watcherCount(), 0);
  } finally {
    for (const w of watches) w.socket.destroy();
  }
  // Clients that hang up take their watchers with them.
  const leaving = await Promise.all(Array.from({ length: 1000 }, () => rawWatch(port, '/v2/keys/cold?wait=true')));
  assert.equal(await watcherCount(), 1000);
  for (const w of leaving) w.socket.destroy();
  const deadline = Date.now() + 10_000;
  while ((await watcherCount()) !== 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.equal(await watcherCount(), 0);
});
