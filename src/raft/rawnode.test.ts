import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AssertionError } from '../common/assert.js';
import { SeededPrng } from '../common/prng.js';
import { decodeConfChange } from './confchange.js';
import { defaultRaftConfig, RaftConfigError, validateRaftConfig } from './config.js';
import { MemoryStorage } from './memory-storage.js';
import { makeMessage, ProposalDroppedError } from './raft.js';
import { RawNode } from './rawnode.js';
import type { Ready } from './types.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

/** Persists a Ready the way a driver must, then advances. */
function handle(node: RawNode, storage: MemoryStorage): Ready {
  const rd = node.ready();
  if (rd.snapshot) storage.applySnapshot(rd.snapshot);
  storage.append(rd.entries);
  if (rd.hardState) storage.setHardState(rd.hardState);
  node.advance(rd);
  return rd;
}

test('single voter: campaign makes it leader at once, proposals commit after the advance that persisted them', () => {
  const storage = new MemoryStorage({ voters: ['1'], learners: [] });
  const node = new RawNode(defaultRaftConfig('1', new SeededPrng(1)), storage);
  node.campaign();
  assert.equal(node.status().softState.raftState, 'leader');
  const first = handle(node, storage);
  assert.deepEqual(first.softState, { lead: '1', raftState: 'leader' });
  assert.deepEqual(first.hardState, { term: 1, vote: '1', commit: 0 });
  assert.deepEqual(first.entries.map((e) => [e.index, e.term, e.data.byteLength]), [[1, 1, 0]]);
  assert.equal(first.committedEntries.length, 0);
  assert.equal(first.mustSync, true);
  const second = handle(node, storage);
  assert.deepEqual(second.hardState, { term: 1, vote: '1', commit: 1 });
  assert.deepEqual(second.committedEntries.map((e) => e.index), [1]);

  node.propose(bytes('a'));
  node.propose(bytes('b'));
  const third = handle(node, storage);
  assert.deepEqual(third.entries.map((e) => [e.index, text(e.data)]), [[2, 'a'], [3, 'b']]);
  assert.equal(third.committedEntries.length, 0, 'not committed before it is persisted');
  assert.equal(node.hasReady(), true);
  const fourth = handle(node, storage);
  assert.deepEqual(fourth.committedEntries.map((e) => [e.index, text(e.data)]), [[2, 'a'], [3, 'b']]);
  assert.equal(fourth.hardState?.commit, 3);
  assert.equal(fourth.mustSync, false);
  assert.equal(node.hasReady(), false);
  assert.deepEqual(node.status().hardState, { term: 1, vote: '1', commit: 3 });
  assert.equal(node.status().applied, 3);
});

test('single voter: restart from storage keeps term, vote and commit, and re-elects in a higher term', () => {
  const storage = new MemoryStorage({ voters: ['1'], learners: [] });
  const node = new RawNode(defaultRaftConfig('1', new SeededPrng(1)), storage);
  node.campaign();
  handle(node, storage);
  node.propose(bytes('x'));
  while (node.hasReady()) handle(node, storage);
  const restarted = new RawNode(defaultRaftConfig('1', new SeededPrng(2), { applied: 2 }), storage);
  assert.deepEqual(restarted.status().hardState, { term: 1, vote: '1', commit: 2 });
  assert.equal(restarted.status().softState.raftState, 'follower');
  restarted.campaign();
  assert.equal(restarted.status().hardState.term, 2);
  assert.equal(restarted.status().softState.raftState, 'leader');
});

test('single voter: election timeout alone makes it leader', () => {
  const storage = new MemoryStorage({ voters: ['1'], learners: [] });
  const node = new RawNode(defaultRaftConfig('1', new SeededPrng(7)), storage);
  for (let i = 0; i < 20; i++) node.tick();
  assert.equal(node.status().softState.raftState, 'leader');
});

test('single voter: readIndex answers after the leader commits an entry of its term', () => {
  const storage = new MemoryStorage({ voters: ['1'], learners: [] });
  const node = new RawNode(defaultRaftConfig('1', new SeededPrng(1)), storage);
  node.campaign();
  node.readIndex(bytes('r1'));
  const first = handle(node, storage);
  assert.deepEqual(first.readStates, []);
  const second = handle(node, storage);
  assert.deepEqual(second.readStates.map((s) => [s.index, text(s.requestCtx)]), [[1, 'r1']]);
});

test('a follower with no leader drops proposals', () => {
  const storage = new MemoryStorage({ voters: ['1', '2', '3'], learners: [] });
  const node = new RawNode(defaultRaftConfig('1', new SeededPrng(1)), storage);
  assert.throws(() => node.propose(bytes('a')), ProposalDroppedError);
});

