/**
 * Three members form one cluster — from a static `--initial-cluster` list and from 0.4.6
 * `-peers` joins — and every member describes the same cluster: /v2/members, /v2/machines
 * (leader first), /v2/leader, /v2/stats/self and /v2/stats/leader, /_etcd/machines. A write sent
 * to any member is redirected by a follower to the leader (307, same path and query), and is then
 * readable on all three: at once with quorum=true, after a short while with a plain GET.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selfStats, startCluster, type Cluster } from '../support/cluster.js';
import type { EtcdProcess } from '../support/etcd-process.js';
import { call, eventually, expectedMembers, machinesKeys, machineValue, membersOf } from './http.js';

async function idsByName(cluster: Cluster): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  for (const member of cluster.members) {
    const self = await selfStats(member);
    assert.equal(self.name, member.name);
    assert.match(self.id, /^[0-9a-f]{16}$/, `${member.name} id`);
    ids.set(member.name, self.id);
  }
  assert.equal(new Set(ids.values()).size, cluster.members.length, `ids are distinct: ${JSON.stringify([...ids])}`);
  return ids;
}

async function assertShape(cluster: Cluster): Promise<void> {
  const leader = await cluster.waitForLeader();
  const ids = await idsByName(cluster);
  const leaderId = ids.get(leader.name);
  for (const member of cluster.members) {
    const self = await selfStats(member);
    assert.equal(self.state, member === leader ? 'leader' : 'follower', `${member.name} state`);
    assert.equal(self.leaderInfo.leader, leaderId, `${member.name} names the leader`);
    assert.deepEqual(await membersOf(member), expectedMembers(cluster.members, ids), `${member.name} /v2/members`);

    const machines = await call(`${member.clientUrl}/v2/machines`, 'GET');
    assert.equal(machines.status, 200);
    const urls = machines.body.split(', ');
    assert.equal(urls[0], leader.clientUrl, `${member.name} /v2/machines starts with the leader: ${machines.body}`);
    assert.deepEqual([...urls].sort(), cluster.clientUrls().sort(), `${member.name} /v2/machines: ${machines.body}`);

    const leaderUrl = await call(`${member.clientUrl}/v2/leader`, 'GET');
    assert.equal(leaderUrl.status, 200);
    assert.equal(leaderUrl.body, leader.peerUrl, `${member.name} /v2/leader`);
  }
  assert.deepEqual(await machinesKeys(leader), new Map(cluster.members.map((m) => [m.name, machineValue(m)])), '/_etcd/machines');
  await assertLeaderStats(cluster, leader, ids);
}

async function assertLeaderStats(cluster: Cluster, leader: EtcdProcess, ids: ReadonlyMap<string, string>): Promise<void> {
  const stats = await call(`${leader.clientUrl}/v2/stats/leader`, 'GET');
  assert.equal(stats.status, 200, stats.body);
  const body = stats.json as { leader: string; followers: Record<string, { latency: Record<string, unknown>; counts: Record<string, unknown> }> };
  assert.equal(body.leader, ids.get(leader.name));
  const followerIds = cluster.members.filter((m) => m !== leader).map((m) => ids.get(m.name) ?? '?');
  assert.deepEqual(Object.keys(body.followers).sort(), followerIds.sort(), stats.body);
  for (const follower of Object.values(body.followers)) {
    assert.deepEqual(Object.keys(follower.latency), ['current', 'average', 'standardDeviation', 'minimum', 'maximum'], stats.body);
    assert.deepEqual(Object.keys(follower.counts), ['fail', 'success'], stats.body);
    for (const value of [...Object.values(follower.latency), ...Object.values(follower.counts)]) assert.equal(typeof value, 'number', stats.body);
    assert.ok((follower.counts['success'] as number) > 0, `the leader has reached every follower: ${stats.body}`);
  }
  for (const follower of cluster.members.filter((m) => m !== leader)) {
    const redirected = await call(`${follower.clientUrl}/v2/stats/leader`, 'GET');
    assert.equal(redirected.status, 307, `${follower.name} /v2/stats/leader`);
    assert.equal(redirected.location, `${leader.clientUrl}/v2/stats/leader`);
  }
}

/** One create through every member; each is then readable everywhere with the same node. */
async function assertWritesEverywhere(cluster: Cluster): Promise<void> {
  const leader = await cluster.waitForLeader();
  for (const member of cluster.members) {
    const path = `/v2/keys/written/via-${member.name}?prevExist=false`;
    const form = `value=from-${member.name}`;
    let reply = await call(`${member.clientUrl}${path}`, 'PUT', { form });
    if (member !== leader) {
      assert.equal(reply.status, 307, `${member.name} redirects a write: ${reply.body}`);
      assert.equal(reply.location, `${leader.clientUrl}${path}`);
      reply = await call(reply.location ?? '', 'PUT', { form });
    }
    assert.equal(reply.status, 201, reply.body);
    const index = Number(reply.headers.get('x-etcd-index'));
    const node = `{"key":"/written/via-${member.name}","value":"from-${member.name}","modifiedIndex":${index},"createdIndex":${index}}`;
    assert.equal(reply.body, `{"action":"create","node":${node}}\n`);

    for (const reader of cluster.members) {
      const quorum = await call(`${reader.clientUrl}/v2/keys/written/via-${member.name}?quorum=true`, 'GET');
      assert.equal(quorum.status, 200, `${reader.name} quorum read: ${quorum.body}`);
      assert.equal(quorum.body, `{"action":"get","node":${node}}\n`, `${reader.name} quorum read`);
      let plain = '';
      await eventually(
        () => `${reader.name} serves /written/via-${member.name} on a plain GET (last: ${plain})`,
        async () => {
          plain = (await call(`${reader.clientUrl}/v2/keys/written/via-${member.name}`, 'GET')).body;
          return plain === `{"action":"get","node":${node}}\n`;
        },
        2_000,
      );
      if (reader !== leader) {
        const consistent = await call(`${reader.clientUrl}/v2/keys/written/via-${member.name}?consistent=true`, 'GET');
        assert.equal(consistent.status, 307, `${reader.name} consistent read`);
        assert.equal(consistent.location, `${leader.clientUrl}/v2/keys/written/via-${member.name}?consistent=true`);
      }
    }
  }
}

test('three members form a cluster from a static --initial-cluster list', async () => {
  const cluster = await startCluster({ size: 3, mode: 'static' });
  try {
    await assertShape(cluster);
    await assertWritesEverywhere(cluster);
  } finally {
    await cluster.remove();
  }
});

test('three members form a cluster from -peers joins', async () => {
  const cluster = await startCluster({ size: 3, mode: 'join' });
  try {
    await assertShape(cluster);
    await assertWritesEverywhere(cluster);
  } finally {
    await cluster.remove();
  }
});
