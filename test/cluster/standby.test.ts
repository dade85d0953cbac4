/**
 * Standby mode (0.4.6): in a cluster founded with `-cluster-active-size 3`, a 4th member that
 * joins with -peers becomes a standby — every client request to it gets 307 to the leader's
 * client URL (same path and query), its peer port answers 404, and the cluster still lists three
 * members. Removing a member frees the slot, and the standby joins within about one
 * syncInterval (1 s here): it then serves as a follower with the cluster's data.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selfStats, startCluster } from '../support/cluster.js';
import { assertMembership, assertRemovedAndExited } from './checks.js';
import { call, eventually, membersOf } from './http.js';

test('activeSize 3: a 4th member is a standby answering 307; removing a member lets it join', async () => {
  const cluster = await startCluster({
    size: 3,
    mode: 'join',
    founderArgs: ['-cluster-active-size', '3', '-cluster-sync-interval', '1'],
  });
  try {
    const leader = await cluster.waitForLeader();
    const config = await call(`${leader.peerUrl}/v2/admin/config`, 'GET');
    assert.equal(config.body, '{"activeSize":3,"removeDelay":1800,"syncInterval":1}\n');
    const written = await call(`${leader.clientUrl}/v2/keys/before-standby`, 'PUT', { form: 'value=old' });
    assert.equal(written.status, 201, written.body);

    const peers = cluster.members.map((m) => m.peerUrl.replace('http://', '')).join(',');
    const standby = await cluster.addMember({ name: 'n4', args: ['-peers', peers], track: false });

    for (const [method, path] of [
      ['GET', '/v2/keys/before-standby?quorum=true'],
      ['PUT', '/v2/keys/from-standby?prevExist=false'],
      ['GET', '/v2/stats/self'],
      ['GET', '/v2/members'],
      ['GET', '/version'],
    ] as const) {
      const reply = await call(`${standby.clientUrl}${path}`, method, method === 'PUT' ? { form: 'value=x' } : {});
      assert.equal(reply.status, 307, `standby ${method} ${path}: ${reply.status} ${reply.body}`);
      assert.equal(reply.location, `${leader.clientUrl}${path}`, `standby ${method} ${path}`);
    }
    for (const path of ['/v2/admin/config', '/v2/admin/machines', '/name', '/version']) {
      const reply = await call(`${standby.peerUrl}${path}`, 'GET');
      assert.equal(reply.status, 404, `standby peer port ${path}: ${reply.body}`);
    }
    assert.deepEqual((await membersOf(leader)).map((m) => m.name), ['n1', 'n2', 'n3'], 'the standby is not a member');

    const victim = (await cluster.followers())[0];
    assert.ok(victim !== undefined);
    const removed = await call(`${leader.peerUrl}/v2/admin/machines/${victim.name}`, 'DELETE');
    assert.equal(removed.status, 200, removed.body);
    await assertRemovedAndExited(victim);
    cluster.forget(victim);

    let state = '';
    await eventually(
      () => `the standby joins as a follower (state: ${state}):\n${standby.output()}`,
      async () => {
        const names = (await membersOf(leader)).map((m) => m.name);
        if (!names.includes('n4')) return false;
        state = (await selfStats(standby)).state;
        return state === 'follower';
      },
      10_000,
    );
    cluster.track(standby);
    await assertMembership(cluster, 'after the standby joined');
    const read = await call(`${standby.clientUrl}/v2/keys/before-standby?quorum=true`, 'GET');
    assert.equal(read.status, 200, read.body);
    assert.equal(read.body, written.body.replace('"action":"set"', '"action":"get"'), 'the former standby has the data');
  } finally {
    await cluster.remove();
  }
});
