/**
 * The v2 key space as a deterministic state machine (spec §1–§6). Writes arrive only as committed
 * commands; time arrives only inside them (nowMs, expireAtMs, sync) or as the nowMs of a read.
 * Same commands in the same order → same tree, indexes, events and counters on every replica.
 */
import { assert, assertSafeIndex, unreachable } from '../common/assert.js';
import { EtcdError, ErrorCode } from '../common/errors.js';
import { EventHistory } from './history.js';
import { TreeNode } from './node.js';
import { childKey, isCleanKey, normalizeKey } from './path.js';
import { decodeSnapshot, encodeSnapshot } from './snapshot.js';
import { opCounters, zeroCounters, type WriteCounters } from './stats.js';
import { TtlHeap } from './ttl-heap.js';
import type {
  Action,
  CompareAndDeleteCommand,
  CompareAndSwapCommand,
  CreateCommand,
  DeleteCommand,
  EventJson,
  NodeJson,
  SetCommand,
  StoreEvent,
  StoreStatsJson,
  SyncCommand,
  UpdateCommand,
  WriteCommand,
} from './types.js';
import { StoreWatcher, WatcherHub, type Watcher } from './watcher-hub.js';

export type { Watcher };

/** Expiry times before 2000-01-01 mean "permanent" (a guard against zero times, spec §6). */
export const minExpireAtMs = 946_684_800_000; // 2000-01-01T00:00:00Z

export interface GetOptions {
  readonly recursive: boolean;
  readonly sorted: boolean;
}

export interface WatchOptions {
  readonly recursive: boolean;
  readonly stream: boolean;
  /** 0 = future events only. */
  readonly sinceIndex: number;
}

/** How a failed comparison reads in the error's cause (etcd's getCompareFailCause). */
function compareFailure(node: TreeNode, prevValue: string | null, prevIndex: number): string | null {
  const valueMatches = prevValue === null || prevValue === '' || node.value === prevValue;
  const indexMatches = prevIndex === 0 || node.modifiedIndex === prevIndex;
  if (valueMatches && indexMatches) return null;
  if (!valueMatches && indexMatches) return `[${prevValue ?? ''} != ${node.value}]`;
  if (valueMatches) return `[${prevIndex} != ${node.modifiedIndex}]`;
  return `[${prevValue ?? ''} != ${node.value}] [${prevIndex} != ${node.modifiedIndex}]`;
}

function normalizeExpiry(expireAtMs: number | null): number | null {
  if (expireAtMs === null) return null;
  assert(Number.isSafeInteger(expireAtMs), () => `expireAtMs must be an integer, got ${expireAtMs}`);
  return expireAtMs < minExpireAtMs ? null : expireAtMs;
}

function makeEvent(action: Action, node: NodeJson, prevNode: NodeJson | null, index: number, created: boolean): StoreEvent {
  const json: EventJson = prevNode === null ? { action, node } : { action, node, prevNode };
  return { json, index, created };
}

/** The node part of delete/compareAndDelete/expire events: key, dir flag, indexes; no value or TTL. */
function removalNode(node: TreeNode, index: number): NodeJson {
  const json: NodeJson = { key: node.key };
  if (node.isDir) json.dir = true;
  json.modifiedIndex = index;
  json.createdIndex = node.createdIndex;
  return json;
}

export class Store {
  private root: TreeNode = TreeNode.dir(null, '', 0, null);
  private currentIndex = 0;
  private ttlHeap = new TtlHeap();
  private history = new EventHistory();
  private readonly hub = new WatcherHub();
  private counters: WriteCounters = zeroCounters();
  /**
   * etcd 3.4 returns some errors without assigning its deferred stats variable, so they count as
   * successes (observed: CAS/update/delete on the root, update of a directory with a value, and
   * compareAndDelete's compare failure or directory). Set by failureCountedAsSuccess.
   */
  private failureCountsAsSuccess = false;

  /** Current etcd index (last successful mutation). */
  get index(): number {
    return this.currentIndex;
  }

