import type { IncomingMessage, ServerResponse } from 'node:http';
import { goJson } from '../common/json.js';
import type { ClientPortMember } from './member-port.js';
import { EtcdError, ErrorCode } from '../common/errors.js';
import { requestTarget } from './key-path.js';
import { escapePath } from './percent.js';

/**
 * Writing responses the way etcd does: Go JSON plus `\n`, `Content-Type: application/json`, the
 * index headers, and the cluster id on every key response (spec §3, §17). Bodies are sent with a
 * Content-Length (no chunking) except for watches. HEAD gets the same headers and no body.
 */

export type OutgoingHeaders = Record<string, string | number>;

/** Headers of a successful key response: the etcd index plus Raft's commit index and term. */
export function keyHeaders(member: ClientPortMember, etcdIndex: number): OutgoingHeaders {
  return {
    'Content-Type': 'application/json',
    'X-Etcd-Cluster-Id': member.clusterId(),
    'X-Etcd-Index': etcdIndex,
    'X-Raft-Index': member.raftIndex(),
    'X-Raft-Term': member.raftTerm(),
  };
}

/** Errors carry only the etcd index and the cluster id (as etcd 3.4). */
function errorHeaders(member: ClientPortMember, etcdIndex: number): OutgoingHeaders {
  return { 'Content-Type': 'application/json', 'X-Etcd-Cluster-Id': member.clusterId(), 'X-Etcd-Index': etcdIndex };
}

export function sendBody(req: IncomingMessage, res: ServerResponse, status: number, headers: OutgoingHeaders, body: string): void {
  headers['Content-Length'] = Buffer.byteLength(body);
  res.writeHead(status, headers);
  res.end(req.method === 'HEAD' ? undefined : body);
}

export function sendJson(req: IncomingMessage, res: ServerResponse, status: number, headers: OutgoingHeaders, value: unknown): void {
  sendBody(req, res, status, headers, goJsonLine(value));
}

/**
 * Go JSON + `\n`. Values arrive UTF-8-decoded, so an invalid byte is already U+FFFD; Go writes
 * invalid bytes as the escape `\ufffd`, and so do we (a literal U+FFFD sent by a client is
 * indistinguishable here and is escaped too — equivalent JSON).
 */
export function goJsonLine(value: unknown): string {
  const json = goJson(value);
  return (json.includes('\ufffd') ? json.replaceAll('\ufffd', '\\ufffd') : json) + '\n';
}

/** A v2 error body. Validation errors have no index of their own: they report the current one (§17). */
export function sendEtcdError(req: IncomingMessage, res: ServerResponse, member: ClientPortMember, error: EtcdError): void {
  const index = error.index === 0 ? member.store.index : error.index;
  // Spreading keeps toJSON's field order (errorCode, message, cause, index); the error itself is not touched.
  sendJson(req, res, error.httpStatus, errorHeaders(member, index), { ...error.toJSON(), index });
}

/** Go's plain-text errors (http.Error): `404 page not found`, `Method Not Allowed`. */
export function sendPlainError(req: IncomingMessage, res: ServerResponse, status: number, text: string, extra: OutgoingHeaders = {}): void {
  const headers: OutgoingHeaders = { ...extra, 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' };
  sendBody(req, res, status, headers, `${text}\n`);
}

export function sendNotFound(req: IncomingMessage, res: ServerResponse): void {
  sendPlainError(req, res, 404, '404 page not found');
}

export function sendMethodNotAllowed(req: IncomingMessage, res: ServerResponse, allow: string): void {
  sendPlainError(req, res, 405, 'Method Not Allowed', { Allow: allow });
}

/** Go's http.Redirect: Location plus, for GET/HEAD, a tiny HTML body. */
export function sendRedirect(req: IncomingMessage, res: ServerResponse, status: 301 | 307, location: string): void {
  const statusText = status === 301 ? 'Moved Permanently' : 'Temporary Redirect';
  if (req.method === 'GET' || req.method === 'HEAD') {
    const href = location.replaceAll('&', '&amp;').replaceAll('"', '&#34;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
    sendBody(req, res, status, { Location: location, 'Content-Type': 'text/html; charset=utf-8' }, `<a href="${href}">${statusText}</a>.\n\n`);
  } else {
    res.writeHead(status, { Location: location, 'Content-Length': 0 });
    res.end();
  }
}

/** 301 target for an unclean path: the cleaned path, escaped, with the original query. */
export function cleanedLocation(cleanPath: string, rawQuery: string): string {
  return rawQuery === '' ? escapePath(cleanPath) : `${escapePath(cleanPath)}?${rawQuery}`;
}

/**
 * A follower sends what only the leader may answer (writes, consistent/quorum reads, leader
 * stats) to the leader's client URL with the same path and query: 307, as 0.4.6 (§17). No known
 * leader → error 300.
 */
export function redirectToLeader(req: IncomingMessage, res: ServerResponse, member: ClientPortMember): void {
  const base = member.leader()?.clientUrls[0];
  if (base === undefined) {
    sendEtcdError(req, res, member, new EtcdError(ErrorCode.RaftInternal));
    return;
  }
  sendRedirect(req, res, 307, `${base.replace(/\/+$/, '')}${requestTarget(req.url ?? '/')}`);
}
