import type { IncomingMessage, ServerResponse } from 'node:http';
import { EtcdError } from '../common/errors.js';
import type { Watcher } from '../store/index.js';
import type { StoreEvent } from '../store/types.js';
import type { WatchRequest } from './keys-request.js';
import type { ClientPortMember } from './member-port.js';
import type { ClientPortOptions } from './options.js';
import { goJsonLine, keyHeaders, sendEtcdError } from './respond.js';

/**
 * `wait=true`: headers (200, X-Etcd-Index = the index at registration) are flushed at once so the
 * client knows it is watching; then one event ends a long poll, or every event is written as one
 * JSON line for `stream=true`. An idle watch ends with 200 and nothing (more) written, as etcd 3.4
 * does after 5 minutes. Whatever ends the response — event, idle timeout, the client going away, a
 * stream client that stops reading — removes the watcher from the store, so `watchers` drops back.
 */
export function serveWatch(member: ClientPortMember, options: ClientPortOptions, req: IncomingMessage, res: ServerResponse, request: WatchRequest): void {
  let watcher: Watcher;
  try {
    watcher = member.store.watch(request.key, { recursive: request.recursive, stream: request.stream, sinceIndex: request.sinceIndex });
  } catch (error) {
    if (!(error instanceof EtcdError)) throw error;
    sendEtcdError(req, res, member, error);
    return;
  }
  res.writeHead(200, keyHeaders(member, member.store.index));
  res.flushHeaders();
  new WatchResponse(watcher, res, request.stream, options).start();
}

/**
 * One write can wake thousands of watchers with the same event object: serialise it once.
 * Keyed weakly by the event, so lines die with their events.
 */
const eventLines = new WeakMap<StoreEvent, string>();

function eventLine(event: StoreEvent): string {
  let line = eventLines.get(event);
  if (line === undefined) {
    line = goJsonLine(event.json);
    eventLines.set(event, line);
  }
  return line;
}

/**
 * Watchers are woken inside the store's apply, before the member answers the writer. Writing each
 * watch response there costs one socket write per watcher (measured ~0.1 ms each on loopback, the
 * kernel doing the receiver's TCP work inside our syscall), so with 100 watchers the PUT that woke
 * them waited 10–60 ms for them. Deliveries are queued instead and written together once the
 * current apply and its writers' answers (promise continuations) are done. One FIFO queue for all
 * watchers keeps every watcher's events in index order.
 */
const queuedDeliveries: Array<() => void> = [];
let deliveryFlushScheduled = false;

function queueDelivery(deliver: () => void): void {
  queuedDeliveries.push(deliver);
  if (deliveryFlushScheduled) return;
  deliveryFlushScheduled = true;
  setImmediate(flushDeliveries);
}

function flushDeliveries(): void {
  deliveryFlushScheduled = false;
  // Whatever a delivery queues (nothing today) waits for the next flush rather than growing this one.
  const batch = queuedDeliveries.splice(0);
  for (const deliver of batch) deliver();
}

class WatchResponse {
  private finished = false;
  private idleTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly watcher: Watcher,
    private readonly res: ServerResponse,
    private readonly stream: boolean,
    private readonly options: ClientPortOptions,
  ) {}

  start(): void {
    this.res.once('close', () => this.finish(null));
    this.idleTimer = setTimeout(() => this.finish(null), this.options.watchIdleTimeoutMs);
    // Events already in the history (waitIndex in the past) arrive synchronously; queued like the rest.
    this.watcher.onEvent((event) => queueDelivery(() => this.deliver(event)));
  }

  private deliver(event: StoreEvent): void {
    if (this.finished) return;
    const line = eventLine(event);
    if (!this.stream) {
      this.finish(line);
      return;
    }
    this.res.write(line);
    // A client that does not read would make us buffer without bound; etcd drops such streams too.
    if (this.res.writableLength > this.options.maxStreamBacklogBytes) {
      this.finish(null);
      this.res.destroy();
      return;
    }
    this.idleTimer?.refresh();
  }

  private finish(lastChunk: string | null): void {
    if (this.finished) return;
    this.finished = true;
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.watcher.remove();
    if (!this.res.writableEnded) {
      if (lastChunk === null) this.res.end();
      else this.res.end(lastChunk);
    }
  }
}
