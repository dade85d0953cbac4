/**
 * 3.4's member update (`PUT /v2/members/<id>`): the peer URLs change through the log on every
 * member, and Raft traffic follows them — pointed at a dead address the member drops out (the
 * other two still commit), pointed back it catches up. Errors: 404 unknown id, 409 a URL another
 * member has, 400 a bad body.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort } from '../support/ports.js';
import { startCluster } from '../support/cluster.js';
import { call, eventually, membersOf } from './http.js';

test('PUT /v2/members/<id> moves a member: traffic follows the new URL; 404, 409 and 400 as 3.4', async () => {
  const cluster = await startCluster({ size: 3, mode: 'static' });
  try {
    const leader = await cluster.waitForLeader();
    const [follower] = (await cluster.followers());
    assert.ok(follower !== undefined);
    const members = await membersOf(leader);
    const target = members.find((m) => m.name === follower.name);
    const other = members.find((m) => m.name !== follower.name && m.name !== leader.name);
    assert.ok(target !== undefined && other !== undefined);

    const unknown = await call(`${leader.clientUrl}/v2/members/abcdef`, 'PUT', { json: { peerURLs: ['http://127.0.0.1:1'] } });
    assert.equal(unknown.status, 404, unknown.body);
    assert.equal(unknown.body, '{"message":"No such member: abcdef"}\n');
    const taken = await call(`${leader.clientUrl}/v2/members/${target.id}`, 'PUT', { json: { peerURLs: other.peerURLs } });
    assert.equal(taken.status, 409, taken.body);
    assert.equal(taken.body, '{"message":"etcdserver: peerURL exists"}\n');
    const bad = await call(`${leader.clientUrl}/v2/members/${target.id}`, 'PUT', { json: { peerURLs: [] } });
    assert.equal(bad.status, 400, bad.body);

    const deadUrl = `http://127.0.0.1:${await freePort()}`;
    const moved = await call(`${leader.clientUrl}/v2/members/${target.id}`, 'PUT', { json: { peerURLs: [deadUrl] } });
    assert.equal(moved.status, 204, moved.body);
    // The moved member itself may miss the change: from now on nobody reaches it.
    for (const member of cluster.members.filter((m) => m !== follower)) {
      await eventually(`${member.name} sees the new URL`, async () => (await membersOf(member)).find((m) => m.id === target.id)?.peerURLs[0] === deadUrl, 5_000);
    }
    // Nobody reaches the follower now: the other two still commit, and it stops hearing writes.
    const during = await call(`${leader.clientUrl}/v2/keys/while-away`, 'PUT', { form: 'value=1' });
    assert.equal(during.status, 201, during.body);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal((await call(`${follower.clientUrl}/v2/keys/while-away`, 'GET')).status, 404, 'the moved member was not sent the write');

    const back = await call(`${leader.clientUrl}/v2/members/${target.id}`, 'PUT', { json: { peerURLs: [follower.peerUrl] } });
    assert.equal(back.status, 204, back.body);
    await eventually(`${follower.name} catches up once its URL is right again`, async () => (await call(`${follower.clientUrl}/v2/keys/while-away`, 'GET')).status === 200, 5_000);
    for (const member of cluster.members) {
      await eventually(`${member.name} lists the member at its own URL again`, async () => (await membersOf(member)).find((m) => m.id === target.id)?.peerURLs[0] === follower.peerUrl, 5_000);
    }
  } finally {
    await cluster.remove();
  }
});
