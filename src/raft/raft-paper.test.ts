/**
 * One test per claim of the Raft paper (Ongaro & Ousterhout 2014, "In Search of an
 * Understandable Consensus Algorithm") and of Ongaro's thesis where the paper defers to it.
 * Each name cites the section whose claim it checks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededPrng } from '../common/prng.js';
import { defaultRaftConfig, RaftConfigError, validateRaftConfig, type RaftConfig } from './config.js';
import { encodeConfChange } from './confchange.js';
import { MemoryStorage } from './memory-storage.js';
import { makeMessage, Raft } from './raft.js';
import type { Entry, Message, MessageType, NodeId } from './types.js';
import { Network } from '../../test/raft/network.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const paperOptions = { preVote: false, checkQuorum: false };

function entry(term: number, index: number, data = ''): Entry {
  return { term, index, type: 'normal', data: enc(data) };
}

/** Storage holding entries with the given terms at indexes 1, 2, ... */
function storageWithTerms(voters: readonly NodeId[], terms: readonly number[]): MemoryStorage {
  const s = new MemoryStorage({ voters, learners: [] });
  s.append(terms.map((t, i) => entry(t, i + 1)));
  const last = terms[terms.length - 1] ?? 0;
  s.setHardState({ term: last, vote: '', commit: 0 });
  return s;
}

function newRaft(id: NodeId, voters: readonly NodeId[], overrides: Partial<RaftConfig> = {}, storage?: MemoryStorage): Raft {
  const config = defaultRaftConfig(id, new SeededPrng(Number(id)), { ...paperOptions, ...overrides });
  return new Raft(config, storage ?? new MemoryStorage({ voters, learners: [] }));
}

function takeMessages(r: Raft): Message[] {
  r.flushBroadcast(); // what RawNode.ready() does
  const msgs = r.msgs;
  r.msgs = [];
  return msgs;
}

/** What a driver does with a Ready's entries: persist them, then tell the core. */
function persist(r: Raft): void {
  const storage = r.raftLog.storage as MemoryStorage;
  const entries = r.raftLog.unstableEntries();
  storage.append(entries);
  const last = entries[entries.length - 1];
  if (last !== undefined) r.raftLog.stableTo(last.index, last.term);
  r.onPersisted();
}

function msg(type: MessageType, from: NodeId, to: NodeId, term: number, rest: Partial<Message> = {}): Message {
  return makeMessage({ type, from, to, term, ...rest });
}

function electLeader(r: Raft): void {
  r.becomeCandidate();
  r.becomeLeader();
  persist(r);
  takeMessages(r);
}

function tickTimes(r: Raft, n: number): void {
  for (let i = 0; i < n; i++) r.tick();
}

function paperNetwork(ids: readonly NodeId[], extra: Record<string, unknown> = {}): Network {
  const net = new Network({ seed: 7, ...paperOptions, ...extra });
  net.add(ids);
  return net;
}

// ------------------------------------------------------------------------- §5.1

for (const role of ['follower', 'candidate', 'leader'] as const) {
  test(`§5.1 a ${role} that sees a higher term adopts it and reverts to follower`, () => {
    const r = newRaft('1', ['1', '2', '3']);
    if (role === 'candidate') r.becomeCandidate();
    if (role === 'leader') electLeader(r);
    const before = r.term;
    r.step(msg('MsgApp', '2', '1', before + 5, { index: 0, logTerm: 0 }));
    assert.equal(r.term, before + 5);
    assert.equal(r.state, 'follower');
    assert.equal(r.lead, '2');
  });
}

test('§5.1 a server rejects a request with a stale term (its log is untouched, the sender learns the term)', () => {
  const r = newRaft('1', ['1', '2', '3'], { checkQuorum: true });
  r.becomeFollower(3, '2');
  r.step(msg('MsgApp', '3', '1', 2, { index: 0, logTerm: 0, entries: [entry(2, 1, 'stale')] }));
  assert.equal(r.raftLog.lastIndex(), 0);
  assert.equal(r.term, 3);
  assert.deepEqual(takeMessages(r).map((m) => [m.type, m.to, m.term]), [['MsgAppResp', '3', 3]]);
});

// ------------------------------------------------------------------------- §5.2

test('§5.2 when servers start up, they begin as followers', () => {
  const r = newRaft('1', ['1', '2', '3']);
  assert.equal(r.state, 'follower');
  assert.equal(r.term, 0);
  assert.equal(r.lead, '');
});

test('§5.2 a leader sends periodic heartbeats to all followers to maintain its authority', () => {
  const r = newRaft('1', ['1', '2', '3'], { heartbeatTicks: 2 });
  electLeader(r);
  r.tick();
  assert.deepEqual(takeMessages(r), []);
  r.tick();
  assert.deepEqual(takeMessages(r).map((m) => [m.type, m.to, m.term]), [['MsgHeartbeat', '2', 1], ['MsgHeartbeat', '3', 1]]);
});

