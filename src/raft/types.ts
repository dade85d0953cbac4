/**
 * The Raft core's public vocabulary (the etcd-io/raft model). Everything that crosses the
 * boundary of the pure core is one of these plain, serialisable shapes. The server, the
 * storage layer, the transport and the simulator all speak only these types.
 *
 * Node ids are strings: member ids are uint64 printed as 16 hex digits, which do not fit a
 * JS number; tests use short ids such as '1'. NONE ('') means "no node".
 */
export type NodeId = string;
export const NONE: NodeId = '';

export type EntryType = 'normal' | 'confChange';

export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly type: EntryType;
  /** Opaque to raft. An empty normal entry is the leader's no-op of its term. For confChange, an encoded ConfChange. */
  readonly data: Uint8Array;
}

export type ConfChangeType = 'addNode' | 'removeNode' | 'addLearner';

export interface ConfChange {
  readonly type: ConfChangeType;
  readonly nodeId: NodeId;
  /** Opaque to raft (the server puts the member's name and URLs here). */
  readonly context: Uint8Array;
}

export interface ConfState {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

export interface SnapshotMetadata {
  readonly index: number;
  readonly term: number;
  readonly confState: ConfState;
}

export interface Snapshot {
  /** The application's serialised state machine at metadata.index. */
  readonly data: Uint8Array;
  readonly metadata: SnapshotMetadata;
}

/** Must be persisted (fsynced) before any message that depends on it is sent. */
export interface HardState {
  readonly term: number;
  readonly vote: NodeId;
  readonly commit: number;
}

export type StateType = 'follower' | 'candidate' | 'leader' | 'preCandidate';

/** Volatile state, reported for information (who leads); never persisted. */
export interface SoftState {
  readonly lead: NodeId;
  readonly raftState: StateType;
}

export interface ReadState {
  /** The commit index the read must wait for: answer once applied >= index. */
  readonly index: number;
  readonly requestCtx: Uint8Array;
}

export type MessageType =
  | 'MsgHup'
  | 'MsgBeat'
  | 'MsgProp'
  | 'MsgApp'
  | 'MsgAppResp'
  | 'MsgVote'
  | 'MsgVoteResp'
  | 'MsgPreVote'
  | 'MsgPreVoteResp'
  | 'MsgSnap'
  | 'MsgHeartbeat'
  | 'MsgHeartbeatResp'
  | 'MsgUnreachable'
  | 'MsgSnapStatus'
  | 'MsgCheckQuorum'
  | 'MsgTransferLeader'
  | 'MsgTimeoutNow'
  | 'MsgReadIndex'
  | 'MsgReadIndexResp';

export interface Message {
  readonly type: MessageType;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
  /** MsgApp: term of the entry at `index`; votes: the candidate's last log term. */
  readonly logTerm: number;
  /** MsgApp: index of the entry preceding `entries`; votes: the candidate's last index; responses: the acknowledged index. */
  readonly index: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
  readonly reject: boolean;
  /** On a rejected MsgAppResp: the follower's hint for where to probe next (fast backtracking). */
  readonly rejectHint: number;
  readonly snapshot?: Snapshot;
  /** ReadIndex request context, heartbeat context, or campaign-transfer marker. */
  readonly context: Uint8Array;
}

/**
 * Everything the core wants done, handed out by RawNode.ready(). The driver handles it in
 * this order, then calls advance():
 *   1. persist `hardState`, `entries` and `snapshot` (fsync when mustSync);
 *   2. send `messages` (only after step 1: a vote or an append response promises durable state);
 *   3. apply `snapshot` then `committedEntries` to the state machine, answer `readStates`
 *      once applied has reached their index.
 */
export interface Ready {
  readonly softState?: SoftState;
  readonly hardState?: HardState;
  readonly readStates: readonly ReadState[];
  readonly entries: readonly Entry[];
  readonly snapshot?: Snapshot;
  readonly committedEntries: readonly Entry[];
  readonly messages: readonly Message[];
  readonly mustSync: boolean;
}

/** Thrown by Storage when an index is below the first available one (compacted into a snapshot). */
export class CompactedError extends Error {
  override name = 'CompactedError';
}

/** Thrown by Storage when an index is beyond what it holds. */
export class UnavailableError extends Error {
  override name = 'UnavailableError';
}

/**
 * The persisted log, as the core reads it. Implemented by MemoryStorage (raft/) for tests and
 * the simulator, and by the disk WAL (storage/) for the member. Reads only; the driver writes.
 */
export interface Storage {
  initialState(): { hardState: HardState; confState: ConfState };
  /** Entries in [lo, hi), at most maxBytes of data (always at least one entry if any). */
  entries(lo: number, hi: number, maxBytes: number): Entry[];
  /** Term of the entry at index i; i may be the snapshot's index. */
  term(i: number): number;
  lastIndex(): number;
  /** Index of the first entry still held (snapshot index + 1). */
  firstIndex(): number;
  snapshot(): Snapshot;
}

export type SnapshotStatus = 'finish' | 'failure';
