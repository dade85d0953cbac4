/**
 * DiskStorage: the raft Storage of a member, backed by the WAL and snapshot files.
 *
 * Layout under the data directory: `wal/` (segments) and `snap/` (snapshot files).
 * In memory it holds, like etcd's MemoryStorage, the entries since the last compaction with a
 * dummy entry at the front carrying the compaction point's index and term, the hard state and
 * the latest snapshot. Raft reads this view; the driver writes through:
 *
 *   save(hardState, entries, mustSync)   persist a Ready's hard state and entries (group commit)
 *   applySnapshot(snapshot)              a Ready's snapshot from the leader: replaces the log
 *   saveSnapshot(snapshot)               the member's own snapshot of its applied state
 *   compact(index)                       drop entries up to index (covered by a saved snapshot)
 *
 * The in-memory view changes when these are called (so raft can read what it just handed over);
 * the promise says when it is durable. After any write failure every later call rejects: the
 * member must exit and recover from disk.
 */
import { join } from 'node:path';
import { assert, assertSafeIndex } from '../common/assert.js';
import { CompactedError, UnavailableError, type ConfState, type Entry, type HardState, type Snapshot, type Storage } from '../raft/types.js';
import { NodeFileSystem, type FileSystem } from './fs.js';
import { SnapshotCorruptError, SnapshotStore, type SnapshotFile } from './snapshot.js';
import { Wal, defaultWalConfig, validateWalConfig, type WalConfig, type WalReplay } from './wal.js';

export interface DiskStorageConfig {
  readonly wal: WalConfig;
  /** Snapshot files kept on disk (the WAL keeps what the oldest of them needs). */
  readonly keepSnapshots: number;
}

export function defaultDiskStorageConfig(): DiskStorageConfig {
  return { wal: defaultWalConfig(), keepSnapshots: 2 };
}

export function validateDiskStorageConfig(config: DiskStorageConfig): void {
  validateWalConfig(config.wal);
  assert(Number.isSafeInteger(config.keepSnapshots) && config.keepSnapshots >= 1, 'keepSnapshots must be >= 1');
}

/** The data directory cannot be used (e.g. no usable snapshot the WAL covers): refuse to start. */
export class StorageOpenError extends Error {
  override name = 'StorageOpenError';
}

const EMPTY_CONF_STATE: ConfState = { voters: [], learners: [] };
const EMPTY_SNAPSHOT: Snapshot = { data: new Uint8Array(0), metadata: { index: 0, term: 0, confState: EMPTY_CONF_STATE } };
const EMPTY_HARD_STATE: HardState = { term: 0, vote: '', commit: 0 };

export interface OpenedState {
  /** False for a brand-new data directory (the member must bootstrap). */
  readonly existed: boolean;
  /** The WAL's metadata (member id, cluster id) as written when it was created. */
  readonly metadata: Uint8Array;
  /** A torn WAL tail that was cut away on open, for the member's log. */
  readonly repairedTail: WalReplay['repairedTail'];
  /** Snapshot files that could not be used and were skipped, with the reason. */
  readonly skippedSnapshots: readonly string[];
}

export class DiskStorage implements Storage {
  /** ents[0] is a dummy at the compaction point: its index and term, no data. */
  private ents: Entry[];
  private hardStateValue: HardState;
  private snap: Snapshot;
  /** While an applied snapshot is being written, WAL saves wait so they land after its marker. */
  private snapshotBarrier: Promise<void> | undefined;
  private retainedSnapshots: SnapshotFile[];

  private constructor(
    private readonly wal: Wal,
    private readonly snapshots: SnapshotStore,
    private readonly config: DiskStorageConfig,
    readonly opened: OpenedState,
    snapshot: Snapshot,
    entries: readonly Entry[],
    hardState: HardState,
    retained: SnapshotFile[],
  ) {
    this.snap = snapshot;
    this.ents = [dummyEntry(snapshot.metadata.index, snapshot.metadata.term), ...entries];
    this.hardStateValue = hardState;
    this.retainedSnapshots = retained;
    this.checkInvariants();
  }

  /**
   * Opens (or creates) the storage in dir: repairs a torn WAL tail, loads the newest usable
   * snapshot and the WAL entries after it. Throws WalCorruptError or StorageOpenError when the
   * data cannot be trusted; the member prints the message and refuses to start.
   */
  static async open(
    dir: string,
    fs: FileSystem = new NodeFileSystem(),
    config: DiskStorageConfig = defaultDiskStorageConfig(),
  ): Promise<DiskStorage> {
    validateDiskStorageConfig(config);
    await fs.mkdirp(dir);
    const snapshots = new SnapshotStore(join(dir, 'snap'), fs);
    await snapshots.init();
    const { wal, replay } = await Wal.open(join(dir, 'wal'), fs, config.wal);
    try {
      return await DiskStorage.recover(wal, replay, snapshots, config);
    } catch (err) {
      await wal.close();
      throw err;
    }
  }

