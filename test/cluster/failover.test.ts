/**
 * kill -9 the leader of a 3-member cluster (default timings) under a stream of concurrent writes
 * from several clients. The two survivors must agree on a new leader within 2 s, writes must go
 * on, and once the killed member is back every write that was acknowledged (201 with a
 * modifiedIndex) must be on every member with its value and index, and the three stores must be
 * identical key by key. Each write goes to a fresh key, so an unacknowledged write that did
 * commit anyway cannot hide an acknowledged one. The round-robin start offsets come from a seed
 * (FAILOVER_SEED replays one run; it is printed).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededPrng } from '../../src/common/prng.js';
import { sleep, startCluster, waitForAgreedLeader, type Cluster } from '../support/cluster.js';
import type { EtcdProcess } from '../support/etcd-process.js';
import { followRedirects, lastOf, pollTree, readTree, sameKeys, type Snapshot } from './http.js';

const WRITERS = 6;

interface Acked {
  readonly value: string;
  readonly modifiedIndex: number;
}

interface WriteLog {
  readonly acked: Map<string, Acked>;
  /** Answers that were not 201, by status (or 'network' when the connection failed). */
  readonly refused: Map<string, number>;
  ackedAfterKill: number;
}

/** One client: writes fresh keys to the members in turn, following 307s, until told to stop. */
async function writer(members: readonly EtcdProcess[], id: number, offset: number, log: WriteLog, state: { stop: boolean; killed: boolean }): Promise<void> {
  for (let n = 0; !state.stop; n++) {
    const member = members[(offset + n) % members.length];
    assert.ok(member !== undefined);
    const key = `/failover/w${id}/${n}`;
    const value = `v${id}-${n}`;
    try {
      const reply = lastOf(await followRedirects(`${member.clientUrl}/v2/keys${key}`, 'PUT', { form: `value=${value}`, timeoutMs: 3_000 }));
      if (reply.status === 201) {
        const node = (reply.json as { node?: { key?: string; value?: string; modifiedIndex?: number } }).node;
        assert.equal(node?.key, key, reply.body);
        assert.equal(node.value, value, reply.body);
        assert.ok(typeof node.modifiedIndex === 'number', reply.body);
        log.acked.set(key, { value, modifiedIndex: node.modifiedIndex });
        if (state.killed) log.ackedAfterKill++;
        continue;
      }
      log.refused.set(String(reply.status), (log.refused.get(String(reply.status)) ?? 0) + 1);
    } catch (error) {
      if (error instanceof assert.AssertionError) throw error;
      log.refused.set('network', (log.refused.get('network') ?? 0) + 1);
    }
    await sleep(10); // a dead or leaderless member: don't spin
  }
}

async function convergedEverywhere(cluster: Cluster, leader: EtcdProcess): Promise<Snapshot[]> {
  const reference = await readTree(leader, '/failover', true);
  return Promise.all(cluster.members.map((m) => pollTree(m, '/failover', (s) => sameKeys(s, reference), 10_000)));
}

test('kill -9 the leader under concurrent writes: a new leader within 2 s, no acknowledged write lost', async () => {
  const seed = Number(process.env['FAILOVER_SEED'] ?? Date.now() % 1_000_000);
  console.log(`failover: FAILOVER_SEED=${seed}`);
  const prng = new SeededPrng(seed);
  const cluster = await startCluster({ size: 3, mode: 'static', timings: 'default' });
  try {
    const oldLeader = await cluster.waitForLeader();
    const log: WriteLog = { acked: new Map(), refused: new Map(), ackedAfterKill: 0 };
    const state = { stop: false, killed: false };
    const members = [...cluster.members];
    const writers = Array.from({ length: WRITERS }, (_, id) => writer(members, id, prng.int(members.length), log, state));
    try {
      // The kill lands after a random number of acknowledgements, wherever the writes are then.
      const killAfter = 20 + prng.int(60);
      const deadline = Date.now() + 15_000;
      while (log.acked.size < killAfter && Date.now() < deadline) await sleep(5);
      assert.ok(log.acked.size >= killAfter, `writes flow before the kill: ${log.acked.size} of ${killAfter}`);

      await oldLeader.kill9();
      state.killed = true;
      const killedAt = Date.now();
      const survivors = cluster.members.filter((m) => m !== oldLeader);
      const newLeader = await waitForAgreedLeader(() => survivors, 5_000);
      const electedAfterMs = Date.now() - killedAt;
      console.log(`failover: ${newLeader.name} leads ${electedAfterMs} ms after ${oldLeader.name} was killed`);
      const logs = survivors.map((m) => `--- ${m.name} ---\n${m.output()}`).join('\n');
      assert.ok(electedAfterMs < 2_000, `new leader after ${electedAfterMs} ms (killed at ${new Date(killedAt).toISOString()})\n${logs}`);

      const ackedAtElection = log.ackedAfterKill;
      const resumeDeadline = Date.now() + 10_000;
      while (log.ackedAfterKill < ackedAtElection + 20 && Date.now() < resumeDeadline) await sleep(5);
    } finally {
      state.stop = true;
      await Promise.all(writers);
    }
    console.log(`failover: ${log.acked.size} acknowledged (${log.ackedAfterKill} after the kill), refused ${JSON.stringify([...log.refused])}`);
    assert.ok(log.ackedAfterKill >= 20, `writes go on after the kill: ${log.ackedAfterKill}`);

    await oldLeader.restart();
    const leader = await cluster.waitForLeader();
    const stores = await convergedEverywhere(cluster, leader);
    for (const [i, store] of stores.entries()) {
      const name = cluster.members[i]?.name ?? '?';
      for (const [key, acked] of log.acked) {
        const found = store.keys.get(key);
        assert.deepEqual(found && { value: found.value, modifiedIndex: found.modifiedIndex }, acked, `${name} has ${key}`);
      }
    }
    const [first, ...rest] = stores;
    assert.ok(first !== undefined);
    for (const [i, store] of rest.entries()) {
      assert.deepEqual([...store.keys].sort(), [...first.keys].sort(), `${cluster.members[i + 1]?.name} and ${cluster.members[0]?.name} hold the same keys`);
    }
  } finally {
    await cluster.remove();
  }
});
