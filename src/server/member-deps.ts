/**
 * What the member needs from the Raft core and from the durable log, as narrow interfaces.
 * open-member.ts adapts RawNode and DiskStorage to them; tests can too.
 */
import type { ConfChange, ConfState, Entry, HardState, Message, NodeId, Ready, Snapshot, Storage } from '../raft/types.js';

export interface RaftDriver {
  tick(): void;
  campaign(): void;
  propose(data: Uint8Array): void;
  readIndex(requestCtx: Uint8Array): void;
  hasReady(): boolean;
  ready(): Ready;
  advance(rd: Ready): void;
  /** Applies a committed conf change to the core's configuration. */
  applyConfChange(cc: ConfChange): ConfState;
  proposeConfChange(cc: ConfChange): void;
  /** A message from a peer. */
  step(message: Message): void;
  reportUnreachable(peer: NodeId): void;
  reportSnapshot(peer: NodeId, status: 'finish' | 'failure'): void;
}

export interface DurableLog {
  /** The read view Raft uses (entries, terms, snapshot). */
  readonly storage: Storage;
  /** Appends entries and the hard state; fsyncs when mustSync. Rejects on any I/O error (fatal). */
  save(hardState: HardState | undefined, entries: readonly Entry[], mustSync: boolean): Promise<void>;
  saveSnapshot(snapshot: Snapshot): Promise<void>;
  /** A snapshot from the leader replaces the log (the view changes at once; durable on resolve). */
  applySnapshot(snapshot: Snapshot): Promise<void>;
  /** Drops log entries up to and including index (covered by a saved snapshot). */
  compact(index: number): Promise<void>;
  close(): Promise<void>;
}
