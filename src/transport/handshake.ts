/**
 * The raft connection handshake on the peer port: an HTTP/1.1 `GET /raft` asking to upgrade to
 * `etcd-raft/1`, answered `101 Switching Protocols` (then frames flow dialer → receiver) or
 * refused with a status that tells the dialer why:
 *   412 the cluster ids differ (a member of another cluster, or a stale data dir),
 *   410 the dialer was removed from the cluster (it should stop),
 *   404 the connection is meant for another member (X-Etcd-To is not us),
 *   400 not a raft handshake at all.
 */
import http from 'node:http';
import type { Duplex } from 'node:stream';
import type { NodeId } from '../raft/types.js';

export const RAFT_PATH = '/raft';
export const RAFT_PROTOCOL = 'etcd-raft/1';

export const HEADER_CLUSTER_ID = 'X-Etcd-Cluster-Id';
export const HEADER_FROM = 'X-Etcd-From';
export const HEADER_TO = 'X-Etcd-To';
export const HEADER_PEER_URLS = 'X-Etcd-Peer-Urls';
/** Which of the dialer's connections this is: 'message' (the ordered stream) or 'snapshot'. */
export const HEADER_STREAM = 'X-Etcd-Stream';

export type StreamKind = 'message' | 'snapshot';

/** The byte a receiver writes back on a connection once it has handed a MsgSnap to its member. */
export const SNAPSHOT_ACK = 0x01;

export interface HandshakeRequest {
  readonly clusterId: string;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly peerUrls: readonly string[];
  readonly stream: StreamKind;
}

export function handshakeHeaders(h: HandshakeRequest): Record<string, string> {
  return {
    Connection: 'Upgrade',
    Upgrade: RAFT_PROTOCOL,
    [HEADER_CLUSTER_ID]: h.clusterId,
    [HEADER_FROM]: h.from,
    [HEADER_TO]: h.to,
    [HEADER_PEER_URLS]: h.peerUrls.join(','),
    [HEADER_STREAM]: h.stream,
  };
}

export type HandshakeVerdict =
  | { readonly accepted: true; readonly from: NodeId; readonly peerUrls: readonly string[]; readonly stream: StreamKind }
  | { readonly accepted: false; readonly status: number; readonly reason: string; readonly removalReason?: string };

export interface HandshakeJudge {
  readonly selfId: NodeId;
  readonly clusterId: string;
  isRemoved(peer: NodeId): boolean;
  /** Why a removed peer was removed ('explicit' | 'auto'), told to it in the 410. */
  removalReason?(peer: NodeId): string;
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

function refuse(status: number, reason: string): HandshakeVerdict {
  return { accepted: false, status, reason };
}

/** Decides an inbound handshake: cluster first, then removal, then addressing (as etcd). */
export function judgeHandshake(req: http.IncomingMessage, judge: HandshakeJudge): HandshakeVerdict {
  const path = (req.url ?? '').split('?')[0];
  const upgrade = header(req, 'Upgrade')?.toLowerCase();
  if (req.method !== 'GET' || path !== RAFT_PATH || upgrade !== RAFT_PROTOCOL) {
    return refuse(400, `not a raft handshake (want GET ${RAFT_PATH} upgrading to ${RAFT_PROTOCOL})`);
  }
  const clusterId = header(req, HEADER_CLUSTER_ID);
  if (clusterId !== judge.clusterId) {
    return refuse(412, `cluster ID mismatch: this member is in ${judge.clusterId}, the dialer in ${clusterId ?? '(none)'}`);
  }
  const from = header(req, HEADER_FROM);
  if (from === undefined || from === '') return refuse(400, `missing ${HEADER_FROM}`);
  if (judge.isRemoved(from)) {
    return { accepted: false, status: 410, reason: `member ${from} was removed from the cluster`, removalReason: judge.removalReason?.(from) ?? '' };
  }
  const to = header(req, HEADER_TO);
  if (to !== judge.selfId) return refuse(404, `this member is ${judge.selfId}, not ${to ?? '(none)'}`);
  const stream = header(req, HEADER_STREAM) === 'snapshot' ? 'snapshot' : 'message';
  const urls = header(req, HEADER_PEER_URLS) ?? '';
  const peerUrls = urls.split(',').map((u) => u.trim()).filter((u) => u !== '');
  return { accepted: true, from, peerUrls, stream };
}

/** Answers a refused handshake on the raw socket and closes it. */
export function writeRefusal(socket: Duplex, status: number, reason: string, removalReason = ''): void {
  const body = reason + '\n';
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? 'Error'}\r\n` +
      'Content-Type: text/plain; charset=utf-8\r\n' +
      (removalReason !== '' ? `X-Etcd-Removal-Reason: ${removalReason}\r\n` : '') +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}

export function writeSwitchingProtocols(socket: Duplex): void {
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: ${RAFT_PROTOCOL}\r\nConnection: Upgrade\r\n\r\n`);
}
