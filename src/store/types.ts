/**
 * The v2 key space's contract with the rest of the member. A write reaches the store only as a
 * StoreCommand inside a committed log entry; applying the same commands in the same order gives
 * the same tree, indexes and events on every member (DESIGN §3: deterministic store).
 * Times are absolute Unix milliseconds chosen by the proposer, never read from a clock here.
 */

/** Fields every write command carries. */
interface CommandBase {
  /** Normalised key ("/a/b"), already cleaned like Go path.Clean. */
  readonly key: string;
  /** Proposer's wall clock at proposal time; used to render `ttl` in the write's event. */
  readonly nowMs: number;
}

export interface SetCommand extends CommandBase {
  readonly op: 'set';
  readonly value: string;
  readonly dir: boolean;
  /** Absolute expiry (ms since epoch) or null for permanent. */
  readonly expireAtMs: number | null;
  /** 3.4 refresh: keep value, reset TTL, do not wake watchers. */
  readonly refresh: boolean;
}

export interface CreateCommand extends CommandBase {
  readonly op: 'create';
  readonly value: string;
  readonly dir: boolean;
  readonly expireAtMs: number | null;
  /** In-order POST: the key is a directory; the child is named by the create's index (20 digits). */
  readonly inOrder: boolean;
}

export interface UpdateCommand extends CommandBase {
  readonly op: 'update';
  /** null: a dir-TTL update (updatedir) or refresh; the value is left alone. */
  readonly value: string | null;
  readonly expireAtMs: number | null;
  readonly refresh: boolean;
}

export interface CompareAndSwapCommand extends CommandBase {
  readonly op: 'compareAndSwap';
  readonly value: string | null;
  /** null = not compared. */
  readonly prevValue: string | null;
  /** 0 = not compared. */
  readonly prevIndex: number;
  readonly expireAtMs: number | null;
  readonly refresh: boolean;
}

export interface DeleteCommand extends CommandBase {
  readonly op: 'delete';
  readonly dir: boolean;
  readonly recursive: boolean;
}

export interface CompareAndDeleteCommand extends CommandBase {
  readonly op: 'compareAndDelete';
  readonly prevValue: string | null;
  readonly prevIndex: number;
}

/** The leader's expiry sweep (every 500 ms): remove every node with expireAtMs <= nowMs. */
export interface SyncCommand {
  readonly op: 'sync';
  readonly nowMs: number;
}

export type WriteCommand =
  | SetCommand
  | CreateCommand
  | UpdateCommand
  | CompareAndSwapCommand
  | DeleteCommand
  | CompareAndDeleteCommand;

export type StoreCommand = WriteCommand | SyncCommand;

export type Action =
  | 'get'
  | 'set'
  | 'create'
  | 'update'
  | 'compareAndSwap'
  | 'delete'
  | 'compareAndDelete'
  | 'expire';

/** A node as etcd renders it (spec §4.1). Field order matters: JSON.stringify keeps insertion order. */
export interface NodeJson {
  key?: string;
  value?: string;
  dir?: true;
  expiration?: string;
  ttl?: number;
  nodes?: NodeJson[];
  modifiedIndex?: number;
  createdIndex?: number;
}

export interface EventJson {
  action: Action;
  node?: NodeJson;
  prevNode?: NodeJson;
}

/** What a write or a watch returns: the rendered event plus the index it happened at. */
export interface StoreEvent {
  readonly json: EventJson;
  /** The etcd index of the event (the node's modifiedIndex; for get, the current index). */
  readonly index: number;
  /** True when the event made a new node (201 Created). */
  readonly created: boolean;
}

export interface StoreStatsJson {
  getsSuccess: number;
  getsFail: number;
  setsSuccess: number;
  setsFail: number;
  deleteSuccess: number;
  deleteFail: number;
  updateSuccess: number;
  updateFail: number;
  createSuccess: number;
  createFail: number;
  compareAndSwapSuccess: number;
  compareAndSwapFail: number;
  compareAndDeleteSuccess: number;
  compareAndDeleteFail: number;
  expireCount: number;
  watchers: number;
}
