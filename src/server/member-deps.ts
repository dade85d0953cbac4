/**
 * What the member needs from the Raft core and from the durable log, as narrow interfaces.
 * open-member.ts adapts RawNode and DiskStorage to them; tests can too.
 */
import type { ConfState, Entry, HardState, Ready, Snapshot, Storage } from '../raft/types.js';

export interface RaftDriver {
  tick(): void;
  campaign(): void;
  propose(data: Uint8Array): void;
  readIndex(requestCtx: Uint8Array): void;
  hasReady(): boolean;
  ready(): Ready;
  advance(rd: Ready): void;
  /** Decodes a committed confChange entry and applies it to the core's configuration. */
  applyConfChangeEntry(entry: Entry): ConfState;
}

export interface DurableLog {
  /** The read view Raft uses (entries, terms, snapshot). */
  readonly storage: Storage;
  /** Appends entries and the hard state; fsyncs when mustSync. Rejects on any I/O error (fatal). */
  save(hardState: HardState | undefined, entries: readonly Entry[], mustSync: boolean): Promise<void>;
  saveSnapshot(snapshot: Snapshot): Promise<void>;
  /** Drops log entries up to and including index (covered by a saved snapshot). */
  compact(index: number): Promise<void>;
  close(): Promise<void>;
}
