/**
 * An in-memory Storage for tests, the simulator and as a reference for the disk WAL. The driver
 * writes it (append / setHardState / applySnapshot) while handling a Ready; the core only reads.
 *
 * entries[0] is a dummy entry standing for the snapshot: its index and term are the snapshot's.
 */
import { assert } from '../common/assert.js';
import { entrySizeBytes } from './log.js';
import {
  CompactedError,
  NONE,
  UnavailableError,
  type ConfState,
  type Entry,
  type HardState,
  type Snapshot,
  type Storage,
} from './types.js';

const EMPTY = new Uint8Array(0);

export class MemoryStorage implements Storage {
  private hardState: HardState = { term: 0, vote: NONE, commit: 0 };
  private snap: Snapshot;
  private ents: Entry[];

  /** `confState` bootstraps a new cluster: its voters are the initial members. */
  constructor(confState: ConfState = { voters: [], learners: [] }) {
    this.snap = { data: EMPTY, metadata: { index: 0, term: 0, confState } };
    this.ents = [{ index: 0, term: 0, type: 'normal', data: EMPTY }];
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: this.hardState, confState: this.snap.metadata.confState };
  }

  setHardState(hardState: HardState): void {
    this.hardState = hardState;
  }

  private dummy(): Entry {
    const first = this.ents[0];
    assert(first !== undefined, 'memory storage always holds its dummy entry');
    return first;
  }

  firstIndex(): number {
    return this.dummy().index + 1;
  }

  lastIndex(): number {
    return this.dummy().index + this.ents.length - 1;
  }

  term(index: number): number {
    const offset = this.dummy().index;
    if (index < offset) throw new CompactedError(`term(${index}): compacted (snapshot at ${offset})`);
    const entry = this.ents[index - offset];
    if (entry === undefined) throw new UnavailableError(`term(${index}): beyond last index ${this.lastIndex()}`);
    return entry.term;
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    const offset = this.dummy().index;
    if (lo <= offset) throw new CompactedError(`entries(${lo}): compacted (snapshot at ${offset})`);
    if (hi > this.lastIndex() + 1) throw new UnavailableError(`entries(${lo}, ${hi}): beyond last index ${this.lastIndex()}`);
    // Stop at the size limit instead of copying everything up to hi (a lagging follower's range
    // can be the whole log).
    const out: Entry[] = [];
    let total = 0;
    for (let i = lo - offset; i < hi - offset; i++) {
      const entry = this.ents[i];
      assert(entry !== undefined, () => `memory storage lost entry ${i + offset}`);
      total += entrySizeBytes(entry);
      if (out.length > 0 && total > maxBytes) break;
      out.push(entry);
    }
    return out;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  /** Replaces everything with `snapshot` (a follower receiving MsgSnap). Stale snapshots are refused. */
  applySnapshot(snapshot: Snapshot): void {
    const { index, term } = snapshot.metadata;
    assert(index >= this.snap.metadata.index, () => `applySnapshot(${index}) older than the current snapshot ${this.snap.metadata.index}`);
    this.snap = snapshot;
    this.ents = [{ index, term, type: 'normal', data: EMPTY }];
  }

  /** Records a snapshot of the application's state at `index` (<= applied); does not compact. */
  createSnapshot(index: number, confState: ConfState | undefined, data: Uint8Array): Snapshot {
    assert(index > this.snap.metadata.index, () => `createSnapshot(${index}) not newer than ${this.snap.metadata.index}`);
    assert(index <= this.lastIndex(), () => `createSnapshot(${index}) beyond last index ${this.lastIndex()}`);
    const term = this.term(index);
    this.snap = { data, metadata: { index, term, confState: confState ?? this.snap.metadata.confState } };
    return this.snap;
  }

  /** Discards entries before `compactIndex`; the entry at compactIndex becomes the dummy. */
  compact(compactIndex: number): void {
    const offset = this.dummy().index;
    if (compactIndex <= offset) throw new CompactedError(`compact(${compactIndex}): already compacted to ${offset}`);
    assert(compactIndex <= this.lastIndex(), () => `compact(${compactIndex}) beyond last index ${this.lastIndex()}`);
    const kept = this.ents.slice(compactIndex - offset);
    const head = kept[0];
    assert(head !== undefined, 'compaction keeps the entry at compactIndex');
    this.ents = [{ index: head.index, term: head.term, type: 'normal', data: EMPTY }, ...kept.slice(1)];
  }

  /** Appends entries, truncating any conflicting suffix; entries already compacted are skipped. */
  append(entries: readonly Entry[]): void {
    const first = entries[0];
    if (first === undefined) return;
    const firstKept = this.firstIndex();
    const last = first.index + entries.length - 1;
    if (last < firstKept) return;
    const fresh = first.index < firstKept ? entries.slice(firstKept - first.index) : entries;
    const start = fresh[0];
    assert(start !== undefined, 'append keeps at least one entry');
    const offset = start.index - this.dummy().index;
    assert(offset <= this.ents.length, () => `append at ${start.index} leaves a gap after ${this.lastIndex()}`);
    // In place: appends are the hot path and the log can be long.
    this.ents.length = offset;
    for (const entry of fresh) this.ents.push(entry);
  }
}
