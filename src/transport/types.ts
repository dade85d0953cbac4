/**
 * The contract between the member (src/server) and the Raft transport (src/transport): how Raft
 * messages travel between members over the peer port. The member hands every Ready's messages to
 * `send` after the Ready is durable; the transport delivers them to the peer's `onMessage` in the
 * order sent per peer, over long-lived connections, and tells the member when a peer is
 * unreachable or a snapshot send finished or failed (Raft's flow control depends on both).
 */
import type { Duplex } from 'node:stream';
import type http from 'node:http';
import type { Message, NodeId } from '../raft/types.js';
import type { Clock } from '../common/clock.js';

export interface TransportTls {
  readonly certFile: string;
  readonly keyFile: string;
  /** '' = trust the system's CAs only. */
  readonly caFile: string;
}

export interface TransportConfig {
  readonly selfId: NodeId;
  readonly clusterId: string;
  /** Our advertised peer URLs: sent in the handshake so a peer that does not know us yet
   *  (a member that just joined) can answer. */
  readonly selfPeerUrls: readonly string[];
  /** Client side TLS for https peer URLs (-peer-cert-file, ...); null = plain only. */
  readonly tls: TransportTls | null;
  /** Connect timeout per dial attempt. */
  readonly dialTimeoutMs: number;
  /** Reconnect back-off doubles from minBackoffMs up to maxBackoffMs. */
  readonly minBackoffMs: number;
  readonly maxBackoffMs: number;
  /** Messages queued for one peer beyond this are dropped (and reported unreachable): Raft
   *  retransmits, and an unbounded queue to a dead peer would eat the heap. */
  readonly maxQueuedMessages: number;
  /** A message connection whose written bytes make no progress for this long is dead (a peer
   *  that vanished without closing): it is dropped and redialed. Default 10 s. */
  readonly stallTimeoutMs?: number;
  /** Dial to acknowledgement of one MsgSnap; a send still going after this fails. Default 60 s. */
  readonly snapshotTimeoutMs?: number;
  /** Monotonic time for the latency and rate stats; default the system clock. */
  readonly clock?: Clock;
  /** Where connection trouble is told (rate-limited per peer); default silent. */
  readonly log?: (line: string) => void;
}

export interface TransportHandlers {
  /** A message from a peer, to be stepped into the Raft core. */
  onMessage(message: Message): void;
  /** Sending to this peer failed (connection refused/reset, queue full): raft.reportUnreachable. */
  onUnreachable(peer: NodeId): void;
  /** A MsgSnap to this peer was delivered ('finish') or not ('failure'): raft.reportSnapshot. */
  onSnapshotStatus(peer: NodeId, status: 'finish' | 'failure'): void;
  /** An inbound connection told us a peer's id and peer URLs (used to learn a joiner's address). */
  onPeerSeen(peer: NodeId, peerUrls: readonly string[]): void;
  /** True when `peer` was removed from the cluster: its handshake is refused with 410 Gone. */
  isRemoved(peer: NodeId): boolean;
  /** Why a removed peer was removed ('explicit' | 'auto'); sent with the 410 so it can act on it. */
  removalReason?(peer: NodeId): string;
  /** A peer refused our handshake with 410: this member was removed from the cluster, for this
   *  reason ('' when the peer did not say). */
  onRemovedFromCluster(reason: string): void;
}

/** Per-follower numbers for /v2/stats/leader (spec §8), latency in milliseconds. */
export interface FollowerStats {
  readonly latency: {
    readonly current: number;
    readonly average: number;
    readonly standardDeviation: number;
    readonly minimum: number;
    readonly maximum: number;
  };
  readonly counts: { readonly fail: number; readonly success: number };
}

/** Append traffic numbers for /v2/stats/self; rates are omitted (undefined) when 0 (spec §8). */
export interface AppendStats {
  readonly recvAppendRequestCnt: number;
  readonly sendAppendRequestCnt: number;
  readonly recvPkgRate?: number;
  readonly recvBandwidthRate?: number;
  readonly sendPkgRate?: number;
  readonly sendBandwidthRate?: number;
}

export interface PeerTransport {
  /** The peer HTTP server's 'upgrade' event: raft connections arrive on the peer port. */
  handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Adds a peer or changes its address (reconnecting if it changed). */
  setPeer(peer: NodeId, peerUrls: readonly string[]): void;
  /** Forgets a peer: its queue is dropped and its connections closed. */
  removePeer(peer: NodeId): void;
  /** Queues messages for their `to` peers; never blocks, never throws for a dead peer. */
  send(messages: readonly Message[]): void;
  /** Latency and counts of the append RPCs to this follower since it was added. */
  followerStats(peer: NodeId): FollowerStats;
  appendStats(): AppendStats;
  /** Closes every connection; queued messages are dropped. */
  stop(): Promise<void>;
}