test('§5.2 a follower that hears nothing for an election timeout becomes a candidate, increments its term, votes for itself and asks every server', () => {
  const r = newRaft('1', ['1', '2', '3']);
  tickTimes(r, 2 * 10);
  assert.equal(r.state, 'candidate');
  assert.equal(r.term, 1);
  assert.equal(r.vote, '1');
  assert.deepEqual(takeMessages(r).map((m) => [m.type, m.to, m.term]), [['MsgVote', '2', 1], ['MsgVote', '3', 1]]);
});

test('§5.2 a candidate wins an election only with votes from a majority of the full cluster', () => {
  const cases: [number, Record<string, boolean>, string][] = [
    [1, {}, 'leader'],
    [3, { '2': true }, 'leader'],
    [3, { '2': false }, 'candidate'],
    [3, {}, 'candidate'],
    [5, { '2': true }, 'candidate'],
    [5, { '2': true, '3': true }, 'leader'],
    [5, { '2': false, '3': false }, 'candidate'],
    [5, { '2': false, '3': false, '4': false }, 'follower'],
  ];
  for (const [size, votes, want] of cases) {
    const ids = Array.from({ length: size }, (_, i) => String(i + 1));
    const r = newRaft('1', ids);
    r.step(msg('MsgHup', '1', '1', 0));
    for (const [from, granted] of Object.entries(votes)) r.step(msg('MsgVoteResp', from, '1', 1, { reject: !granted }));
    assert.equal(r.state, want, `size ${size} votes ${JSON.stringify(votes)}`);
    assert.equal(r.term, 1);
  }
});

test('§5.2 each server votes for at most one candidate in a given term, first come first served', () => {
  const r = newRaft('1', ['1', '2', '3']);
  r.step(msg('MsgVote', '2', '1', 1, { index: 0, logTerm: 0 }));
  r.step(msg('MsgVote', '3', '1', 1, { index: 0, logTerm: 0 }));
  r.step(msg('MsgVote', '2', '1', 1, { index: 0, logTerm: 0 }));
  assert.deepEqual(
    takeMessages(r).map((m) => [m.type, m.to, m.reject]),
    [['MsgVoteResp', '2', false], ['MsgVoteResp', '3', true], ['MsgVoteResp', '2', false]],
  );
  assert.equal(r.vote, '2');
});

test('§5.2 a candidate that receives AppendEntries from a leader of its term returns to follower', () => {
  const r = newRaft('1', ['1', '2', '3']);
  r.becomeCandidate();
  r.step(msg('MsgApp', '2', '1', 1, { index: 0, logTerm: 0 }));
  assert.equal(r.state, 'follower');
  assert.equal(r.lead, '2');
  assert.equal(r.term, 1);
});

test('§5.2 a candidate whose election times out without a winner starts a new election in the next term', () => {
  const r = newRaft('1', ['1', '2', '3']);
  r.becomeCandidate();
  takeMessages(r);
  tickTimes(r, 2 * 10);
  assert.equal(r.state, 'candidate');
  assert.equal(r.term, 2);
  assert.deepEqual(takeMessages(r).map((m) => [m.type, m.term]), [['MsgVote', 2], ['MsgVote', 2]]);
});

test('§5.2 a candidate rejected by a majority steps back to follower', () => {
  const r = newRaft('1', ['1', '2', '3']);
  r.becomeCandidate();
  r.step(msg('MsgVoteResp', '2', '1', 1, { reject: true }));
  assert.equal(r.state, 'candidate');
  r.step(msg('MsgVoteResp', '3', '1', 1, { reject: true }));
  assert.equal(r.state, 'follower');
});

test('§5.2 election timeouts are chosen randomly from a fixed interval [electionTicks, 2*electionTicks)', () => {
  const seen = new Set<number>();
  for (let seed = 0; seed < 200; seed++) {
    const r = new Raft(defaultRaftConfig('1', new SeededPrng(seed), paperOptions), new MemoryStorage({ voters: ['1', '2', '3'], learners: [] }));
    let ticks = 0;
    while (r.state === 'follower') {
      r.tick();
      ticks++;
    }
    assert.ok(ticks >= 10 && ticks < 20, `timeout ${ticks}`);
    seen.add(ticks);
  }
  assert.ok(seen.size >= 8, `timeouts spread over the interval, saw ${[...seen].join(',')}`);
});

