/**
 * The TCP Raft transport (see types.ts for the contract). Outbound, each peer has one ordered
 * message stream (peer-stream.ts) plus one short-lived connection per MsgSnap
 * (snapshot-send.ts); inbound, connections arrive as upgrades on the peer HTTP server and their
 * frames are handed to the member as they are decoded.
 *
 * Handler calls caused by `send` are deferred to a microtask: the member calls `send` while
 * handling a Ready and must not be re-entered (raft.reportUnreachable) from inside it.
 */
import net from 'node:net';
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import type { Message, NodeId } from '../raft/types.js';
import { systemClock, type Clock } from '../common/clock.js';
import { FrameDecoder, FrameError } from './codec.js';
import { TlsFiles } from './dial.js';
import { SNAPSHOT_ACK, judgeHandshake, writeRefusal, writeSwitchingProtocols, type StreamKind } from './handshake.js';
import { PeerStream, type PeerStreamHost } from './peer-stream.js';
import { sendSnapshot, type SnapshotSend } from './snapshot-send.js';
import { AppendCounters, FollowerLatency } from './stats.js';
import type { AppendStats, FollowerStats, PeerTransport, TransportConfig, TransportHandlers } from './types.js';

const DEFAULT_SNAPSHOT_TIMEOUT_MS = 60_000;
const DEFAULT_STALL_TIMEOUT_MS = 10_000;
/** onUnreachable at most this often per peer: a dead peer fails every send. */
const UNREACHABLE_REPORT_INTERVAL_MS = 100;
const INBOUND_KEEPALIVE_MS = 5000;
const ACK = Buffer.from([SNAPSHOT_ACK]);

export function createPeerTransport(config: TransportConfig, handlers: TransportHandlers): PeerTransport {
  const t = new RaftTransport(config, handlers);
  // Bound: the member passes these around (server.on('upgrade', transport.handleUpgrade)).
  return {
    handleUpgrade: (req, socket, head) => t.handleUpgrade(req, socket, head),
    setPeer: (peer, urls) => t.setPeer(peer, urls),
    removePeer: (peer) => t.removePeer(peer),
    send: (messages) => t.send(messages),
    followerStats: (peer) => t.followerStats(peer),
    appendStats: () => t.appendStats(),
    stop: () => t.stop(),
  };
}

interface Peer {
  urls: readonly string[];
  readonly stream: PeerStream;
  readonly latency: FollowerLatency;
}

class RaftTransport {
  private readonly clock: Clock;
  private readonly tls: TlsFiles | null;
  private readonly peers = new Map<NodeId, Peer>();
  private readonly counters = new AppendCounters();
  private readonly snapshotSends = new Set<SnapshotSend>();
  /** Every accepted inbound connection, by the peer that dialed it. */
  private readonly inbound = new Map<NodeId, Set<Duplex>>();
  /** The newest inbound message stream per peer; an older one is a dead connection's leftover. */
  private readonly inboundMessageStream = new Map<NodeId, Duplex>();
  private readonly lastUnreachableReport = new Map<NodeId, number>();
  private readonly streamHost: PeerStreamHost;
  private stopped = false;
  private toldRemoved = false;

  constructor(
    private readonly config: TransportConfig,
    private readonly handlers: TransportHandlers,
  ) {
    this.clock = config.clock ?? systemClock;
    this.tls = config.tls === null ? null : new TlsFiles(config.tls);
    this.streamHost = {
      selfId: config.selfId,
      clusterId: config.clusterId,
      selfPeerUrls: config.selfPeerUrls,
      tls: this.tls,
      dialTimeoutMs: config.dialTimeoutMs,
      minBackoffMs: config.minBackoffMs,
      maxBackoffMs: config.maxBackoffMs,
      maxQueuedMessages: config.maxQueuedMessages,
      stallTimeoutMs: config.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS,
      sent: (peer, batch, sizes) => this.recordSent(peer, batch, sizes),
      unreachable: (peer, reason) => this.connectionFailed(peer, reason),
      removedFromCluster: (reason) => this.removedFromCluster(reason),
    };
  }

  // -- peers ------------------------------------------------------------------------------------

