/**
 * The peer port (spec §9.1): `/name`, `/version`, `/etcdURL`, `/v2/admin/config` (GET, PUT),
 * `/v2/admin/machines[/<name>]` (GET, DELETE), the 0.4.6 join (`PUT /join`) and removal
 * (`DELETE /remove/<name>`), and `GET /members` (ids and URLs, for a member started with
 * `--initial-cluster-state existing`). Raft traffic arrives on the same port as HTTP upgrades
 * (src/transport). Requests only the leader may answer are redirected to its peer URL (307).
 */
import type http from 'node:http';
import type { RequestHandler } from './listeners.js';
import { ClusterConfigDecodeError, type PeerAdmin } from './peer-admin.js';
import { EtcdError, ErrorCode } from '../common/errors.js';
import { encodeJoinIndex } from './join.js';
import { PEER_PROTOCOL_VERSION } from './peer-protocol.js';
import { goJsonBody } from '../common/json.js';

export interface PeerPortSource {
  readonly name: string;
  /** The committed /_etcd/config value (JSON text). */
  clusterConfigJson(): string;
  /** The admin API; without it only GET /v2/admin/config is served. */
  readonly admin?: PeerAdmin;
  /** Joins, removals and the member list; without it those paths are 404. */
  readonly cluster?: PeerCluster;
}

export interface PeerJoinRequest {
  readonly name: string;
  readonly peerUrl: string;
  readonly clientUrl: string;
  /** The joiner's id for this join across its retries (absent from 0.4.6 joiners). */
  readonly joinId?: string;
}

export interface PeerCluster {
  clusterId(): string;
  selfClientUrl(): string;
  /** Leader's peer URL when this member is not the leader, else null. */
  leaderPeerUrlIfFollower(): string | null;
  /** On the leader: commits the join (EtcdError 103/109/300 when refused). */
  join(request: PeerJoinRequest): Promise<{ memberId: string; commitIndex: number }>;
  /** On the leader: removes the named member; false when no member has that name. */
  removeByName(name: string): Promise<boolean>;
  commitIndex(): number;
  members(): ReadonlyArray<{ id: string; name: string; peerURLs: readonly string[]; clientURLs: readonly string[] }>;
}

export { PEER_PROTOCOL_VERSION };