test('§5.2 randomized timeouts make split votes rare: usually a single follower times out first', () => {
  let conflicts = 0;
  const trials = 500;
  for (let trial = 0; trial < trials; trial++) {
    const nodes = ['1', '2', '3', '4', '5'].map((id) => new Raft(defaultRaftConfig(id, new SeededPrng(trial * 10 + Number(id)), paperOptions), new MemoryStorage({ voters: ['1', '2', '3', '4', '5'], learners: [] })));
    let fired: Raft[] = [];
    while (fired.length === 0) {
      for (const n of nodes) n.tick();
      fired = nodes.filter((n) => n.state === 'candidate');
    }
    if (fired.length > 1) conflicts++;
  }
  assert.ok(conflicts / trials < 0.3, `conflict rate ${conflicts / trials}`);
});

// ------------------------------------------------------------------------- §5.3

test('§5.3 the leader appends a command to its log, then issues AppendEntries to every follower in parallel', () => {
  const r = newRaft('1', ['1', '2', '3']);
  electLeader(r);
  r.step(msg('MsgProp', '1', '1', 0, { entries: [entry(0, 0, 'x')] }));
  assert.deepEqual(r.raftLog.unstableEntries().map((e) => [e.term, e.index]), [[1, 2]]);
  const sent = takeMessages(r);
  assert.deepEqual(sent.map((m) => [m.type, m.to]), [['MsgApp', '2'], ['MsgApp', '3']]);
});

test('§5.3 an entry is committed once the leader has replicated it on a majority of servers', () => {
  for (const [size, acks, committed] of [[3, 0, false], [3, 1, true], [5, 1, false], [5, 2, true]] as const) {
    const ids = Array.from({ length: size }, (_, i) => String(i + 1));
    const r = newRaft('1', ids);
    electLeader(r);
    r.step(msg('MsgProp', '1', '1', 0, { entries: [entry(0, 0, 'x')] }));
    persist(r);
    for (let i = 0; i < acks; i++) r.step(msg('MsgAppResp', String(i + 2), '1', 1, { index: 2 }));
    assert.equal(r.raftLog.committed === 2, committed, `size ${size} acks ${acks}`);
  }
});

test('§5.3 committing an entry also commits all preceding entries, including those of earlier leaders', () => {
  const r = newRaft('1', ['1', '2', '3'], {}, storageWithTerms(['1', '2', '3'], [1, 1, 2]));
  r.becomeCandidate();
  r.becomeLeader();
  persist(r);
  assert.equal(r.raftLog.committed, 0);
  r.step(msg('MsgAppResp', '2', '1', 3, { index: 4 }));
  assert.equal(r.raftLog.committed, 4);
});

test('§5.3 the leader includes its commit index in future AppendEntries so followers learn it', () => {
  const r = newRaft('1', ['1', '2', '3']);
  electLeader(r);
  r.step(msg('MsgAppResp', '2', '1', 1, { index: 1 }));
  r.step(msg('MsgAppResp', '3', '1', 1, { index: 1 }));
  takeMessages(r);
  r.step(msg('MsgProp', '1', '1', 0, { entries: [entry(0, 0, 'y')] }));
  const apps = takeMessages(r).filter((m) => m.type === 'MsgApp');
  assert.deepEqual(apps.map((m) => [m.to, m.commit]), [['2', 1], ['3', 1]]);
});

test('§5.3 once a follower learns an entry is committed it applies it, in log order', () => {
  const net = paperNetwork(['1', '2', '3']);
  net.elect('1');
  for (const t of ['a', 'b', 'c']) net.propose('1', t);
  net.stabilize();
  for (const id of net.ids()) assert.deepEqual(net.get(id).state(), ['a', 'b', 'c'], `node ${id}`);
});

test('§5.3 AppendEntries consistency check: a follower refuses entries if it lacks the preceding (index, term)', () => {
  const r = newRaft('2', ['1', '2', '3'], {}, storageWithTerms(['1', '2', '3'], [1, 2]));
  r.step(msg('MsgApp', '1', '2', 3, { index: 2, logTerm: 3, entries: [entry(3, 3)] }));
  const [resp] = takeMessages(r);
  assert.equal(resp?.type, 'MsgAppResp');
  assert.equal(resp?.reject, true);
  assert.equal(r.raftLog.lastIndex(), 2);
});

test('§5.3 a follower deletes a conflicting entry and all that follow it, and appends the leader\'s', () => {
  const r = newRaft('2', ['1', '2', '3'], {}, storageWithTerms(['1', '2', '3'], [1, 2, 2]));
  r.step(msg('MsgApp', '1', '2', 3, { index: 1, logTerm: 1, entries: [entry(3, 2, 'n')] }));
  const terms = r.raftLog.slice(1, r.raftLog.lastIndex() + 1, Infinity).map((e) => e.term);
  assert.deepEqual(terms, [1, 3]);
  assert.deepEqual(takeMessages(r).map((m) => [m.type, m.index, m.reject]), [['MsgAppResp', 2, false]]);
});

