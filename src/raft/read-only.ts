/**
 * ReadIndex book-keeping on the leader (Raft thesis §6.4). A read request records the commit
 * index at arrival; with the 'safe' option it is answered once a quorum has acknowledged a
 * heartbeat carrying the request's context, proving the leader was still the leader then.
 */
import type { Message, NodeId } from './types.js';

export interface ReadIndexStatus {
  readonly request: Message;
  readonly index: number;
  readonly acks: Set<NodeId>;
}

export function contextKey(context: Uint8Array): string {
  return Buffer.from(context.buffer, context.byteOffset, context.byteLength).toString('hex');
}

export class ReadOnly {
  private readonly pending = new Map<string, ReadIndexStatus>();
  private readonly queue: string[] = [];

  /** Registers a read at commit index `index`; a duplicate context is ignored. */
  addRequest(index: number, request: Message): void {
    const key = contextKey(request.context);
    if (this.pending.has(key)) return;
    this.pending.set(key, { request, index, acks: new Set() });
    this.queue.push(key);
  }

  /** Records `from`'s heartbeat acknowledgement of `context`; returns the acks so far (empty if unknown). */
  recvAck(from: NodeId, context: Uint8Array): ReadonlySet<NodeId> {
    const status = this.pending.get(contextKey(context));
    if (status === undefined) return new Set();
    status.acks.add(from);
    return status.acks;
  }

  /** Releases the request with `context` and every request queued before it (they are confirmed too). */
  advance(context: Uint8Array): ReadIndexStatus[] {
    const key = contextKey(context);
    const position = this.queue.indexOf(key);
    if (position < 0) return [];
    const released = this.queue.splice(0, position + 1);
    const result: ReadIndexStatus[] = [];
    for (const k of released) {
      const status = this.pending.get(k);
      if (status !== undefined) result.push(status);
      this.pending.delete(k);
    }
    return result;
  }

  /** Context of the newest pending read: the next heartbeat round confirms it (and all before it). */
  lastPendingRequestContext(): Uint8Array | undefined {
    const key = this.queue[this.queue.length - 1];
    return key === undefined ? undefined : this.pending.get(key)?.request.context;
  }

  pendingCount(): number {
    return this.queue.length;
  }
}
