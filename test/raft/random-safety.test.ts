/**
 * A quick randomized safety check of the core through the test Network (the full attack lives in
 * test/sim). Each seed drives 3 or 5 nodes through ticks, proposals, drops, partitions and
 * restarts, and checks after every step: one leader per term, committed/applied prefixes agree
 * (state-machine safety), terms and commits never go back. RAFT_SEED=N replays one seed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededPrng } from '../../src/common/prng.js';
import { ProposalDroppedError } from '../../src/raft/raft.js';
import type { NodeId } from '../../src/raft/types.js';
import { Network } from './network.js';

const STEPS = 400;

interface History {
  leaders: Map<number, NodeId>;
  leaderCommit: Map<NodeId, { term: number; commit: number }>;
  lastTerm: Map<NodeId, number>;
  lastCommit: Map<NodeId, number>;
}

function randomStep(net: Network, prng: SeededPrng, ids: readonly NodeId[], counter: { n: number }): void {
  const pick = (): NodeId => ids[prng.int(ids.length)] ?? '1';
  const roll = prng.int(100);
  if (roll < 45) for (const id of ids) net.tick(id);
  else if (roll < 70) {
    try {
      net.propose(pick(), `v${counter.n++}`);
    } catch (err) {
      if (!(err instanceof ProposalDroppedError)) throw err;
    }
  } else if (roll < 76) net.isolate(pick());
  else if (roll < 82) net.heal();
  else if (roll < 84) {
    const id = pick();
    net.inflight = net.inflight.filter((m) => m.to !== id);
    net.get(id).restart();
  }
  net.processReady();
  net.deliver(undefined, () => prng.int(10) === 0);
}

function checkSafety(net: Network, ids: readonly NodeId[], h: History): void {
  for (const id of ids) {
    const st = net.raw(id).status();
    const term = st.hardState.term;
    // What is persisted survives restarts, so it never goes back (the in-memory commit index may
    // run ahead of it until the next Ready is handled).
    const persisted = net.get(id).storage.initialState().hardState;
    assert.ok(persisted.term >= (h.lastTerm.get(id) ?? 0), `persisted term of ${id} went back`);
    assert.ok(persisted.commit >= (h.lastCommit.get(id) ?? 0), `persisted commit of ${id} went back`);
    assert.ok(term >= persisted.term && st.hardState.commit >= persisted.commit, `${id} is behind its own disk`);
    h.lastTerm.set(id, persisted.term);
    h.lastCommit.set(id, persisted.commit);
    if (st.softState.raftState === 'leader') {
      const other = h.leaders.get(term);
      assert.ok(other === undefined || other === id, `two leaders in term ${term}: ${other} and ${id}`);
      h.leaders.set(term, id);
      checkCommitRule(net, id, term, st.hardState.commit, h);
    } else {
      h.leaderCommit.delete(id);
    }
  }
  const states = ids.map((id) => net.get(id).state());
  const longest = states.reduce((a, b) => (b.length > a.length ? b : a), []);
  for (const [i, s] of states.entries()) {
    assert.deepEqual(s, longest.slice(0, s.length), `node ${ids[i]} applied a different sequence`);
  }
}

/** §5.4.2: a leader advances its commit index only to an entry of its own term. */
function checkCommitRule(net: Network, id: NodeId, term: number, commit: number, h: History): void {
  const before = h.leaderCommit.get(id);
  if (before !== undefined && before.term === term && commit > before.commit) {
    const committedTerm = net.raw(id).raft.raftLog.term(commit);
    assert.equal(committedTerm, term, `leader ${id} of term ${term} committed index ${commit} of term ${String(committedTerm)}`);
  }
  h.leaderCommit.set(id, { term, commit });
}

function newHistory(): History {
  return { leaders: new Map(), leaderCommit: new Map(), lastTerm: new Map(), lastCommit: new Map() };
}

function runSeed(seed: number): void {
  const prng = new SeededPrng(seed);
  const size = prng.int(2) === 0 ? 3 : 5;
  const ids = Array.from({ length: size }, (_, i) => String(i + 1));
  const net = new Network({ seed, electionTicks: 5 + prng.int(6), preVote: prng.int(2) === 0, checkQuorum: prng.int(2) === 0 });
  net.add(ids);
  const history = newHistory();
  const counter = { n: 0 };
  for (let step = 0; step < STEPS; step++) {
    randomStep(net, prng, ids, counter);
    checkSafety(net, ids, history);
  }
}

const replay = process.env.RAFT_SEED;
const seeds = replay !== undefined ? [Number(replay)] : Array.from({ length: 40 }, (_, i) => 1 + i);

test(`randomized safety over ${seeds.length} seeds (RAFT_SEED=N replays one)`, () => {
  for (const seed of seeds) {
    try {
      runSeed(seed);
    } catch (err) {
      console.log(`random-safety: seed ${seed} failed; replay with RAFT_SEED=${seed}`);
      throw err;
    }
  }
});

test('the randomized check catches the planted commit bug (commitOldTermByCounting)', () => {
  // Sanity that the checker can fail: with the bug planted, some seed must break safety.
  let caught = 0;
  for (let seed = 1; seed <= 60 && caught === 0; seed++) {
    const prng = new SeededPrng(seed);
    const ids = ['1', '2', '3', '4', '5'];
    const net = new Network({ seed, electionTicks: 5, preVote: false, checkQuorum: false, maxSizePerMsgBytes: 1, testingBugs: { commitOldTermByCounting: true } });
    net.add(ids);
    const history = newHistory();
    const counter = { n: 0 };
    try {
      for (let step = 0; step < STEPS; step++) {
        randomStep(net, prng, ids, counter);
        checkSafety(net, ids, history);
      }
    } catch {
      caught++;
    }
  }
  assert.equal(caught, 1, 'no seed in 1..60 exposed the planted bug');
});