  /** Combines the replayed WAL with the newest usable snapshot into the in-memory view. */
  private static async recover(wal: Wal, replay: WalReplay, snapshots: SnapshotStore, config: DiskStorageConfig): Promise<DiskStorage> {
    const files = await snapshots.list();
    if (!replay.existed && files.length > 0) {
      throw new StorageOpenError(`cannot start: ${snapshots.dir} has snapshot files but there are no wal segments`);
    }
    const chosen = await chooseSnapshot(snapshots, files, replay);
    const { index, term } = chosen.snapshot.metadata;
    const entries = replay.entries.filter((e) => e.index > index);
    const atSnapshot = replay.entries.find((e) => e.index === index);
    if (index > replay.startIndex + replay.entries.length || (atSnapshot !== undefined && atSnapshot.term !== term)) {
      // The snapshot file is durable but the WAL never recorded it (crash in between) and the
      // entries around it are not its log: record that the snapshot replaced the log.
      entries.length = 0;
      await wal.saveSnapshotMarker({ index, term, kind: 'applied' });
    }
    const opened = { existed: replay.existed, metadata: replay.metadata, repairedTail: replay.repairedTail, skippedSnapshots: chosen.skipped };
    const retained = files.filter((f) => f.index <= index);
    const hardState = recoveredHardState(replay.hardState ?? EMPTY_HARD_STATE, chosen.snapshot);
    return new DiskStorage(wal, snapshots, config, opened, chosen.snapshot, entries, hardState, retained);
  }

  // ---- raft Storage (reads) ----

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: this.hardStateValue, confState: this.snap.metadata.confState };
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    const offset = this.offset();
    if (lo <= offset) throw new CompactedError(`requested index ${lo} is compacted (first index ${offset + 1})`);
    if (hi > this.lastIndex() + 1) throw new UnavailableError(`entries [${lo}, ${hi}) beyond last index ${this.lastIndex()}`);
    assert(lo <= hi, () => `entries: lo ${lo} > hi ${hi}`);
    const result: Entry[] = [];
    let bytes = 0;
    for (let i = lo; i < hi; i++) {
      const entry = this.ents[i - offset];
      assert(entry !== undefined, () => `entry ${i} missing`);
      bytes += entry.data.length;
      if (result.length > 0 && bytes > maxBytes) break;
      result.push(entry);
    }
    return result;
  }

  term(i: number): number {
    const offset = this.offset();
    if (i < offset) throw new CompactedError(`term of index ${i}: compacted (first index ${offset + 1})`);
    const entry = this.ents[i - offset];
    if (entry === undefined) throw new UnavailableError(`term of index ${i}: beyond last index ${this.lastIndex()}`);
    return entry.term;
  }

  lastIndex(): number {
    return this.offset() + this.ents.length - 1;
  }

  firstIndex(): number {
    return this.offset() + 1;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  // ---- writes (the driver persists each Ready through these) ----

  /**
   * Persists a Ready's entries and hard state. The view is updated at once; the promise
   * resolves when the WAL has them (fsynced when mustSync, shared with the whole turn).
   */
  save(hardState: HardState | undefined, entries: readonly Entry[], mustSync: boolean): Promise<void> {
    const kept = this.appendInMemory(entries);
    if (hardState !== undefined) {
      assertSafeIndex(hardState.term, 'hardState.term');
      assertSafeIndex(hardState.commit, 'hardState.commit');
      assert(hardState.commit <= this.lastIndex(), () => `hard state commits ${hardState.commit} beyond the last index ${this.lastIndex()}`);
      this.hardStateValue = hardState;
    }
    const barrier = this.snapshotBarrier;
    if (barrier !== undefined) return barrier.then(() => this.wal.save(hardState, kept, mustSync));
    return this.wal.save(hardState, kept, mustSync);
  }

  /**
   * A snapshot received from the leader (Ready.snapshot): it replaces the whole log. The view
   * changes at once; saves made meanwhile reach the WAL after the snapshot's marker.
   */
  applySnapshot(snapshot: Snapshot): Promise<void> {
    const { index, term } = snapshot.metadata;
    assert(index > this.snap.metadata.index, () => `applySnapshot ${index} is not newer than ${this.snap.metadata.index}`);
    this.snap = snapshot;
    this.ents = [dummyEntry(index, term)];
    if (this.hardStateValue.commit < index) {
      this.hardStateValue = { term: this.hardStateValue.term, vote: this.hardStateValue.vote, commit: index };
    }
    const persist = this.persistSnapshot(snapshot, 'applied');
    const barrier = persist.finally(() => {
      if (this.snapshotBarrier === barrier) this.snapshotBarrier = undefined;
    });
    this.snapshotBarrier = barrier;
    return barrier;
  }

  /**
   * The member's own snapshot of its state at an applied index (which this log holds): written
   * and recorded in the WAL; the log is unchanged until compact().
   */
  async saveSnapshot(snapshot: Snapshot): Promise<void> {
    const { index, term } = snapshot.metadata;
    assert(index > this.snap.metadata.index, () => `saveSnapshot ${index} is not newer than ${this.snap.metadata.index}`);
    assert(index <= this.lastIndex(), () => `saveSnapshot ${index} is beyond the last index ${this.lastIndex()}`);
    assert(this.term(index) === term, () => `saveSnapshot ${index} has term ${term}, the log says ${this.term(index)}`);
    await this.persistSnapshot(snapshot, 'saved');
    if (index > this.snap.metadata.index) this.snap = snapshot;
  }

  /**
   * Drops the entries up to index (at most the latest snapshot's), then deletes the WAL segments
   * that neither the kept snapshots nor the log need any more.
   */
  async compact(index: number): Promise<void> {
    const offset = this.offset();
    if (index <= offset) return;
    assert(index <= this.snap.metadata.index, () => `compact ${index} beyond the snapshot at ${this.snap.metadata.index}`);
    const term = this.term(index);
    this.ents = [dummyEntry(index, term), ...this.ents.slice(index - offset + 1)];
    this.checkInvariants();
    const oldestKept = this.retainedSnapshots[this.retainedSnapshots.length - 1]?.index ?? 0;
    await this.wal.releaseThrough(Math.min(index, oldestKept));
  }

  /** The write failure that poisoned the storage, if any. */
  failed(): Error | undefined {
    return this.wal.failed();
  }

  walSegmentPaths(): string[] {
    return this.wal.segmentPaths();
  }

  async close(): Promise<void> {
    await this.snapshotBarrier?.catch(() => undefined);
    await this.wal.close();
  }

  private async persistSnapshot(snapshot: Snapshot, kind: 'saved' | 'applied'): Promise<void> {
    const failure = this.wal.failed();
    if (failure !== undefined) throw failure;
    const file = await this.snapshots.save(snapshot);
    await this.wal.saveSnapshotMarker({ index: file.index, term: file.term, kind });
    this.retainedSnapshots = await this.snapshots.purge(this.config.keepSnapshots);
  }

  /** MemoryStorage.Append semantics: entries at or before the compaction point are ignored. */
  private appendInMemory(entries: readonly Entry[]): readonly Entry[] {
    const first = entries[0];
    if (first === undefined) return entries;
    const offset = this.offset();
    const kept = first.index <= offset ? entries.slice(offset + 1 - first.index) : entries;
    const head = kept[0];
    if (head === undefined) return kept;
    assert(head.index <= this.lastIndex() + 1, () => `append leaves a gap: entry ${head.index} after last ${this.lastIndex()}`);
    assert(head.term >= this.term(head.index - 1), () => `entry ${head.index} of term ${head.term} follows a later term`);
    for (let k = 1; k < kept.length; k++) {
      assert(kept[k]?.index === head.index + k, 'append: entries are not contiguous');
    }
    this.ents.length = head.index - offset;
    for (const entry of kept) this.ents.push(entry);
    return kept;
  }

  private offset(): number {
    const dummy = this.ents[0];
    assert(dummy !== undefined, 'storage lost its dummy entry');
    return dummy.index;
  }

  private checkInvariants(): void {
    const offset = this.offset();
    assert(this.snap.metadata.index >= offset, 'snapshot behind the compaction point');
    const last = this.ents[this.ents.length - 1];
    assert(last !== undefined && last.index === offset + this.ents.length - 1, 'log entries not contiguous');
  }
}