test('§5.3 Leader Append-Only: a leader never overwrites or deletes entries in its own log', () => {
  const r = newRaft('1', ['1', '2', '3'], {}, storageWithTerms(['1', '2', '3'], [1, 1]));
  electLeader(r);
  const before = r.raftLog.slice(1, r.raftLog.lastIndex() + 1, Infinity);
  r.step(msg('MsgAppResp', '2', '1', r.term, { index: 3, reject: true, rejectHint: 0, logTerm: 0 }));
  r.step(msg('MsgApp', '3', '1', r.term, { index: 0, logTerm: 0, entries: [entry(r.term, 1, 'rogue')] }));
  assert.deepEqual(r.raftLog.slice(1, r.raftLog.lastIndex() + 1, Infinity), before);
});

test('§5.3 a new leader initializes every nextIndex to the index just after the last one in its log', () => {
  const r = newRaft('1', ['1', '2', '3'], {}, storageWithTerms(['1', '2', '3'], [1, 1, 1]));
  r.becomeCandidate();
  r.becomeLeader();
  assert.equal(r.trk.progress.get('2')?.next, 4);
  assert.equal(r.trk.progress.get('3')?.next, 4);
});

test('§5.3 Figure 7: the leader brings every follower log (a)-(f) into agreement with its own', () => {
  const leaderTerms = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
  const followers: number[][] = [
    [1, 1, 1, 4, 4, 5, 5, 6, 6], // (a) missing an entry
    [1, 1, 1, 4], // (b) missing many
    [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6], // (c) an extra uncommitted entry
    [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7], // (d) extra entries of a later term
    [1, 1, 1, 4, 4, 4, 4], // (e) extra entries of term 4
    [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3], // (f) entries of terms 2 and 3 no one else has
  ];
  for (const followerTerms of followers) {
    // Node 3 has an empty log: it votes for the leader even where the follower (c, d) would not.
    const net = new Network({ seed: 1, ...paperOptions });
    net.add(['1', '2', '3']);
    net.get('1').storage.append(leaderTerms.map((t, i) => entry(t, i + 1)));
    net.get('1').storage.setHardState({ term: 8, vote: '', commit: 0 });
    net.get('2').storage.append(followerTerms.map((t, i) => entry(t, i + 1)));
    net.get('2').storage.setHardState({ term: 7, vote: '', commit: 0 });
    net.get('1').restart();
    net.get('2').restart();
    net.elect('1');
    const logOf = (id: NodeId): number[] => net.get(id).storage.entries(1, net.get(id).storage.lastIndex() + 1, Infinity).map((e) => e.term);
    assert.equal(net.leader(), '1', `follower ${JSON.stringify(followerTerms)}`);
    assert.deepEqual(logOf('2'), logOf('1'));
    assert.deepEqual(logOf('3'), logOf('1'));
    assert.deepEqual(logOf('1'), [...leaderTerms, 9]);
  }
});

test('§5.3 (optimization) a rejecting follower\'s hint lets the leader skip a whole conflicting term per round trip', () => {
  const follower = newRaft('2', ['1', '2'], {}, storageWithTerms(['1', '2'], [1, ...Array<number>(50).fill(2)]));
  follower.step(msg('MsgApp', '1', '2', 4, { index: 60, logTerm: 3 }));
  const [resp] = takeMessages(follower);
  assert.equal(resp?.reject, true);
  assert.equal(resp?.rejectHint, 51, 'hints its last index (it lacks 52..60)');
  follower.step(msg('MsgApp', '1', '2', 4, { index: 51, logTerm: 3 }));
  const [resp2] = takeMessages(follower);
  assert.deepEqual([resp2?.rejectHint, resp2?.logTerm], [51, 2], 'term-2 entries all conflict with term 3: hint the last with term <= 3');
  const leader = newRaft('1', ['1', '2'], {}, storageWithTerms(['1', '2'], [1, 1, 3, 3]));
  // Leader side: with the follower's (hint 51, term 2), the leader jumps to its last entry of term <= 2.
  assert.deepEqual(leader.raftLog.findConflictByTerm(51, 2), { index: 2, term: 1 });
});

// ------------------------------------------------------------------------- §5.4

test('§5.4.1 a voter denies its vote if its own log is more up-to-date than the candidate\'s', () => {
  // Voter log: terms [1, 2] (last 2/2).
  const cases: [number, number, boolean][] = [
    [1, 1, false], // older last term
    [1, 5, false], // older last term, longer log
    [2, 1, false], // same term, shorter
    [2, 2, true], // same
    [2, 3, true], // same term, longer
    [3, 1, true], // newer last term, shorter
  ];
  for (const [logTerm, index, granted] of cases) {
    const r = newRaft('1', ['1', '2', '3'], {}, storageWithTerms(['1', '2', '3'], [1, 2]));
    r.step(msg('MsgVote', '2', '1', 4, { logTerm, index }));
    const [resp] = takeMessages(r);
    assert.equal(resp?.reject, !granted, `candidate ${logTerm}/${index}`);
  }
});

