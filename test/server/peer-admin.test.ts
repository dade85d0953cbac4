/**
 * The tutorial's peer-port admin API on a real member: `curl -L :7001/v2/admin/config` (GET, PUT
 * with clamping, a bad body) and `/v2/admin/machines[/<name>]`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startEtcd } from '../support/etcd-process.js';
import { mergeClusterConfig, ClusterConfigDecodeError } from '../../src/server/peer-admin.js';

test('mergeClusterConfig: given fields replace, minimums apply, bad bodies are refused', () => {
  const current = { activeSize: 9, removeDelay: 1800, syncInterval: 5 };
  assert.deepEqual(mergeClusterConfig(current, '{"activeSize":5}'), { activeSize: 5, removeDelay: 1800, syncInterval: 5 });
  assert.deepEqual(mergeClusterConfig(current, '{"activeSize":1,"removeDelay":0,"syncInterval":0}'), { activeSize: 3, removeDelay: 2, syncInterval: 1 });
  assert.deepEqual(mergeClusterConfig(current, '{}'), current);
  assert.throws(() => mergeClusterConfig(current, '{"activeSize":'), ClusterConfigDecodeError);
  assert.throws(() => mergeClusterConfig(current, '[1]'), ClusterConfigDecodeError);
  assert.throws(() => mergeClusterConfig(current, '{"activeSize":"9"}'), /activeSize must be an integer, got "9"/);
  assert.throws(() => mergeClusterConfig(current, '{"removeDelay":2.5}'), /removeDelay must be an integer/);
});

test('peer port admin: config GET/PUT goes through the log, machines list the member', async () => {
  const etcd = await startEtcd({ name: 'coreos-1' });
  try {
    const peer = etcd.peerUrl;
    const get = await fetch(`${peer}/v2/admin/config`);
    assert.equal(get.status, 200);
    assert.equal(await get.text(), '{"activeSize":9,"removeDelay":1800,"syncInterval":5}\n');

    const same = await fetch(`${peer}/v2/admin/config`, { method: 'PUT', body: '{"activeSize":9,"removeDelay":1800,"syncInterval":5}' });
    assert.equal(same.status, 200);
    assert.equal(await same.text(), '{"activeSize":9,"removeDelay":1800,"syncInterval":5}\n');

    const clamped = await fetch(`${peer}/v2/admin/config`, { method: 'PUT', body: '{"activeSize":1,"removeDelay":0}' });
    assert.equal(clamped.status, 200);
    assert.equal(await clamped.text(), '{"activeSize":3,"removeDelay":2,"syncInterval":5}\n');
    // The change is a committed write of /_etcd/config: readable as a key, with a new index.
    const key = (await (await fetch(`${etcd.clientUrl}/v2/keys/_etcd/config`)).json()) as { node: { value: string; modifiedIndex: number } };
    assert.equal(key.node.value, '{"activeSize":3,"removeDelay":2,"syncInterval":5}');
    assert.equal(key.node.modifiedIndex, 4);

    const bad = await fetch(`${peer}/v2/admin/config`, { method: 'PUT', body: 'not json' });
    assert.equal(bad.status, 500);
    assert.match(await bad.text(), /^invalid JSON: /);

    const machines = await fetch(`${peer}/v2/admin/machines`);
    assert.equal(machines.status, 200);
    assert.equal(
      await machines.text(),
      JSON.stringify([{ name: 'coreos-1', state: 'leader', clientURL: etcd.clientUrl, peerURL: etcd.peerUrl }]) + '\n',
    );
    const one = await fetch(`${peer}/v2/admin/machines/coreos-1`);
    assert.deepEqual(await one.json(), { name: 'coreos-1', state: 'leader', clientURL: etcd.clientUrl, peerURL: etcd.peerUrl });
    const unknown = await fetch(`${peer}/v2/admin/machines/nobody`);
    assert.equal(unknown.status, 200);
    assert.equal(await unknown.text(), 'null\n');
  } finally {
    await etcd.remove();
  }
});
