/**
 * The simulated disk of one node: an fsynced image (what survives any crash) plus the writes
 * made since the last fsync (what a crash may lose). A crash keeps a random prefix of the
 * unsynced writes — the last kept write may itself be torn, keeping only some of its entries —
 * because a real disk persists writes in order up to some point and may cut a record in half.
 */
import { assert } from '../../src/common/assert.js';
import type { Prng } from '../../src/common/prng.js';
import type { Entry, HardState, Snapshot } from '../../src/raft/types.js';
import { SimViolation } from './checker.js';

export type DiskRecord =
  | { readonly kind: 'hardState'; readonly hardState: HardState }
  | { readonly kind: 'entries'; readonly entries: readonly Entry[] }
  | { readonly kind: 'snapshot'; readonly snapshot: Snapshot };

/** A durable log image: the latest snapshot and the contiguous entries after it. */
export class DiskImage {
  hardState: HardState;
  snapshot: Snapshot;
  /** entries[k] has index snapshot.metadata.index + 1 + k. */
  entries: Entry[] = [];

  constructor(hardState: HardState, snapshot: Snapshot) {
    this.hardState = hardState;
    this.snapshot = snapshot;
  }

  clone(): DiskImage {
    const copy = new DiskImage(this.hardState, this.snapshot);
    copy.entries = this.entries.slice();
    return copy;
  }

  lastIndex(): number {
    return this.snapshot.metadata.index + this.entries.length;
  }

  /** Term of the entry at `index`, or undefined when the image does not hold it. */
  termAt(index: number): number | undefined {
    const snapIndex = this.snapshot.metadata.index;
    if (index === snapIndex) return this.snapshot.metadata.term;
    if (index < snapIndex) return undefined;
    return this.entries[index - snapIndex - 1]?.term;
  }

  /**
   * What a WAL replay hands the node after a crash. The driver writes in an order that keeps
   * every prefix consistent, so a replayed commit index always points into the replayed log.
   */
  forReplay(): DiskImage {
    const { commit } = this.hardState;
    if (commit < this.snapshot.metadata.index || commit > this.lastIndex()) {
      // The disk promises a commit index over entries it does not hold: they were acknowledged
      // as committed but never made durable together with it.
      throw new SimViolation('durability', `replayed commit ${commit} outside [snapshot ${this.snapshot.metadata.index}, last ${this.lastIndex()}]`);
    }
    return this.clone();
  }

  apply(record: DiskRecord): void {
    switch (record.kind) {
      case 'hardState':
        this.hardState = record.hardState;
        return;
      case 'entries':
        this.appendEntries(record.entries);
        return;
      case 'snapshot':
        this.applySnapshot(record.snapshot);
        return;
    }
  }

  /** Entries overwrite any suffix they conflict with, as a WAL replay does (later records win). */
  private appendEntries(entries: readonly Entry[]): void {
    const snapIndex = this.snapshot.metadata.index;
    const fresh = entries.filter((e) => e.index > snapIndex);
    const first = fresh[0];
    if (first === undefined) return;
    assert(first.index <= this.lastIndex() + 1, () => `disk: entries start at ${first.index}, leaving a gap after ${this.lastIndex()}`);
    this.entries.length = first.index - snapIndex - 1;
    for (const e of fresh) this.entries.push(e);
  }

  /** Raft §7: keep the entries after the snapshot only when the log agrees with its last entry. */
  private applySnapshot(snapshot: Snapshot): void {
    const { index, term } = snapshot.metadata;
    if (index <= this.snapshot.metadata.index) return;
    const keep = this.termAt(index) === term ? this.entries.slice(index - this.snapshot.metadata.index) : [];
    this.snapshot = snapshot;
    this.entries = keep;
  }
}

export class SimDisk {
  /** What survives any crash. */
  private synced: DiskImage;
  private unsynced: DiskRecord[] = [];
  /** Counters for the run summary. */
  fsyncs = 0;
  tornWrites = 0;
  lostWrites = 0;

  constructor(initial: DiskImage) {
    this.synced = initial.clone();
  }

  write(record: DiskRecord): void {
    this.unsynced.push(record);
  }

  fsync(): void {
    for (const record of this.unsynced) this.synced.apply(record);
    this.unsynced = [];
    this.fsyncs++;
  }

  /** The durable state promised so far (read-only view for the durability checker). */
  durable(): DiskImage {
    return this.synced;
  }

  hasUnsyncedWrites(): boolean {
    return this.unsynced.length > 0;
  }

  /**
   * Power loss: a random prefix of the unsynced writes reaches the platter, the next one may be
   * torn (only some of its entries survive), the rest is lost. Returns the image to restart from.
   */
  crash(prng: Prng): DiskImage {
    const keptWholeCount = prng.int(this.unsynced.length + 1);
    for (const record of this.unsynced.slice(0, keptWholeCount)) this.synced.apply(record);
    const torn = this.unsynced[keptWholeCount];
    if (torn !== undefined && torn.kind === 'entries' && torn.entries.length > 1 && prng.int(2) === 0) {
      this.synced.apply({ kind: 'entries', entries: torn.entries.slice(0, 1 + prng.int(torn.entries.length - 1)) });
      this.tornWrites++;
    }
    this.lostWrites += this.unsynced.length - keptWholeCount;
    this.unsynced = [];
    this.synced = this.synced.forReplay();
    return this.synced.clone();
  }
}
