import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Entry, HardState, Snapshot } from '../raft/types.js';
import { DiskStorage, StorageOpenError, defaultDiskStorageConfig, type DiskStorageConfig } from './disk-storage.js';
import { FaultFileSystem } from './fault-fs.js';
import { SnapshotStore, encodeSnapshot, snapshotName } from './snapshot.js';
import { WalFailedError } from './wal.js';

const DIR = '/member';
const CONF = { voters: ['n1'], learners: [] };

function entry(index: number, term: number): Entry {
  return { index, term, type: 'normal', data: new TextEncoder().encode(`v${index}`) };
}

function entries(from: number, to: number, term: number): Entry[] {
  const out: Entry[] = [];
  for (let i = from; i <= to; i++) out.push(entry(i, term));
  return out;
}

function hs(term: number, commit: number): HardState {
  return { term, vote: 'n1', commit };
}

function snap(index: number, term: number): Snapshot {
  return { data: new TextEncoder().encode(`state@${index}`), metadata: { index, term, confState: CONF } };
}

function smallSegments(): DiskStorageConfig {
  const base = defaultDiskStorageConfig();
  return { ...base, wal: { ...base.wal, segmentBytes: 1024 } };
}

function view(disk: DiskStorage): string {
  const entriesHeld = disk.lastIndex() >= disk.firstIndex() ? disk.entries(disk.firstIndex(), disk.lastIndex() + 1, Infinity) : [];
  const { hardState } = disk.initialState();
  return JSON.stringify({
    first: disk.firstIndex(),
    last: disk.lastIndex(),
    terms: entriesHeld.map((e) => e.term),
    hardState,
    snapshot: [disk.snapshot().metadata.index, disk.snapshot().metadata.term, new TextDecoder().decode(disk.snapshot().data)],
  });
}

async function reopen(disk: DiskStorage, fs: FaultFileSystem, config = defaultDiskStorageConfig()): Promise<DiskStorage> {
  await disk.close();
  return await DiskStorage.open(DIR, fs, config);
}

