/** Each checker fires on a hand-made violation and stays quiet on the legal neighbour of it. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Entry, Message, MessageType, NodeId } from '../../src/raft/types.js';
import { SafetyChecker, SimViolation, type CheckName, type LogView } from './checker.js';
import { DiskImage } from './disk.js';

function entry(index: number, term: number, data = `e${index}`): Entry {
  return { index, term, type: 'normal', data: new TextEncoder().encode(data) };
}

/** A log of consecutive entries from index 1 (no snapshot). */
function logOf(entries: Entry[]): LogView {
  return {
    termAt: (i) => (i === 0 ? 0 : entries[i - 1]?.term),
    entryAt: (i) => entries[i - 1],
    lastIndex: () => entries.length,
    snapshotIndex: () => 0,
  };
}

function msg(type: MessageType, from: NodeId, to: NodeId, fields: Partial<Message> = {}): Message {
  return { type, from, to, term: 1, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0, context: new Uint8Array(0), ...fields };
}

function durable(term: number, vote: NodeId, entries: Entry[] = []): DiskImage {
  const image = new DiskImage({ term, vote, commit: 0 }, { data: new Uint8Array(0), metadata: { index: 0, term: 0, confState: { voters: [], learners: [] } } });
  image.apply({ kind: 'entries', entries });
  return image;
}

function violation(check: CheckName, run: () => void): void {
  assert.throws(run, (err: unknown) => err instanceof SimViolation && err.check === check);
}

test('checker: election safety — two leaders in one term', () => {
  const c = new SafetyChecker(true, true);
  c.onLeader('1', 2);
  c.onLeader('1', 2);
  c.onLeader('2', 3);
  violation('election-safety', () => c.onLeader('3', 2));
});

test('checker: log matching — same index and term, different payload or predecessor', () => {
  const c = new SafetyChecker(true, true);
  const a = [entry(1, 1), entry(2, 1), entry(3, 2)];
  c.onPersistedEntries('1', a, logOf(a));
  const b = [entry(1, 1), entry(2, 1), entry(3, 2)];
  c.onPersistedEntries('2', b, logOf(b));
  const differentPayload = [entry(1, 1), entry(2, 1), entry(3, 2, 'other')];
  violation('log-matching', () => c.onPersistedEntries('3', differentPayload.slice(2), logOf(differentPayload)));
  const differentPrefix = [entry(1, 1), entry(2, 3), entry(3, 2)];
  violation('log-matching', () => c.onPersistedEntries('3', differentPrefix.slice(2), logOf(differentPrefix)));
});

test('checker: a committed entry never changes', () => {
  const c = new SafetyChecker(true, true);
  c.onCommitAdvance('1', 0, 2, 1, logOf([entry(1, 1), entry(2, 1)]));
  c.onCommitAdvance('2', 0, 2, 1, logOf([entry(1, 1), entry(2, 1)]));
  violation('leader-completeness', () => c.onCommitAdvance('3', 0, 2, 2, logOf([entry(1, 1), entry(2, 2)])));
});

test('checker: leader completeness — a leader of a later term lacks a committed entry', () => {
  const c = new SafetyChecker(true, true);
  c.onCommitAdvance('1', 0, 2, 1, logOf([entry(1, 1), entry(2, 1)]));
  c.checkLeaderLog('1', 1, logOf([entry(1, 1), entry(2, 1)]), true);
  c.checkLeaderLog('2', 1, logOf([entry(1, 1)]), true); // same term: its entries may come later
  violation('leader-completeness', () => c.checkLeaderLog('2', 2, logOf([entry(1, 1)]), true));
  violation('leader-completeness', () => c.checkLeaderLog('3', 2, logOf([entry(1, 1), entry(2, 2)]), false));
});

test('checker: state-machine safety — a different entry or state applied at an index', () => {
  const c = new SafetyChecker(true, true);
  c.onApply('1', entry(1, 1), 111);
  c.onApply('2', entry(1, 1), 111);
  violation('state-machine-safety', () => c.onApply('3', entry(1, 2), 111));
  violation('state-machine-safety', () => c.onRestore('3', 1, 222));
});

test('checker: term, commit and vote never go back within a run or across restarts', () => {
  const c = new SafetyChecker(true, true);
  violation('monotonic-term', () => c.onHardState('1', { term: 3, vote: '', commit: 1 }, { term: 2, vote: '', commit: 1 }));
  violation('monotonic-commit', () => c.onHardState('1', { term: 3, vote: '', commit: 5 }, { term: 3, vote: '', commit: 4 }));
  violation('one-vote-per-term', () => c.onHardState('1', { term: 3, vote: '2', commit: 5 }, { term: 3, vote: '3', commit: 5 }));
  c.onDurableState('1', { term: 4, vote: '', commit: 6 }, 'fsync');
  violation('monotonic-term', () => c.onDurableState('1', { term: 3, vote: '', commit: 6 }, 'restart'));
  violation('monotonic-commit', () => c.onDurableState('1', { term: 4, vote: '', commit: 5 }, 'restart'));
});

test('checker: no node grants two votes in one term', () => {
  const c = new SafetyChecker(true, true);
  c.onSend(msg('MsgVoteResp', '1', '2', { term: 2 }), durable(2, '2'), logOf([]));
  c.onSend(msg('MsgVoteResp', '1', '2', { term: 2 }), durable(2, '2'), logOf([]));
  c.onSend(msg('MsgVoteResp', '1', '3', { term: 2, reject: true }), durable(2, '2'), logOf([]));
  violation('one-vote-per-term', () => c.onSend(msg('MsgVoteResp', '1', '3', { term: 2 }), durable(2, '3'), logOf([])));
});

test('checker: durability — votes, terms and acknowledged entries must be fsynced before sending', () => {
  const c = new SafetyChecker(true, true);
  violation('durability', () => c.onSend(msg('MsgVoteResp', '1', '2', { term: 2 }), durable(2, ''), logOf([])));
  violation('durability', () => c.onSend(msg('MsgHeartbeatResp', '1', '2', { term: 3 }), durable(2, ''), logOf([])));
  c.onSend(msg('MsgPreVote', '1', '2', { term: 3 }), durable(2, ''), logOf([]));
  const live = [entry(1, 1), entry(2, 1)];
  c.onSend(msg('MsgAppResp', '1', '2', { index: 1 }), durable(1, '', [entry(1, 1)]), logOf(live));
  violation('durability', () => c.onSend(msg('MsgAppResp', '1', '2', { index: 2 }), durable(1, '', [entry(1, 1)]), logOf(live)));
  const relaxed = new SafetyChecker(false, true);
  relaxed.onSend(msg('MsgAppResp', '1', '2', { index: 2 }), durable(1, '', [entry(1, 1)]), logOf(live));
});

test('checker: a ReadIndex answer must cover what was committed when the read was asked', () => {
  const c = new SafetyChecker(true, true);
  c.onReadState('1', 'r1', 7, 7);
  violation('read-index', () => c.onReadState('1', 'r2', 6, 7));
});

test('checker: the commit rule — a leader commits by counting only an entry of its own term', () => {
  const log = logOf([entry(1, 1), entry(2, 2), entry(3, 3)]);
  const c = new SafetyChecker(true, true);
  c.onLeaderCommit('1', 3, 3, log);
  violation('commit-rule', () => c.onLeaderCommit('1', 3, 2, log));
  new SafetyChecker(true, false).onLeaderCommit('1', 3, 2, log);
});
