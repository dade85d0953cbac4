/**
 * A member that was down while the others moved on catches up through a snapshot: with
 * `-snapshot-count 50`, stop a follower, write 500 keys, start it again; it must converge to
 * the leader's store key by key (values, createdIndex, modifiedIndex, X-Etcd-Index), and its log
 * must say it installed a snapshot from the leader (the black-box signal that it did not simply
 * replay the log), and catching up must write nothing (same X-Etcd-Index, same /_etcd). After
 * catching up it takes part in new writes like any member. The second case stops the member
 * before the cluster settled, when its own registration may not have reached it yet.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster } from '../support/cluster.js';
import { call, pollTree, readTree, sameKeys, untilLeaderAnswers } from './http.js';

const KEYS = 500;
const CONCURRENCY = 8;

interface Scenario {
  /** Whether the cluster settles (every registration applied everywhere) before a member stops. */
  readonly settle: boolean;
  readonly keys: number;
}

async function lagAndCatchUp({ settle, keys }: Scenario): Promise<void> {
  const cluster = await startCluster({ size: 3, mode: 'static', args: ['-snapshot-count', '50'], settle });
  try {
    const leader = await cluster.waitForLeader();
    const lagging = (await cluster.followers())[0];
    assert.ok(lagging !== undefined);
    assert.equal(await lagging.stop(), 0);

    let next = 0;
    const writeSome = async (): Promise<void> => {
      for (let n = next++; n < keys; n = next++) {
        const reply = await untilLeaderAnswers(`${leader.clientUrl}/v2/keys/snap/k${n}`, 'PUT', { form: `value=v${n}` });
        assert.equal(reply.status, 201, `k${n}: ${reply.body}`);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, writeSome));

    const reference = await readTree(leader, '/snap', true);
    assert.equal(reference.keys.size, keys + 1, `the directory and its ${keys} keys`);
    const internalsBefore = await untilLeaderAnswers(`${leader.clientUrl}/v2/keys/_etcd?recursive=true&quorum=true`, 'GET');

    await lagging.restart();
    const caughtUp = await pollTree(lagging, '/snap', (s) => sameKeys(s, reference), 20_000);
    assert.deepEqual([...caughtUp.keys].sort(), [...reference.keys].sort(), `${lagging.name} converges to the leader's store`);
    assert.match(lagging.output(), /installed a snapshot from the leader at index \d+/, `${lagging.name}'s log:\n${lagging.output()}`);
    // Catching up writes nothing: no index moves, /_etcd is as it was (a member must not publish
    // its machine record again because its own store was behind when it came back).
    const internalsAfter = await untilLeaderAnswers(`${leader.clientUrl}/v2/keys/_etcd?recursive=true&quorum=true`, 'GET');
    assert.equal(internalsAfter.body, internalsBefore.body, `/_etcd changed while ${lagging.name} caught up\n${lagging.name}'s log:\n${lagging.output()}`);
    assert.equal(caughtUp.etcdIndex, reference.etcdIndex, 'X-Etcd-Index');

    const current = await cluster.waitForLeader();
    const after = await call(`${current.clientUrl}/v2/keys/snap/after`, 'PUT', { form: 'value=x' });
    assert.equal(after.status, 201, after.body);
    assert.equal(after.headers.get('x-etcd-index'), String(reference.etcdIndex + 1));
    const seen = await call(`${lagging.clientUrl}/v2/keys/snap/after?quorum=true`, 'GET');
    assert.equal(seen.body, after.body.replace('"action":"set"', '"action":"get"'));
  } finally {
    await cluster.remove();
  }
}

test('a lagging member catches up through a snapshot (-snapshot-count 50, 500 writes while it was down)', async () => {
  await lagAndCatchUp({ settle: true, keys: KEYS });
});

test('a member stopped as soon as the cluster has a leader catches up without publishing itself again', async () => {
  await lagAndCatchUp({ settle: false, keys: 120 });
});
