/**
 * The Raft log as the core sees it: a stable prefix read from Storage (persisted by the driver)
 * followed by an unstable suffix (and maybe an unstable snapshot) not yet handed back through
 * advance(). Invariant: applied <= committed <= lastIndex.
 */
import { assert } from '../common/assert.js';
import { CompactedError, UnavailableError, type Entry, type Snapshot, type Storage } from './types.js';

/** Bytes an entry counts for in size limits. */
export function entrySizeBytes(entry: Entry): number {
  return entry.data.byteLength;
}

/** The longest prefix of `entries` within `maxBytes`, but never fewer than one entry. */
export function limitSize<T extends Entry>(entries: T[], maxBytes: number): T[] {
  if (entries.length === 0) return entries;
  let total = entrySizeBytes(entries[0] as T);
  let keep = 1;
  while (keep < entries.length) {
    total += entrySizeBytes(entries[keep] as T);
    if (total > maxBytes) break;
    keep++;
  }
  return keep === entries.length ? entries : entries.slice(0, keep);
}

/** Entries (and a snapshot) the driver has not yet persisted. Entry i lives at entries[i - offset]. */
export class UnstableLog {
  snapshot: Snapshot | undefined;
  entries: Entry[] = [];

  constructor(public offset: number) {}

  maybeFirstIndex(): number | undefined {
    return this.snapshot ? this.snapshot.metadata.index + 1 : undefined;
  }

  maybeLastIndex(): number | undefined {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    return this.snapshot?.metadata.index;
  }

  maybeTerm(index: number): number | undefined {
    if (index < this.offset) {
      return this.snapshot?.metadata.index === index ? this.snapshot.metadata.term : undefined;
    }
    return this.entries[index - this.offset]?.term;
  }

  /** The driver persisted entries up to (index, term): drop them, unless they were replaced meanwhile. */
  stableTo(index: number, term: number): void {
    if (index < this.offset || this.maybeTerm(index) !== term) return;
    this.entries = this.entries.slice(index + 1 - this.offset);
    this.offset = index + 1;
  }

  stableSnapTo(index: number): void {
    if (this.snapshot?.metadata.index === index) this.snapshot = undefined;
  }

  restore(snapshot: Snapshot): void {
    this.offset = snapshot.metadata.index + 1;
    this.entries = [];
    this.snapshot = snapshot;
  }

  truncateAndAppend(entries: readonly Entry[]): void {
    const first = entries[0];
    if (first === undefined) return;
    const after = first.index;
    if (after === this.offset + this.entries.length) {
      this.entries.push(...entries);
    } else if (after <= this.offset) {
      // Replaces everything unstable; the stable part from `after` on is stale and will be
      // overwritten in storage when the driver persists these.
      this.offset = after;
      this.entries = [...entries];
    } else {
      this.entries = [...this.entries.slice(0, after - this.offset), ...entries];
    }
  }

  slice(lo: number, hi: number): Entry[] {
    assert(lo >= this.offset && hi <= this.offset + this.entries.length && lo <= hi, () => `unstable slice [${lo},${hi}) out of [${this.offset},${this.offset + this.entries.length})`);
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }
}

export class RaftLog {
  readonly unstable: UnstableLog;
  /** Highest index known to be committed (stored on a quorum). */
  committed: number;
  /** Highest index the application has applied (advanced through advance()). */
  applied: number;

