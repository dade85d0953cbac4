/**
 * A TCP proxy for one directed peer link (member A dials member B through it), with the faults a
 * network can have. The mode applies to the connections already open and to new ones:
 *
 * - `pass`: bytes flow both ways (with backpressure).
 * - `blackhole`: like a cable cut with no RST: connections are accepted and held, every byte in
 *   either direction is dropped, closes are not passed on. A TCP stream that lost bytes cannot
 *   carry frames again, so heal() destroys every connection that lived through a blackhole — as
 *   a real connection would eventually time out — and the dialer reconnects.
 * - `reset`: every open connection and every new one is destroyed with an RST.
 * - `delay`: each chunk is held `ms ± jitterMs` (seeded), never overtaking the chunk before it
 *   in the same direction.
 * - `pause`: nothing is read or forwarded; the bytes wait in the kernel and the sender (TCP
 *   backpressure) and flow in order on heal().
 *
 * heal() returns to `pass`. Every socket is tracked so close() leaves nothing open.
 */
import net from 'node:net';
import type { Prng } from '../../src/common/prng.js';

export type ProxyMode =
  | { readonly kind: 'pass' }
  | { readonly kind: 'blackhole' }
  | { readonly kind: 'reset' }
  | { readonly kind: 'delay'; readonly ms: number; readonly jitterMs: number; readonly prng: Prng }
  | { readonly kind: 'pause' };

export interface LinkProxyOptions {
  /** For logs, e.g. `n1->n2`. */
  readonly name: string;
  readonly listenPort: number;
  readonly targetPort: number;
  readonly host?: string;
}

export class LinkProxy {
  private modeNow: ProxyMode = { kind: 'pass' };
  private readonly links = new Set<ProxiedConnection>();
  private closed = false;

  private constructor(
    readonly name: string,
    private readonly server: net.Server,
    readonly port: number,
    private readonly host: string,
    private readonly targetPort: number,
  ) {}

  static async start(options: LinkProxyOptions): Promise<LinkProxy> {
    const host = options.host ?? '127.0.0.1';
    const server = net.createServer({ pauseOnConnect: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: options.listenPort, host, exclusive: true }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const proxy = new LinkProxy(options.name, server, options.listenPort, host, options.targetPort);
    server.on('connection', (socket) => proxy.accept(socket));
    return proxy;
  }

  /** The URL a member dials instead of the target's peer URL. */
  get url(): string {
    return `http://${this.host}:${this.port}`;
  }

  get mode(): ProxyMode {
    return this.modeNow;
  }

  /** Open proxied connections (accepted and not yet fully closed). */
  connectionCount(): number {
    return this.links.size;
  }

  pass(): void {
    this.setMode({ kind: 'pass' });
  }

  heal(): void {
    this.pass();
  }

  blackhole(): void {
    this.setMode({ kind: 'blackhole' });
  }

  reset(): void {
    this.setMode({ kind: 'reset' });
  }

  delay(ms: number, jitterMs: number, prng: Prng): void {
    if (ms < 0 || jitterMs < 0) throw new Error(`proxy ${this.name}: negative delay`);
    this.setMode({ kind: 'delay', ms, jitterMs, prng });
  }

  pause(): void {
    this.setMode({ kind: 'pause' });
  }

  setMode(mode: ProxyMode): void {
    const leaving = this.modeNow;
    this.modeNow = mode;
    for (const link of [...this.links]) link.onModeChange(leaving, mode);
  }

  /** Destroys every connection and stops listening. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const link of [...this.links]) link.destroy();
    await stopped;
  }

  /** How long a chunk arriving now waits under the current mode (0 unless delaying). */
  chunkDelayMs(): number {
    const mode = this.modeNow;
    if (mode.kind !== 'delay') return 0;
    const jitter = mode.jitterMs === 0 ? 0 : mode.prng.int(2 * mode.jitterMs + 1) - mode.jitterMs;
    return Math.max(0, mode.ms + jitter);
  }

  private accept(socket: net.Socket): void {
    if (this.closed || this.modeNow.kind === 'reset') {
      socket.on('error', () => undefined);
      socket.resetAndDestroy();
      return;
    }
    const link = new ProxiedConnection(this, socket, this.host, this.targetPort, () => this.links.delete(link));
    this.links.add(link);
  }
}

/** One accepted connection and its upstream connection to the target. */
class ProxiedConnection {
  private upstream: net.Socket | null = null;
  private readonly toTarget: Direction;
  private toDialer: Direction | null = null;
  /** Lived through a blackhole: bytes were (or may have been) dropped, so it can never pass again. */
  private poisoned = false;
  private done = false;

  constructor(
    private readonly proxy: LinkProxy,
    private readonly dialer: net.Socket,
    private readonly host: string,
    private readonly targetPort: number,
    private readonly onGone: () => void,
  ) {
    dialer.on('error', () => this.destroy());
    dialer.on('close', () => this.onSideClosed());
    this.toTarget = new Direction(proxy, dialer);
    if (proxy.mode.kind === 'blackhole') {
      this.poisoned = true;
      this.toTarget.blackhole();
    } else {
      this.connectUpstream();
    }
  }

  private connectUpstream(): void {
    const upstream = net.connect({ port: this.targetPort, host: this.host });
    this.upstream = upstream;
    upstream.on('error', () => this.destroy(true));
    upstream.on('close', () => this.onSideClosed());
    upstream.once('connect', () => {
      if (this.done) return;
      this.toTarget.attach(upstream);
      const back = new Direction(this.proxy, upstream);
      this.toDialer = back;
      back.attach(this.dialer);
      if (this.proxy.mode.kind === 'blackhole') {
        this.poisoned = true;
        this.toTarget.blackhole();
        back.blackhole();
      } else if (this.proxy.mode.kind !== 'pause') {
        this.toTarget.flow();
        back.flow();
      }
    });
  }

