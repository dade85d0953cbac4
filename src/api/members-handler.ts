/**
 * 3.4's member changes on the client port: `POST /v2/members` adds a member by its peer URLs,
 * `DELETE /v2/members/<id>` removes one. Only the leader changes membership; a follower redirects
 * (307, like every write, §17). Bodies and statuses are 3.4's (`{"message":...}` on errors).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { EtcdError } from '../common/errors.js';
import type { ClientPortMember, MemberAdmin } from './member-port.js';
import { redirectToLeader, sendEtcdError, sendJson } from './respond.js';

const MAX_BODY_BYTES = 64 * 1024;

function jsonHeaders(member: ClientPortMember): Record<string, string> {
  return { 'Content-Type': 'application/json', 'X-Etcd-Cluster-Id': member.clusterId() };
}

function readBody(req: IncomingMessage, onBody: (body: string | null) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
  });
  req.on('end', () => onBody(size > MAX_BODY_BYTES ? null : Buffer.concat(chunks).toString('utf8')));
}

/** The peer URLs of an add request, or the message 3.4 answers with 400. */
function parsePeerUrls(body: string): string[] | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    return (error as Error).message;
  }
  const urls = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>)['peerURLs'] : undefined;
  if (!Array.isArray(urls) || urls.length === 0 || !urls.every((u) => typeof u === 'string')) return 'peerURLs must be a non-empty list of URLs';
  for (const url of urls as string[]) {
    let parsedUrl: URL;
    try {
      parsedUrl = new URL(url);
    } catch {
      return `URL address does not have the form "host:port": ${url}`;
    }
    if (parsedUrl.protocol !== 'http:' && parsedUrl.protocol !== 'https:') return `URL scheme must be http or https: ${url}`;
    if (parsedUrl.port === '') return `URL address does not have the form "host:port": ${url}`;
  }
  return urls as string[];
}

export function handleMemberAdd(member: ClientPortMember, admin: MemberAdmin, req: IncomingMessage, res: ServerResponse): void {
  if (!member.isLeader()) {
    req.resume();
    redirectToLeader(req, res, member);
    return;
  }
  const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
  if (contentType !== 'application/json') {
    req.resume();
    sendJson(req, res, 415, jsonHeaders(member), { message: `Bad Content-Type ${contentType}, accept application/json` });
    return;
  }
  withPeerUrls(member, req, res, (urls) =>
    admin.addMember(urls).then(
      (added) => sendJson(req, res, 201, jsonHeaders(member), { id: added.id, name: added.name, peerURLs: added.peerUrls, clientURLs: added.clientUrls }),
      (error: unknown) => answerAdminError(member, req, res, error),
    ),
  );
}

/** Reads a `{"peerURLs":[...]}` body; a bad one is answered with 400 here. */
function withPeerUrls(member: ClientPortMember, req: IncomingMessage, res: ServerResponse, then: (urls: string[]) => void): void {
  readBody(req, (body) => {
    const urls = body === null ? 'request body too large' : parsePeerUrls(body);
    if (typeof urls === 'string') sendJson(req, res, 400, jsonHeaders(member), { message: urls });
    else then(urls);
  });
}

export function handleMemberUpdate(member: ClientPortMember, admin: MemberAdmin, req: IncomingMessage, res: ServerResponse, rawId: string): void {
  if (!member.isLeader()) {
    req.resume();
    redirectToLeader(req, res, member);
    return;
  }
  const id = memberIdOf(rawId);
  if (id === null) {
    req.resume();
    sendJson(req, res, 400, jsonHeaders(member), { message: `invalid member id ${JSON.stringify(rawId)}` });
    return;
  }
  if (!member.members().some((m) => m.id === id)) {
    req.resume();
    sendJson(req, res, 404, jsonHeaders(member), { message: `No such member: ${rawId}` });
    return;
  }
  withPeerUrls(member, req, res, (urls) =>
    admin.updateMember(id, urls).then(
      () => {
        res.writeHead(204, { 'X-Etcd-Cluster-Id': member.clusterId() });
        res.end();
      },
      (error: unknown) => answerAdminError(member, req, res, error),
    ),
  );
}

/** etcdctl prints ids unpadded; ours are 16 hex digits. */
function memberIdOf(rawId: string): string | null {
  return /^[0-9a-fA-F]{1,16}$/.test(rawId) ? rawId.toLowerCase().padStart(16, '0') : null;
}

export function handleMemberRemove(member: ClientPortMember, admin: MemberAdmin, req: IncomingMessage, res: ServerResponse, rawId: string): void {
  req.resume();
  if (!member.isLeader()) {
    redirectToLeader(req, res, member);
    return;
  }
  const id = memberIdOf(rawId);
  if (id === null) {
    sendJson(req, res, 400, jsonHeaders(member), { message: `invalid member id ${JSON.stringify(rawId)}` });
    return;
  }
  if (admin.isRemoved(id)) {
    sendJson(req, res, 410, jsonHeaders(member), { message: `Member permanently removed: ${rawId}` });
    return;
  }
  if (!member.members().some((m) => m.id === id)) {
    sendJson(req, res, 404, jsonHeaders(member), { message: `No such member: ${rawId}` });
    return;
  }
  admin.removeMember(id).then(
    () => {
      res.writeHead(204, { 'X-Etcd-Cluster-Id': member.clusterId() });
      res.end();
    },
    (error: unknown) => answerAdminError(member, req, res, error),
  );
}

function answerAdminError(member: ClientPortMember, req: IncomingMessage, res: ServerResponse, error: unknown): void {
  if (error instanceof EtcdError) {
    sendEtcdError(req, res, member, error);
    return;
  }
  if (error instanceof Error && error.name === 'MemberConflictError') {
    sendJson(req, res, 409, jsonHeaders(member), { message: `etcdserver: ${error.message}` });
    return;
  }
  throw error;
}