test('config validator names the broken field', () => {
  const prng = new SeededPrng(1);
  assert.throws(() => validateRaftConfig(defaultRaftConfig('1', prng, { heartbeatTicks: 10 })), {
    name: 'RaftConfigError',
    message: 'raft config: heartbeatTicks (10) must be less than electionTicks (10)',
  });
  assert.throws(() => validateRaftConfig(defaultRaftConfig('1', prng, { readOnlyOption: 'leaseBased', checkQuorum: false })), RaftConfigError);
  assert.throws(() => validateRaftConfig(defaultRaftConfig('', prng)), { message: 'raft config: id must not be empty (NONE)' });
  assert.throws(() => validateRaftConfig(defaultRaftConfig('1', prng, { maxInflightMsgs: 0 })), {
    message: 'raft config: maxInflightMsgs must be a positive integer, got 0',
  });
  validateRaftConfig(defaultRaftConfig('1', prng));
});

function threeNodeLeader(): { node: RawNode; storage: MemoryStorage } {
  const storage = new MemoryStorage({ voters: ['1', '2', '3'], learners: [] });
  const node = new RawNode(defaultRaftConfig('1', new SeededPrng(1), { preVote: false }), storage);
  node.campaign();
  handle(node, storage);
  for (const from of ['2', '3']) node.step(makeMessage({ type: 'MsgVoteResp', from, to: '1', term: 1 }));
  handle(node, storage);
  for (const from of ['2', '3']) node.step(makeMessage({ type: 'MsgAppResp', from, to: '1', term: 1, index: 1 }));
  while (node.hasReady()) handle(node, storage);
  return { node, storage };
}

test('the Ready contract: hasReady is false while a Ready awaits advance, and a second ready() asserts', () => {
  const storage = new MemoryStorage({ voters: ['1'], learners: [] });
  const node = new RawNode(defaultRaftConfig('1', new SeededPrng(1)), storage);
  node.campaign();
  const rd = node.ready();
  assert.equal(node.hasReady(), false);
  assert.throws(() => node.ready(), AssertionError);
  storage.append(rd.entries);
  node.advance(rd);
  assert.throws(() => node.advance(rd), AssertionError);
  assert.equal(node.hasReady(), true);
});

test('step refuses message types only the node itself may produce, and malformed messages', () => {
  const node = new RawNode(defaultRaftConfig('1', new SeededPrng(1)), new MemoryStorage({ voters: ['1', '2'], learners: [] }));
  assert.throws(() => node.step(makeMessage({ type: 'MsgHup', from: '2', to: '1' })), { message: 'raft: MsgHup is local and cannot come from the network' });
  assert.throws(() => node.step(makeMessage({ type: 'MsgProp', from: '2', to: '1' })), { message: 'raft: MsgProp without entries' });
  assert.throws(() => node.step(makeMessage({ type: 'MsgSnap', from: '2', to: '1', term: 1 })), { message: 'raft: MsgSnap without a snapshot' });
});

test('reportUnreachable drops a replicating follower back to probe; reportSnapshot resumes probing', () => {
  const { node } = threeNodeLeader();
  assert.equal(node.status().progress.get('2')?.state, 'replicate');
  node.reportUnreachable('2');
  assert.equal(node.status().progress.get('2')?.state, 'probe');
  const pr = node.raft.trk.progress.get('3');
  assert.ok(pr !== undefined);
  pr.becomeSnapshot(1);
  node.reportSnapshot('3', 'failure');
  assert.deepEqual([node.status().progress.get('3')?.state, node.status().progress.get('3')?.next], ['probe', 2]);
});

test('status reports progress only on the leader, and learners separately in the configuration', () => {
  const { node } = threeNodeLeader();
  const st = node.status();
  assert.deepEqual([...st.progress.keys()], ['1', '2', '3']);
  assert.deepEqual(st.confState, { voters: ['1', '2', '3'], learners: [] });
  const follower = new RawNode(defaultRaftConfig('2', new SeededPrng(1)), new MemoryStorage({ voters: ['1', '2'], learners: ['3'] }));
  assert.equal(follower.status().progress.size, 0);
  assert.deepEqual(follower.status().confState, { voters: ['1', '2'], learners: ['3'] });
});

test('proposeConfChange appends an encoded confChange entry; a second one while pending becomes a no-op', () => {
  const { node, storage } = threeNodeLeader();
  node.proposeConfChange({ type: 'addNode', nodeId: '4', context: bytes('ctx') });
  node.proposeConfChange({ type: 'removeNode', nodeId: '2', context: new Uint8Array() });
  const rd = handle(node, storage);
  assert.deepEqual(rd.entries.map((e) => [e.index, e.type, e.data.byteLength > 0]), [[2, 'confChange', true], [3, 'normal', false]]);
  assert.deepEqual(decodeConfChange(rd.entries[0]?.data ?? new Uint8Array()).nodeId, '4');
});
