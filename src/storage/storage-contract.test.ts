/**
 * Runs the shared Storage contract against every implementation: raft's MemoryStorage, and
 * DiskStorage on the real file system and on the fault-injecting one.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStorage } from '../raft/memory-storage.js';
import type { Storage } from '../raft/types.js';
import { DiskStorage } from './disk-storage.js';
import { FaultFileSystem } from './fault-fs.js';
import { NodeFileSystem, type FileSystem } from './fs.js';
import { describeStorageContract, type StorageHarness } from './storage-contract.js';

function memoryHarness(): Promise<StorageHarness> {
  const storage = new MemoryStorage();
  return Promise.resolve({
    storage,
    append: async (entries) => storage.append(entries),
    setHardState: async (hardState) => storage.setHardState(hardState),
    applySnapshot: async (snapshot) => storage.applySnapshot(snapshot),
    snapshotAndCompact: async (index, data) => {
      storage.createSnapshot(index, undefined, data);
      storage.compact(index);
    },
    close: async () => undefined,
  });
}

function diskHarnessOf(disk: DiskStorage, cleanup: () => Promise<void>): StorageHarness {
  const storage: Storage = disk;
  return {
    storage,
    append: (entries) => disk.save(undefined, entries, true),
    setHardState: (hardState) => disk.save(hardState, [], true),
    applySnapshot: (snapshot) => disk.applySnapshot(snapshot),
    snapshotAndCompact: async (index, data) => {
      const confState = disk.snapshot().metadata.confState;
      await disk.saveSnapshot({ data, metadata: { index, term: disk.term(index), confState } });
      await disk.compact(index);
    },
    close: async () => {
      await disk.close();
      await cleanup();
    },
  };
}

async function realDiskHarness(): Promise<StorageHarness> {
  const dir = await mkdtemp(join(tmpdir(), 'storage-contract-'));
  const fs: FileSystem = new NodeFileSystem();
  const disk = await DiskStorage.open(dir, fs);
  return diskHarnessOf(disk, () => rm(dir, { recursive: true, force: true }));
}

async function faultDiskHarness(): Promise<StorageHarness> {
  const disk = await DiskStorage.open('/data', new FaultFileSystem());
  return diskHarnessOf(disk, async () => undefined);
}

describeStorageContract('MemoryStorage', memoryHarness);
describeStorageContract('DiskStorage (node:fs)', realDiskHarness);
describeStorageContract('DiskStorage (fault-injecting fs)', faultDiskHarness);