test('§5.4.1 Leader Completeness: a candidate lacking a committed entry cannot be elected', () => {
  const net = paperNetwork(['1', '2', '3']);
  net.elect('1');
  net.cut('1', '3');
  net.propose('1', 'committed');
  net.stabilize();
  assert.equal(net.raw('1').status().hardState.commit, 2);
  net.heal();
  net.isolate('1');
  // 3 lacks the committed entry: 2 refuses it, so 3 cannot win; 2 can.
  net.raw('3').campaign();
  net.stabilize();
  assert.notEqual(net.raw('3').status().softState.raftState, 'leader');
  net.raw('2').campaign();
  net.stabilize();
  assert.equal(net.raw('2').status().softState.raftState, 'leader');
  assert.deepEqual(net.get('2').state(), ['committed']);
});

test('§5.4.2 Figure 8: a leader does not commit an entry from a previous term by counting replicas', () => {
  const r = newRaft('1', ['1', '2', '3', '4', '5'], {}, storageWithTerms(['1', '2', '3', '4', '5'], [1, 2]));
  r.becomeFollower(3, '');
  r.becomeCandidate(); // term 4
  r.becomeLeader();
  persist(r);
  // Followers 2 and 3 acknowledge index 2 (term 2): a majority stores it, but it is of term 2.
  r.step(msg('MsgAppResp', '2', '1', 4, { index: 2 }));
  r.step(msg('MsgAppResp', '3', '1', 4, { index: 2 }));
  assert.equal(r.raftLog.committed, 0);
  // Once the term-4 no-op (index 3) reaches a majority, both commit (Log Matching).
  r.step(msg('MsgAppResp', '2', '1', 4, { index: 3 }));
  r.step(msg('MsgAppResp', '3', '1', 4, { index: 3 }));
  assert.equal(r.raftLog.committed, 3);
});

test('§5.4.2 with the commit rule broken (planted bug), an old-term entry is committed by counting', () => {
  const r = newRaft('1', ['1', '2', '3', '4', '5'], { testingBugs: { commitOldTermByCounting: true } }, storageWithTerms(['1', '2', '3', '4', '5'], [1, 2]));
  r.becomeFollower(3, '');
  r.becomeCandidate();
  r.becomeLeader();
  persist(r);
  r.step(msg('MsgAppResp', '2', '1', 4, { index: 2 }));
  r.step(msg('MsgAppResp', '3', '1', 4, { index: 2 }));
  assert.equal(r.raftLog.committed, 2);
});

test('§5.2 with the one-vote rule broken (planted bug), a server grants two votes in one term', () => {
  const r = newRaft('1', ['1', '2', '3'], { testingBugs: { grantSecondVoteInTerm: true } });
  r.step(msg('MsgVote', '2', '1', 1, { index: 0, logTerm: 0 }));
  r.step(msg('MsgVote', '3', '1', 1, { index: 0, logTerm: 0 }));
  assert.deepEqual(takeMessages(r).map((m) => m.reject), [false, false]);
});

// ------------------------------------------------------------------------- §5.5, §5.6

test('§5.5 a crashed follower is retried indefinitely and catches up after restart; AppendEntries is idempotent', () => {
  const net = paperNetwork(['1', '2', '3']);
  net.elect('1');
  net.isolate('3');
  net.propose('1', 'a');
  net.propose('1', 'b');
  net.stabilize();
  net.get('3').restart();
  net.heal();
  for (let i = 0; i < 3; i++) {
    net.tick('1');
    net.stabilize();
  }
  assert.deepEqual(net.get('3').state(), ['a', 'b']);
  const r = newRaft('2', ['1', '2']);
  const app = msg('MsgApp', '1', '2', 1, { index: 0, logTerm: 0, commit: 1, entries: [entry(1, 1, 'x')] });
  r.step(app);
  r.step(app);
  assert.equal(r.raftLog.lastIndex(), 1);
  assert.equal(r.raftLog.committed, 1);
});

test('§5.6 broadcastTime << electionTimeout: the config refuses a heartbeat interval not below the election timeout', () => {
  assert.throws(() => validateRaftConfig(defaultRaftConfig('1', new SeededPrng(1), { heartbeatTicks: 5, electionTicks: 5 })), RaftConfigError);
});

// ------------------------------------------------------------------------- §6 membership

