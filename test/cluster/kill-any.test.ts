/**
 * kill -9 of ANY member, round after round, under concurrent writes: each round a seeded choice
 * kills the leader or a follower, leaves it down for a seeded while, and restarts it from its data
 * dir. Afterwards every acknowledged write is on every member with its value and index, and the
 * three stores hold the same keys. KILL_SEED replays a run (it is printed).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededPrng } from '../../src/common/prng.js';
import { sleep, startCluster, waitForAgreedLeader } from '../support/cluster.js';
import { assertEveryAckedWriteEverywhere, writer, type WriteLog } from './writes.js';

const WRITERS = 4;
const ROUNDS = 5;

test('kill -9 of any member, five rounds under concurrent writes: no acknowledged write lost', async () => {
  const seed = Number(process.env['KILL_SEED'] ?? Date.now() % 1_000_000);
  console.log(`kill-any: KILL_SEED=${seed}`);
  const prng = new SeededPrng(seed);
  const cluster = await startCluster({ size: 3, mode: 'static' });
  try {
    await cluster.waitForLeader();
    const log: WriteLog = { acked: new Map(), refused: new Map(), ackedAfterKill: 0 };
    const state = { stop: false, killed: false };
    const members = [...cluster.members];
    const writers = Array.from({ length: WRITERS }, (_, id) => writer(members, id, prng.int(members.length), log, state, '/killany'));
    const victims: string[] = [];
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const leader = await cluster.waitForLeader();
        const victim = prng.int(3) === 0 ? leader : (members.filter((m) => m !== leader)[prng.int(2)] ?? leader);
        victims.push(`${victim.name}${victim === leader ? '(leader)' : ''}`);
        const before = log.acked.size;
        await victim.kill9();
        state.killed = true;
        await sleep(100 + prng.int(600));
        await victim.restart();
        await waitForAgreedLeader(() => members, 10_000);
        const deadline = Date.now() + 10_000;
        while (log.acked.size < before + 15 && Date.now() < deadline) await sleep(5);
        assert.ok(log.acked.size >= before + 15, `round ${round}: writes go on (${log.acked.size - before} acknowledged)`);
      }
    } finally {
      state.stop = true;
      await Promise.all(writers);
    }
    console.log(`kill-any: killed ${victims.join(', ')}; ${log.acked.size} acknowledged, refused ${JSON.stringify([...log.refused])}`);
    await assertEveryAckedWriteEverywhere(cluster, await cluster.waitForLeader(), log, '/killany');
  } finally {
    await cluster.remove();
  }
});