describe('DiskStorage', () => {
  it('a new directory reports existed=false and records the metadata; a reopen reports existed=true', async () => {
    const fs = new FaultFileSystem();
    const base = defaultDiskStorageConfig();
    const metadata = new TextEncoder().encode('{"member":"8e9e05c52164694d"}');
    let disk = await DiskStorage.open(DIR, fs, { ...base, wal: { ...base.wal, metadata } });
    assert.equal(disk.opened.existed, false);
    disk = await reopen(disk, fs);
    assert.equal(disk.opened.existed, true);
    assert.deepEqual(disk.opened.metadata, metadata);
    await disk.close();
  });

  it('reopen restores entries, overwrites and the hard state', async () => {
    const fs = new FaultFileSystem();
    let disk = await DiskStorage.open(DIR, fs);
    await disk.save(hs(1, 3), entries(1, 5, 1), true);
    await disk.save(hs(2, 3), entries(4, 6, 2), true);
    const before = view(disk);
    disk = await reopen(disk, fs);
    assert.equal(view(disk), before);
    assert.equal(before, JSON.stringify({ first: 1, last: 6, terms: [1, 1, 1, 2, 2, 2], hardState: hs(2, 3), snapshot: [0, 0, ''] }));
    await disk.close();
  });

  it('saveSnapshot + compact release WAL segments; reopen starts from the snapshot with the entries after it', async () => {
    const fs = new FaultFileSystem();
    let disk = await DiskStorage.open(DIR, fs, smallSegments());
    for (let i = 1; i <= 80; i++) await disk.save(hs(1, i), [entry(i, 1)], true);
    const segmentsBefore = disk.walSegmentPaths().length;
    await disk.saveSnapshot(snap(60, 1));
    await disk.compact(60);
    assert.ok(disk.walSegmentPaths().length < segmentsBefore, 'segments behind the snapshot are deleted');
    assert.equal(disk.firstIndex(), 61);
    disk = await reopen(disk, fs, smallSegments());
    assert.equal(view(disk), JSON.stringify({ first: 61, last: 80, terms: new Array(20).fill(1), hardState: hs(1, 80), snapshot: [60, 1, 'state@60'] }));
    assert.deepEqual(disk.initialState().confState, CONF);
    await disk.close();
  });

  it('keeps the newest two snapshots, and the WAL still covers the older one', async () => {
    const fs = new FaultFileSystem();
    const disk = await DiskStorage.open(DIR, fs, smallSegments());
    for (let i = 1; i <= 90; i++) await disk.save(hs(1, i), [entry(i, 1)], true);
    for (const index of [30, 60, 90]) {
      await disk.saveSnapshot(snap(index, 1));
      await disk.compact(index);
    }
    const snaps = await new SnapshotStore(`${DIR}/snap`, fs).list();
    assert.deepEqual(snaps.map((f) => f.index), [90, 60]);
    await disk.close();
    // Corrupt the newest: start falls back to the older one and replays the WAL after it.
    const newest = snaps[0]?.path ?? '';
    const bytes = fs.bytesOf(newest);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 1;
    const file = await fs.createTruncate(newest);
    await file.append(bytes);
    const fallback = await DiskStorage.open(DIR, fs, smallSegments());
    assert.equal(fallback.snapshot().metadata.index, 60);
    assert.equal(fallback.firstIndex(), 61);
    assert.equal(fallback.lastIndex(), 90);
    assert.match(fallback.opened.skippedSnapshots[0] ?? '', /^snapshot corrupt: .*0000000000000001-000000000000005a\.snap: crc mismatch$/);
    await fallback.close();
  });

  it('a corrupt snapshot the WAL no longer covers refuses to start with a message', async () => {
    const fs = new FaultFileSystem();
    const base = smallSegments();
    const disk = await DiskStorage.open(DIR, fs, { ...base, keepSnapshots: 1 });
    for (let i = 1; i <= 90; i++) await disk.save(hs(1, i), [entry(i, 1)], true);
    await disk.saveSnapshot(snap(80, 1));
    await disk.compact(80);
    await disk.close();
    const path = `${DIR}/snap/${snapshotName(1, 80)}`;
    const file = await fs.createTruncate(path);
    await file.append(new TextEncoder().encode('garbage'));
    await assert.rejects(
      DiskStorage.open(DIR, fs, base),
      (err: unknown) =>
        err instanceof StorageOpenError &&
        /^cannot start: no usable snapshot covered by the wal \(the wal starts after index \d+\): snapshot corrupt: \/member\/snap\/0000000000000001-0000000000000050\.snap: short file \(7 bytes\)$/.test(err.message),
    );
  });

  it("a leader's snapshot replaces the log; saves issued meanwhile land after it", async () => {
    const fs = new FaultFileSystem();
    let disk = await DiskStorage.open(DIR, fs);
    await disk.save(hs(1, 2), entries(1, 5, 1), true);
    const applied = disk.applySnapshot(snap(100, 4));
    const next = disk.save(hs(4, 100), entries(101, 102, 4), true);
    await Promise.all([applied, next]);
    const expected = JSON.stringify({ first: 101, last: 102, terms: [4, 4], hardState: hs(4, 100), snapshot: [100, 4, 'state@100'] });
    assert.equal(view(disk), expected);
    disk = await reopen(disk, fs);
    assert.equal(view(disk), expected);
    await disk.close();
  });

  it('a snapshot file made durable just before a crash (no WAL marker yet) is used on start', async () => {
    const fs = new FaultFileSystem();
    const disk = await DiskStorage.open(DIR, fs);
    await disk.save(hs(1, 3), entries(1, 3, 1), true);
    await disk.close();
    const file = await fs.createTruncate(`${DIR}/snap/${snapshotName(2, 50)}`);
    await file.append(encodeSnapshot(snap(50, 2)));
    await file.sync();
    await fs.fsyncDir(`${DIR}/snap`);
    let reopened = await DiskStorage.open(DIR, fs);
    const expected = JSON.stringify({ first: 51, last: 50, terms: [], hardState: { term: 2, vote: '', commit: 50 }, snapshot: [50, 2, 'state@50'] });
    assert.equal(view(reopened), expected);
    await reopened.save(hs(2, 51), [entry(51, 2)], true);
    reopened = await reopen(reopened, fs);
    assert.equal(reopened.lastIndex(), 51);
    assert.equal(reopened.term(51), 2);
    await reopened.close();
  });

  it('after an fsync failure every write is refused and failed() says why', async () => {
    const fs = new FaultFileSystem();
    const disk = await DiskStorage.open(DIR, fs);
    await disk.save(hs(1, 1), [entry(1, 1)], true);
    fs.inject({ op: 'sync', code: 'EIO' });
    await assert.rejects(disk.save(hs(1, 2), [entry(2, 1)], true), WalFailedError);
    assert.match(disk.failed()?.message ?? '', /^wal failed: EIO/);
    await assert.rejects(disk.save(undefined, [entry(3, 1)], true), WalFailedError);
    await assert.rejects(disk.saveSnapshot(snap(1, 1)), WalFailedError);
  });
});
