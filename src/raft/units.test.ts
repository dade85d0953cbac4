/** Unit tests of the raft core's building blocks: storage, log, progress, quorum, codec, read-only. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AssertionError } from '../common/assert.js';
import { ConfChangeDecodeError, decodeConfChange, encodeConfChange } from './confchange.js';
import { limitSize, RaftLog } from './log.js';
import { MemoryStorage } from './memory-storage.js';
import { Inflights, Progress } from './progress.js';
import { committedIndex, voteResult } from './quorum.js';
import { ReadOnly } from './read-only.js';
import { makeMessage } from './raft.js';
import { CompactedError, UnavailableError, type Entry } from './types.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const e = (term: number, index: number, data = ''): Entry => ({ term, index, type: 'normal', data: enc(data) });
const voters = { voters: ['1'], learners: [] };

test('MemoryStorage: term, entries, firstIndex/lastIndex, and their errors', () => {
  const s = new MemoryStorage(voters);
  s.append([e(1, 1, 'a'), e(1, 2, 'bb'), e(2, 3, 'ccc')]);
  assert.deepEqual([s.firstIndex(), s.lastIndex(), s.term(0), s.term(3)], [1, 3, 0, 2]);
  assert.deepEqual(s.entries(1, 4, Infinity).map((x) => x.index), [1, 2, 3]);
  assert.deepEqual(s.entries(1, 4, 2).map((x) => x.index), [1], 'a size limit keeps the prefix within it');
  assert.deepEqual(s.entries(2, 4, 0).map((x) => x.index), [2], 'but always at least one entry');
  assert.throws(() => s.term(4), UnavailableError);
  assert.throws(() => s.entries(1, 5, Infinity), UnavailableError);
});

test('MemoryStorage: append truncates a conflicting suffix and refuses a gap', () => {
  const s = new MemoryStorage(voters);
  s.append([e(1, 1), e(1, 2), e(1, 3)]);
  s.append([e(2, 2, 'x')]);
  assert.deepEqual(s.entries(1, s.lastIndex() + 1, Infinity).map((x) => `${x.term}/${x.index}`), ['1/1', '2/2']);
  assert.throws(() => s.append([e(2, 5)]), AssertionError);
});

test('MemoryStorage: createSnapshot + compact keep the tail; applySnapshot replaces everything', () => {
  const s = new MemoryStorage(voters);
  s.append([e(1, 1), e(1, 2), e(2, 3), e(2, 4)]);
  const snap = s.createSnapshot(3, undefined, enc('state@3'));
  assert.deepEqual(snap.metadata, { index: 3, term: 2, confState: voters });
  s.compact(3);
  assert.deepEqual([s.firstIndex(), s.lastIndex(), s.term(3)], [4, 4, 2]);
  assert.throws(() => s.term(2), CompactedError);
  assert.throws(() => s.entries(3, 5, Infinity), CompactedError);
  assert.throws(() => s.compact(2), CompactedError);
  s.append([e(1, 2), e(2, 3), e(2, 4), e(2, 5)]); // the compacted part of an append is skipped
  assert.deepEqual([s.firstIndex(), s.lastIndex()], [4, 5]);
  s.applySnapshot({ data: enc('x'), metadata: { index: 10, term: 5, confState: voters } });
  assert.deepEqual([s.firstIndex(), s.lastIndex(), s.term(10)], [11, 10, 5]);
  assert.throws(() => s.applySnapshot({ data: enc('old'), metadata: { index: 9, term: 5, confState: voters } }), AssertionError);
});

test('RaftLog: unstable entries shadow storage until stableTo; conflicting appends truncate', () => {
  const s = new MemoryStorage(voters);
  s.append([e(1, 1), e(1, 2)]);
  const log = new RaftLog(s, Infinity);
  assert.equal(log.append([e(2, 3), e(2, 4)]), 4);
  assert.deepEqual(log.unstableEntries().map((x) => x.index), [3, 4]);
  assert.equal(log.maybeAppend(2, 1, 3, [e(3, 3)]), 3);
  assert.deepEqual(log.unstableEntries().map((x) => `${x.term}/${x.index}`), ['3/3']);
  assert.equal(log.committed, 3);
  assert.equal(log.maybeAppend(3, 2, 3, []), undefined, 'mismatched previous term');
  assert.deepEqual(log.nextCommittedEntries().map((x) => x.index), [1, 2], 'only persisted entries are handed out to apply');
  s.append(log.unstableEntries());
  log.stableTo(3, 3);
  assert.deepEqual(log.nextCommittedEntries().map((x) => x.index), [1, 2, 3]);
  assert.throws(() => log.appliedTo(4), AssertionError, 'applied may not pass committed');
  assert.throws(() => log.append([e(3, 2)]), AssertionError, 'committed entries are never overwritten');
});

test('RaftLog: isUpToDate compares last term first, then length (§5.4.1)', () => {
  const s = new MemoryStorage(voters);
  s.append([e(1, 1), e(2, 2)]);
  const log = new RaftLog(s, Infinity);
  assert.deepEqual([log.isUpToDate(2, 2), log.isUpToDate(1, 2), log.isUpToDate(9, 1), log.isUpToDate(1, 3)], [true, false, false, true]);
});

test('limitSize keeps at least one entry and the longest prefix within the limit', () => {
  const ents = [e(1, 1, 'aa'), e(1, 2, 'bb'), e(1, 3, 'cc')];
  assert.equal(limitSize(ents, 0).length, 1);
  assert.equal(limitSize(ents, 4).length, 2);
  assert.equal(limitSize(ents, 100).length, 3);
});

test('Inflights: bounded, freed in order up to an acknowledged index', () => {
  const inf = new Inflights(3);
  inf.add(2);
  inf.add(5);
  inf.add(9);
  assert.equal(inf.full(), true);
  assert.throws(() => inf.add(10), AssertionError);
  inf.freeLE(5);
  assert.deepEqual([inf.count, inf.full()], [1, false]);
  assert.throws(() => inf.add(8), AssertionError, 'indexes only grow');
});

test('Progress: probe pauses after one append; replicate pipelines; a stale rejection is ignored', () => {
  const pr = new Progress(5, 2, false);
  assert.equal(pr.isPaused(), false);
  pr.sentAppend(6);
  assert.equal(pr.isPaused(), true);
  assert.equal(pr.maybeDecrTo(3, 1), false, 'rejection of an index we did not send');
  assert.equal(pr.maybeDecrTo(4, 1), true);
  assert.equal(pr.next, 2);
  pr.maybeUpdate(4);
  pr.becomeReplicate();
  pr.sentAppend(6);
  pr.sentAppend(8);
  assert.deepEqual([pr.next, pr.isPaused()], [9, true]);
  assert.equal(pr.maybeDecrTo(4, 0), false, 'rejected index at or below match is stale');
  assert.equal(pr.maybeDecrTo(7, 0), true);
  assert.equal(pr.next, 5);
  pr.becomeSnapshot(20);
  assert.equal(pr.isPaused(), true);
  pr.becomeProbe();
  assert.equal(pr.next, 21, 'after a snapshot, probing resumes past it');
});

test('quorum: committed index is the majority-th largest match; votes win, lose or wait', () => {
  const match: Record<string, number> = { a: 5, b: 3, c: 9, d: 1, e: 3 };
  assert.equal(committedIndex(['a', 'b', 'c', 'd', 'e'], (id) => match[id] ?? 0), 3);
  assert.equal(committedIndex(['a', 'c'], (id) => match[id] ?? 0), 5);
  assert.equal(committedIndex([], () => 7), 0);
  const v = (entries: [string, boolean][]): Map<string, boolean> => new Map(entries);
  assert.equal(voteResult(['a', 'b', 'c'], v([['a', true], ['b', true]])), 'won');
  assert.equal(voteResult(['a', 'b', 'c'], v([['a', true], ['b', false]])), 'pending');
  assert.equal(voteResult(['a', 'b', 'c'], v([['a', false], ['b', false]])), 'lost');
});

test('conf change codec round-trips and rejects garbage', () => {
  const cc = { type: 'addLearner' as const, nodeId: '8e9e05c52164694d', context: enc('{"name":"n"}') };
  const back = decodeConfChange(encodeConfChange(cc));
  assert.deepEqual({ ...back, context: [...back.context] }, { ...cc, context: [...cc.context] });
  assert.throws(() => decodeConfChange(new Uint8Array([1])), { name: 'ConfChangeDecodeError', message: 'conf change too short (1 bytes)' });
  assert.throws(() => decodeConfChange(new Uint8Array([9, 1, 0, 0])), ConfChangeDecodeError);
  assert.throws(() => decodeConfChange(new Uint8Array([1, 7, 0, 0])), { message: 'unknown conf change type 7' });
});

test('ReadOnly: a confirmed request releases every request queued before it', () => {
  const ro = new ReadOnly();
  ro.addRequest(3, makeMessage({ type: 'MsgReadIndex', context: enc('a') }));
  ro.addRequest(4, makeMessage({ type: 'MsgReadIndex', context: enc('b') }));
  ro.addRequest(4, makeMessage({ type: 'MsgReadIndex', context: enc('b') }));
  assert.equal(ro.pendingCount(), 2);
  assert.deepEqual([...ro.recvAck('2', enc('b'))], ['2']);
  assert.deepEqual(ro.advance(enc('b')).map((s) => s.index), [3, 4]);
  assert.equal(ro.pendingCount(), 0);
  assert.equal(ro.recvAck('2', enc('zzz')).size, 0);
});
