import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Entry, HardState } from '../raft/types.js';
import { FaultFileSystem } from './fault-fs.js';
import { Wal, WalCorruptError, WalFailedError, defaultWalConfig, segmentName } from './wal.js';

const DIR = '/data/wal';

function entry(index: number, term: number, data = `v${index}`): Entry {
  return { index, term, type: 'normal', data: new TextEncoder().encode(data) };
}

function hs(term: number, commit: number): HardState {
  return { term, vote: 'n1', commit };
}

function summary(entries: readonly Entry[]): string[] {
  return entries.map((e) => `${e.index}/${e.term}/${new TextDecoder().decode(e.data)}`);
}

describe('wal', () => {
  it('group commit: every save of one event-loop turn shares one write and one fsync', async () => {
    const fs = new FaultFileSystem();
    const { wal } = await Wal.open(DIR, fs);
    const appendsBefore = fs.appendCalls;
    const syncsBefore = fs.syncCalls;
    const saves: Promise<void>[] = [];
    for (let i = 1; i <= 50; i++) saves.push(wal.save(hs(1, i - 1), [entry(i, 1)], true));
    await Promise.all(saves);
    assert.equal(fs.appendCalls - appendsBefore, 1);
    assert.equal(fs.syncCalls - syncsBefore, 1);
    await wal.close();
  });

  it('saves made while a batch is in flight form the next batch', async () => {
    const fs = new FaultFileSystem();
    const { wal } = await Wal.open(DIR, fs);
    const syncsBefore = fs.syncCalls;
    const first = wal.save(undefined, [entry(1, 1)], true);
    await new Promise((resolve) => setImmediate(resolve));
    const later = [wal.save(undefined, [entry(2, 1)], true), wal.save(undefined, [entry(3, 1)], true)];
    await Promise.all([first, ...later]);
    assert.equal(fs.syncCalls - syncsBefore, 2);
    await wal.close();
  });

  it('mustSync=false writes without an fsync', async () => {
    const fs = new FaultFileSystem();
    const { wal } = await Wal.open(DIR, fs);
    const syncsBefore = fs.syncCalls;
    await wal.save(hs(1, 0), [], false);
    assert.equal(fs.syncCalls - syncsBefore, 0);
    await wal.close();
  });

  it('a save resolves only once durable: a crash right after keeps it', async () => {
    const fs = new FaultFileSystem();
    const { wal } = await Wal.open(DIR, fs);
    await wal.save(hs(1, 1), [entry(1, 1)], true);
    const unsynced = wal.save(hs(1, 2), [entry(2, 1)], false);
    await unsynced;
    fs.crash();
    const { replay } = await Wal.open(DIR, fs);
    assert.deepEqual(summary(replay.entries), ['1/1/v1']);
    assert.deepEqual(replay.hardState, hs(1, 1));
  });

  it('replay applies overwrites: a later entry at an index discards everything after it', async () => {
    const fs = new FaultFileSystem();
    const { wal } = await Wal.open(DIR, fs);
    await wal.save(hs(1, 1), [entry(1, 1), entry(2, 1), entry(3, 1), entry(4, 1)], true);
    await wal.save(hs(2, 1), [entry(2, 2, 'x2'), entry(3, 2, 'x3')], true);
    await wal.save(hs(3, 1), [entry(3, 3, 'y3')], true);
    await wal.close();
    const { replay } = await Wal.open(DIR, fs);
    assert.deepEqual(summary(replay.entries), ['1/1/v1', '2/2/x2', '3/3/y3']);
    assert.equal(replay.startIndex, 0);
    assert.deepEqual(replay.hardState, hs(3, 1));
  });

  it('rolls over to new segments and replays across all of them; metadata survives', async () => {
    const fs = new FaultFileSystem();
    const metadata = new TextEncoder().encode('member=1');
    const config = { ...defaultWalConfig(), segmentBytes: 1024, metadata };
    const { wal, replay: fresh } = await Wal.open(DIR, fs, config);
    assert.equal(fresh.existed, false);
    for (let i = 1; i <= 100; i++) await wal.save(hs(1, i), [entry(i, 1, 'x'.repeat(40))], true);
    assert.ok(wal.segmentPaths().length >= 5, `segments: ${wal.segmentPaths().length}`);
    await wal.close();
    const { replay } = await Wal.open(DIR, fs, { ...config, metadata: new Uint8Array(0) });
    assert.equal(replay.existed, true);
    assert.equal(replay.entries.length, 100);
    assert.equal(replay.entries[99]?.index, 100);
    assert.deepEqual(replay.hardState, hs(1, 100));
    assert.equal(new TextDecoder().decode(replay.metadata), 'member=1');
  });

  it('releaseThrough deletes only segments wholly at or before the index', async () => {
    const fs = new FaultFileSystem();
    const { wal } = await Wal.open(DIR, fs, { ...defaultWalConfig(), segmentBytes: 1024 });
    for (let i = 1; i <= 60; i++) await wal.save(hs(1, i), [entry(i, 1, 'x'.repeat(40))], true);
    const names = wal.segmentPaths().map((p) => p.slice(DIR.length + 1));
    const released = await wal.releaseThrough(30);
    const kept = wal.segmentPaths().map((p) => p.slice(DIR.length + 1));
    assert.ok(released > 0);
    assert.deepEqual(kept, names.slice(released));
    const firstKept = parseInt(kept[0]?.split('-')[1] ?? '', 16);
    const secondKept = parseInt(kept[1]?.split('-')[1] ?? '', 16);
    assert.ok(firstKept <= 31 && secondKept - 1 > 30, `kept segments start at ${firstKept}, ${secondKept}`);
    await wal.close();
    const { replay } = await Wal.open(DIR, fs);
    assert.ok(replay.startIndex <= 30);
    assert.equal(replay.startIndex + replay.entries.length, 60);
  });

  it("an 'applied' snapshot marker voids the entries before it on replay", async () => {
    const fs = new FaultFileSystem();
    const { wal } = await Wal.open(DIR, fs);
    await wal.save(hs(1, 1), [entry(1, 1), entry(2, 1)], true);
    await wal.saveSnapshotMarker({ index: 50, term: 3, kind: 'applied' });
    await wal.save(hs(3, 50), [entry(51, 3)], true);
    await wal.saveSnapshotMarker({ index: 51, term: 3, kind: 'saved' });
    await wal.close();
    const { replay } = await Wal.open(DIR, fs);
    assert.equal(replay.startIndex, 50);
    assert.deepEqual(summary(replay.entries), ['51/3/v51']);
    assert.deepEqual(replay.markers, [
      { index: 50, term: 3, kind: 'applied' },
      { index: 51, term: 3, kind: 'saved' },
    ]);
  });

  it('an fsync EIO rejects the batch and everything after it, and poisons the WAL', async () => {
    const fs = new FaultFileSystem();
    const { wal } = await Wal.open(DIR, fs);
    await wal.save(hs(1, 1), [entry(1, 1)], true);
    fs.inject({ op: 'sync', code: 'EIO' });
    const failing = [wal.save(undefined, [entry(2, 1)], true), wal.save(undefined, [entry(3, 1)], true)];
    for (const save of failing) await assert.rejects(save, (err: unknown) => err instanceof WalFailedError && /EIO/.test(err.message));
    assert.ok(wal.failed() instanceof WalFailedError);
    await assert.rejects(wal.save(undefined, [entry(4, 1)], true), WalFailedError);
    fs.crash();
    const { replay } = await Wal.open(DIR, fs);
    assert.deepEqual(summary(replay.entries), ['1/1/v1']);
  });

  it('ENOSPC mid-write rejects; after a crash the torn tail is cut and synced records remain', async () => {
    const fs = new FaultFileSystem();
    const { wal } = await Wal.open(DIR, fs);
    await wal.save(hs(1, 1), [entry(1, 1)], true);
    fs.inject({ op: 'append', code: 'ENOSPC', keepBytes: 30 });
    await assert.rejects(wal.save(hs(1, 2), [entry(2, 1), entry(3, 1)], true), /ENOSPC/);
    await assert.rejects(wal.save(undefined, [entry(4, 1)], true), WalFailedError);
    const { replay } = await Wal.open(DIR, fs);
    assert.deepEqual(summary(replay.entries).slice(0, 1), ['1/1/v1']);
    assert.ok(replay.entries.length <= 2, 'at most the whole first record of the torn batch');
    assert.notEqual(replay.repairedTail, undefined);
  });

  it('a bad record in a segment that is not the last is refused with file and offset', async () => {
    const fs = new FaultFileSystem();
    const { wal } = await Wal.open(DIR, fs);
    await wal.save(hs(1, 1), [entry(1, 1), entry(2, 1)], true);
    await wal.close();
    await (await Wal.open(DIR, fs)).wal.close(); // starts segment 1: segment 0 is no longer the last
    const first = `${DIR}/${segmentName(0, 1)}`;
    const bytes = fs.bytesOf(first);
    const corruptAt = bytes.length - 3;
    bytes[corruptAt] = (bytes[corruptAt] ?? 0) ^ 0x40;
    const file = await fs.createTruncate(first);
    await file.append(bytes);
    await file.sync();
    await Wal.open(DIR, fs).then(
      () => assert.fail('open must refuse'),
      (err: unknown) => {
        assert.ok(err instanceof WalCorruptError);
        assert.match(err.message, new RegExp(`^wal corrupt: ${first} at offset \\d+: crc mismatch$`));
        assert.ok(err.offset < corruptAt && err.offset > 0);
      },
    );
  });
});