  setPeer(peer: NodeId, urls: readonly string[]): void {
    if (this.stopped || peer === this.config.selfId) return;
    const known = this.peers.get(peer);
    if (known !== undefined) {
      known.urls = [...urls];
      known.stream.setUrls(known.urls);
      return;
    }
    const copy = [...urls];
    this.peers.set(peer, { urls: copy, stream: new PeerStream(peer, copy, this.streamHost), latency: new FollowerLatency() });
  }

  removePeer(peer: NodeId): void {
    const known = this.peers.get(peer);
    this.peers.delete(peer);
    this.lastUnreachableReport.delete(peer);
    void known?.stream.stop();
    for (const socket of this.inbound.get(peer) ?? []) socket.destroy();
  }

  // -- sending ----------------------------------------------------------------------------------

  send(messages: readonly Message[]): void {
    if (this.stopped) return;
    for (const m of messages) {
      if (m.type === 'MsgSnap') {
        this.startSnapshotSend(m);
        continue;
      }
      const peer = this.peers.get(m.to);
      if (peer === undefined) {
        this.reportUnreachable(m.to, `no address known for peer ${m.to}`);
      } else if (!peer.stream.enqueue(m)) {
        peer.latency.sendDropped();
        this.reportUnreachable(m.to, `queue to ${m.to} is full (${this.config.maxQueuedMessages} messages); dropping`);
      }
    }
  }

  private recordSent(peer: NodeId, batch: readonly Message[], sizes: readonly number[]): void {
    const latency = this.peers.get(peer)?.latency;
    const now = this.clock.monotonicMs();
    for (let i = 0; i < batch.length; i++) {
      const type = (batch[i] as Message).type;
      if (type === 'MsgApp') {
        this.counters.sentApp(now, sizes[i] as number);
        latency?.sentApp(now);
      } else if (type === 'MsgHeartbeat') {
        latency?.sentHeartbeat(now);
      }
    }
  }

  private startSnapshotSend(m: Message): void {
    const url = this.peers.get(m.to)?.urls[0];
    if (url === undefined) {
      this.reportUnreachable(m.to, `no address known for peer ${m.to}`);
      this.deferred(() => this.handlers.onSnapshotStatus(m.to, 'failure'));
      return;
    }
    const c = this.config;
    const send = sendSnapshot(m, {
      url,
      selfId: c.selfId,
      clusterId: c.clusterId,
      selfPeerUrls: c.selfPeerUrls,
      tls: this.tls,
      dialTimeoutMs: c.dialTimeoutMs,
      timeoutMs: c.snapshotTimeoutMs ?? DEFAULT_SNAPSHOT_TIMEOUT_MS,
    });
    this.snapshotSends.add(send);
    void send.done.then(({ status, reason }) => {
      this.snapshotSends.delete(send);
      if (this.stopped) return;
      if (status === 'failure') this.config.log?.(`transport: snapshot at ${m.snapshot?.metadata.index ?? '?'} to ${m.to} failed: ${reason}`);
      this.handlers.onSnapshotStatus(m.to, status);
    });
  }

  // -- failures ---------------------------------------------------------------------------------

  private connectionFailed(peer: NodeId, reason: string): void {
    this.peers.get(peer)?.latency.connectionFailed();
    this.reportUnreachable(peer, reason);
  }

  private reportUnreachable(peer: NodeId, reason: string): void {
    const now = this.clock.monotonicMs();
    const last = this.lastUnreachableReport.get(peer);
    if (last !== undefined && now - last < UNREACHABLE_REPORT_INTERVAL_MS) return;
    this.lastUnreachableReport.set(peer, now);
    this.config.log?.(`transport: peer ${peer} unreachable: ${reason}`);
    this.deferred(() => this.handlers.onUnreachable(peer));
  }

  /** Told once: every further dial to any peer would only repeat the 410. */
  private removedFromCluster(reason: string): void {
    if (this.toldRemoved) return;
    this.toldRemoved = true;
    this.config.log?.(`transport: a peer refused us with 410 Gone: this member was removed from the cluster${reason !== '' ? ` (${reason})` : ''}`);
    this.deferred(() => this.handlers.onRemovedFromCluster(reason));
  }

  private deferred(call: () => void): void {
    queueMicrotask(() => {
      if (!this.stopped) call();
    });
  }