  /**
   * Apply one committed command. Returns the event, or throws EtcdError (index = current index)
   * for expected failures. Failed commands consume no index.
   */
  apply(cmd: WriteCommand): StoreEvent {
    const counters = opCounters[cmd.op];
    this.failureCountsAsSuccess = false;
    try {
      const event = this.applyWrite(cmd);
      this.counters[counters.success]++;
      return event;
    } catch (error) {
      if (error instanceof EtcdError) this.counters[this.failureCountsAsSuccess ? counters.success : counters.fail]++;
      throw error;
    }
  }

  /** Expire every node with expireAtMs <= nowMs, oldest expiry first, one index and event each. */
  applySync(cmd: SyncCommand): StoreEvent[] {
    const events: StoreEvent[] = [];
    for (let node = this.ttlHeap.top(); node !== null; node = this.ttlHeap.top()) {
      const expireAtMs = node.expireAtMs;
      assert(expireAtMs !== null, 'heap holds only expiring nodes');
      if (expireAtMs > cmd.nowMs) break;
      const index = this.currentIndex + 1;
      const prevNode = node.renderShallow(cmd.nowMs);
      const removedKeys = this.detach(node);
      this.currentIndex = index;
      this.counters.expireCount++;
      events.push(this.publish(makeEvent('expire', removalNode(node, index), prevNode, index, false), removedKeys));
    }
    return events;
  }

  /** Read one node (a directory lists one level, or its subtree when recursive). */
  get(key: string, opts: GetOptions, nowMs: number): StoreEvent {
    let node: TreeNode;
    try {
      node = this.lookup(normalizeKey(key));
    } catch (error) {
      if (error instanceof EtcdError) this.counters.getsFail++;
      throw error;
    }
    const json = node.render(true, opts.recursive, nowMs, opts.sorted);
    this.counters.getsSuccess++;
    return { json: { action: 'get', node: json }, index: this.currentIndex, created: false };
  }

  /**
   * The value of a file, or undefined (missing, a directory, or a file in the way), without
   * counting as a client read: the member's own bookkeeping reads must not move `getsSuccess`.
   */
  peekValue(key: string): string | undefined {
    let node: TreeNode | null;
    try {
      node = this.lookupOrNull(normalizeKey(key));
    } catch (error) {
      if (error instanceof EtcdError) return undefined;
      throw error;
    }
    return node === null || node.isDir ? undefined : node.value;
  }

  /**
   * Register a watcher. A match already in the history resolves it at once (a stream watcher gets
   * every matching event from the history, then stays registered); a sinceIndex older than the
   * history throws 401.
   */
  watch(key: string, opts: WatchOptions): Watcher {
    assertSafeIndex(opts.sinceIndex, 'sinceIndex');
    const watchKey = normalizeKey(key);
    const sinceIndex = opts.sinceIndex === 0 ? this.currentIndex + 1 : opts.sinceIndex;
    const watcher = new StoreWatcher(watchKey, opts.recursive, opts.stream, sinceIndex, this.hub);
    let from = sinceIndex;
    for (;;) {
      const past = this.history.scan(watchKey, opts.recursive, from, this.currentIndex);
      if (past === null) break;
      watcher.deliver(past);
      if (!opts.stream) return watcher;
      from = past.index + 1;
    }
    this.hub.register(watcher);
    return watcher;
  }

  stats(): StoreStatsJson {
    return { ...this.counters, watchers: this.hub.count };
  }

  /** Earliest expiry of any node, or null (lets the member decide when a sync is useful). */
  nextExpiryMs(): number | null {
    return this.ttlHeap.top()?.expireAtMs ?? null;
  }

  /** The whole state: tree with indexes and absolute expiries, index, counters, history. */
  save(): Uint8Array {
    return encodeSnapshot({ index: this.currentIndex, counters: this.counters, root: this.root, history: this.history.entries() });
  }