/**
 * A snapshot is committed state, so commit is at least its index. Its term can be newer than
 * the last hard state the WAL kept (the hard state of the same Ready was lost): the term then
 * moves up to it with no vote, since no vote in that term is on record.
 */
function recoveredHardState(replayed: HardState, snapshot: Snapshot): HardState {
  const { index, term } = snapshot.metadata;
  const commit = Math.max(replayed.commit, index);
  if (term > replayed.term) return { term, vote: '', commit };
  return { term: replayed.term, vote: replayed.vote, commit };
}

function dummyEntry(index: number, term: number): Entry {
  return { index, term, type: 'normal', data: new Uint8Array(0) };
}

/**
 * The newest snapshot that verifies and that the WAL covers (its entries continue after it).
 * Corrupt files newer than the one chosen are renamed to `.broken`: kept for inspection, but no
 * longer counted among the snapshots to keep (a later fallback must not land on them).
 */
async function chooseSnapshot(
  snapshots: SnapshotStore,
  files: readonly SnapshotFile[],
  replay: WalReplay,
): Promise<{ snapshot: Snapshot; skipped: string[] }> {
  const skipped: string[] = [];
  const corrupt: SnapshotFile[] = [];
  let chosen: Snapshot | undefined;
  for (const file of files) {
    if (file.index < replay.startIndex) {
      skipped.push(`${file.path}: the wal starts after index ${replay.startIndex}`);
      break;
    }
    try {
      chosen = await snapshots.load(file);
      break;
    } catch (err) {
      if (!(err instanceof SnapshotCorruptError)) throw err;
      skipped.push(err.message);
      corrupt.push(file);
    }
  }
  if (chosen === undefined && replay.startIndex === 0) chosen = EMPTY_SNAPSHOT;
  if (chosen === undefined) {
    throw new StorageOpenError(
      `cannot start: no usable snapshot covered by the wal (the wal starts after index ${replay.startIndex}): ${skipped.join('; ') || 'no snapshot files'}`,
    );
  }
  await snapshots.setAside(corrupt);
  return { snapshot: chosen, skipped };
}
