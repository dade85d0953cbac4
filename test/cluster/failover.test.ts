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
import { sleep, startCluster, waitForAgreedLeader } from '../support/cluster.js';
import { assertEveryAckedWriteEverywhere, writer, type WriteLog } from './writes.js';

const WRITERS = 6;

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
    const writers = Array.from({ length: WRITERS }, (_, id) => writer(members, id, prng.int(members.length), log, state, '/failover'));
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
    await assertEveryAckedWriteEverywhere(cluster, leader, log);
  } finally {
    await cluster.remove();
  }
});
