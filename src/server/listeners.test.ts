import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boundPort, closeAll, listenAll, listenTargetOf, ListenError } from './listeners.js';
import { createPeerPortHandler } from './peer-port.js';

test('listen URLs: host, port and scheme; bad URLs are refused with the URL named', () => {
  assert.deepEqual(listenTargetOf('http://127.0.0.1:4001'), { host: '127.0.0.1', port: 4001, secure: false });
  assert.deepEqual(listenTargetOf('https://[::1]:2379'), { host: '::1', port: 2379, secure: true });
  assert.deepEqual(listenTargetOf('http://0.0.0.0'), { host: '0.0.0.0', port: 80, secure: false });
  assert.throws(() => listenTargetOf('127.0.0.1:4001x'), (e: unknown) => e instanceof ListenError && /127\.0\.0\.1:4001x/.test(e.message));
  assert.throws(() => listenTargetOf('unix://sock'), /scheme must be http or https/);
});

test('the peer port serves /name, /version, GET /v2/admin/config and 404 otherwise', async () => {
  const handler = createPeerPortHandler({ name: 'node1', clusterConfigJson: () => '{"activeSize":9,"removeDelay":1800,"syncInterval":5}' });
  const [server] = await listenAll(['http://127.0.0.1:0'], handler, null);
  assert.ok(server !== undefined);
  const base = `http://127.0.0.1:${boundPort(server)}`;
  try {
    const name = await fetch(`${base}/name`, { method: 'POST' });
    assert.deepEqual([name.status, await name.text()], [200, 'node1']);
    const version = await fetch(`${base}/version`);
    assert.deepEqual([version.status, await version.text()], [200, '2']);
    const config = await fetch(`${base}/v2/admin/config`);
    assert.deepEqual([config.status, config.headers.get('content-type'), await config.text()],
      [200, 'application/json', '{"activeSize":9,"removeDelay":1800,"syncInterval":5}\n']);
    const put = await fetch(`${base}/v2/admin/config`, { method: 'PUT', body: '{}' });
    assert.deepEqual([put.status, await put.text()], [404, '404 page not found\n']);
  } finally {
    await closeAll([server]);
  }
});

test('an address in use is a ListenError naming the URL, and nothing stays open', async () => {
  const [first] = await listenAll(['http://127.0.0.1:0'], (_req, res) => res.end(), null);
  assert.ok(first !== undefined);
  const url = `http://127.0.0.1:${boundPort(first)}`;
  try {
    await assert.rejects(listenAll(['http://127.0.0.1:0', url], (_req, res) => res.end(), null),
      (e: unknown) => e instanceof ListenError && e.message === `cannot listen on "${url}": EADDRINUSE`);
  } finally {
    await closeAll([first]);
  }
});