  /**
   * Replaces the whole state with a snapshot's (a follower catching up from the leader's
   * snapshot) while keeping the registered watchers: each is given what the new history holds
   * for it, so a watch spanning the snapshot misses no event the history still has.
   */
  restoreFrom(data: Uint8Array): void {
    const fresh = Store.recover(data);
    this.root = fresh.root;
    this.currentIndex = fresh.currentIndex;
    this.counters = fresh.counters;
    this.ttlHeap = fresh.ttlHeap;
    this.history = fresh.history;
    this.hub.replay((watcher) => this.catchUp(watcher));
  }

  /** Delivers the history's events a watcher has not seen yet (events older than the history are gone). */
  private catchUp(watcher: StoreWatcher): void {
    let from = Math.max(watcher.sinceIndex, watcher.lastEventIndex + 1);
    if (from < this.history.startIndex) return;
    for (;;) {
      const past = this.history.scan(watcher.key, watcher.recursive, from, this.currentIndex);
      if (past === null || !watcher.registered) return;
      if (!watcher.stream) watcher.remove();
      watcher.deliver(past);
      if (!watcher.stream) return;
      from = past.index + 1;
    }
  }

  static recover(data: Uint8Array): Store {
    const decoded = decodeSnapshot(data);
    const store = new Store();
    store.root = decoded.root;
    store.currentIndex = decoded.index;
    store.counters = decoded.counters;
    for (const entry of decoded.history) store.history.add(entry);
    store.root.visitPostOrder((node) => {
      if (node.expireAtMs !== null) store.ttlHeap.push(node);
    });
    assert(store.history.lastIndex === 0 || store.history.lastIndex === store.currentIndex, 'history ends at the current index');
    return store;
  }

  private applyWrite(cmd: WriteCommand): StoreEvent {
    const key = isCleanKey(cmd.key) ? cmd.key : normalizeKey(cmd.key);
    switch (cmd.op) {
      case 'set':
        return this.applySet(key, cmd);
      case 'create':
        return this.applyCreate(key, cmd);
      case 'update':
        return this.applyUpdate(key, cmd);
      case 'compareAndSwap':
        return this.applyCompareAndSwap(key, cmd);
      case 'delete':
        return this.applyDelete(key, cmd);
      case 'compareAndDelete':
        return this.applyCompareAndDelete(key, cmd);
      default:
        return unreachable(cmd, 'unknown store command');
    }
  }

  /** Create or replace; with refresh, keep the old value (the node is still replaced). */
  private applySet(key: string, cmd: SetCommand): StoreEvent {
    const previous = this.lookupOrNull(key);
    let value = cmd.value;
    if (cmd.refresh) {
      if (previous === null) this.lookup(key); // throws the same 100 etcd gives
      value = previous?.value ?? '';
    }
    const { node, prevNode } = this.createNode(key, cmd.dir, value, true, cmd.expireAtMs);
    const event = makeEvent('set', node.renderShallow(cmd.nowMs), prevNode?.renderShallow(cmd.nowMs) ?? null, node.modifiedIndex, previous === null);
    return cmd.refresh ? this.record(event) : this.publish(event, []);
  }

  private applyCreate(key: string, cmd: CreateCommand): StoreEvent {
    const target = cmd.inOrder ? childKey(key, String(this.currentIndex + 1).padStart(20, '0')) : key;
    const { node } = this.createNode(target, cmd.dir, cmd.value, false, cmd.expireAtMs);
    return this.publish(makeEvent('create', node.renderShallow(cmd.nowMs), null, node.modifiedIndex, true), []);
  }

  /** A file gets a new value and expiry; a directory only a new expiry (its modifiedIndex stays). */
  private applyUpdate(key: string, cmd: UpdateCommand): StoreEvent {
    this.refuseRoot(key, true);
    const node = this.lookup(key);
    if (node.isDir && cmd.value !== null && cmd.value !== '') {
      throw this.failureCountedAsSuccess(new EtcdError(ErrorCode.NotFile, key, this.currentIndex));
    }
    const index = this.currentIndex + 1;
    const prevNode = node.renderShallow(cmd.nowMs);
    if (!node.isDir) {
      if (!cmd.refresh && cmd.value !== null) node.value = cmd.value;
      node.modifiedIndex = index;
    }
    this.setExpiry(node, normalizeExpiry(cmd.expireAtMs));
    this.currentIndex = index;
    const json = node.renderShallow(cmd.nowMs);
    json.modifiedIndex = index;
    const event = makeEvent('update', json, prevNode, index, false);
    return cmd.refresh ? this.record(event) : this.publish(event, []);
  }

