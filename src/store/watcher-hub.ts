/**
 * Watchers indexed by the key they watch, so an event only visits the watchers on its own key and
 * on each of its ancestors (O(depth) map lookups, however many watchers exist elsewhere).
 */
import { assert } from '../common/assert.js';
import { isHiddenBelow } from './path.js';
import type { StoreEvent } from './types.js';

export interface Watcher {
  /** Called for every matching event (once for a one-shot watcher, then it is removed; for stream
   *  watchers, every event until remove()). Events arrive in index order. Events that matched before
   *  a listener was attached are delivered synchronously from onEvent. One listener per watcher. */
  onEvent(listener: (event: StoreEvent) => void): void;
  /** Idempotent; the `watchers` stat drops back. */
  remove(): void;
}

type Listener = (event: StoreEvent) => void;

export class StoreWatcher implements Watcher {
  private listener: Listener | null = null;
  private readonly pending: StoreEvent[] = [];
  /** Index of the last event handed over; a watcher never sees an index twice. */
  lastEventIndex = 0;
  /** True while the hub holds it. */
  registered = false;

  constructor(
    readonly key: string,
    readonly recursive: boolean,
    readonly stream: boolean,
    /** Only events with index >= sinceIndex are delivered. */
    readonly sinceIndex: number,
    private readonly hub: WatcherHub,
  ) {}

  onEvent(listener: Listener): void {
    assert(this.listener === null, () => `watcher on ${this.key} already has a listener`);
    this.listener = listener;
    const buffered = this.pending.splice(0);
    for (const event of buffered) listener(event);
  }

  remove(): void {
    if (this.registered) this.hub.unregister(this);
  }

  /** Hand one event over (or keep it until a listener is attached). */
  deliver(event: StoreEvent): void {
    assert(event.index > this.lastEventIndex, () => `watcher ${this.key}: event ${event.index} after ${this.lastEventIndex}`);
    this.lastEventIndex = event.index;
    if (this.listener === null) {
      this.pending.push(event);
    } else {
      this.listener(event);
    }
  }

  /** etcd's rule: the watched key itself, below it when recursive, or removed with a directory. */
  wants(event: StoreEvent, isEventKey: boolean, removed: boolean): boolean {
    if (event.index < this.sinceIndex || event.index <= this.lastEventIndex) return false;
    return this.recursive || isEventKey || removed;
  }
}

export class WatcherHub {
  private readonly byKey = new Map<string, Set<StoreWatcher>>();
  private liveCount = 0;

  get count(): number {
    return this.liveCount;
  }

  register(watcher: StoreWatcher): void {
    assert(!watcher.registered, () => `watcher on ${watcher.key} registered twice`);
    let set = this.byKey.get(watcher.key);
    if (set === undefined) {
      set = new Set();
      this.byKey.set(watcher.key, set);
    }
    set.add(watcher);
    watcher.registered = true;
    this.liveCount++;
  }

  unregister(watcher: StoreWatcher): void {
    const set = this.byKey.get(watcher.key);
    assert(set !== undefined && set.has(watcher), () => `watcher on ${watcher.key} not registered`);
    set.delete(watcher);
    if (set.size === 0) this.byKey.delete(watcher.key);
    watcher.registered = false;
    this.liveCount--;
    assert(this.liveCount >= 0, 'watcher count never negative');
  }

  /** Calls `visit` for every registered watcher (after the store's state was replaced). */
  replay(visit: (watcher: StoreWatcher) => void): void {
    for (const set of Array.from(this.byKey.values())) for (const watcher of Array.from(set)) if (watcher.registered) visit(watcher);
  }

  /**
   * Tell watchers about an event: first those on each path a directory removal took away (deepest
   * first), then those on the event's key and each of its ancestors, root first.
   */
  notify(event: StoreEvent, removedKeys: readonly string[]): void {
    if (this.liveCount === 0) return;
    for (const removedKey of removedKeys) this.notifyAt(event, removedKey, true);
    const eventKey = event.json.node?.key ?? '/';
    this.notifyAt(event, '/', false);
    for (let slash = eventKey.indexOf('/', 1); slash !== -1; slash = eventKey.indexOf('/', slash + 1)) {
      this.notifyAt(event, eventKey.slice(0, slash), false);
    }
    if (eventKey !== '/') this.notifyAt(event, eventKey, false);
  }

  private notifyAt(event: StoreEvent, watchKey: string, removed: boolean): void {
    const set = this.byKey.get(watchKey);
    if (set === undefined) return;
    const eventKey = event.json.node?.key ?? '/';
    const isEventKey = eventKey === watchKey;
    if (!isEventKey && isHiddenBelow(watchKey, eventKey)) return;
    for (const watcher of Array.from(set)) {
      if (!watcher.registered || !watcher.wants(event, isEventKey, removed)) continue;
      if (!watcher.stream) this.unregister(watcher);
      watcher.deliver(event);
    }
  }
}
