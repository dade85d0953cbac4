/**
 * The 3.4 membership API (`/v2/members`) and the health endpoint, as etcdctl's `member` and
 * `cluster-health` commands use them. These answer with plain JSON, not v2 error bodies.
 */
import { UnexpectedResponseError } from './errors.js';
import type { HttpResponse } from './http.js';
import type { EndpointPool } from './pool.js';
import type { EtcdMember } from './types.js';

/** A non-2xx answer of the members API, with the server's `message` when it sent one. */
export class MembersApiError extends Error {
  override name = 'MembersApiError';
  constructor(
    readonly httpStatus: number,
    message: string,
  ) {
    super(message);
  }
}

function messageOf(body: string): string {
  try {
    const json = JSON.parse(body) as { message?: unknown };
    if (typeof json.message === 'string') return json.message;
  } catch {
    // not JSON: fall through to the raw text
  }
  return body.trim();
}

/** The JSON body of a 2xx answer; anything else is not the members API talking. */
function bodyJson(res: HttpResponse): unknown {
  try {
    return JSON.parse(res.body) as unknown;
  } catch {
    throw new UnexpectedResponseError(res.status, res.body, res.url.href);
  }
}

function asMember(json: unknown): EtcdMember {
  const raw = (typeof json === 'object' && json !== null ? json : {}) as Partial<Record<keyof EtcdMember, unknown>>;
  const urls = (value: unknown): string[] => (Array.isArray(value) ? value.filter((u): u is string => typeof u === 'string') : []);
  return {
    id: typeof raw.id === 'string' ? raw.id : '',
    name: typeof raw.name === 'string' ? raw.name : '',
    peerURLs: urls(raw.peerURLs),
    clientURLs: urls(raw.clientURLs),
  };
}

export async function listMembers(pool: EndpointPool): Promise<EtcdMember[]> {
  const res = await pool.call({ method: 'GET', pathAndQuery: '/v2/members', body: '', longPoll: false });
  if (res.status !== 200) throw new MembersApiError(res.status, messageOf(res.body));
  const json = bodyJson(res);
  const list = typeof json === 'object' && json !== null ? (json as { members?: unknown }).members : undefined;
  return Array.isArray(list) ? list.map(asMember) : [];
}

/** The leader member, or undefined while there is none (503 "During election"). */
export async function leaderMember(pool: EndpointPool): Promise<EtcdMember | undefined> {
  const res = await pool.call({ method: 'GET', pathAndQuery: '/v2/members/leader', body: '', longPoll: false });
  if (res.status === 503) return undefined;
  if (res.status !== 200) throw new MembersApiError(res.status, messageOf(res.body));
  return asMember(bodyJson(res));
}

export async function addMember(pool: EndpointPool, peerURLs: readonly string[]): Promise<EtcdMember> {
  const res = await pool.call({
    method: 'POST',
    pathAndQuery: '/v2/members',
    body: JSON.stringify({ peerURLs }),
    contentType: 'application/json',
    longPoll: false,
  });
  if (res.status !== 201) throw new MembersApiError(res.status, messageOf(res.body));
  return asMember(bodyJson(res));
}

export async function removeMember(pool: EndpointPool, id: string): Promise<void> {
  const res = await pool.call({ method: 'DELETE', pathAndQuery: `/v2/members/${encodeURIComponent(id)}`, body: '', longPoll: false });
  if (res.status !== 204) throw new MembersApiError(res.status, messageOf(res.body));
}

/** GET <clientURL>/health on one member: true when it reports {"health":"true"}. */
export async function memberHealthy(pool: EndpointPool, clientUrl: string): Promise<boolean> {
  const res = await pool.callOne(clientUrl.replace(/\/+$/, ''), { method: 'GET', pathAndQuery: '/health', body: '', longPoll: false });
  if (res.status !== 200 && res.status !== 503) throw new UnexpectedResponseError(res.status, res.body, res.url.href);
  try {
    const json = JSON.parse(res.body) as { health?: unknown };
    return json.health === 'true' || json.health === true;
  } catch {
    return false;
  }
}
