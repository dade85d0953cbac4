import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import {
  handleHealth,
  handleLeader,
  handleLeaderStats,
  handleMachines,
  handleMembers,
  handleMembersLeader,
  handleSelfStats,
  handleStoreStats,
  handleVersion,
} from './info-handlers.js';
import { keyFromPath, muxCleanPath, requestTarget } from './key-path.js';
import { afterDiscardingBody, handleKeys, type KeysContext } from './keys-handler.js';
import type { ClientPortMember } from './member-port.js';
import { handleMemberAdd, handleMemberRemove, handleMemberUpdate } from './members-handler.js';
import { resolveClientPortOptions, type ClientPortOptions } from './options.js';
import { percentDecode } from './percent.js';
import { cleanedLocation, sendMethodNotAllowed, sendNotFound, sendPlainError, sendRedirect } from './respond.js';

/**
 * The client port: one request listener the member mounts on each client listener (DESIGN §1).
 * It routes on the decoded path like Go's ServeMux (unclean paths get 301), adds CORS headers
 * when `-cors` is set, and hands `/v2/keys` to keys-handler.ts.
 */

type InfoHandler = (member: ClientPortMember, req: IncomingMessage, res: ServerResponse) => void;

/** Read-only endpoints (GET and HEAD). */
const infoRoutes: ReadonlyMap<string, InfoHandler> = new Map<string, InfoHandler>([
  ['/version', (_member, req, res) => handleVersion(req, res)],
  ['/v2/stats/self', handleSelfStats],
  ['/v2/stats/leader', handleLeaderStats],
  ['/v2/stats/store', handleStoreStats],
  ['/v2/machines', handleMachines],
  ['/v2/peers', handleMachines],
  ['/v2/leader', handleLeader],
  ['/v2/members', handleMembers],
  ['/v2/members/leader', handleMembersLeader],
  ['/health', handleHealth],
]);

const keysPrefix = '/v2/keys';

export function createClientPortHandler(member: ClientPortMember, options: Partial<ClientPortOptions> = {}): RequestListener {
  const ctx: KeysContext = { member, options: resolveClientPortOptions(options) };
  const applyCors = corsPolicy(ctx.options.corsOrigins);
  return (req, res) => {
    const url = requestTarget(req.url ?? '/');
    const queryAt = url.indexOf('?');
    const rawPath = queryAt === -1 ? url : url.slice(0, queryAt);
    const rawQuery = queryAt === -1 ? '' : url.slice(queryAt + 1);
    applyCors(req, res);
    const path = rawPath.startsWith('/') ? percentDecode(rawPath, false) : null;
    if (path === null) {
      sendPlainError(req, res, 400, 'Bad Request');
      return;
    }
    if (req.method === 'OPTIONS') {
      res.writeHead(200, { 'Content-Length': 0 });
      res.end();
      return;
    }
    const cleanPath = muxCleanPath(path);
    if (cleanPath !== path) {
      sendRedirect(req, res, 301, cleanedLocation(cleanPath, rawQuery));
      return;
    }
    route(ctx, req, res, path, rawQuery);
  };
}

function route(ctx: KeysContext, req: IncomingMessage, res: ServerResponse, path: string, rawQuery: string): void {
  if (path === keysPrefix || path.startsWith(`${keysPrefix}/`)) {
    handleKeys(ctx, req, res, keyFromPath(path.slice(keysPrefix.length)), rawQuery);
    return;
  }
  if (routeMemberChange(ctx.member, req, res, path)) return;
  const handler = infoRoutes.get(path);
  if (handler === undefined) {
    sendNotFound(req, res);
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendMethodNotAllowed(req, res, 'GET,HEAD');
    return;
  }
  afterDiscardingBody(req, () => handler(ctx.member, req, res));
}

/** POST /v2/members, DELETE and PUT /v2/members/<id>, when the member offers membership changes. */
function routeMemberChange(member: ClientPortMember, req: IncomingMessage, res: ServerResponse, path: string): boolean {
  const admin = member.memberAdmin;
  if (admin === undefined) return false;
  if (path === '/v2/members' && req.method === 'POST') {
    handleMemberAdd(member, admin, req, res);
    return true;
  }
  const idPrefix = '/v2/members/';
  if (path.startsWith(idPrefix) && path !== '/v2/members/leader') {
    if (req.method === 'DELETE') handleMemberRemove(member, admin, req, res, path.slice(idPrefix.length));
    else if (req.method === 'PUT') handleMemberUpdate(member, admin, req, res, path.slice(idPrefix.length));
    else return false;
    return true;
  }
  return false;
}

/**
 * `-cors`: `*` allows every origin; otherwise a listed Origin is echoed back. The header set is
 * 3.4's (0.4.6's plus `authorization`, which v2 clients with auth need).
 */
function corsPolicy(origins: readonly string[]): (req: IncomingMessage, res: ServerResponse) => void {
  if (origins.length === 0) return () => undefined;
  const anyOrigin = origins.includes('*');
  const allowed = new Set(origins);
  return (req, res) => {
    const origin = req.headers.origin;
    let allowOrigin: string | null = null;
    if (anyOrigin) allowOrigin = '*';
    else if (origin !== undefined && allowed.has(origin)) allowOrigin = origin;
    if (allowOrigin === null) return;
    res.setHeader('Access-Control-Allow-Methods', 'POST, GET, OPTIONS, PUT, DELETE');
    res.setHeader('Access-Control-Allow-Origin', allowOrigin);
    res.setHeader('Access-Control-Allow-Headers', 'accept, content-type, authorization');
    if (!anyOrigin) res.setHeader('Vary', 'Origin');
  };
}
