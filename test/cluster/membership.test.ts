/**
 * Membership changes on a running cluster, both ways:
 * - 0.4.6: a 4th member joins with -peers and is removed with DELETE <peer>/v2/admin/machines/<name>;
 * - 3.4: POST /v2/members announces a 4th peer URL, the member starts with
 *   `--initial-cluster-state existing`, and DELETE /v2/members/<id> removes a member.
 * /v2/members and /_etcd/machines follow each step on every member; a removed member exits with
 * code 0 and says so in its log; the new member serves the data written before it joined.
 * Also: a -peers join that cannot reach anyone gives up with the 0.4.6 message and a non-zero exit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freePorts } from '../support/ports.js';
import { selfStats, startCluster } from '../support/cluster.js';
import { startEtcd } from '../support/etcd-process.js';
import { assertMembership, assertRemovedAndExited } from './checks.js';
import { call, membersOf } from './http.js';

test('0.4.6: a 4th member joins with -peers, then is removed through the admin API', async () => {
  const cluster = await startCluster({ size: 3, mode: 'join' });
  try {
    const leader = await cluster.waitForLeader();
    const before = await call(`${leader.clientUrl}/v2/keys/before-join`, 'PUT', { form: 'value=old' });
    assert.equal(before.status, 201, before.body);

    const peers = cluster.members.map((m) => m.peerUrl.replace('http://', '')).join(',');
    const fourth = await cluster.addMember({ name: 'n4', args: ['-peers', peers] });
    await assertMembership(cluster, 'after the -peers join');
    const quorum = await call(`${fourth.clientUrl}/v2/keys/before-join?quorum=true`, 'GET');
    assert.equal(quorum.body, before.body.replace('"action":"set"', '"action":"get"'), 'the new member has the old data');
    assert.equal((await selfStats(fourth)).state, 'follower');

    const follower = (await cluster.followers()).find((m) => m !== fourth);
    assert.ok(follower !== undefined);
    const redirected = await call(`${follower.peerUrl}/v2/admin/machines/n4`, 'DELETE');
    assert.equal(redirected.status, 307, `a follower's peer port sends the removal to the leader: ${redirected.body}`);
    assert.equal(redirected.location, `${leader.peerUrl}/v2/admin/machines/n4`);

    const removed = await call(`${leader.peerUrl}/v2/admin/machines/n4`, 'DELETE');
    assert.equal(removed.status, 200, removed.body);
    await assertRemovedAndExited(fourth);
    cluster.forget(fourth);
    await assertMembership(cluster, 'after removing n4');
    const gone = await call(`${leader.clientUrl}/v2/keys/_etcd/machines/n4?quorum=true`, 'GET');
    assert.equal(gone.status, 404, gone.body);

    const after = await call(`${leader.clientUrl}/v2/keys/after-remove`, 'PUT', { form: 'value=new' });
    assert.equal(after.status, 201, `the 3 remaining members still commit: ${after.body}`);
  } finally {
    await cluster.remove();
  }
});

test('3.4: POST /v2/members then --initial-cluster-state existing adds a member; DELETE /v2/members/<id> removes one', async () => {
  const cluster = await startCluster({ size: 3, mode: 'static' });
  try {
    const leader = await cluster.waitForLeader();
    const before = await call(`${leader.clientUrl}/v2/keys/before-add`, 'PUT', { form: 'value=old' });
    assert.equal(before.status, 201, before.body);
    const [clientPort, peerPort] = await freePorts(2);
    assert.ok(clientPort !== undefined && peerPort !== undefined);
    const peerUrl = `http://127.0.0.1:${peerPort}`;

    const added = await call(`${leader.clientUrl}/v2/members`, 'POST', { json: { peerURLs: [peerUrl] } });
    assert.equal(added.status, 201, added.body);
    const id = (added.json as { id?: string } | null)?.id ?? '';
    assert.match(id, /^[0-9a-f]{16}$/);
    assert.equal(added.body, `{"id":"${id}","name":"","peerURLs":["${peerUrl}"],"clientURLs":[]}\n`);
    const duplicate = await call(`${leader.clientUrl}/v2/members`, 'POST', { json: { peerURLs: [peerUrl] } });
    assert.equal(duplicate.status, 409, `the same peer URL twice: ${duplicate.body}`);
    for (const member of cluster.members) {
      const listed = (await membersOf(member)).find((m) => m.id === id);
      assert.deepEqual(listed, { id, name: '', peerURLs: [peerUrl], clientURLs: [] }, `${member.name} lists the announced member`);
    }

    const initialCluster = `${cluster.initialCluster()},n4=${peerUrl}`;
    const fourth = await cluster.addMember({
      name: 'n4',
      clientPort,
      peerPort,
      args: ['--initial-cluster', initialCluster, '--initial-cluster-state', 'existing'],
    });
    assert.equal((await selfStats(fourth)).id, id, 'the started member has the id the cluster gave it');
    await assertMembership(cluster, 'after n4 started');
    const quorum = await call(`${fourth.clientUrl}/v2/keys/before-add?quorum=true`, 'GET');
    assert.equal(quorum.body, before.body.replace('"action":"set"', '"action":"get"'), 'the new member has the old data');

    const victim = (await cluster.followers()).find((m) => m !== fourth);
    assert.ok(victim !== undefined);
    const victimId = (await selfStats(victim)).id;
    const removed = await call(`${leader.clientUrl}/v2/members/${victimId}`, 'DELETE');
    assert.equal(removed.status, 204, removed.body);
    assert.equal(removed.body, '');
    await assertRemovedAndExited(victim);
    cluster.forget(victim);
    await assertMembership(cluster, `after removing ${victim.name}`);
    const again = await call(`${leader.clientUrl}/v2/members/${victimId}`, 'DELETE');
    assert.equal(again.status, 410, `removing it twice (3.4: 410 already removed): ${again.body}`);

    const after = await call(`${leader.clientUrl}/v2/keys/after-remove`, 'PUT', { form: 'value=new' });
    assert.equal(after.status, 201, after.body);
  } finally {
    await cluster.remove();
  }
});

test('a -peers join that reaches nobody gives up after the retries, non-zero exit', async () => {
  const [clientPort, peerPort, deadPort] = await freePorts(3);
  const member = await startEtcd({
    name: 'lonely',
    ...(clientPort !== undefined ? { clientPort } : {}),
    ...(peerPort !== undefined ? { peerPort } : {}),
    args: ['-peers', `127.0.0.1:${deadPort}`, '-max-retry-attempts', '3', '-retry-interval', '0.1'],
    waitFor: 'spawned',
  });
  try {
    const code = await Promise.race([member.exited(), new Promise<string>((resolve) => setTimeout(() => resolve('still running after 15 s'), 15_000))]);
    assert.ok(typeof code === 'number' && code !== 0, `exit code ${String(code)}:\n${member.output()}`);
    assert.match(member.output(), /fail joining the cluster via given peers after 3 retries/);
  } finally {
    await member.remove();
  }
});

test('3.4: DELETE /v2/members/<leader id> — the leader removes itself and exits, the other two elect a leader and go on', async () => {
  const cluster = await startCluster({ size: 3, mode: 'static' });
  try {
    const leader = await cluster.waitForLeader();
    const leaderId = (await selfStats(leader)).id;
    const removed = await call(`${leader.clientUrl}/v2/members/${leaderId}`, 'DELETE');
    assert.equal(removed.status, 204, removed.body);
    await assertRemovedAndExited(leader);
    cluster.forget(leader);
    const next = await cluster.waitForLeader(5_000);
    assert.notEqual(next, leader);
    await assertMembership(cluster, `after the leader ${leader.name} removed itself`);
    const write = await call(`${next.clientUrl}/v2/keys/after-leader-removed`, 'PUT', { form: 'value=x' });
    assert.equal(write.status, 201, write.body);
    const membersBefore = await membersOf(next);

    // Started again on its old data, a removed member must not come back: it exits 0 (it may
    // serve for a moment before its log tells it it was removed).
    await leader.restart().catch(() => undefined);
    const code = await Promise.race([leader.exited(), new Promise<string>((resolve) => setTimeout(() => resolve('still running after 10 s'), 10_000))]);
    assert.equal(code, 0, `a removed member started again exits 0:\n${leader.output()}`);
    assert.deepEqual(await membersOf(next), membersBefore, 'the cluster did not take it back');
  } finally {
    await cluster.remove();
  }
});
