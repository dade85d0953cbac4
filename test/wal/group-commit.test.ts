/**
 * Group commit on the real disk: the file system is wrapped to count the calls that reach it.
 * 64 concurrent writers each awaiting its own save (the shape of 64 HTTP connections) must share
 * writes and fsyncs — far fewer syscalls than saves — and every save resolves only after an
 * fsync that covered it.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Entry } from '../../src/raft/types.js';
import { DiskStorage } from '../../src/storage/disk-storage.js';
import { NodeFileSystem, type AppendFile, type FileSystem } from '../../src/storage/fs.js';
import { removeDir, tempDir } from './wal-files.js';

class CountingFileSystem implements FileSystem {
  appends = 0;
  syncs = 0;
  /** Bytes appended to WAL files, and how many of them an fsync has covered. */
  appendedBytes = 0;
  syncedBytes = 0;
  private readonly real = new NodeFileSystem();

  mkdirp = (path: string): Promise<void> => this.real.mkdirp(path);
  list = (path: string): Promise<string[]> => this.real.list(path);
  readFile = (path: string): Promise<Uint8Array> => this.real.readFile(path);
  truncateSync = (path: string, length: number): Promise<void> => this.real.truncateSync(path, length);
  rename = (from: string, to: string): Promise<void> => this.real.rename(from, to);
  unlink = (path: string): Promise<void> => this.real.unlink(path);
  fsyncDir = (path: string): Promise<void> => this.real.fsyncDir(path);
  openAppend = async (path: string): Promise<AppendFile> => this.wrap(await this.real.openAppend(path));
  createTruncate = async (path: string): Promise<AppendFile> => this.wrap(await this.real.createTruncate(path));

  private wrap(file: AppendFile): AppendFile {
    const counter = this;
    return {
      path: file.path,
      get size() {
        return file.size;
      },
      async append(data: Uint8Array) {
        counter.appends += 1;
        await file.append(data);
        counter.appendedBytes += data.length;
      },
      async sync() {
        counter.syncs += 1;
        const covered = counter.appendedBytes;
        await file.sync();
        counter.syncedBytes = Math.max(counter.syncedBytes, covered);
      },
      close: () => file.close(),
    };
  }
}

function entry(index: number): Entry {
  return { index, term: 1, type: 'normal', data: new TextEncoder().encode(`{"action":"set","key":"/k${index}","value":"${'v'.repeat(64)}"}`) };
}

describe('WAL group commit on the real disk', () => {
  it('64 concurrent writers share writes and fsyncs; each save resolves after a covering fsync', async () => {
    const dir = tempDir('wal-group-');
    try {
      const fs = new CountingFileSystem();
      const disk = await DiskStorage.open(dir, fs);
      const before = { appends: fs.appends, syncs: fs.syncs };
      let index = 0;
      let saves = 0;
      let uncovered = 0;
      const startMs = Date.now();
      const writer = async (): Promise<void> => {
        for (let k = 0; k < 40; k++) {
          index += 1;
          const appendedBeforeIssue = fs.appendedBytes;
          await disk.save({ term: 1, vote: 'n1', commit: index - 1 }, [entry(index)], true);
          // This save's bytes follow everything appended before it was issued: a covering fsync
          // must have synced strictly more than that.
          if (fs.syncedBytes <= appendedBeforeIssue) uncovered += 1;
          saves += 1;
        }
      };
      await Promise.all(Array.from({ length: 64 }, writer));
      const elapsedMs = Date.now() - startMs;
      const appends = fs.appends - before.appends;
      const syncs = fs.syncs - before.syncs;
      console.log(`group commit: ${saves} saves in ${appends} writes / ${syncs} fsyncs, ${Math.round((saves * 1000) / elapsedMs)} saves/s`);
      assert.equal(saves, 64 * 40);
      assert.equal(uncovered, 0);
      assert.equal(appends, syncs, 'every batch is one write and one fsync');
      assert.ok(syncs <= saves / 16, `fsyncs are shared (${syncs} for ${saves} saves)`);
      await disk.close();
      const reopened = await DiskStorage.open(dir);
      assert.equal(reopened.lastIndex(), 64 * 40);
      await reopened.close();
    } finally {
      removeDir(dir);
    }
  });
});