function confChangeProp(type: 'addNode' | 'removeNode' | 'addLearner', nodeId: NodeId): Message {
  return msg('MsgProp', '1', '1', 0, { entries: [{ term: 0, index: 0, type: 'confChange', data: encodeConfChange({ type, nodeId, context: new Uint8Array() }) }] });
}

test('§6 adding a server: it catches up from the leader and then counts toward the majority', () => {
  const net = paperNetwork(['1', '2', '3']);
  net.elect('1');
  net.propose('1', 'a');
  net.stabilize();
  net.add(['4'], { voters: [], learners: [] });
  net.raw('1').step(confChangeProp('addNode', '4'));
  net.stabilize();
  for (let i = 0; i < 2; i++) {
    net.tick('1');
    net.stabilize();
  }
  assert.deepEqual(net.get('1').confState.voters, ['1', '2', '3', '4']);
  assert.deepEqual(net.get('4').state(), ['a']);
  net.isolate('2');
  net.cut('1', '3');
  net.propose('1', 'b');
  net.stabilize();
  // 1 and 4 of 4 voters are not a majority: b must not commit.
  assert.deepEqual(net.get('1').state(), ['a']);
});

test('§6 removing a server shrinks the majority: entries waiting on it commit', () => {
  const net = paperNetwork(['1', '2', '3']);
  net.elect('1');
  net.isolate('3');
  net.raw('1').step(confChangeProp('removeNode', '3'));
  net.stabilize();
  assert.deepEqual(net.get('1').confState.voters, ['1', '2']);
  net.isolate('2');
  net.propose('1', 'solo?');
  net.stabilize();
  assert.deepEqual(net.get('1').state(), [], '1 of 2 voters cannot commit');
  net.heal();
  net.tick('1');
  net.stabilize();
  assert.deepEqual(net.get('1').state(), ['solo?']);
});

test('§6 one membership change at a time: a second change proposed while one is pending becomes a no-op', () => {
  const r = newRaft('1', ['1', '2', '3']);
  electLeader(r);
  r.step(confChangeProp('addNode', '4'));
  r.step(confChangeProp('addNode', '5'));
  const types = r.raftLog.unstableEntries().map((e) => e.type);
  assert.deepEqual(types, ['confChange', 'normal']);
});

test('§6 a leader removed from the configuration steps down, and the rest elect a new leader and stay available', () => {
  const net = paperNetwork(['1', '2', '3']);
  net.elect('1');
  net.raw('1').step(confChangeProp('removeNode', '1'));
  net.stabilize();
  assert.equal(net.raw('1').status().softState.raftState, 'follower');
  assert.deepEqual(net.get('1').confState.voters, ['2', '3']);
  for (let i = 0; i < 40 && net.leader() === undefined; i++) {
    for (const id of ['2', '3']) net.tick(id);
    net.stabilize();
  }
  const lead = net.leader();
  assert.ok(lead === '2' || lead === '3', `new leader ${String(lead)}`);
  net.propose(lead, 'after');
  net.stabilize();
  assert.deepEqual(net.get('2').state(), ['after']);
  assert.deepEqual(net.get('2').confState.voters, ['2', '3']);
});

test('§6 (thesis 4.2.3) servers disregard RequestVote while they believe a current leader exists', () => {
  const r = newRaft('1', ['1', '2', '3'], { checkQuorum: true });
  r.becomeFollower(1, '2');
  r.step(msg('MsgVote', '3', '1', 2, { index: 5, logTerm: 1 }));
  assert.equal(r.term, 1);
  assert.deepEqual(takeMessages(r), []);
  tickTimes(r, 10); // the lease expired: now the request is considered
  r.step(msg('MsgVote', '3', '1', 2, { index: 5, logTerm: 1 }));
  assert.equal(r.term, 2);
  assert.deepEqual(takeMessages(r).map((m) => [m.type, m.reject]), [['MsgVoteResp', false]]);
});

test('§6 (thesis 3.10) leadership transfer: the leader catches the transferee up, then it times out at once and wins', () => {
  const net = paperNetwork(['1', '2', '3']);
  net.elect('1');
  net.propose('1', 'a');
  net.stabilize();
  net.raw('1').transferLeader('3');
  net.stabilize();
  assert.equal(net.leader(), '3');
  assert.equal(net.raw('3').status().hardState.term, 2);
  assert.equal(net.raw('1').status().softState.raftState, 'follower');
});

// ------------------------------------------------------------------------- §7 compaction