  // -- receiving --------------------------------------------------------------------------------

  handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    // A reset after we answered is the peer's business, never an uncaught 'error' event.
    socket.on('error', () => socket.destroy());
    // The HTTP server allows half-open sockets: without this, every connection the dialer
    // closes (each finished snapshot) would stay open here forever.
    socket.on('end', () => socket.end());
    if (this.stopped) return void socket.destroy();
    const verdict = judgeHandshake(req, {
      selfId: this.config.selfId,
      clusterId: this.config.clusterId,
      isRemoved: (peer) => this.handlers.isRemoved(peer),
      removalReason: (peer) => this.handlers.removalReason?.(peer) ?? '',
    });
    if (!verdict.accepted) return writeRefusal(socket, verdict.status, verdict.reason, verdict.removalReason);
    writeSwitchingProtocols(socket);
    if (socket instanceof net.Socket) {
      socket.setNoDelay(true);
      socket.setKeepAlive(true, INBOUND_KEEPALIVE_MS);
    }
    this.trackInbound(verdict.from, verdict.stream, socket);
    this.handlers.onPeerSeen(verdict.from, verdict.peerUrls);
    this.readFrames(verdict.from, socket, head);
  }

  private trackInbound(peer: NodeId, kind: StreamKind, socket: Duplex): void {
    let sockets = this.inbound.get(peer);
    if (sockets === undefined) this.inbound.set(peer, (sockets = new Set()));
    sockets.add(socket);
    if (kind === 'message') {
      this.inboundMessageStream.get(peer)?.destroy();
      this.inboundMessageStream.set(peer, socket);
    }
    socket.once('close', () => {
      sockets.delete(socket);
      if (sockets.size === 0 && this.inbound.get(peer) === sockets) this.inbound.delete(peer);
      if (this.inboundMessageStream.get(peer) === socket) this.inboundMessageStream.delete(peer);
    });
  }

  private readFrames(from: NodeId, socket: Duplex, head: Buffer): void {
    const decoder = new FrameDecoder();
    const onData = (chunk: Buffer): void => {
      try {
        decoder.push(chunk, (m, size) => this.receive(from, socket, m, size));
      } catch (error) {
        if (!(error instanceof FrameError)) throw error;
        this.config.log?.(`transport: closing the connection from ${from}: ${error.message}`);
        socket.destroy();
      }
    };
    socket.on('data', onData);
    if (head.length > 0) onData(head);
  }

  private receive(from: NodeId, socket: Duplex, m: Message, size: number): void {
    if (socket.destroyed || this.stopped) return;
    if (m.from !== from || m.to !== this.config.selfId) {
      throw new FrameError(`${m.type} from ${m.from} to ${m.to} arrived on ${from}'s connection to ${this.config.selfId}`);
    }
    this.recordReceived(m, size);
    this.handlers.onMessage(m);
    if (m.type === 'MsgSnap') socket.write(ACK);
  }

  private recordReceived(m: Message, size: number): void {
    const now = this.clock.monotonicMs();
    if (m.type === 'MsgApp') this.counters.receivedApp(now, size);
    else if (m.type === 'MsgAppResp') this.peers.get(m.from)?.latency.receivedAppResp(now);
    else if (m.type === 'MsgHeartbeatResp') this.peers.get(m.from)?.latency.receivedHeartbeatResp(now);
  }

  // -- stats and shutdown -----------------------------------------------------------------------

  followerStats(peer: NodeId): FollowerStats {
    return (this.peers.get(peer)?.latency ?? new FollowerLatency()).stats();
  }

  appendStats(): AppendStats {
    return this.counters.stats(this.clock.monotonicMs());
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const closing: Promise<void>[] = [];
    for (const peer of this.peers.values()) closing.push(peer.stream.stop());
    this.peers.clear();
    for (const send of this.snapshotSends) {
      send.cancel();
      closing.push(send.done.then(() => undefined));
    }
    for (const sockets of this.inbound.values()) {
      for (const socket of sockets) closing.push(destroyAndWait(socket));
    }
    await Promise.all(closing);
  }
}

function destroyAndWait(socket: Duplex): Promise<void> {
  if (socket.closed) return Promise.resolve();
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.destroy();
  return closed;
}
