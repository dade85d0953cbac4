import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SeededPrng, type Prng } from '../../src/common/prng.js';
import type { Entry, Snapshot } from '../../src/raft/types.js';
import { DiskImage, SimDisk } from './disk.js';

const EMPTY = new Uint8Array(0);
const conf = { voters: ['1'], learners: [] };

function entry(index: number, term: number): Entry {
  return { index, term, type: 'normal', data: new TextEncoder().encode(`e${index}`) };
}

function snapshot(index: number, term: number): Snapshot {
  return { data: EMPTY, metadata: { index, term, confState: conf } };
}

function freshImage(): DiskImage {
  return new DiskImage({ term: 1, vote: '', commit: 0 }, snapshot(0, 0));
}

/** A prng that returns scripted integers, to pick exactly which writes a crash keeps. */
function scripted(ints: number[]): Prng {
  return { next: () => 0, int: () => ints.shift() ?? 0 };
}

test('disk: fsynced writes survive a crash, unsynced ones may not', () => {
  const disk = new SimDisk(freshImage());
  disk.write({ kind: 'entries', entries: [entry(1, 1), entry(2, 1)] });
  disk.fsync();
  disk.write({ kind: 'entries', entries: [entry(3, 1)] });
  disk.write({ kind: 'hardState', hardState: { term: 2, vote: '1', commit: 2 } });
  const image = disk.crash(scripted([0])); // keep none of the two unsynced writes
  assert.equal(image.lastIndex(), 2);
  assert.deepEqual(image.hardState, { term: 1, vote: '', commit: 0 });
  assert.equal(disk.lostWrites, 2);
});

test('disk: a crash keeps a prefix of the unsynced writes, never a later write without an earlier one', () => {
  const disk = new SimDisk(freshImage());
  disk.write({ kind: 'hardState', hardState: { term: 2, vote: '1', commit: 0 } });
  disk.write({ kind: 'entries', entries: [entry(1, 2)] });
  disk.write({ kind: 'hardState', hardState: { term: 2, vote: '1', commit: 1 } });
  const image = disk.crash(scripted([1])); // keep exactly the first write
  assert.deepEqual(image.hardState, { term: 2, vote: '1', commit: 0 });
  assert.equal(image.lastIndex(), 0);
});

test('disk: the last kept write can be torn, keeping only the first entries of a record', () => {
  const disk = new SimDisk(freshImage());
  disk.write({ kind: 'entries', entries: [entry(1, 1), entry(2, 1), entry(3, 1), entry(4, 1)] });
  // keep 0 whole writes; tear the entries record (coin 0) keeping 1 + 1 = 2 entries
  const image = disk.crash(scripted([0, 0, 1]));
  assert.deepEqual(image.entries.map((e) => e.index), [1, 2]);
  assert.equal(disk.tornWrites, 1);
});

test('disk: later entries overwrite a conflicting suffix, as a WAL replay does', () => {
  const image = freshImage();
  image.apply({ kind: 'entries', entries: [entry(1, 1), entry(2, 1), entry(3, 1)] });
  image.apply({ kind: 'entries', entries: [entry(2, 2)] });
  assert.deepEqual(image.entries.map((e) => `${e.index}/${e.term}`), ['1/1', '2/2']);
  assert.equal(image.termAt(3), undefined);
});

test('disk: a snapshot keeps the entries after it only when the log agrees with its last entry (Raft §7)', () => {
  const agreeing = freshImage();
  agreeing.apply({ kind: 'entries', entries: [entry(1, 1), entry(2, 1), entry(3, 1)] });
  agreeing.apply({ kind: 'snapshot', snapshot: snapshot(2, 1) });
  assert.deepEqual(agreeing.entries.map((e) => e.index), [3]);
  assert.equal(agreeing.termAt(2), 1);

  const conflicting = freshImage();
  conflicting.apply({ kind: 'entries', entries: [entry(1, 1), entry(2, 1), entry(3, 1)] });
  conflicting.apply({ kind: 'snapshot', snapshot: snapshot(2, 5) });
  assert.deepEqual(conflicting.entries, []);
  assert.equal(conflicting.lastIndex(), 2);
});

test('disk: a replay whose commit points past the durable log is refused', () => {
  const image = freshImage();
  image.apply({ kind: 'hardState', hardState: { term: 1, vote: '', commit: 3 } });
  assert.throws(() => image.forReplay(), /replayed commit 3 outside \[snapshot 0, last 0\]/);
});

test('disk: crashes are deterministic for a seed', () => {
  const run = (): number[] => {
    const disk = new SimDisk(freshImage());
    const prng = new SeededPrng(42);
    const kept: number[] = [];
    let next = 1;
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 10; i++) {
        disk.write({ kind: 'entries', entries: [entry(next, 1), entry(next + 1, 1)] });
        next += 2;
      }
      next = disk.crash(prng).lastIndex() + 1;
      kept.push(next - 1);
    }
    return kept;
  };
  assert.deepEqual(run(), run());
});
