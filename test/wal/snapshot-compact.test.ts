/**
 * Crash suite on the real disk: a long run with snapshots every 500 entries and compaction keeps
 * the WAL and the snapshot directory bounded; a reopen restores the snapshot and the entries after
 * it; a corrupt newest snapshot falls back to the older one the WAL still covers; a snapshot temp
 * file left by a crash is removed.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Entry } from '../../src/raft/types.js';
import { DiskStorage, defaultDiskStorageConfig, type DiskStorageConfig } from '../../src/storage/disk-storage.js';
import { NodeFileSystem } from '../../src/storage/fs.js';
import { removeDir, tempDir } from './wal-files.js';

const SNAPSHOT_EVERY = 500;
const TOTAL = 2200;

function config(): DiskStorageConfig {
  const base = defaultDiskStorageConfig();
  return { ...base, wal: { ...base.wal, segmentBytes: 16 * 1024 } };
}

function entry(index: number): Entry {
  return { index, term: 1 + Math.floor(index / 1000), type: 'normal', data: new TextEncoder().encode(`put /k${index % 97} ${index}`) };
}

function stateAt(index: number): Uint8Array {
  return new TextEncoder().encode(`store@${index}`);
}

async function runWorkload(dir: string): Promise<number> {
  const disk = await DiskStorage.open(dir, new NodeFileSystem(), config());
  let maxSegments = 0;
  let snapshotIndex = 0;
  for (let index = 1; index <= TOTAL; index += 20) {
    const turn: Promise<void>[] = [];
    for (let k = index; k < index + 20; k++) turn.push(disk.save({ term: entry(k).term, vote: 'n1', commit: k - 1 }, [entry(k)], true));
    await Promise.all(turn);
    const applied = index + 18;
    const at = applied - (applied % SNAPSHOT_EVERY);
    if (at > snapshotIndex) {
      snapshotIndex = at;
      await disk.saveSnapshot({ data: stateAt(at), metadata: { index: at, term: disk.term(at), confState: { voters: ['n1'], learners: [] } } });
      await disk.compact(at);
    }
    maxSegments = Math.max(maxSegments, readdirSync(join(dir, 'wal')).length);
  }
  await disk.close();
  return maxSegments;
}

describe('WAL crash suite: snapshots and compaction on the real disk', () => {
  it('stays bounded, reopens from the newest snapshot, falls back to the older one when it is corrupt', async () => {
    const dir = tempDir('wal-snap-');
    try {
      const maxSegments = await runWorkload(dir);
      const snaps = readdirSync(join(dir, 'snap')).sort();
      assert.deepEqual(snaps, ['0000000000000002-00000000000005dc.snap', '0000000000000003-00000000000007d0.snap']);
      assert.ok(maxSegments <= 12, `wal segments stayed bounded (max ${maxSegments})`);

      const reopened = await DiskStorage.open(dir, new NodeFileSystem(), config());
      assert.equal(reopened.snapshot().metadata.index, 2000);
      assert.equal(new TextDecoder().decode(reopened.snapshot().data), 'store@2000');
      assert.equal(reopened.firstIndex(), 2001);
      assert.equal(reopened.lastIndex(), TOTAL);
      assert.deepEqual(reopened.entries(2001, TOTAL + 1, Infinity).map((e) => new TextDecoder().decode(e.data)), Array.from({ length: TOTAL - 2000 }, (_, k) => `put /k${(2001 + k) % 97} ${2001 + k}`));
      assert.deepEqual(reopened.initialState().hardState, { term: 3, vote: 'n1', commit: TOTAL - 1 });
      await reopened.close();

      const newest = join(dir, 'snap', '0000000000000003-00000000000007d0.snap');
      const bytes = readFileSync(newest);
      bytes[20] = (bytes[20] ?? 0) ^ 0x10;
      writeFileSync(newest, bytes);
      writeFileSync(join(dir, 'snap', '0000000000000003-0000000000000898.snap.tmp'), 'half a snapshot');
      const fallback = await DiskStorage.open(dir, new NodeFileSystem(), config());
      assert.equal(fallback.snapshot().metadata.index, 1500);
      assert.equal(fallback.firstIndex(), 1501);
      assert.equal(fallback.lastIndex(), TOTAL);
      assert.equal(new TextDecoder().decode(fallback.entries(1501, 1502, Infinity)[0]?.data), `put /k${1501 % 97} 1501`);
      assert.match(fallback.opened.skippedSnapshots.join(), /snapshot corrupt: .*00000000000007d0\.snap: crc mismatch/);
      assert.deepEqual(readdirSync(join(dir, 'snap')).sort(), [
        '0000000000000002-00000000000005dc.snap',
        '0000000000000003-00000000000007d0.snap.broken',
      ]);
      await fallback.close();
    } finally {
      removeDir(dir);
    }
  });
});