test('§7 the leader sends its snapshot to a follower that lags behind its first log index, then the rest of the log', () => {
  const net = paperNetwork(['1', '2', '3']);
  net.elect('1');
  net.isolate('3');
  for (const t of ['a', 'b', 'c']) net.propose('1', t);
  net.stabilize();
  net.get('1').compact(3);
  net.propose('1', 'd');
  net.stabilize();
  net.heal();
  const events: string[] = [];
  for (let i = 0; i < 3; i++) {
    net.tick('1');
    net.stabilize(undefined, (line) => events.push(line));
  }
  assert.deepEqual(events.filter((l) => l.includes('MsgSnap')), ['  send 1->3 MsgSnap term=1 snapshot=1/3 voters=(1,2,3)', 'deliver 1->3 MsgSnap']);
  assert.deepEqual(net.get('3').state(), ['a', 'b', 'c', 'd']);
});

test('§7 a follower receiving a snapshot beyond its log discards its entire log and takes the snapshot\'s state', () => {
  const r = newRaft('2', ['1', '2'], {}, storageWithTerms(['1', '2'], [1, 1]));
  const snapshot = { data: enc('state'), metadata: { index: 10, term: 3, confState: { voters: ['1', '2'], learners: [] } } };
  r.step(msg('MsgSnap', '1', '2', 3, { snapshot }));
  assert.equal(r.raftLog.lastIndex(), 10);
  assert.equal(r.raftLog.committed, 10);
  assert.equal(r.raftLog.firstIndex(), 11);
  assert.deepEqual(takeMessages(r).map((m) => [m.type, m.index]), [['MsgAppResp', 10]]);
});

test('§7 a follower receiving a snapshot of a prefix of its log retains the entries following it', () => {
  const r = newRaft('2', ['1', '2'], {}, storageWithTerms(['1', '2'], [1, 1, 1, 1]));
  const snapshot = { data: enc('state'), metadata: { index: 2, term: 1, confState: { voters: ['1', '2'], learners: [] } } };
  r.step(msg('MsgSnap', '1', '2', 1, { snapshot }));
  assert.equal(r.raftLog.lastIndex(), 4);
  assert.equal(r.raftLog.committed, 2);
  assert.equal(r.raftLog.unstable.snapshot, undefined);
});

test('§7 each server snapshots independently: a compacted leader keeps replicating from its remaining log', () => {
  const net = paperNetwork(['1', '2', '3']);
  net.elect('1');
  for (const t of ['a', 'b']) net.propose('1', t);
  net.stabilize();
  net.get('1').compact(2);
  net.get('2').compact(3);
  net.propose('1', 'c');
  net.stabilize();
  for (const id of net.ids()) assert.deepEqual(net.get(id).state(), ['a', 'b', 'c'], `node ${id}`);
});

// ------------------------------------------------------------------------- thesis extensions

test('§9.6 (thesis) pre-vote: a partitioned server that rejoins does not raise its term or disrupt the leader', () => {
  const net = new Network({ seed: 3, preVote: true, checkQuorum: true });
  net.add(['1', '2', '3']);
  net.elect('1');
  net.isolate('3');
  for (let i = 0; i < 100; i++) net.tick('3');
  net.stabilize();
  assert.equal(net.raw('3').status().hardState.term, 1, 'pre-vote failed, so the term stayed');
  net.heal();
  for (let i = 0; i < 5; i++) {
    for (const id of net.ids()) net.tick(id);
    net.stabilize();
  }
  assert.equal(net.leader(), '1');
  assert.equal(net.raw('1').status().hardState.term, 1);
});

test('§6.2 (thesis) check-quorum: a leader that does not hear from a majority for an election timeout steps down', () => {
  const r = newRaft('1', ['1', '2', '3'], { checkQuorum: true });
  electLeader(r);
  tickTimes(r, 10);
  assert.equal(r.state, 'follower');
});

test('§6.4 (thesis) ReadIndex: the leader records its commit index and answers once a heartbeat round confirms leadership', () => {
  const net = new Network({ seed: 1, preVote: true, checkQuorum: true });
  net.add(['1', '2', '3']);
  net.elect('1');
  net.raw('1').readIndex(enc('ctx-1'));
  net.processReady(['1']);
  assert.deepEqual(net.get('1').readStates, []);
  assert.deepEqual(net.inflight.map((m) => [m.type, new TextDecoder().decode(m.context)]), [['MsgHeartbeat', 'ctx-1'], ['MsgHeartbeat', 'ctx-1']]);
  net.stabilize();
  assert.deepEqual(net.get('1').readStates.map((s) => s.index), [1]);
});

test('§6.4 (thesis) ReadIndex waits until the new leader has committed an entry of its own term', () => {
  const r = newRaft('1', ['1', '2', '3']);
  r.becomeCandidate();
  r.becomeLeader();
  r.step(msg('MsgReadIndex', '', '1', 0, { context: enc('early') }));
  assert.equal(r.readOnly.pendingCount(), 0, 'not started before the no-op commits');
  persist(r);
  takeMessages(r);
  r.step(msg('MsgAppResp', '2', '1', 1, { index: 1 }));
  assert.equal(r.readOnly.pendingCount(), 1, 'started once the no-op committed');
});

