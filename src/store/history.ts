/**
 * The last 1000 events, as they were rendered when they happened (spec §4.3, §17.1). Every index
 * the store hands out produces exactly one event here, so the events' indexes are consecutive and
 * the event for index i sits at offset i - startIndex.
 */
import { assert } from '../common/assert.js';
import { EtcdError, ErrorCode } from '../common/errors.js';
import type { StoreEvent } from './types.js';

export const historyCapacity = 1000;

export interface HistoryEntry {
  readonly event: StoreEvent;
  /** Refresh events take an index but are never shown to watchers. */
  readonly refresh: boolean;
}

export class EventHistory {
  private readonly ring: (HistoryEntry | undefined)[] = new Array<HistoryEntry | undefined>(historyCapacity);
  private front = 0;
  private count = 0;

  /** Index of the oldest kept event, 0 while empty. */
  get startIndex(): number {
    return this.count === 0 ? 0 : this.entryAt(0).event.index;
  }

  /** Index of the newest kept event, 0 while empty. */
  get lastIndex(): number {
    return this.count === 0 ? 0 : this.entryAt(this.count - 1).event.index;
  }

  add(entry: HistoryEntry): void {
    assert(this.count === 0 || entry.event.index === this.lastIndex + 1, () => `history: event ${entry.event.index} after ${this.lastIndex}`);
    if (this.count < historyCapacity) {
      this.ring[(this.front + this.count) % historyCapacity] = entry;
      this.count++;
      return;
    }
    this.ring[this.front] = entry;
    this.front = (this.front + 1) % historyCapacity;
  }

  /**
   * The first event at or after `sinceIndex` that a watcher on `key` would see, or null when none
   * has happened yet. Throws 401 when `sinceIndex` is older than the history.
   */
  scan(key: string, recursive: boolean, sinceIndex: number, currentIndex: number): StoreEvent | null {
    const start = this.startIndex;
    if (sinceIndex < start) {
      throw new EtcdError(ErrorCode.EventIndexCleared, `the requested history has been cleared [${start}/${sinceIndex}]`, currentIndex);
    }
    if (sinceIndex > this.lastIndex) return null;
    const prefix = key === '/' ? '/' : key + '/';
    for (let offset = sinceIndex - start; offset < this.count; offset++) {
      const entry = this.entryAt(offset);
      if (!entry.refresh && historyMatches(entry.event, key, recursive, prefix)) return entry.event;
    }
    return null;
  }

  /** Oldest first. */
  entries(): HistoryEntry[] {
    const list: HistoryEntry[] = [];
    for (let offset = 0; offset < this.count; offset++) list.push(this.entryAt(offset));
    return list;
  }

  private entryAt(offset: number): HistoryEntry {
    const entry = this.ring[(this.front + offset) % historyCapacity];
    assert(entry !== undefined, () => `history: no entry at offset ${offset}`);
    return entry;
  }
}

/**
 * etcd's history match: the key itself, anything below it for a recursive watch, or a removed
 * directory whose key is a prefix of the watched key. That last test is a plain string prefix in
 * etcd (a watch on "/foobar" matches removing "/foo" from history); replay keeps that quirk so
 * answers match etcd's. Hidden keys are not filtered here (spec §1).
 */
function historyMatches(event: StoreEvent, key: string, recursive: boolean, prefix: string): boolean {
  const eventKey = event.json.node?.key ?? '';
  if (eventKey === key) return true;
  if (recursive && eventKey.startsWith(prefix)) return true;
  const action = event.json.action;
  const prevNode = event.json.prevNode;
  if ((action === 'delete' || action === 'expire') && prevNode?.dir === true && prevNode.key !== undefined) {
    return key.startsWith(prevNode.key);
  }
  return false;
}