  private applyCompareAndSwap(key: string, cmd: CompareAndSwapCommand): StoreEvent {
    this.refuseRoot(key, true);
    const node = this.lookup(key);
    if (node.isDir) throw new EtcdError(ErrorCode.NotFile, key, this.currentIndex);
    const failure = compareFailure(node, cmd.prevValue, cmd.prevIndex);
    if (failure !== null) throw new EtcdError(ErrorCode.TestFailed, failure, this.currentIndex);
    const index = this.currentIndex + 1;
    const prevNode = node.renderShallow(cmd.nowMs);
    if (!cmd.refresh && cmd.value !== null) node.value = cmd.value;
    node.modifiedIndex = index;
    this.setExpiry(node, normalizeExpiry(cmd.expireAtMs));
    this.currentIndex = index;
    const event = makeEvent('compareAndSwap', node.renderShallow(cmd.nowMs), prevNode, index, false);
    return cmd.refresh ? this.record(event) : this.publish(event, []);
  }

  /** A file, or a directory when dir (empty) or recursive (any) is set. */
  private applyDelete(key: string, cmd: DeleteCommand): StoreEvent {
    this.refuseRoot(key, true);
    const dir = cmd.dir || cmd.recursive;
    const node = this.lookup(key);
    if (node.isDir) {
      if (!dir) throw new EtcdError(ErrorCode.NotFile, key, this.currentIndex);
      if (!cmd.recursive && (node.children?.size ?? 0) > 0) throw new EtcdError(ErrorCode.DirNotEmpty, key, this.currentIndex);
    }
    const index = this.currentIndex + 1;
    const prevNode = node.renderShallow(cmd.nowMs);
    const removedKeys = this.detach(node);
    this.currentIndex = index;
    return this.publish(makeEvent('delete', removalNode(node, index), prevNode, index, false), removedKeys);
  }

  /** No root check here: the root is a directory, so 102 (etcd 3.4 shows it without a cause). */
  private applyCompareAndDelete(key: string, cmd: CompareAndDeleteCommand): StoreEvent {
    const node = this.lookup(key);
    if (node.isDir) {
      throw this.failureCountedAsSuccess(new EtcdError(ErrorCode.NotFile, key === '/' ? '' : key, this.currentIndex));
    }
    const failure = compareFailure(node, cmd.prevValue, cmd.prevIndex);
    if (failure !== null) throw this.failureCountedAsSuccess(new EtcdError(ErrorCode.TestFailed, failure, this.currentIndex));
    const index = this.currentIndex + 1;
    const prevNode = node.renderShallow(cmd.nowMs);
    const removedKeys = this.detach(node);
    this.currentIndex = index;
    return this.publish(makeEvent('compareAndDelete', removalNode(node, index), prevNode, index, false), removedKeys);
  }

  /**
   * etcd's internalCreate: make the parents, then a file or directory at `key` with the next
   * index. `replace` lets a file (never a directory) be replaced; otherwise an existing node is 105.
   */
  private createNode(
    key: string,
    dir: boolean,
    value: string,
    replace: boolean,
    expireAtMs: number | null,
  ): { node: TreeNode; prevNode: TreeNode | null } {
    this.refuseRoot(key);
    const expiry = normalizeExpiry(expireAtMs);
    const slash = key.lastIndexOf('/');
    const name = key.slice(slash + 1);
    const parent = this.makeParents(key.slice(0, slash));
    const existing = parent.children?.get(name);
    if (existing !== undefined) {
      if (!replace) throw new EtcdError(ErrorCode.NodeExist, key, this.currentIndex);
      if (existing.isDir) throw new EtcdError(ErrorCode.NotFile, key, this.currentIndex);
      this.detach(existing);
    }
    const index = this.currentIndex + 1;
    const node = dir ? TreeNode.dir(parent, name, index, expiry) : TreeNode.file(parent, name, value, index, expiry);
    parent.children?.set(name, node);
    if (expiry !== null) this.ttlHeap.push(node);
    this.currentIndex = index;
    return { node, prevNode: existing ?? null };
  }