  onModeChange(leaving: ProxyMode, mode: ProxyMode): void {
    if (this.done) return;
    if (mode.kind === 'reset') return this.destroy(true);
    if (mode.kind === 'blackhole') {
      this.poisoned = true;
      this.toTarget.blackhole();
      this.toDialer?.blackhole();
      return;
    }
    if (this.poisoned) {
      // Leaving a blackhole: the stream lost bytes, so it ends here (the dialer reconnects).
      if (leaving.kind === 'blackhole') this.destroy(true);
      return;
    }
    if (mode.kind === 'pause') {
      this.toTarget.hold();
      this.toDialer?.hold();
      return;
    }
    if (this.upstream === null || this.toDialer === null) return; // still connecting: flows once connected
    this.toTarget.flow();
    this.toDialer.flow();
  }

  /** A side closed on its own (FIN or error): pass the close on, unless the link is a blackhole. */
  private onSideClosed(): void {
    if (this.done) return;
    if (this.proxy.mode.kind === 'blackhole' && this.poisoned) {
      // A cut cable does not carry the close either; heal() or close() ends the survivor.
      if (this.dialer.destroyed && (this.upstream === null || this.upstream.destroyed)) this.destroy();
      return;
    }
    const dialerGone = this.dialer.destroyed;
    const upstreamGone = this.upstream === null || this.upstream.destroyed;
    if (dialerGone && upstreamGone) return this.destroy();
    // Let queued bytes reach the survivor, then close it.
    if (dialerGone) this.toTarget.endAfterQueue();
    else if (this.toDialer !== null) this.toDialer.endAfterQueue();
    else this.destroy(true); // the target refused or vanished before connecting: an RST, as from the target
  }

  destroy(withReset = false): void {
    if (this.done) return;
    this.done = true;
    this.toTarget.stop();
    this.toDialer?.stop();
    for (const socket of [this.dialer, this.upstream]) {
      if (socket === null || socket.destroyed) continue;
      socket.on('error', () => undefined);
      // An RST on a socket whose FIN is already queued (end() called) can leave its native handle
      // open at process exit (node hangs in handle cleanup): such a socket is just destroyed.
      if (withReset && !socket.writableEnded) socket.resetAndDestroy();
      else socket.destroy();
    }
    this.onGone();
  }
}

interface Queued {
  readonly chunk: Buffer;
  readonly dueMs: number;
}

/**
 * Bytes read from `source`, written to a destination once attached, in order. A chunk's due time
 * is never earlier than the one before it, so jitter cannot reorder a stream.
 */
class Direction {
  private destination: net.Socket | null = null;
  private readonly queue: Queued[] = [];
  private lastDueMs = 0;
  private timer: NodeJS.Timeout | null = null;
  private state: 'held' | 'flowing' | 'blackhole' | 'stopped' = 'held';
  private endWhenEmpty = false;
  private waitingForDrain = false;

  constructor(
    private readonly proxy: LinkProxy,
    private readonly source: net.Socket,
  ) {
    source.pause(); // nothing is read before the mode says so
    source.on('data', (chunk: Buffer) => this.onData(chunk));
    source.on('end', () => this.endAfterQueue());
  }

  attach(destination: net.Socket): void {
    this.destination = destination;
    destination.on('drain', () => {
      this.waitingForDrain = false;
      if (this.state === 'flowing') this.source.resume();
      this.pump();
    });
  }

  flow(): void {
    if (this.state === 'stopped') return;
    this.state = 'flowing';
    if (!this.waitingForDrain) this.source.resume();
    this.pump();
  }

  hold(): void {
    if (this.state === 'stopped') return;
    this.state = 'held';
    this.source.pause();
    this.clearTimer();
  }

  blackhole(): void {
    if (this.state === 'stopped') return;
    this.state = 'blackhole';
    this.queue.length = 0;
    this.clearTimer();
    this.source.resume(); // read and drop: the sender sees a peer that takes bytes and never answers
  }

  stop(): void {
    this.state = 'stopped';
    this.queue.length = 0;
    this.clearTimer();
  }

  endAfterQueue(): void {
    this.endWhenEmpty = true;
    this.pump();
  }

  private onData(chunk: Buffer): void {
    if (this.state === 'blackhole' || this.state === 'stopped') return;
    const now = performance.now();
    const dueMs = Math.max(this.lastDueMs, now + this.proxy.chunkDelayMs());
    this.lastDueMs = dueMs;
    this.queue.push({ chunk, dueMs });
    this.pump();
  }

  private pump(): void {
    if (this.state !== 'flowing' || this.destination === null) return;
    const destination = this.destination;
    const now = performance.now();
    while (this.queue.length > 0) {
      const head = this.queue[0];
      if (head === undefined || head.dueMs > now) break;
      this.queue.shift();
      if (destination.destroyed) return;
      if (!destination.write(head.chunk)) {
        this.waitingForDrain = true;
        this.source.pause();
      }
    }
    const head = this.queue[0];
    if (head !== undefined) {
      if (this.timer === null) {
        this.timer = setTimeout(() => {
          this.timer = null;
          this.pump();
        }, Math.max(0, Math.ceil(head.dueMs - now)));
      }
      return;
    }
    if (this.endWhenEmpty && !destination.destroyed) destination.end();
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