test('§6.4.1 (thesis) lease-based reads answer without a round trip, and are allowed only with check-quorum', () => {
  assert.throws(() => validateRaftConfig(defaultRaftConfig('1', new SeededPrng(1), { readOnlyOption: 'leaseBased', checkQuorum: false })), RaftConfigError);
  const net = new Network({ seed: 1, checkQuorum: true, readOnlyOption: 'leaseBased' });
  net.add(['1', '2', '3']);
  net.elect('1');
  net.raw('1').readIndex(enc('lease'));
  net.processReady(['1']);
  assert.deepEqual(net.get('1').readStates.map((s) => s.index), [1]);
});

test('§8 a new leader appends a no-op entry of its term at the start of its term', () => {
  const r = newRaft('1', ['1', '2', '3'], {}, storageWithTerms(['1', '2', '3'], [1, 1]));
  r.becomeCandidate();
  r.becomeLeader();
  assert.deepEqual(r.raftLog.unstableEntries().map((e) => [e.term, e.index, e.data.byteLength]), [[2, 3, 0]]);
});

test('§5.3 (etcd flow control) pipelined appends are bounded by maxInflightMsgs', () => {
  const r = newRaft('1', ['1', '2'], { maxInflightMsgs: 2 });
  electLeader(r);
  r.step(msg('MsgAppResp', '2', '1', 1, { index: 1 }));
  takeMessages(r);
  const sent: Message[] = [];
  for (let i = 0; i < 5; i++) {
    r.step(msg('MsgProp', '1', '1', 0, { entries: [entry(0, 0, `p${i}`)] }));
    sent.push(...takeMessages(r)); // one driver turn per proposal
  }
  assert.deepEqual(sent.map((m) => m.entries.map((e) => e.index)), [[2], [3]], 'two appends in flight, the rest wait');
  r.step(msg('MsgAppResp', '2', '1', 1, { index: 3 }));
  const resumed = takeMessages(r).filter((m) => m.type === 'MsgApp');
  assert.deepEqual(resumed.map((m) => m.entries.map((e) => e.index)), [[4, 5, 6]]);
});

test('§5.3 (etcd batching) proposals of one driver turn reach each follower in a single append', () => {
  const r = newRaft('1', ['1', '2', '3']);
  electLeader(r);
  r.step(msg('MsgAppResp', '2', '1', 1, { index: 1 }));
  r.step(msg('MsgAppResp', '3', '1', 1, { index: 1 }));
  takeMessages(r);
  for (let i = 0; i < 5; i++) r.step(msg('MsgProp', '1', '1', 0, { entries: [entry(0, 0, `p${i}`)] }));
  const apps = takeMessages(r);
  assert.deepEqual(apps.map((m) => [m.type, m.to, m.entries.length]), [['MsgApp', '2', 5], ['MsgApp', '3', 5]]);
});

test('§6.4 (thesis) a read pending when the leader steps down is never answered in a later term', () => {
  const r = newRaft('1', ['1', '2', '3']);
  electLeader(r);
  r.step(msg('MsgAppResp', '2', '1', 1, { index: 1 }));
  takeMessages(r);
  r.step(msg('MsgReadIndex', '', '1', 0, { context: enc('stale') }));
  assert.equal(r.readOnly.pendingCount(), 1);
  r.step(msg('MsgApp', '3', '1', 2, { index: 1, logTerm: 1 })); // a leader of term 2 exists
  r.becomeCandidate();
  r.becomeLeader();
  persist(r);
  r.step(msg('MsgHeartbeatResp', '2', '1', r.term, { context: enc('stale') }));
  r.step(msg('MsgHeartbeatResp', '3', '1', r.term, { context: enc('stale') }));
  assert.deepEqual(r.readStates, []);
});

test('§7 a joining server installs a snapshot taken before its addition, then learns its membership from the log', () => {
  const r = newRaft('4', [], {}, new MemoryStorage({ voters: [], learners: [] }));
  const snapshot = { data: enc('state'), metadata: { index: 5, term: 2, confState: { voters: ['1', '2', '3'], learners: [] } } };
  r.step(msg('MsgSnap', '1', '4', 2, { snapshot }));
  assert.equal(r.raftLog.committed, 5);
  assert.equal(r.promotable(), false);
  (r.raftLog.storage as MemoryStorage).applySnapshot(snapshot);
  r.raftLog.stableSnapTo(5);
  r.assertInvariants();
  r.applyConfChange({ type: 'addNode', nodeId: '4', context: new Uint8Array() });
  assert.equal(r.promotable(), true);
  assert.deepEqual(r.trk.voters(), ['1', '2', '3', '4']);
});