  /**
   * Walk to the directory `dirKey` ("" = root), creating missing directories with the index the
   * pending write will get. A file on the way is 104; etcd also counts that as a failed set.
   */
  private makeParents(dirKey: string): TreeNode {
    let current = this.root;
    if (dirKey === '') return current;
    const index = this.currentIndex + 1;
    for (const segment of dirKey.slice(1).split('/')) {
      const children = current.children;
      assert(children !== null, 'walk only descends into directories');
      const child = children.get(segment);
      if (child === undefined) {
        const created = TreeNode.dir(current, segment, index, null);
        children.set(segment, created);
        current = created;
      } else if (child.isDir) {
        current = child;
      } else {
        this.counters.setsFail++;
        throw new EtcdError(ErrorCode.NotDir, child.key, this.currentIndex);
      }
    }
    return current;
  }

  /** etcd's internalGet: 104 names the file in the way, 100 names the first missing prefix. */
  private lookup(key: string): TreeNode {
    let current = this.root;
    if (key === '/') return current;
    for (const segment of key.slice(1).split('/')) {
      const children = current.children;
      if (children === null) throw new EtcdError(ErrorCode.NotDir, current.key, this.currentIndex);
      const child = children.get(segment);
      if (child === undefined) throw new EtcdError(ErrorCode.KeyNotFound, childKey(current.key, segment), this.currentIndex);
      current = child;
    }
    return current;
  }

  /** lookup, with "not found" as null; 104 still throws. */
  private lookupOrNull(key: string): TreeNode | null {
    try {
      return this.lookup(key);
    } catch (error) {
      if (error instanceof EtcdError && error.errorCode === ErrorCode.KeyNotFound) return null;
      throw error;
    }
  }

  private refuseRoot(key: string, countsAsSuccess = false): void {
    if (key !== '/') return;
    const error = new EtcdError(ErrorCode.RootROnly, '/', this.currentIndex);
    throw countsAsSuccess ? this.failureCountedAsSuccess(error) : error;
  }

  private failureCountedAsSuccess(error: EtcdError): EtcdError {
    this.failureCountsAsSuccess = true;
    return error;
  }

  /** Set, change or clear a node's expiry, keeping the TTL heap in step. */
  private setExpiry(node: TreeNode, expireAtMs: number | null): void {
    const wasQueued = node.expireAtMs !== null;
    node.expireAtMs = expireAtMs;
    if (wasQueued && expireAtMs === null) this.ttlHeap.remove(node);
    else if (wasQueued) this.ttlHeap.update(node);
    else if (expireAtMs !== null) this.ttlHeap.push(node);
  }

  /**
   * Unlink a node and its subtree, dropping their expiries. Returns the keys removed (deepest first)
   * when a watcher could care about them, for the "removed with its directory" notification.
   */
  private detach(node: TreeNode): string[] {
    const parent = node.parent;
    assert(parent !== null && parent.children?.get(node.name) === node, () => `detach: ${node.key} is not linked`);
    parent.children?.delete(node.name);
    const removedKeys: string[] = [];
    const collectKeys = node.isDir && this.hub.count > 0;
    node.visitPostOrder((removed) => {
      if (removed.expireAtMs !== null) this.ttlHeap.remove(removed);
      if (collectKeys) removedKeys.push(removed.key);
    });
    return removedKeys;
  }

  /** Keep the event in the history without waking anyone (refresh). */
  private record(event: StoreEvent): StoreEvent {
    assert(event.index === this.currentIndex, 'an event takes the current index');
    this.history.add({ event, refresh: true });
    return event;
  }

  private publish(event: StoreEvent, removedKeys: readonly string[]): StoreEvent {
    assert(event.index === this.currentIndex, 'an event takes the current index');
    this.history.add({ event, refresh: false });
    this.hub.notify(event, removedKeys);
    return event;
  }
}
