/**
 * The ordered outbound message stream to one peer: a bounded queue, one long-lived connection,
 * reconnection with doubling back-off.
 *
 *   idle ──send──▶ dialing ──101──▶ open ──close/error──▶ waiting ──back-off──▶ idle
 *                     └──refused/timeout──────────────────▲
 *
 * Everything queued within one event-loop turn leaves in one socket write (one Buffer), so a
 * Ready's appends and heartbeats cost one syscall. While the socket's buffer is over its
 * high-water mark the queue holds messages (and overflows, reporting the peer unreachable):
 * that is the flow control towards a slow peer.
 */
import type net from 'node:net';
import type { Message, NodeId } from '../raft/types.js';
import { encodeFrames } from './codec.js';
import { HandshakeRefused, dialRaft, type Dial, type TlsFiles } from './dial.js';
import type { HandshakeRequest } from './handshake.js';

type StreamState = 'idle' | 'dialing' | 'open' | 'waiting' | 'stopped';

/** What a stream needs from its transport (stats, handlers, settings). */
export interface PeerStreamHost {
  readonly selfId: NodeId;
  readonly clusterId: string;
  readonly selfPeerUrls: readonly string[];
  readonly tls: TlsFiles | null;
  readonly dialTimeoutMs: number;
  readonly minBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly maxQueuedMessages: number;
  readonly stallTimeoutMs: number;
  /** Called with the batch just written and each message's frame size. */
  sent(peer: NodeId, batch: readonly Message[], sizes: readonly number[]): void;
  /** A failed dial, a lost connection or dropped messages (rate-limited by the host). */
  unreachable(peer: NodeId, reason: string): void;
  removedFromCluster(reason: string): void;
}

export class PeerStream {
  private state: StreamState = 'idle';
  private queue: Message[] = [];
  private socket: net.Socket | null = null;
  private dial: Dial | null = null;
  private backoffTimer: NodeJS.Timeout | null = null;
  /** A flush is queued for the end of the current task: every send() of this turn's code shares
   *  one socket write, and nothing waits for the next turn of the event loop. */
  private flushQueued = false;
  private backoffMs: number;
  /** Rotates through the peer's URLs on each failed dial. */
  private urlIndex = 0;
  /** Bumped whenever the current connection or dial is abandoned: late callbacks check it. */
  private generation = 0;

  constructor(
    readonly peer: NodeId,
    private urls: readonly string[],
    private readonly host: PeerStreamHost,
  ) {
    this.backoffMs = host.minBackoffMs;
  }

  /** False when the queue is full and the message was dropped. */
  enqueue(message: Message): boolean {
    if (this.state === 'stopped') return false;
    if (this.queue.length >= this.host.maxQueuedMessages) return false;
    this.queue.push(message);
    this.scheduleFlush();
    return true;
  }

  /** A new address: the old connection (or dial) is dropped and the next send dials the new one. */
  setUrls(urls: readonly string[]): void {
    if (sameUrls(urls, this.urls) || this.state === 'stopped') return;
    this.urls = urls;
    this.urlIndex = 0;
    this.abandonConnection();
    this.backoffMs = this.host.minBackoffMs;
    this.state = 'idle';
    if (this.queue.length > 0) this.scheduleFlush();
  }

  /** Closes everything; resolves once the socket (if any) is closed. */
  stop(): Promise<void> {
    const socket = this.socket;
    this.abandonConnection();
    this.state = 'stopped';
    this.queue = [];
    return socket === null || socket.closed ? Promise.resolve() : new Promise((resolve) => socket.once('close', () => resolve()));
  }

  private abandonConnection(): void {
    this.generation++;
    if (this.backoffTimer !== null) clearTimeout(this.backoffTimer);
    this.backoffTimer = null;
    this.dial?.cancel();
    this.dial = null;
    this.socket?.destroy();
    this.socket = null;
  }

  private scheduleFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    const generation = this.generation;
    queueMicrotask(() => {
      this.flushQueued = false;
      if (generation === this.generation) this.flush();
    });
  }

  private flush(): void {
    if (this.queue.length === 0) return;
    if (this.state === 'idle') return this.startDial();
    const socket = this.socket;
    if (this.state !== 'open' || socket === null || socket.writableNeedDrain) return;
    const batch = this.queue;
    this.queue = [];
    const sizes: number[] = [];
    socket.write(encodeFrames(batch, sizes));
    this.host.sent(this.peer, batch, sizes);
  }

  private handshake(): HandshakeRequest {
    const h = this.host;
    return { clusterId: h.clusterId, from: h.selfId, to: this.peer, peerUrls: h.selfPeerUrls, stream: 'message' };
  }

  private startDial(): void {
    const url = this.urls[this.urlIndex % Math.max(1, this.urls.length)];
    if (url === undefined) return this.dialFailed(new Error(`no peer URL known for ${this.peer}`));
    this.state = 'dialing';
    const generation = this.generation;
    const dial = dialRaft({ url, handshake: this.handshake(), tls: this.host.tls, timeoutMs: this.host.dialTimeoutMs });
    this.dial = dial;
    dial.connected.then(
      (socket) => (generation === this.generation ? this.connected(socket) : socket.destroy()),
      (error: unknown) => {
        if (generation === this.generation) this.dialFailed(error instanceof Error ? error : new Error(String(error)));
      },
    );
  }

  private connected(socket: net.Socket): void {
    this.dial = null;
    this.socket = socket;
    this.state = 'open';
    this.backoffMs = this.host.minBackoffMs;
    const generation = this.generation;
    const lost = (reason: string): void => {
      if (generation === this.generation) this.connectionLost(reason);
    };
    socket.on('error', (error) => lost(error.message));
    socket.on('close', () => lost('connection closed'));
    socket.on('drain', () => this.flush());
    // Idle is fine (nothing to say); unsent bytes with no progress mean the peer is gone.
    socket.setTimeout(this.host.stallTimeoutMs, () => {
      if (socket.writableLength > 0) lost(`no write progress for ${this.host.stallTimeoutMs} ms`);
    });
    // Nothing comes back on a message stream; reading keeps 'end' and 'close' flowing.
    socket.resume();
    this.flush();
  }

  private dialFailed(error: Error): void {
    this.dial = null;
    this.urlIndex++;
    // Stale messages are worth nothing once a dial failed: Raft resends after its own timeouts.
    this.queue = [];
    if (error instanceof HandshakeRefused && error.status === 410) this.host.removedFromCluster(error.removalReason);
    this.host.unreachable(this.peer, error.message);
    this.waitBackoff();
  }

  private connectionLost(reason: string): void {
    this.generation++;
    this.socket?.destroy();
    this.socket = null;
    this.host.unreachable(this.peer, reason);
    this.waitBackoff();
  }

  private waitBackoff(): void {
    this.state = 'waiting';
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.host.maxBackoffMs);
    this.backoffTimer = setTimeout(() => {
      this.backoffTimer = null;
      this.state = 'idle';
      if (this.queue.length > 0) this.scheduleFlush();
    }, delay);
  }
}

function sameUrls(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((u, i) => u === b[i]);
}