export function createPeerPortHandler(source: PeerPortSource): RequestHandler {
  return (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const path = new URL(req.url ?? '/', 'http://peer').pathname;
    if (path === '/name') return sendText(res, 200, source.name);
    if (path === '/version') return sendText(res, 200, PEER_PROTOCOL_VERSION);
    const versionCheck = /^\/version\/(\d+)\/check$/.exec(path);
    if (versionCheck !== null) return sendText(res, versionCheck[1] === PEER_PROTOCOL_VERSION ? 200 : 403, '');
    const cluster = source.cluster;
    if (cluster !== undefined && routeCluster(cluster, path, req, res)) return;
    if (path === '/v2/admin/config' && (req.method === 'GET' || req.method === 'HEAD')) {
      const body = source.clusterConfigJson() + '\n';
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    const admin = source.admin;
    if (admin !== undefined && routeAdmin(admin, path, req, res)) return;
    sendText(res, 404, '404 page not found\n');
  };
}

const MACHINES_PATH = '/v2/admin/machines';

/** True when the request was a cluster request (and is being answered). */
function routeCluster(cluster: PeerCluster, path: string, req: http.IncomingMessage, res: http.ServerResponse): boolean {
  if (path === '/etcdURL') {
    sendText(res, 200, cluster.selfClientUrl());
    return true;
  }
  if (path === '/members' && (req.method === 'GET' || req.method === 'HEAD')) {
    const body = goJsonBody(cluster.members());
    res.writeHead(200, { 'Content-Type': 'application/json', 'X-Etcd-Cluster-Id': cluster.clusterId(), 'Content-Length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  }
  if (path === '/join' && (req.method === 'PUT' || req.method === 'POST')) {
    if (redirectedToLeader(cluster, req, res)) return true;
    readBody(req, (body) => answerJoin(cluster, body, res));
    return true;
  }
  const removeName = req.method === 'DELETE' ? removalTarget(path) : null;
  if (removeName !== null) {
    if (redirectedToLeader(cluster, req, res)) return true;
    cluster.removeByName(removeName).then(
      (removed) => sendIndex(res, removed ? cluster.commitIndex() : null),
      (error: unknown) => sendError(res, error),
    );
    return true;
  }
  return false;
}

/** `/remove/<name>` (0.4.6 internal) and `DELETE /v2/admin/machines/<name>` name the member to remove. */
function removalTarget(path: string): string | null {
  for (const prefix of ['/remove/', MACHINES_PATH + '/']) {
    if (path.startsWith(prefix) && path.length > prefix.length) return decodeURIComponent(path.slice(prefix.length));
  }
  return null;
}

function redirectedToLeader(cluster: PeerCluster, req: http.IncomingMessage, res: http.ServerResponse): boolean {
  const leaderPeerUrl = cluster.leaderPeerUrlIfFollower();
  if (leaderPeerUrl === null) return false;
  res.writeHead(307, { Location: leaderPeerUrl.replace(/\/+$/, '') + (req.url ?? '/') }).end();
  return true;
}

function answerJoin(cluster: PeerCluster, body: string, res: http.ServerResponse): void {
  const request = parseJoinRequest(body);
  if (request === null) {
    sendError(res, new EtcdError(ErrorCode.InvalidForm, 'a join is {"minVersion","maxVersion","name","raftURL","etcdURL"}'));
    return;
  }
  if (request.minVersion > Number(PEER_PROTOCOL_VERSION) || request.maxVersion < Number(PEER_PROTOCOL_VERSION)) {
    sendText(res, 403, `peer protocol version ${PEER_PROTOCOL_VERSION} is outside [${request.minVersion}, ${request.maxVersion}]\n`);
    return;
  }
  cluster.join({ name: request.name, peerUrl: request.raftURL, clientUrl: request.etcdURL, ...(request.joinId !== undefined ? { joinId: request.joinId } : {}) }).then(
    (accepted) => {
      res.setHeader('X-Etcd-Member-Id', accepted.memberId);
      res.setHeader('X-Etcd-Cluster-Id', cluster.clusterId());
      sendIndex(res, accepted.commitIndex);
    },
    (error: unknown) => sendError(res, error),
  );
}

interface JoinBody {
  readonly minVersion: number;
  readonly maxVersion: number;
  readonly name: string;
  readonly raftURL: string;
  readonly etcdURL: string;
  readonly joinId?: string;
}

function parseJoinRequest(body: string): JoinBody | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) return null;
  const r = parsed as Record<string, unknown>;
  const { minVersion, maxVersion, name, raftURL, etcdURL, joinId } = r;
  if (typeof name !== 'string' || name === '' || typeof raftURL !== 'string' || raftURL === '' || typeof etcdURL !== 'string') return null;
  return {
    minVersion: typeof minVersion === 'number' ? minVersion : Number(PEER_PROTOCOL_VERSION),
    maxVersion: typeof maxVersion === 'number' ? maxVersion : Number(PEER_PROTOCOL_VERSION),
    name,
    raftURL,
    etcdURL,
    ...(typeof joinId === 'string' && joinId !== '' ? { joinId } : {}),
  };
}

/** 0.4.6 answers a join or removal with the commit index as a uvarint in 8 bytes; null = empty body. */
function sendIndex(res: http.ServerResponse, index: number | null): void {
  const body = index === null ? Buffer.alloc(0) : encodeJoinIndex(index);
  res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': body.length });
  res.end(body);
}

function sendError(res: http.ServerResponse, error: unknown): void {
  if (!(error instanceof EtcdError)) throw error;
  const json = goJsonBody(error.toJSON());
  res.writeHead(error.httpStatus, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(json) });
  res.end(json);
}

/** True when the request was an admin request (and is being answered). */
function routeAdmin(admin: PeerAdmin, path: string, req: http.IncomingMessage, res: http.ServerResponse): boolean {
  if (path === '/v2/admin/config' && req.method === 'PUT') {
    const leaderPeerUrl = admin.leaderPeerUrlIfFollower();
    if (leaderPeerUrl !== null) {
      res.writeHead(307, { Location: leaderPeerUrl + (req.url ?? path) }).end();
      return true;
    }
    readBody(req, (body) => answerConfigUpdate(admin, body, res));
    return true;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  if (path === MACHINES_PATH || path === MACHINES_PATH + '/') {
    sendJson(res, admin.machines());
    return true;
  }
  if (path.startsWith(MACHINES_PATH + '/')) {
    const name = decodeURIComponent(path.slice(MACHINES_PATH.length + 1));
    sendJson(res, admin.machines().find((m) => m.name === name) ?? null);
    return true;
  }
  return false;
}

function answerConfigUpdate(admin: PeerAdmin, body: string, res: http.ServerResponse): void {
  admin.updateClusterConfig(body).then(
    (config) => sendJson(res, config),
    (error: unknown) => {
      if (error instanceof ClusterConfigDecodeError) return sendText(res, 500, error.message + '\n');
      if (error instanceof EtcdError) {
        const json = goJsonBody(error.toJSON());
        res.writeHead(error.httpStatus, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(json) });
        return res.end(json);
      }
      throw error;
    },
  );
}

const MAX_ADMIN_BODY_BYTES = 64 * 1024;

function readBody(req: http.IncomingMessage, onBody: (body: string) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= MAX_ADMIN_BODY_BYTES) chunks.push(chunk);
  });
  req.on('end', () => {
    if (size > MAX_ADMIN_BODY_BYTES) onBody('');
    else onBody(Buffer.concat(chunks).toString('utf8'));
  });
}

function sendJson(res: http.ServerResponse, value: unknown): void {
  const body = goJsonBody(value);
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function sendText(res: http.ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}
