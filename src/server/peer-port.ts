/**
 * The peer port (spec §9.1), as far as a member of one needs it: `/name`, `/version` and
 * GET `/v2/admin/config`. Raft traffic, joins and the admin writes arrive with the cluster issue.
 */
import type http from 'node:http';
import type { RequestHandler } from './listeners.js';

export interface PeerPortSource {
  readonly name: string;
  /** The committed /_etcd/config value (JSON text). */
  clusterConfigJson(): string;
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
    sendText(res, 404, '404 page not found\n');
  };
}

function sendText(res: http.ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}
