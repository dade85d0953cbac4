/**
 * The peer port (spec §9.1), as far as a member of one needs it: `/name`, `/version`,
 * `/v2/admin/config` (GET, PUT) and `/v2/admin/machines[/<name>]` (GET). Raft traffic, joins and
 * member removal arrive with the cluster issue.
 */
import type http from 'node:http';
import type { RequestHandler } from './listeners.js';
import { ClusterConfigDecodeError, type PeerAdmin } from './peer-admin.js';
import { EtcdError } from '../common/errors.js';
import { goJsonBody } from '../common/json.js';

export interface PeerPortSource {
  readonly name: string;
  /** The committed /_etcd/config value (JSON text). */
  clusterConfigJson(): string;
  /** The admin API; without it only GET /v2/admin/config is served. */
  readonly admin?: PeerAdmin;
}

/** The peer protocol version 0.4.6 speaks (`/version` on the peer port). */
export const PEER_PROTOCOL_VERSION = '2';

export function createPeerPortHandler(source: PeerPortSource): RequestHandler {
  return (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const path = new URL(req.url ?? '/', 'http://peer').pathname;
    if (path === '/name') return sendText(res, 200, source.name);
    if (path === '/version') return sendText(res, 200, PEER_PROTOCOL_VERSION);
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
