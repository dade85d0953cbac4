/**
 * TTL expiry in a cluster (spec §6, §16): keys expire only through the leader's SYNC entries, so
 * every member expires the same key at the same index with the same event — seen here through
 * each member's own event history (a watch with waitIndex), not through the leader alone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster } from '../support/cluster.js';
import { call, eventually } from './http.js';

test('every member expires a TTL key at the same index, with the same expire event', async () => {
  const cluster = await startCluster({ size: 3, mode: 'static' });
  try {
    const leader = await cluster.waitForLeader();
    const created = await call(`${leader.clientUrl}/v2/keys/lease?ttl=1`, 'PUT', { form: 'value=held' });
    assert.equal(created.status, 201, created.body);
    const { modifiedIndex: createdIndex, expiration } = (created.json as { node: { modifiedIndex: number; expiration: string } }).node;
    await eventually('the key has expired on the leader', async () => (await call(`${leader.clientUrl}/v2/keys/lease`, 'GET')).status === 404, 5_000);
    const events: string[] = [];
    for (const member of cluster.members) {
      await eventually(`${member.name} applied the expiry`, async () => (await call(`${member.clientUrl}/v2/keys/lease`, 'GET')).status === 404, 5_000);
      const replay = await call(`${member.clientUrl}/v2/keys/lease?wait=true&waitIndex=${createdIndex + 1}`, 'GET');
      assert.equal(replay.status, 200, `${member.name}: ${replay.body}`);
      events.push(replay.body);
    }
    const expected = `{"action":"expire","node":{"key":"/lease","modifiedIndex":${createdIndex + 1},"createdIndex":${createdIndex}},"prevNode":{"key":"/lease","value":"held","expiration":"${expiration}","modifiedIndex":${createdIndex},"createdIndex":${createdIndex}}}\n`;
    assert.deepEqual(events, cluster.members.map(() => expected));
  } finally {
    await cluster.remove();
  }
});
