import type { IncomingMessage, ServerResponse } from 'node:http';
import { EtcdError, ErrorCode } from '../common/errors.js';
import type { ClientPortMember, MemberInfo } from './member-port.js';
import { redirectToLeader, sendBody, sendEtcdError, sendJson } from './respond.js';

/**
 * The client port's endpoints besides `/v2/keys` (spec §7, §8, §17). Bodies are exactly what the
 * two etcd versions print: text where 0.4.6 printed text, JSON + `\n` where 3.4 printed JSON.
 */

/** What `/version` says: 0.4.6 text for curl-like clients, JSON for JSON clients (§17). */
export const versionText = 'etcd 0.4.6';
/** The JSON form names the last release whose only API was v2, the API this member serves. */
export const versionJson = { etcdserver: '2.3.8', etcdcluster: '2.3.0' } as const;

const textPlain = 'text/plain; charset=utf-8';

/** JSON when Accept is absent or names application/json (python-etcd), else 0.4.6's text (curl sends any). */
export function wantsJsonVersion(accept: string | undefined): boolean {
  return accept === undefined || accept.toLowerCase().includes('application/json');
}

export function handleVersion(req: IncomingMessage, res: ServerResponse): void {
  if (wantsJsonVersion(req.headers.accept)) {
    sendJson(req, res, 200, { 'Content-Type': 'application/json' }, versionJson);
  } else {
    sendBody(req, res, 200, { 'Content-Type': textPlain }, versionText);
  }
}

export function handleStoreStats(member: ClientPortMember, req: IncomingMessage, res: ServerResponse): void {
  sendJson(req, res, 200, { 'Content-Type': 'application/json' }, member.store.stats());
}

export function handleSelfStats(member: ClientPortMember, req: IncomingMessage, res: ServerResponse): void {
  sendJson(req, res, 200, { 'Content-Type': 'application/json' }, member.selfStats());
}

/** Only the leader has follower statistics; a follower redirects like 0.4.6 (§17), no leader → 300. */
export function handleLeaderStats(member: ClientPortMember, req: IncomingMessage, res: ServerResponse): void {
  if (member.isLeader()) {
    sendJson(req, res, 200, { 'Content-Type': 'application/json' }, member.leaderStats());
    return;
  }
  redirectToLeader(req, res, member);
}

/** Client URLs of every member, leader first, joined by ", " (0.4.6 `/v2/machines`). */
export function handleMachines(member: ClientPortMember, req: IncomingMessage, res: ServerResponse): void {
  const urls = member.members().flatMap((m) => m.clientUrls);
  sendBody(req, res, 200, { 'Content-Type': textPlain }, urls.join(', '));
}

/** 0.4.6 `/v2/leader`: the leader's peer URL as text; none known → 301 During Leader Election. */
export function handleLeader(member: ClientPortMember, req: IncomingMessage, res: ServerResponse): void {
  const peerUrl = member.leader()?.peerUrls[0];
  if (peerUrl === undefined) {
    sendEtcdError(req, res, member, new EtcdError(ErrorCode.LeaderElect));
    return;
  }
  sendBody(req, res, 200, { 'Content-Type': textPlain }, peerUrl);
}

function memberJson(info: MemberInfo): object {
  return { id: info.id, name: info.name, peerURLs: info.peerUrls, clientURLs: info.clientUrls };
}

export function handleMembers(member: ClientPortMember, req: IncomingMessage, res: ServerResponse): void {
  const headers = { 'Content-Type': 'application/json', 'X-Etcd-Cluster-Id': member.clusterId() };
  sendJson(req, res, 200, headers, { members: member.members().map(memberJson) });
}

export function handleMembersLeader(member: ClientPortMember, req: IncomingMessage, res: ServerResponse): void {
  const headers = { 'Content-Type': 'application/json', 'X-Etcd-Cluster-Id': member.clusterId() };
  const leader = member.leader();
  if (leader === null) {
    sendJson(req, res, 503, headers, { message: 'During election' });
    return;
  }
  sendJson(req, res, 200, headers, memberJson(leader));
}

/** 3.4's `/health`: `{"health":"true"}` as text/plain without a newline; 503 when not healthy. */
export function handleHealth(member: ClientPortMember, req: IncomingMessage, res: ServerResponse): void {
  const healthy = member.healthy();
  sendBody(req, res, healthy ? 200 : 503, { 'Content-Type': textPlain }, `{"health":"${healthy ? 'true' : 'false'}"}`);
}
