/**
 * removeDelay (0.4.6, §9.2, §9.4): the leader removes a member it has not heard from for longer
 * than removeDelay seconds; /v2/members and /_etcd/machines drop it. When the member comes back
 * (restarted from its data dir) the cluster tells it it was removed, it becomes a standby, and —
 * the cluster having room — joins again under a new id, with the cluster's data.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster } from '../support/cluster.js';
import { call, eventually, membersOf } from './http.js';

test('a member silent for longer than removeDelay is removed; coming back it is a standby that joins again', async () => {
  const cluster = await startCluster({
    size: 3,
    mode: 'join',
    founderArgs: ['-cluster-remove-delay', '2', '-cluster-sync-interval', '1'],
  });
  try {
    const leader = await cluster.waitForLeader();
    const config = await call(`${leader.peerUrl}/v2/admin/config`, 'GET');
    assert.equal(config.body, '{"activeSize":9,"removeDelay":2,"syncInterval":1}\n');
    const [silent] = await cluster.followers();
    assert.ok(silent !== undefined);
    const oldId = (await membersOf(leader)).find((m) => m.name === silent.name)?.id;
    assert.ok(oldId !== undefined);

    await silent.kill9();
    await eventually(`${silent.name} removed after removeDelay`, async () => !(await membersOf(leader)).some((m) => m.name === silent.name), 8_000);
    const record = await call(`${leader.clientUrl}/v2/keys/_etcd/machines/${silent.name}?quorum=true`, 'GET');
    assert.equal(record.status, 404, record.body);
    const written = await call(`${leader.clientUrl}/v2/keys/while-removed`, 'PUT', { form: 'value=1' });
    assert.equal(written.status, 201, written.body);

    await silent.restart();
    await eventually(`${silent.name} joined again`, async () => (await membersOf(leader)).some((m) => m.name === silent.name && m.clientURLs.length > 0), 10_000);
    const newId = (await membersOf(leader)).find((m) => m.name === silent.name)?.id;
    assert.notEqual(newId, oldId, 'a removed id never comes back: the member joined under a new one');
    await eventually(`${silent.name} has the data written while it was out`, async () => (await call(`${silent.clientUrl}/v2/keys/while-removed`, 'GET')).status === 200, 5_000);
    assert.match(silent.output(), /removed from the cluster/);
    assert.match(silent.output(), /becoming a standby/);
  } finally {
    await cluster.remove();
  }
});