  constructor(
    readonly storage: Storage,
    private readonly maxCommittedSizePerReadyBytes: number,
  ) {
    const firstIndex = storage.firstIndex();
    const lastIndex = storage.lastIndex();
    this.unstable = new UnstableLog(lastIndex + 1);
    this.committed = firstIndex - 1;
    this.applied = firstIndex - 1;
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  /** Last index the driver has persisted (everything below the unstable part). */
  lastStableIndex(): number {
    return this.unstable.offset - 1;
  }

  lastTerm(): number {
    const term = this.term(this.lastIndex());
    assert(term !== undefined, 'the last entry of the log must have a term');
    return term;
  }

  /** Term of entry `index`, or undefined when it is compacted away or beyond the end. */
  term(index: number): number | undefined {
    if (index < this.firstIndex() - 1 || index > this.lastIndex()) return undefined;
    const unstableTerm = this.unstable.maybeTerm(index);
    if (unstableTerm !== undefined) return unstableTerm;
    try {
      return this.storage.term(index);
    } catch (err) {
      if (err instanceof CompactedError || err instanceof UnavailableError) return undefined;
      throw err;
    }
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** Whether a log ending at (lastIndex, lastTerm) is at least as up to date as ours (§5.4.1). */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourLastTerm = this.lastTerm();
    return lastTerm > ourLastTerm || (lastTerm === ourLastTerm && lastIndex >= this.lastIndex());
  }

  /**
   * Follower side of AppendEntries: if our entry at `index` has `logTerm`, append `entries`
   * (truncating any conflicting suffix) and commit up to min(leaderCommit, last new index).
   * Returns the last index covered by the message, or undefined on a log mismatch.
   */
  maybeAppend(index: number, logTerm: number, leaderCommit: number, entries: readonly Entry[]): number | undefined {
    if (!this.matchTerm(index, logTerm)) return undefined;
    const lastNewIndex = index + entries.length;
    const conflictIndex = this.findConflict(entries);
    if (conflictIndex !== 0) {
      assert(conflictIndex > this.committed, () => `entry ${conflictIndex} conflicts with committed entry (committed ${this.committed})`);
      this.append(entries.slice(conflictIndex - (index + 1)));
    }
    this.commitTo(Math.min(leaderCommit, lastNewIndex));
    return lastNewIndex;
  }

  append(entries: readonly Entry[]): number {
    const first = entries[0];
    if (first === undefined) return this.lastIndex();
    assert(first.index - 1 >= this.committed, () => `appending at ${first.index} would overwrite committed ${this.committed}`);
    this.unstable.truncateAndAppend(entries);
    return this.lastIndex();
  }

  /** First index among `entries` whose term differs from ours (or that we lack); 0 if none. */
  findConflict(entries: readonly Entry[]): number {
    for (const entry of entries) {
      if (!this.matchTerm(entry.index, entry.term)) return entry.index;
    }
    return 0;
  }

  /**
   * Fast backtracking: the largest index <= `index` whose term is <= `term`. Every entry above it
   * in our log has a larger term, so it cannot match an entry of term `term` or lower.
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    let probe = Math.min(index, this.lastIndex());
    for (;;) {
      const ourTerm = this.term(probe);
      if (ourTerm === undefined) return { index: probe, term: 0 };
      if (ourTerm <= term) return { index: probe, term: ourTerm };
      probe--;
    }
  }

  unstableEntries(): Entry[] {
    return [...this.unstable.entries];
  }

  /**
   * Committed entries ready to apply: only persisted ones (the Ready contract: an entry is
   * handed out for persisting first, and for applying after the advance() that persisted it).
   */
  nextCommittedEntries(): Entry[] {
    if (this.unstable.snapshot !== undefined) return [];
    const lo = Math.max(this.applied + 1, this.firstIndex());
    const hi = Math.min(this.committed, this.lastStableIndex()) + 1;
    if (lo >= hi) return [];
    return this.slice(lo, hi, this.maxCommittedSizePerReadyBytes);
  }

  hasNextCommittedEntries(): boolean {
    if (this.unstable.snapshot !== undefined) return false;
    const lo = Math.max(this.applied + 1, this.firstIndex());
    return lo <= Math.min(this.committed, this.lastStableIndex());
  }

  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  commitTo(index: number): void {
    if (index <= this.committed) return;
    assert(index <= this.lastIndex(), () => `commit ${index} is beyond the last index ${this.lastIndex()}`);
    this.committed = index;
  }

  appliedTo(index: number): void {
    if (index === 0) return;
    assert(index <= this.committed && index >= this.applied, () => `applied ${index} outside [${this.applied}, ${this.committed}]`);
    this.applied = index;
  }

  stableTo(index: number, term: number): void {
    this.unstable.stableTo(index, term);
  }

  stableSnapTo(index: number): void {
    this.unstable.stableSnapTo(index);
  }

  /** Leader side: commit `index` if it is of `term` (only own-term entries commit by counting, §5.4.2). */
  maybeCommit(index: number, term: number): boolean {
    if (index > this.committed && this.term(index) === term) {
      this.commitTo(index);
      return true;
    }
    return false;
  }

  restore(snapshot: Snapshot): void {
    assert(snapshot.metadata.index > this.committed, () => `snapshot ${snapshot.metadata.index} would move commit back from ${this.committed}`);
    this.committed = snapshot.metadata.index;
    this.unstable.restore(snapshot);
  }

  /** Entries from `index` to the end, at most maxBytes; throws CompactedError if compacted. */
  entriesFrom(index: number, maxBytes: number): Entry[] {
    if (index > this.lastIndex()) return [];
    return this.slice(index, this.lastIndex() + 1, maxBytes);
  }

  /** Entries in [lo, hi), at most maxBytes (at least one); throws CompactedError below firstIndex. */
  slice(lo: number, hi: number, maxBytes: number): Entry[] {
    if (lo < this.firstIndex()) throw new CompactedError(`index ${lo} is compacted (first index ${this.firstIndex()})`);
    assert(lo <= hi && hi <= this.lastIndex() + 1, () => `slice [${lo},${hi}) out of bounds (last ${this.lastIndex()})`);
    if (lo === hi) return [];
    const offset = this.unstable.offset;
    let result: Entry[] = [];
    if (lo < offset) {
      const storedHi = Math.min(hi, offset);
      result = this.storage.entries(lo, storedHi, maxBytes);
      if (result.length < storedHi - lo) return result;
    }
    if (hi > offset) result = result.concat(this.unstable.slice(Math.max(lo, offset), hi));
    return limitSize(result, maxBytes);
  }
}
