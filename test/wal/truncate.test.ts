/**
 * Crash suite: a real WAL written by DiskStorage on the real file system is cut at every byte
 * offset of its last records (and at a stride before them) and reopened. The torn tail must be
 * repaired, every save completed before the cut must be there, and the recovered log must be
 * exactly the log of some prefix of the saves — never silently wrong data.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import type { Entry, HardState } from '../../src/raft/types.js';
import { DiskStorage } from '../../src/storage/disk-storage.js';
import { NodeFileSystem, type FileSystem } from '../../src/storage/fs.js';
import { checkRecovered, recoveredOf, scriptedSaves, type SaveOp } from './log-model.js';
import { faultFsWithImage, readImage, removeDir, tempDir, writeImage, type DirImage } from './wal-files.js';

function entry(index: number, term: number, data: string): Entry {
  return { index, term, type: 'normal', data: new TextEncoder().encode(data) };
}

function hs(term: number, commit: number): HardState {
  return { term, vote: 'n1', commit };
}

async function writeScript(dir: string, saves: readonly SaveOp[]): Promise<{ segment: string; ends: number[] }> {
  const disk = await DiskStorage.open(dir);
  const [segment] = disk.walSegmentPaths();
  assert.ok(segment !== undefined);
  const ends: number[] = [];
  for (const save of saves) {
    await disk.save(save.hardState, save.entries, true);
    ends.push(statSync(segment).size);
  }
  await disk.close();
  return { segment: segment.slice(dir.length + 1), ends };
}

type Where = 'disk' | 'memory';

/** Opens the image with the segment cut at `cut` bytes: on the real disk, or in the fault fs. */
async function reopenCut(image: DirImage, segment: string, cut: number, where: Where): Promise<{ disk: DiskStorage; dir: string; fs: FileSystem }> {
  const bytes = image.get(segment);
  assert.ok(bytes !== undefined);
  const cutImage = new Map([...image, [segment, bytes.subarray(0, cut)]]);
  if (where === 'memory') {
    const dir = '/member';
    const fs = await faultFsWithImage(dir, cutImage);
    return { disk: await DiskStorage.open(dir, fs), dir, fs };
  }
  const dir = tempDir('wal-cut-');
  writeImage(dir, cutImage);
  const fs = new NodeFileSystem();
  return { disk: await DiskStorage.open(dir, fs), dir, fs };
}

async function sweep(where: Where, tailStep: number, headStep: number): Promise<void> {
  const saves = scriptedSaves();
  const source = tempDir('wal-truncate-');
  const { segment, ends } = await writeScript(source, saves);
  const image = readImage(source);
  removeDir(source);
  const size = ends[ends.length - 1] ?? 0;
  const tailFrom = ends[ends.length - 7] ?? 0;
  let trials = 0;
  for (let cut = 0; cut <= size; cut += cut < tailFrom ? headStep : tailStep) {
    const { disk, dir, fs } = await reopenCut(image, segment, cut, where);
    try {
      const acked = ends.filter((end) => end <= cut).length;
      checkRecovered(recoveredOf(disk), saves, acked);
      if (ends.includes(cut)) assert.equal(disk.opened.repairedTail, undefined, `cut ${cut} is a record boundary`);
      if (trials % 5 === 0) await appendAfterRepair(disk, dir, fs);
      await disk.close();
    } finally {
      if (where === 'disk') removeDir(dir);
    }
    trials += 1;
  }
  console.log(`${where}: ${trials} truncations (step ${tailStep} over the last ${size - tailFrom} bytes, step ${headStep} before)`);
}

describe('WAL crash suite: truncation at every offset', () => {
  it('a real WAL cut at EVERY byte offset (opened through the fault fs) is repaired and keeps every completed save', () =>
    sweep('memory', 1, 1));

  it('the same on the real disk, at a stride', () => sweep('disk', 19, 97));
});

/** A repaired WAL takes new appends and replays them. */
async function appendAfterRepair(disk: DiskStorage, dir: string, fs: FileSystem): Promise<void> {
  const last = disk.lastIndex();
  // A torn batch may keep entries of a newer term than the hard state that followed them.
  const term = Math.max(1, disk.initialState().hardState.term, disk.term(last));
  await disk.save({ term, vote: 'n1', commit: last }, [entry(last + 1, term, 'after-repair')], true);
  await disk.close();
  const reopened = await DiskStorage.open(dir, fs);
  assert.equal(reopened.lastIndex(), last + 1);
  assert.equal(new TextDecoder().decode(reopened.entries(last + 1, last + 2, Infinity)[0]?.data), 'after-repair');
  await reopened.close();
}
