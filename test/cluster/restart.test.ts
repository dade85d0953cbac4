/**
 * Stop every member of a cluster with SIGTERM, start them all again on the same data: the
 * cluster comes back with the same members (ids), the same keys with the same createdIndex and
 * modifiedIndex, the same X-Etcd-Index, and the next write takes the next index. Once for a
 * static cluster and once for a -peers cluster (0.4.6 full-outage recovery from the logs).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type Cluster } from '../support/cluster.js';
import { call, followRedirects, lastOf, membersOf, pollTree, readTree, sameKeys, type Snapshot } from './http.js';

/** A little of everything: creates, updates, a delete, a directory, a TTL key, a CAS. */
async function writeHistory(cluster: Cluster): Promise<void> {
  const writes: [string, string, string?][] = [
    ['PUT', '/v2/keys/r/a', 'value=1'],
    ['PUT', '/v2/keys/r/b', 'value=2'],
    ['PUT', '/v2/keys/r/dir/c', 'value=3'],
    ['DELETE', '/v2/keys/r/a'],
    ['PUT', '/v2/keys/r/b', 'value=22'],
    ['PUT', '/v2/keys/r/ttl', 'value=t&ttl=600'],
    ['PUT', '/v2/keys/r/b?prevValue=22', 'value=cas'],
    ['POST', '/v2/keys/r/queue', 'value=job'],
  ];
  for (const [i, [method, path, form]] of writes.entries()) {
    const member = cluster.members[i % cluster.members.length];
    assert.ok(member !== undefined);
    const reply = lastOf(await followRedirects(`${member.clientUrl}${path}`, method, form !== undefined ? { form } : {}));
    // Not idempotent (a CAS, a POST), so no retry: an election here fails the test, visibly.
    assert.ok(reply.status === 200 || reply.status === 201, `${method} ${path}: ${reply.status} ${reply.body}`);
  }
}

async function converged(cluster: Cluster): Promise<Snapshot> {
  const leader = await cluster.waitForLeader();
  const reference = await readTree(leader, '/r', true);
  for (const member of cluster.members) {
    const seen = await pollTree(member, '/r', (s) => sameKeys(s, reference) && s.etcdIndex === reference.etcdIndex, 5_000);
    assert.deepEqual([...seen.keys], [...reference.keys], `${member.name} holds the leader's keys`);
    assert.equal(seen.etcdIndex, reference.etcdIndex, `${member.name} X-Etcd-Index`);
  }
  return reference;
}

async function stopAndStartAgain(mode: 'static' | 'join'): Promise<void> {
  const cluster = await startCluster({ size: 3, mode });
  try {
    await writeHistory(cluster);
    const before = await converged(cluster);
    const leaderBefore = await cluster.waitForLeader();
    const membersBefore = await membersOf(leaderBefore);

    assert.deepEqual(await cluster.stopAll(), [0, 0, 0], 'SIGTERM is a clean exit for every member');
    await cluster.restartAll();

    const after = await converged(cluster);
    assert.deepEqual([...after.keys], [...before.keys], 'every key, with the same indexes');
    assert.equal(after.etcdIndex, before.etcdIndex, 'X-Etcd-Index');
    for (const member of cluster.members) assert.deepEqual(await membersOf(member), membersBefore, `${member.name} /v2/members`);

    const leader = await cluster.waitForLeader();
    const next = await call(`${leader.clientUrl}/v2/keys/r/next`, 'PUT', { form: 'value=x' });
    assert.equal(next.status, 201, next.body);
    const index = before.etcdIndex + 1;
    assert.equal(next.body, `{"action":"set","node":{"key":"/r/next","value":"x","modifiedIndex":${index},"createdIndex":${index}}}\n`);
  } finally {
    await cluster.remove();
  }
}

test('a static cluster stopped and started again keeps every key and index', async () => {
  await stopAndStartAgain('static');
});

test('a -peers cluster stopped and started again keeps every key and index', async () => {
  await stopAndStartAgain('join');
});
