/**
 * Crash suite: one byte of a real multi-segment WAL is flipped — at every offset of every
 * segment through the fault fs, and at seeded random offsets on the real disk. Start must either
 * repair (only when the flip is in the final record, which is then indistinguishable from a
 * torn write) or refuse with `wal corrupt: <file> at offset <n>: <reason>` — never start with
 * silently wrong data.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SeededPrng } from '../../src/common/prng.js';
import { DiskStorage, defaultDiskStorageConfig, type DiskStorageConfig } from '../../src/storage/disk-storage.js';
import { NodeFileSystem, type FileSystem } from '../../src/storage/fs.js';
import { WalCorruptError } from '../../src/storage/wal.js';
import { checkRecovered, recoveredOf, scriptedSaves, type SaveOp } from './log-model.js';
import { faultFsWithImage, readImage, removeDir, tempDir, writeImage, type DirImage } from './wal-files.js';

const HARD_STATE_RECORD_BYTES = 9 + 16 + 'n1'.length;
const MAX_RECORD_BYTES = 400;

function config(): DiskStorageConfig {
  const base = defaultDiskStorageConfig();
  return { ...base, wal: { ...base.wal, segmentBytes: 1024 } };
}

async function buildImage(saves: readonly SaveOp[]): Promise<{ image: DirImage; segments: string[] }> {
  const source = tempDir('wal-flip-');
  const disk = await DiskStorage.open(source, new NodeFileSystem(), config());
  for (const save of saves) await disk.save(save.hardState, save.entries, true);
  const segments = disk.walSegmentPaths().map((p) => p.slice(source.length + 1));
  await disk.close();
  const image = readImage(source);
  removeDir(source);
  return { image, segments };
}

interface Flip {
  readonly segment: string;
  readonly position: number;
}

/** Opens the image with one byte flipped and checks the outcome against the rules above. */
async function checkFlip(image: DirImage, segments: readonly string[], saves: readonly SaveOp[], flip: Flip, fs: FileSystem, dir: string): Promise<'repaired' | 'refused'> {
  const bytes = image.get(flip.segment);
  assert.ok(bytes !== undefined);
  const isLast = flip.segment === segments[segments.length - 1];
  const inFinalRecord = isLast && flip.position >= bytes.length - HARD_STATE_RECORD_BYTES;
  try {
    const disk = await DiskStorage.open(dir, fs, config());
    const label = checkRecovered(recoveredOf(disk), saves, saves.length - 1);
    await disk.close();
    assert.ok(inFinalRecord, `flip at ${flip.segment}:${flip.position} was accepted (${label})`);
    const lastSave = saves[saves.length - 1];
    assert.equal(label, `after ${saves.length - 1} saves + ${lastSave?.entries.length} entries of save ${saves.length - 1}`);
    return 'repaired';
  } catch (err) {
    if (!(err instanceof WalCorruptError)) throw err;
    assert.ok(!inFinalRecord, `flip in the final record must be repaired, got: ${err.message}`);
    assert.equal(err.path, join(dir, flip.segment));
    assert.match(err.message, /^wal corrupt: \S+ at offset \d+: (crc mismatch|short record payload .*|record length \d+ too large|bad record .*)$/);
    assert.ok(err.offset <= flip.position && err.offset > flip.position - MAX_RECORD_BYTES, `offset ${err.offset} vs flip ${flip.position}`);
    return 'refused';
  }
}

function flipped(image: DirImage, flip: Flip, mask: number): DirImage {
  const bytes = Buffer.from(image.get(flip.segment) ?? Buffer.alloc(0));
  bytes[flip.position] = (bytes[flip.position] ?? 0) ^ mask;
  return new Map([...image, [flip.segment, bytes]]);
}

describe('WAL crash suite: flipped bytes', () => {
  it('every byte of every segment flipped (fault fs): repaired only in the final record, else refused with file and offset', async () => {
    const saves = scriptedSaves();
    const { image, segments } = await buildImage(saves);
    assert.ok(segments.length >= 2, 'the script spans several segments');
    const outcomes = { repaired: 0, refused: 0 };
    for (const segment of segments) {
      const size = image.get(segment)?.length ?? 0;
      for (let position = 0; position < size; position++) {
        const flip = { segment, position };
        const dir = '/member';
        const fs = await faultFsWithImage(dir, flipped(image, flip, 0xff));
        outcomes[await checkFlip(image, segments, saves, flip, fs, dir)] += 1;
      }
    }
    console.log(`flips: ${JSON.stringify(outcomes)} over ${segments.length} segments`);
    assert.equal(outcomes.repaired, HARD_STATE_RECORD_BYTES);
  });

  it('seeded random single-bit flips on the real disk', async () => {
    const seed = Number(process.env.WAL_FLIP_SEED ?? Date.now() % 1_000_000);
    console.log(`bit flip seed ${seed} (replay with WAL_FLIP_SEED=${seed})`);
    const prng = new SeededPrng(seed);
    const saves = scriptedSaves();
    const { image, segments } = await buildImage(saves);
    for (let trial = 0; trial < 24; trial++) {
      const segment = segments[prng.int(segments.length)] ?? '';
      const flip = { segment, position: prng.int(image.get(segment)?.length ?? 0) };
      const dir = tempDir('wal-flip-disk-');
      writeImage(dir, flipped(image, flip, 1 << prng.int(8)));
      try {
        await checkFlip(image, segments, saves, flip, new NodeFileSystem(), dir);
      } finally {
        removeDir(dir);
      }
    }
  });

  it('the checker itself rejects a recovered log with one wrong entry', () => {
    const saves = scriptedSaves();
    const wrong = { snapshotIndex: 0, lastIndex: 3, entries: ['1:value-1-t1', '1:value-2-t1', '1:value-X-t1'], hardState: { term: 1, vote: 'n1', commit: 0 } };
    assert.throws(() => checkRecovered(wrong, saves, 0), /matches no prefix/);
    const right = { ...wrong, entries: ['1:value-1-t1', '1:value-2-t1', '1:value-3-t1'] };
    assert.equal(checkRecovered(right, saves, 0), 'after 1 saves');
    assert.throws(() => checkRecovered(right, saves, 2), /matches no prefix/, 'an acknowledged save missing is caught');
  });
});
