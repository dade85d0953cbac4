/**
 * The contract every raft Storage implementation must keep (MemoryStorage, DiskStorage), as one
 * shared suite: each implementation supplies a harness that performs the driver's writes its own
 * way, and the same assertions run against the reads raft makes.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AssertionError } from '../common/assert.js';
import { CompactedError, UnavailableError, type Entry, type HardState, type Snapshot, type Storage } from '../raft/types.js';

export interface StorageHarness {
  readonly storage: Storage;
  /** Persist entries (a Ready's), truncating a conflicting suffix. */
  append(entries: readonly Entry[]): Promise<void>;
  setHardState(hardState: HardState): Promise<void>;
  /** A leader's snapshot replacing the log. */
  applySnapshot(snapshot: Snapshot): Promise<void>;
  /** Snapshot the log at index with data, then compact the log up to index. */
  snapshotAndCompact(index: number, data: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

export function entry(index: number, term: number, data = `e${index}`): Entry {
  return { index, term, type: 'normal', data: new TextEncoder().encode(data) };
}

function ids(entries: readonly Entry[]): string[] {
  return entries.map((e) => `${e.index}/${e.term}`);
}

async function withHarness(create: () => Promise<StorageHarness>, body: (h: StorageHarness) => Promise<void>): Promise<void> {
  const h = await create();
  try {
    await body(h);
  } finally {
    await h.close();
  }
}

export function describeStorageContract(name: string, create: () => Promise<StorageHarness>): void {
  describe(`Storage contract: ${name}`, () => {
    it('a fresh storage is empty at index 0', () =>
      withHarness(create, async ({ storage }) => {
        assert.equal(storage.firstIndex(), 1);
        assert.equal(storage.lastIndex(), 0);
        assert.equal(storage.term(0), 0);
        assert.throws(() => storage.term(1), UnavailableError);
        assert.deepEqual(storage.entries(1, 1, Infinity), []);
        assert.deepEqual(storage.initialState().hardState, { term: 0, vote: '', commit: 0 });
        assert.equal(storage.snapshot().metadata.index, 0);
      }));

    it('entries(lo, hi, maxBytes): ranges, size limit (never fewer than one), compacted and unavailable', () =>
      withHarness(create, async (h) => {
        await h.append([entry(1, 1), entry(2, 1), entry(3, 2), entry(4, 2), entry(5, 3)]);
        const { storage } = h;
        assert.deepEqual(ids(storage.entries(2, 5, Infinity)), ['2/1', '3/2', '4/2']);
        assert.deepEqual(ids(storage.entries(1, 6, 4)), ['1/1', '2/1']);
        assert.deepEqual(ids(storage.entries(3, 6, 0)), ['3/2']);
        assert.deepEqual(ids(storage.entries(5, 5, Infinity)), []);
        assert.throws(() => storage.entries(0, 2, Infinity), CompactedError);
        assert.throws(() => storage.entries(4, 7, Infinity), UnavailableError);
        assert.equal(storage.term(3), 2);
        assert.equal(storage.term(5), 3);
        assert.throws(() => storage.term(6), UnavailableError);
        assert.equal(new TextDecoder().decode(storage.entries(4, 5, Infinity)[0]?.data), 'e4');
      }));

    it('a conflicting append replaces the suffix from its first index', () =>
      withHarness(create, async (h) => {
        await h.append([entry(1, 1), entry(2, 1), entry(3, 1), entry(4, 1)]);
        await h.append([entry(3, 2, 'new3')]);
        assert.equal(h.storage.lastIndex(), 3);
        assert.deepEqual(ids(h.storage.entries(1, 4, Infinity)), ['1/1', '2/1', '3/2']);
        await h.append([entry(4, 2), entry(5, 2)]);
        assert.deepEqual(ids(h.storage.entries(1, 6, Infinity)), ['1/1', '2/1', '3/2', '4/2', '5/2']);
      }));

    it('an append that would leave a gap is refused', () =>
      withHarness(create, async (h) => {
        await h.append([entry(1, 1)]);
        await assert.rejects(async () => h.append([entry(3, 1)]), AssertionError);
        assert.equal(h.storage.lastIndex(), 1);
      }));

    it('the hard state round-trips', () =>
      withHarness(create, async (h) => {
        await h.append([entry(1, 1), entry(2, 2)]);
        await h.setHardState({ term: 2, vote: 'a', commit: 2 });
        assert.deepEqual(h.storage.initialState().hardState, { term: 2, vote: 'a', commit: 2 });
      }));

    it('snapshot + compact: first index moves past it, its term stays readable, older entries are compacted', () =>
      withHarness(create, async (h) => {
        await h.append([entry(1, 1), entry(2, 1), entry(3, 2), entry(4, 2), entry(5, 2)]);
        await h.setHardState({ term: 2, vote: '', commit: 4 });
        await h.snapshotAndCompact(3, new TextEncoder().encode('state@3'));
        const { storage } = h;
        assert.equal(storage.firstIndex(), 4);
        assert.equal(storage.lastIndex(), 5);
        assert.equal(storage.term(3), 2);
        assert.throws(() => storage.term(2), CompactedError);
        assert.throws(() => storage.entries(3, 5, Infinity), CompactedError);
        assert.deepEqual(ids(storage.entries(4, 6, Infinity)), ['4/2', '5/2']);
        assert.deepEqual({ ...storage.snapshot().metadata, confState: undefined }, { index: 3, term: 2, confState: undefined });
        assert.equal(new TextDecoder().decode(storage.snapshot().data), 'state@3');
        await h.append([entry(2, 1), entry(3, 2), entry(4, 2), entry(5, 2), entry(6, 3)]);
        assert.deepEqual(ids(storage.entries(4, 7, Infinity)), ['4/2', '5/2', '6/3']);
      }));

    it("applying a leader's snapshot replaces the whole log", () =>
      withHarness(create, async (h) => {
        await h.append([entry(1, 1), entry(2, 1), entry(3, 1)]);
        const confState = { voters: ['a', 'b'], learners: [] };
        await h.applySnapshot({ data: new TextEncoder().encode('leader'), metadata: { index: 10, term: 4, confState } });
        const { storage } = h;
        assert.equal(storage.firstIndex(), 11);
        assert.equal(storage.lastIndex(), 10);
        assert.equal(storage.term(10), 4);
        assert.throws(() => storage.term(3), CompactedError);
        assert.deepEqual(storage.initialState().confState, confState);
        await h.append([entry(11, 4), entry(12, 4)]);
        assert.deepEqual(ids(storage.entries(11, 13, Infinity)), ['11/4', '12/4']);
      }));
  });
}
